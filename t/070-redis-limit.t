#!/usr/bin/perl

# webhook_limit_zone ... sync=on: three nginx nodes (two workers each)
# share one real redis-server and enforce one limit per key.  A burst
# spread over the three nodes admits the limit plus at most about
# (nodes - 1) x rate x sync_interval (measured and printed); Redis then
# holds each node's absolute count in a field of its own, summing exactly
# to what was admitted; a node seeing a key the cluster used up refuses
# from its first request.  The status shows the Redis section, and one syncing worker
# per node.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sys::Hostname qw(hostname);
use Time::HiRes qw(time sleep);

use Test::Webhook;
use Test::Webhook::Redis;

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $SYNC_MS = 100;
my $LIMIT = 300;

my @nodes = map { Test::Webhook->new } 1 .. 3;
my $redis = Test::Webhook::Redis->new(dir => $nodes[0]->testdir);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT/0 sync_interval=SYNC_MSms
                  timeout=2s prefix=t070:;

    webhook_limit_zone zone=global:1m key=$http_x_tenant rate=LIMITr/h
                       sync=on;
    webhook_limit_zone zone=small:1m key=$http_x_tenant rate=5r/h sync=on;
    webhook_limit_zone zone=alone:1m key=$http_x_tenant rate=5r/h;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /global {
            webhook_limit zone=global;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /small {
            webhook_limit zone=small;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /alone {
            webhook_limit zone=alone;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location = /status {
            webhook_status;
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        access_log off;

        location / {
            return 200 "fast";
        }
    }
}

EOF

$conf =~ s/REDIS_PORT/$redis->port/e;
$conf =~ s/SYNC_MS/$SYNC_MS/;
$conf =~ s/LIMIT/$LIMIT/;

for my $t (@nodes) {
    $t->write_file_expand('nginx.conf', $conf);
    $t->run;
}

###############################################################################

sub get {
    my ($t, $path, $tenant) = @_;
    return $t->http(method => 'GET', path => $path, timeout => 10,
                    headers => [['X-Tenant', $tenant]]);
}

# Redis's fields (node => count) of a key's hash in the current window
# and the one before, and their sum

sub redis_counts {
    my ($zone, $tenant) = @_;

    my %fields;
    my $sum = 0;

    for my $key ($redis->scan('t070:{' . $zone . ':'
                              . unpack('H*', $tenant) . '}:*'))
    {
        my %h = split /\n/, $redis->cli('HGETALL', $key);
        for (keys %h) {
            $fields{$_} += $h{$_};
            $sum += $h{$_};
        }
    }

    return ($sum, \%fields);
}

my ($j, @r);

# every worker of every node connected; one of each node's workers syncs

for my $i (0 .. 2) {
    my $t = $nodes[$i];

    $j = $t->wait_until(sub {
        my $j = $t->status_json;
        return $j && $j->{redis}{connected_workers} == 2
               && $j->{redis}{leader_pid} && $j;
    }, timeout => 10);

    ok($j && $j->{redis}{configured}, "node $i: redis configured");
    is($j && $j->{redis}{connected_workers}, 2,
        "node $i: both workers connected");
    is($j && $j->{redis}{workers}, 2, "node $i: workers 2");

    my %workers = map { $_ => 1 } $t->worker_pids;
    ok($j && $workers{ $j->{redis}{leader_pid} },
        "node $i: leader_pid is one of its workers")
        or diag(explain($j && $j->{redis}));
}

# the stream: 1200 requests for one key, 400 to each node at once, about
# 200 a second to each (one client per node, paced), so that the limit is
# reached after several sync intervals

my $tenant = "burst-$$";
my $per_node = 400;

my @reqs = map {
    { port => $nodes[$_ % 3]->port(8080), method => 'GET', path => '/global',
      headers => [['X-Tenant', $tenant]], timeout => 10 }
} 0 .. 3 * $per_node - 1;

my $start = time;
@r = @{ $nodes[0]->http_batch(\@reqs, concurrency => 3,
                               interval => 0.005) };
my $took = time - $start;

my @admitted = grep { $_->{status} == 200 } @r;
my @limited = grep { $_->{status} == 429 } @r;

is(@admitted + @limited, scalar @r, 'stream: every answer is 200 or 429')
    or diag(join ' ', map { $nodes[0]->status($_) } grep {
        $_->{status} != 200 && $_->{status} != 429 } @r);

my %per_node;
$per_node{$_ % 3} += ($r[$_]{status} == 200) for 0 .. $#r;

my $rate = $per_node / $took;
my $bound = (3 - 1) * $rate * $SYNC_MS / 1000;
my $over = @admitted - $LIMIT;

diag(sprintf 'stream: %d requests in %.2f s (%.0f r/s per node); admitted '
     . '%d of limit %d (per node %s): over-admission %d, bound (3-1) x '
     . '%.0f r/s x %.3g s = %.0f', scalar @r, $took, $rate,
     scalar @admitted, $LIMIT, join('/', map { $per_node{$_} // 0 } 0 .. 2),
     $over, $rate, $SYNC_MS / 1000, $bound);

cmp_ok(scalar @admitted, '>=', $LIMIT, 'stream: at least the limit admitted');

# about the documented bound (its average: what the other nodes admitted
# in one interval), at worst twice it (a node's view of the cluster is up
# to one interval old, and so are the other nodes' counts in Redis), plus
# one for each node's first sight of the key
cmp_ok($over, '<=', 2 * $bound + 3, 'stream: over-admission within the bound');

# and clearly a cluster-wide limit, not three node-local ones
cmp_ok(scalar @admitted, '<', 2 * $LIMIT,
    'stream: far below three node-local limits');

# Redis: each node's absolute count in its own field, summing to exactly
# what was admitted (nothing counted twice, nothing lost)

my ($sum, $fields);

$nodes[0]->wait_until(sub {
    ($sum, $fields) = redis_counts('global', $tenant);
    return $sum == @admitted;
}, timeout => 5);

is($sum, scalar @admitted, 'redis: the nodes\' counts sum to the admitted');

my $host = lc hostname();
# "<hostname>:<master pid>:<random id>", by "<hostname>:<master pid>"
my %by_pid;
for (keys %$fields) {
    $by_pid{$1} = $fields->{$_} if /^(\Q$host\E:\d+):[0-9a-f]{16}$/;
}

is(join(' ', sort keys %by_pid),
   join(' ', sort map { "$host:" . $_->nginx_pid } @nodes),
   'redis: one field per node, "<hostname>:<master pid>:<random id>"');

for my $i (0 .. 2) {
    is($by_pid{"$host:" . $nodes[$i]->nginx_pid}, $per_node{$i},
        "redis: node ${i}'s field is what it admitted");
}

my @keys = $redis->scan('t070:{global:*');
ok(@keys && !grep({ !/^t070:\{global:[0-9a-f]+\}:\d+$/ } @keys),
    'redis: keys are <prefix>{<zone>:<hex key>}:<window>')
    or diag("@keys");

my $ttl = $redis->cli('PTTL', $keys[0] // '');
ok($ttl > 3600 * 1000 && $ttl <= 2 * 3600 * 1000 + 1000,
    'redis: a window expires after two periods') or diag("PTTL $ttl");

# a node that did not see the key before asks the cluster first: node 0
# uses 5r/h up; nodes 1 and 2 then refuse from their first request (their
# view of the key is not fresh: they wait for one exchange of it)

my $small = "small-$$";

is(join(' ', map { get($nodes[0], '/small', $small)->{status} } 1 .. 6),
    '200 200 200 200 200 429', 'small: node 0 uses the limit up');

ok($nodes[0]->wait_until(sub { (redis_counts('small', $small))[0] == 5 },
                         timeout => 5),
   'small: synced');

for my $i (1, 2) {
    my $t = $nodes[$i];

    @r = map { get($t, '/small', $small) } 1 .. 3;
    is(join(' ', map { $_->{status} } @r), '429 429 429',
        "small: node $i refuses, from its first sight of the key");
    is($r[0]{headers}{'ratelimit-remaining'}, 0,
        "small: node $i, RateLimit-Remaining 0");
}

is((redis_counts('small', $small))[0], 5, 'small: the cluster admitted 5');

# a zone without sync=on stays node-local

is(join(' ', map { get($nodes[$_ % 3], '/alone', 'x')->{status} } 0 .. 17),
   join(' ', ('200') x 15, ('429') x 3),
   'sync=off: five per node');

# status after all this

for my $i (0 .. 2) {
    my $t = $nodes[$i];

    $j = $t->status_json;

    cmp_ok($j->{redis}{syncs}, '>', 0, "node $i: syncs counted");
    is($j->{redis}{failures}, 0, "node $i: no failures");
    is($j->{redis}{last_error}, '', "node $i: no last_error");

    my $p = $t->prometheus($t->status_prometheus);

    is($p->{nginx_webhook_redis_up}, 1, "node $i: prometheus redis_up 1");
    is($p->{nginx_webhook_redis_connected_workers}, 2,
        "node $i: prometheus redis_connected_workers 2");
    is($p->{nginx_webhook_redis_workers}, 2,
        "node $i: prometheus redis_workers 2");
    cmp_ok($p->{nginx_webhook_redis_syncs_total} // 0, '>', 0,
        "node $i: prometheus syncs_total");
    is($p->{nginx_webhook_redis_failures_total}, 0,
        "node $i: prometheus failures_total 0");

    unlike($t->error_log, qr/webhook: redis .* is unavailable/,
        "node $i: no redis warning");
}

$_->stop for @nodes;

for my $i (0 .. 2) {
    unlike($nodes[$i]->error_log, qr/open socket/,
        "node $i: no socket left open at exit");
}

# the error-log check of each node, then done_testing
$_->_final_check for @nodes[1, 2];
$nodes[0]->done_testing;

###############################################################################
