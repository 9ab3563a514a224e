#!/usr/bin/perl

# A replay record is settled before the answer leaves: committed when the
# upstream answered 2xx, dropped otherwise, as soon as that status is
# known.  A resend right after the answer, on a new connection, gets
# 200 {"status":"duplicate"}, never 409 duplicate_in_flight; after an
# upstream 5xx the immediate retry is forwarded.
#
# "lingering_close always" keeps nginx from ending the first request (and
# running its log phase) until the client closes its side: the client
# holds it open while it resends, so a record settled only when the
# request is over would still be in flight.  Then ~100 immediate resends
# with nginx's defaults.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_settle_secret_77c1';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:4m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        lingering_close    always;
        lingering_time     30s;
        lingering_timeout  20s;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            proxy_pass http://%%UPSTREAM%%;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $seq = 0;

# a GitHub delivery: a new body and id each call unless given
sub gh {
    my (%o) = @_;

    $seq++;
    my $body = $o{body} // qq({"action":"opened","n":$seq});
    my @h = (
        ['X-GitHub-Event', 'issues'],
        ['X-GitHub-Delivery', $o{id} // "settle-$seq"],
        ['X-Hub-Signature-256', github_header($secret, $body)],
    );
    push @h, ['X-Upstream-Status', $o{status}] if $o{status};

    return { path => '/github', body => $body, headers => \@h,
             port => $o{port} // $t->port(8080) };
}

sub summary {
    my ($r) = @_;
    return $t->reject_summary($r);
}

my $dup = '200 application/json {"status":"duplicate"}';

# the first answered, its connection still open: the resend on a new one

my (%seen, $n);

for my $i (1 .. 20) {
    my $req = gh();

    my $c = $t->http_open(%$req);
    my $r = $t->http_read($c, timeout => 10);
    my $again = $t->http(%$req);
    $t->http_close($c);

    $seen{ $t->status($r) . ' / ' . summary($again) }++;
}

is_deeply(\%seen, { "200 / $dup" => 20 },
    'resend while the first connection lingers: 200 duplicate every time')
    or diag(explain \%seen);

# after an upstream 5xx the immediate retry goes through, and is recorded

%seen = ();

for my $i (1 .. 10) {
    my $body = qq({"action":"opened","retry":$i});
    my $id = "settle-5xx-$i";

    $n = $t->upstream_count;

    my $c = $t->http_open(%{ gh(body => $body, id => $id, status => 503) });
    my $r = $t->http_read($c, timeout => 10);
    my $retry = $t->http(%{ gh(body => $body, id => $id) });
    my $third = $t->http(%{ gh(body => $body, id => $id) });
    $t->http_close($c);

    $seen{ join ' / ', $t->status($r), $t->status($retry),
           $t->upstream_count - $n, summary($third) }++;
}

is_deeply(\%seen, { "503 / 200 / 2 / $dup" => 10 },
    'upstream 503, immediate retry: forwarded, then a duplicate')
    or diag(explain \%seen);

# ~100 immediate resends with nginx's defaults, each as soon as the
# first answer is whole

%seen = ();
$n = $t->upstream_count;

for my $i (1 .. 100) {
    my $req = gh(port => $t->port(8081));

    my $r = $t->http(%$req, until_response => 1);
    my $again = $t->http(%$req, until_response => 1);

    $seen{ $t->status($r) . ' / ' . summary($again) }++;
}

is_deeply(\%seen, { "200 / $dup" => 100 },
    '100 immediate resends: 200 duplicate, never 409')
    or diag(explain \%seen);
is($t->upstream_count, $n + 100, '100 deliveries forwarded once each');

$t->done_testing;

###############################################################################
