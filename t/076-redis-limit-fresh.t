#!/usr/bin/perl

# webhook_limit_zone ... sync=on decides on a key only with a view of the
# cluster at most sync_interval old; a request without one waits for one
# exchange of its key.  Three nginx nodes (two workers each), one real
# redis-server:
#
#   - a burst at one node, a pause, a burst at another: per second, per
#     minute, per hour, the cluster admits at most limit + 1;
#   - requests alternating between nodes at a low rate: at most limit + 1;
#   - simultaneous bursts at three nodes: measured, within the documented
#     bound, and Redis holds exactly what was admitted;
#   - sync=async keeps the never-waiting behaviour: a node's first request
#     for a key is admitted on its own counts;
#   - requests waiting on one key share one exchange (counted in Redis's
#     command statistics while Redis is paused);
#   - no answer within the timeout: on_error=local decides, nothing hangs.
#
# Pass or fail never depends on timing: the bounds are on counts, and the
# scenarios that must fit in one window are checked against the windows
# Redis recorded (a sample that straddled a window boundary is retried).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);

use Test::Webhook;
use Test::Webhook::Redis;

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $SYNC_MS = 100;
my $LIMIT = 20;

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
                  timeout=1s prefix=t076:;

    webhook_limit_zone zone=sec:1m key=$http_x_tenant rate=LIMITr/s sync=on;
    webhook_limit_zone zone=min:1m key=$http_x_tenant rate=LIMITr/m sync=on;
    webhook_limit_zone zone=hour:1m key=$http_x_tenant rate=LIMITr/h sync=on;
    webhook_limit_zone zone=alt:1m key=$http_x_tenant rate=10r/m sync=on;
    webhook_limit_zone zone=tri:1m key=$http_x_tenant rate=30r/h sync=on;
    webhook_limit_zone zone=async:1m key=$http_x_tenant rate=LIMITr/h
                       sync=async;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /sec {
            webhook_limit zone=sec;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /min {
            webhook_limit zone=min;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /hour {
            webhook_limit zone=hour;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /alt {
            webhook_limit zone=alt;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /tri {
            webhook_limit zone=tri;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /async {
            webhook_limit zone=async;
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
$conf =~ s/LIMIT/$LIMIT/g;

for my $t (@nodes) {
    $t->write_file_expand('nginx.conf', $conf);
    $t->run;
}

###############################################################################

# Redis's counts of a key: { window => { node => count } }

sub redis_windows {
    my ($zone, $tenant) = @_;

    my %w;

    for my $key ($redis->scan('t076:{' . $zone . ':'
                              . unpack('H*', $tenant) . '}:*'))
    {
        my ($window) = $key =~ /:(\d+)$/;
        my %h = split /\n/, $redis->cli('HGETALL', $key);
        $w{$window}{$_} = $h{$_} for keys %h;
    }

    return \%w;
}

sub redis_sum {
    my $w = redis_windows(@_);
    my $sum = 0;
    for my $f (values %$w) { $sum += $_ for values %$f }
    return $sum;
}

sub burst {
    my ($t, $zone, $tenant, $n, $concurrency) = @_;

    my @reqs = map {
        { port => $t->port(8080), method => 'GET', path => "/$zone",
          headers => [['X-Tenant', $tenant]], timeout => 10 }
    } 1 .. $n;

    return $t->http_batch(\@reqs, concurrency => $concurrency // 5);
}

sub admitted { scalar grep { $_->{status} == 200 } @{ $_[0] } }
sub answered { scalar grep { $_->{status} == 200 || $_->{status} == 429 }
                   @{ $_[0] } }

# start a scenario right after a window boundary of the period, so that a
# short scenario rarely straddles one (a straddling sample is retried)

sub align {
    my ($period, $room) = @_;

    my $into = time - int(time / $period) * $period;
    sleep($period - $into + 0.01) if $into > $period - $room;
}

sub evalsha_calls {
    my ($calls) = $redis->cli('INFO', 'commandstats')
                  =~ /cmdstat_evalsha:calls=(\d+)/;
    return $calls // 0;
}

my $ready = sub {
    for my $t (@nodes) {
        my $j = $t->status_json;
        return 0 unless $j && $j->{redis}{connected_workers} == 2
                        && $j->{redis}{leader_pid};
    }
    return 1;
};

ok($nodes[0]->wait_until($ready, timeout => 10),
   'every worker of every node connected');

###############################################################################

# a burst at node 0, a pause (until node 0's counts are in Redis), a burst
# at node 1: the cluster admits at most limit + 1 (without fresh views,
# node 1 admitted its whole burst: twice the limit)

my @table;

for my $case (['sec', 1, 0.6], ['min', 60, 5], ['hour', 3600, 5]) {
    my ($zone, $period, $room) = @$case;

    my ($total, $ra, $rb, $windows);

    for my $attempt (1 .. 8) {
        my $tenant = "$zone-$$-$attempt";

        align($period, $room);

        $ra = burst($nodes[0], $zone, $tenant, $LIMIT);

        $nodes[0]->wait_until(sub {
            redis_sum($zone, $tenant) >= admitted($ra)
        }, timeout => 5);

        sleep(0.2) if $period > 1;      # and then some

        $rb = burst($nodes[1], $zone, $tenant, $LIMIT);

        $nodes[1]->wait_until(sub {
            redis_sum($zone, $tenant) >= admitted($ra) + admitted($rb)
        }, timeout => 5);

        $total = admitted($ra) + admitted($rb);
        $windows = redis_windows($zone, $tenant);

        # every window on its own never holds more than the limit + 1
        for my $w (sort keys %$windows) {
            my $sum = 0;
            $sum += $_ for values %{ $windows->{$w} };
            cmp_ok($sum, '<=', $LIMIT + 1, "$zone: window $w within limit + 1");
        }

        last if keys %$windows == 1;

        diag("$zone: attempt $attempt straddled a window boundary, again");
    }

    is(answered($ra) + answered($rb), 2 * $LIMIT,
        "$zone: every answer is 200 or 429");
    is(keys %$windows, 1, "$zone: a sample within one window");
    is(admitted($ra), $LIMIT, "$zone: node 0 admits its burst");
    cmp_ok($total, '<=', $LIMIT + 1,
        "$zone: burst, pause, burst at another node: at most limit + 1");

    push @table, sprintf('burst, pause, burst | %dr/%s | 2 | %d | %d',
                         $LIMIT, substr($zone, 0, 1), $total, $LIMIT + 1);
}

# alternating nodes request by request, at a low rate (about one request
# per two sync intervals), round the three nodes: at most limit + 1
# (without fresh views, each node missed what the two others admitted
# since its own last request)

{
    my $tenant = "alt-$$";
    my ($admitted, $n) = (0, 30);

    align(60, 15);

    for my $i (0 .. $n - 1) {
        my $t = $nodes[$i % 3];
        my $r = $t->http(method => 'GET', path => '/alt', timeout => 10,
                         headers => [['X-Tenant', $tenant]]);
        $admitted++ if $r->{status} == 200;
        sleep(2 * $SYNC_MS / 1000);
    }

    cmp_ok($admitted, '<=', 10 + 1,
        "alternating nodes: $admitted admitted, at most limit + 1");
    cmp_ok($admitted, '>=', 10, 'alternating nodes: the limit admitted');

    push @table, "alternating | 10r/m | 3 | $admitted | 11";
}

# simultaneous bursts at three nodes: each node may admit, within one
# sync interval, what it decides before it sees the others' counts; the
# bound is limit + (nodes - 1) x what one node admits in an interval

{
    my $tenant = "tri-$$";
    my $per_node = 30;

    my @reqs = map {
        { port => $nodes[$_ % 3]->port(8080), method => 'GET',
          path => '/tri', headers => [['X-Tenant', $tenant]], timeout => 10 }
    } 0 .. 3 * $per_node - 1;

    my $r = $nodes[0]->http_batch(\@reqs, concurrency => 15);

    my $admitted = admitted($r);

    is(answered($r), 3 * $per_node, 'three bursts: every answer 200 or 429');
    cmp_ok($admitted, '>=', 30, 'three bursts: at least the limit');
    cmp_ok($admitted, '<=', 30 + 2 * $per_node,
        'three bursts: within limit + (nodes - 1) x a node\'s burst');

    ok($nodes[0]->wait_until(sub { redis_sum('tri', $tenant) == $admitted },
                             timeout => 5),
       'three bursts: Redis holds exactly what was admitted');

    diag("three simultaneous bursts of $per_node at 30r/h: admitted "
         . "$admitted");
    push @table, "three simultaneous bursts | 30r/h | 3 | $admitted | "
                 . (30 + 2 * $per_node);
}

diag("scenario | rate | nodes | admitted | bound");
diag($_) for @table;

# sync=async: never waits; a node's first request for a key is decided on
# its own counts, even when the cluster used the limit up

{
    my $tenant = "async-$$";

    my $r = burst($nodes[0], 'async', $tenant, $LIMIT);
    is(admitted($r), $LIMIT, 'async: node 0 uses the limit up');

    ok($nodes[0]->wait_until(sub { redis_sum('async', $tenant) == $LIMIT },
                             timeout => 5), 'async: synced');

    is($nodes[2]->http(method => 'GET', path => '/async', timeout => 10,
                       headers => [['X-Tenant', $tenant]])->{status},
       200, 'async: node 2\'s first sight of the key is admitted');

    # while sync=on asks first
    $tenant = "on-$$";
    $r = burst($nodes[0], 'hour', $tenant, $LIMIT);
    ok($nodes[0]->wait_until(sub { redis_sum('hour', $tenant) == $LIMIT },
                             timeout => 5), 'on: synced');

    is($nodes[2]->http(method => 'GET', path => '/hour', timeout => 10,
                       headers => [['X-Tenant', $tenant]])->{status},
       429, 'on: node 2\'s first sight of the key is refused');
}

# requests waiting on one key share one exchange: Redis paused, twenty
# requests for a new key at node 2 all wait; Redis then ran a few scripts,
# not one per request

{
    my $tenant = "merge-$$";

    sleep(3 * $SYNC_MS / 1000);         # the rounds for older keys are over

    my $before = evalsha_calls();

    $redis->pause(500);

    my @reqs = map {
        { port => $nodes[2]->port(8080), method => 'GET', path => '/hour',
          headers => [['X-Tenant', $tenant]], timeout => 10 }
    } 1 .. 20;

    my $r = $nodes[2]->http_many(@reqs);
    my $calls = evalsha_calls() - $before;

    is(admitted($r), $LIMIT, 'merge: all twenty admitted after the wait');

    # an exchange per worker (two), and the syncing worker's rounds
    cmp_ok($calls, '<=', 6, "merge: $calls scripts for twenty waiting "
           . 'requests');
}

# Redis answers no more within the timeout: a waiting request goes on as
# on_error=local says (node-local counts), and nothing hangs

{
    my $tenant = "late-$$";

    $redis->pause(2500);

    my $r = $nodes[1]->http(method => 'GET', path => '/hour', timeout => 10,
                            headers => [['X-Tenant', $tenant]]);

    is($r->{status}, 200, 'no answer in time: on_error=local admits');

    ok($nodes[1]->wait_until(sub {
        $nodes[1]->error_log =~ /webhook: redis .* is unavailable/
    }, timeout => 5), 'no answer in time: logged as an outage');

    ok($nodes[0]->wait_until($ready, timeout => 15),
       'every worker connected again');
}

$_->stop for @nodes;

$_->_final_check for @nodes[1, 2];
$nodes[0]->done_testing;

###############################################################################
