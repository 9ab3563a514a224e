#!/usr/bin/perl

# Shared zones survive nginx -s reload: a delivery recorded before is a
# duplicate after; a delivery in flight across the reload completes in the
# old worker and is recorded; rate-limit counts carry over; the status
# counters too.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_reload_secret_2f9e41';

$t->write_file('github.secret', $secret, 0600);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_limit_zone zone=rl:1m key=$http_x_tenant rate=3r/m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location = /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /limited {
            webhook_limit zone=rl;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }

        %%EXTRA%%
    }
}

EOF

(my $first = $conf) =~ s/%%EXTRA%%//;
$t->write_file_expand('nginx.conf', $first);

$t->run;

###############################################################################

sub gh {
    my ($id, %o) = @_;
    my $body = qq({"action":"published","release":{"tag":"$id"}});
    my @h = (['X-GitHub-Delivery', $id], ['X-GitHub-Event', 'release'],
             ['X-Hub-Signature-256', github_header($secret, $body)]);
    push @h, ['X-Upstream-Delay', $o{delay}] if $o{delay};
    return { path => '/github', body => $body, headers => \@h,
             timeout => 10 };
}

sub limited {
    return $t->http(method => 'GET', path => '/limited', timeout => 5,
                    headers => [['X-Tenant', 'acme']]);
}

sub is_duplicate {
    my ($req, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $n = $t->upstream_count;
    my $r = $t->http(%$req);

    is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
        "$name: 200 duplicate");
    is($t->upstream_count, $n, "$name: not forwarded");
}

my ($r, $j);

# before

$t->is_forwarded(gh('rel-1'), 'before: first delivery');
is_duplicate(gh('rel-1'), 'before: duplicate');

is(join(' ', map { limited()->{status} } 1 .. 2), '200 200',
    'before: 2 of 3 per minute');

$j = $t->wait_until(sub {
    my $j = $t->status_json;
    return $j && ($j->{locations}{'/github'}{verified} // 0) == 2 && $j;
}, timeout => 5);
is($j && $j->{locations}{'/github'}{verified}, 2, 'before: status verified');

# a delivery in flight while nginx reloads

my $n = $t->upstream_count;
my $c = $t->http_open(%{ gh('rel-2', delay => 2) });
ok($t->wait_until(sub { $t->upstream_count > $n }, timeout => 5),
    'in flight: reached the upstream');

(my $second = $conf) =~ s/%%EXTRA%%/location = \/added { return 204; }/;
$t->write_file_expand('nginx.conf', $second);

ok($t->reload, 'reload');

is($t->http(method => 'GET', path => '/added')->{status}, 204,
    'the new configuration is in use');

$r = $t->http_read($c, timeout => 10, eof => 1);
$t->http_close($c);
is($t->status($r), 200, 'in flight: completed by the old worker');

# after

is_duplicate(gh('rel-1'), 'after: recorded before the reload');
is_duplicate(gh('rel-2'), 'after: completed across the reload');
$t->is_forwarded(gh('rel-3'), 'after: a new delivery');

is(join(' ', map { limited()->{status} } 1 .. 2), '200 429',
    'after: the count made before the reload still counts');

$j = $t->wait_until(sub {
    my $j = $t->status_json;
    return $j && ($j->{locations}{'/github'}{verified} // 0) == 6 && $j;
}, timeout => 5) || $t->status_json || {};

my $g = $j->{locations}{'/github'} || {};
is($g->{verified}, 6, 'after: status verified, counted before and after');
is($g->{duplicates}, 3, 'after: status duplicates');
is($j->{locations}{'/limited'}{rejected}{rate_limited}, 1,
    'after: status rate_limited');
# three GitHub deliveries, two records each (MAC, delivery id)
is($j->{zones}{ids}{entries}, 6, 'after: zone ids entries');
is($j->{zones}{rl}{entries}, 1, 'after: zone rl entries');

$t->done_testing;

###############################################################################
