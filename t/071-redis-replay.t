#!/usr/bin/perl

# webhook_replay ... redis=on: three nginx nodes share one record per
# delivery in a real redis-server.  A delivery forwarded by node A is a
# duplicate at nodes B and C (200 "duplicate", not forwarded); one still
# in flight at A is 409 at B; one that failed at A (upstream 500) is
# dropped in Redis too, so the retry at B goes through; the same delivery
# sent to the three nodes at once is forwarded once.  redis=off stays
# node-local.  The record's value and expiry in Redis.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sys::Hostname qw(hostname);

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my @nodes = map { Test::Webhook->new } 1 .. 3;
my $redis = Test::Webhook::Redis->new(dir => $nodes[0]->testdir);

my $secret = 'gh_cluster_replay_61f0a2';

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT timeout=2s prefix=t071:;

    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_replay_zone zone=own:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids redis=on;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /local {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=own redis=off;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$conf =~ s/REDIS_PORT/$redis->port/e;

for my $t (@nodes) {
    $t->write_file('github.secret', $secret, 0600);
    $t->write_file_expand('nginx.conf', $conf);
    $t->run;
}

my ($A, $B, $C) = @nodes;

###############################################################################

my $seq = 0;

sub gh {
    my ($id, %o) = @_;

    $seq++;
    my $body = qq({"action":"created","delivery":"$id","n":$seq});
    my @h = (
        ['X-GitHub-Event', 'issues'],
        ['X-GitHub-Delivery', $id],
        ['X-Hub-Signature-256', github_header($secret, $body)],
    );
    push @h, ['X-Upstream-Delay', $o{delay}] if $o{delay};
    push @h, ['X-Upstream-Status', $o{status}] if $o{status};

    return { path => $o{path} // '/github', body => $body, headers => \@h,
             timeout => 10 };
}

sub key_of {
    my ($id, $zone) = @_;
    return 't071:{replay:' . ($zone // 'ids') . '}:'
           . unpack('H*', "github:id:$id");
}

sub forwarded {
    return join ' ', map { $_->upstream_count } @nodes;
}

# 200 {"status":"duplicate"} from node $t, not forwarded anywhere

sub is_duplicate {
    my ($t, $req, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $before = forwarded();
    my $r = $t->http(%$req);

    is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
        "$name: 200 duplicate");
    is(forwarded(), $before, "$name: not forwarded");
}

sub redis_get {
    my ($id) = @_;
    return $redis->cli('GET', key_of($id));
}

my ($r, $c, $j);

for my $t (@nodes) {
    $t->wait_until(sub {
        my $j = $t->status_json;
        return $j && $j->{redis}{connected_workers} == 2;
    }, timeout => 10);
}

is(join(' ', map { $_->status_json->{redis}{connected_workers} } @nodes),
   '2 2 2', 'every worker of every node connected');

# forwarded by A: a duplicate at B and C

my $req = gh('del-1');
$A->is_forwarded($req, 'A: first delivery');

ok($A->wait_until(sub { redis_get('del-1') eq 'd' }, timeout => 5),
   'redis: the delivery is committed ("d")')
    or diag('value: ' . redis_get('del-1'));

my $pttl = $redis->cli('PTTL', key_of('del-1'));
ok($pttl > 590_000 && $pttl <= 600_000, 'redis: expires after the ttl')
    or diag("PTTL $pttl");

is_duplicate($B, $req, 'B: the same delivery');
is_duplicate($C, gh('del-1'), 'C: the same delivery, sent again');
is_duplicate($A, $req, 'A: the same delivery');

# in flight at A: 409 at B

$c = $A->http_open(%{ gh('del-2', delay => 2) });

ok($A->wait_until(sub { redis_get('del-2') =~ /^f:/ }, timeout => 5),
   'redis: in flight while A forwards it');

my $host = lc hostname();
like(redis_get('del-2'),
     qr/^f:\Q$host\E:${\ $A->nginx_pid }:[0-9a-f]{16}:[0-9a-f]{16}$/,
     'redis: in-flight value "f:<hostname>:<master pid>:<random id>:'
     . '<token>"');

$B->is_rejected(gh('del-2'), 409, 'duplicate_in_flight',
    'B: while A forwards it');

$r = $A->http_read($c, timeout => 10, eof => 1);
is($r->{status}, 200, 'A: the first completes');

ok($A->wait_until(sub { redis_get('del-2') eq 'd' }, timeout => 5),
   'redis: committed once the first completed');

is_duplicate($B, gh('del-2'), 'B: after A completed');

# failed at A: the record goes in Redis too, and B forwards the retry

$r = $A->http(%{ gh('del-3', status => 500) });
is($r->{status}, 500, 'A: upstream 500');

ok($A->wait_until(sub { $redis->cli('EXISTS', key_of('del-3')) eq '0' },
                  timeout => 5),
   'redis: the record of a failed delivery is dropped');

$B->is_forwarded(gh('del-3'), 'B: the provider\'s retry');
ok($B->wait_until(sub { redis_get('del-3') eq 'd' }, timeout => 5),
   'redis: the retry committed');
is_duplicate($C, gh('del-3'), 'C: after the retry');

# a client that gives up while A forwards: dropped

$c = $A->http_open(%{ gh('del-4', delay => 1) });
$A->wait_until(sub { redis_get('del-4') =~ /^f:/ }, timeout => 5);
$A->http_close($c);

ok($A->wait_until(sub { $redis->cli('EXISTS', key_of('del-4')) eq '0' },
                  timeout => 5),
   'redis: dropped when the client went away');

# the same delivery at the three nodes at once: forwarded once

my $same = gh('del-5', delay => 1);

my @r = @{ $A->http_many(map { { %$same, port => $_->port(8080) } }
                         @nodes) };

is(join(' ', sort map { $_->{status} } @r), '200 409 409',
    'at once on three nodes: one 200, two 409');

# counted by delivery id: del-4's request may reach A's upstream late (its
# client went away while nginx was already forwarding it)
my $forwarded = 0;
for my $node (@nodes) {
    $forwarded += grep { ($_->{headers}{'x-github-delivery'} // '') eq 'del-5' }
                  @{ $node->upstream_requests };
}
is($forwarded, 1, 'at once on three nodes: forwarded once');

# redis=off: each node has its own records

$A->is_forwarded(gh('del-6', path => '/local'), 'redis=off: A');
$B->is_forwarded(gh('del-6', path => '/local'), 'redis=off: B too');
is($redis->cli('EXISTS', key_of('del-6', 'own')), '0',
    'redis=off: nothing in Redis');

# status

$j = $B->status_json;
# del-1, del-2 in flight (409) and after, and maybe one of del-5's 409s
cmp_ok($j->{locations}{'/github'}{duplicates}, '>=', 3,
    'B: duplicates counted');
is($j->{redis}{failures}, 0, 'B: no redis failures');

for my $i (0 .. 2) {
    unlike($nodes[$i]->error_log, qr/webhook: redis .* is unavailable/,
        "node $i: no redis warning");
}

$_->stop for @nodes;

for my $i (0 .. 2) {
    unlike($nodes[$i]->error_log, qr/open socket/,
        "node $i: no socket left open at exit");
}

$_->_final_check for @nodes[1, 2];
$A->done_testing;

###############################################################################
