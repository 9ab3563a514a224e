#!/usr/bin/perl

# A replay zone too small for what it is asked to remember: the oldest
# entries go (LRU), every delivery is still served, nothing crashes;
# evicting entries that had not expired is counted (evictions,
# evicted_unexpired in the status) and logged at warn, once a minute.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_evict_secret_91b2c3';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    # 64k: room for a few hundred ids at most; ttl 10m (the default)
    webhook_replay_zone zone=tiny:64k;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=tiny;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location = /status {
            webhook_status;
        }
    }

    # a fast upstream: no process per request
    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        access_log off;

        location / {
            return 200 "ok $http_x_github_delivery";
        }
    }
}

EOF

$t->run;

###############################################################################

my $N = 3000;

sub gh {
    my ($id) = @_;
    my $body = qq({"action":"completed","check_run":{"id":"$id"}});
    return { path => '/github', body => $body, timeout => 10, headers => [
        ['X-GitHub-Delivery', $id],
        ['X-GitHub-Event', 'check_run'],
        ['X-Hub-Signature-256', github_header($secret, $body)],
    ] };
}

my @ids = map { sprintf 'evict-%05d-2b1f8e0c-5d7a-4e3b-9c61-0a4f', $_ } 1 .. $N;

my $start = time;
my $rs = $t->http_batch([ map { gh($_) } @ids ], concurrency => 4);

my %answers;
my $ok = 0;
for my $i (0 .. $#ids) {
    my $r = $rs->[$i];
    $ok++ if $r->{status} == 200 && $r->{body} eq "ok $ids[$i]";
    my $a = $t->status($r);
    $answers{$a}++;
}

is($ok, $N, "all $N distinct deliveries forwarded")
    or diag(join ', ', map { "$_: $answers{$_}" } sort keys %answers);

# the newest is remembered, the oldest was evicted (LRU), and comes back
# (the newest: one more sent after the batch, whose client processes do
# not finish in order)

my $last = 'evict-last-7c0e';
my $r = $t->http(%{ gh($last) });
is($t->reject_summary($r), "200 text/plain ok $last", 'one more forwarded');

$r = $t->http(%{ gh($last) });
is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'the newest id is still recorded');

$r = $t->http(%{ gh($ids[0]) });
is($t->reject_summary($r), "200 text/plain ok $ids[0]",
    'the oldest id was evicted: forwarded again');

# the status tells

my $j = $t->status_json;
my $z = $j && $j->{zones} && $j->{zones}{tiny};

ok($z, 'status: zone "tiny" listed') or diag(explain $j);
$z ||= {};

is($z->{type}, 'replay', 'status: type replay');
cmp_ok($z->{entries} // 0, '>', 0, 'status: entries');
cmp_ok($z->{entries} // $N, '<', $N, 'status: fewer entries than ids sent');
cmp_ok($z->{evictions} // 0, '>', 0, 'status: evictions counted');
cmp_ok($z->{evicted_unexpired} // 0, '>', 0,
    'status: evicted_unexpired counted');
cmp_ok($z->{evicted_unexpired} // 0, '<=', $z->{evictions} // 0,
    'status: evicted_unexpired <= evictions');

# logged at warn, once (the whole run took well under a minute)

my @warn = grep { /\[warn\]/ && /evict/i } split /\n/, $t->error_log;

SKIP: {
    skip 'the run took a minute or more', 1 if time - $start >= 59;
    is(scalar @warn, 1, 'one warn line about evicting unexpired entries')
        or diag(join "\n", @warn[0 .. ($#warn > 4 ? 4 : $#warn)]);
}

$t->done_testing;

###############################################################################
