#!/usr/bin/perl

# Redis failing under three nginx nodes (on_error=local, the default):
#   - killed in the middle of a stream of valid deliveries: not one
#     request fails; one warning per node, not per request; limits go on
#     with node-local counts, duplicates with node-local records;
#   - started again on the same port: every worker reconnects (backoff at
#     most 2s), the counts made meanwhile are written to Redis within a
#     few sync intervals, cross-node duplicates are caught again;
#   - made slow (CLIENT PAUSE): no request waits much beyond the timeout.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use POSIX ();
use Sys::Hostname qw(hostname);
use Time::HiRes qw(time sleep);

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $TIMEOUT = 0.2;

my @nodes = map { Test::Webhook->new } 1 .. 3;
my $redis = Test::Webhook::Redis->new(dir => $nodes[0]->testdir);

my $secret = 'gh_failures_secret_0b3e77';

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT/0 timeout=200ms
                  sync_interval=100ms prefix=t072:;

    webhook_replay_zone zone=ids:4m ttl=10m;
    webhook_limit_zone zone=wide:1m key=$http_x_tenant rate=100000r/m
                       sync=on;
    webhook_limit_zone zone=tight:1m key=$http_x_tenant rate=5r/h sync=on;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids redis=on;
            webhook_limit zone=wide;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /tight {
            webhook_limit zone=tight;
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

for my $t (@nodes) {
    $t->write_file('github.secret', $secret, 0600);
    $t->write_file_expand('nginx.conf', $conf);
    $t->run;
}

my ($A, $B, $C) = @nodes;
my $host = lc hostname();

###############################################################################

my $seq = 0;

sub gh {
    my ($id, %o) = @_;

    $seq++;
    my $body = qq({"action":"created","delivery":"$id","n":$seq});

    return { path => '/github', body => $body, timeout => 10,
             headers => [
                 ['X-GitHub-Event', 'issues'],
                 ['X-GitHub-Delivery', $id],
                 ['X-Tenant', 'stream'],
                 ['X-Hub-Signature-256', github_header($secret, $body)],
             ], %o };
}

sub tight {
    my ($t, $tenant) = @_;
    return $t->http(method => 'GET', path => '/tight', timeout => 10,
                    headers => [['X-Tenant', $tenant]])->{status};
}

sub connected {
    return join ' ', map {
        my $j = $_->status_json;
        $j ? $j->{redis}{connected_workers} : '-';
    } @nodes;
}

sub count_lines {
    my ($t, $re) = @_;
    return scalar grep { /$re/ } split /\n/, $t->error_log;
}

sub key_of {
    my ($zone, $raw) = @_;
    return "t072:{$zone:" . unpack('H*', $raw) . '}';
}

sub tight_fields {
    my ($tenant) = @_;
    my %f;
    for my $key ($redis->scan(key_of('tight', $tenant) . ':*')) {
        my %h = split /\n/, $redis->cli('HGETALL', $key);
        # "<hostname>:<master pid>:<random id>", by "<hostname>:<pid>"
        for (keys %h) {
            (my $node = $_) =~ s/:[0-9a-f]{16}$//;
            $f{$node} += $h{$_};
        }
    }
    return \%f;
}

my $warning = qr/\[warn\].*webhook: redis \S+ is unavailable/;
my $back = qr/\[notice\].*webhook: redis \S+ is back/;

my (@r, $r, $j);

ok($A->wait_until(sub { connected() eq '2 2 2' }, timeout => 10),
   'all workers connected');

# a stream of valid deliveries to the three nodes, about 100 a second
# each; Redis is killed (SIGKILL) 0.6 s into it

my @reqs = map { { %{ gh("stream-$_") }, port => $nodes[$_ % 3]->port(8080) } }
           0 .. 449;

my $killer = fork;
die "fork: $!" unless defined $killer;

if ($killer == 0) {
    sleep(0.6);
    kill 'KILL', $redis->pid;
    POSIX::_exit(0);
}

my $start = time;
@r = @{ $A->http_batch(\@reqs, concurrency => 3, interval => 0.01) };
my $took = time - $start;
waitpid($killer, 0);
$redis->kill;

diag(sprintf 'killed mid-stream: %d of %d answered after the kill',
     scalar(grep { ($_->{done_at} // 0) > $start + 0.6 } @r), scalar @r);

my @failed = grep { $_->{status} != 200 } @r;

is(scalar @failed, 0,
   sprintf('killed mid-stream: %d deliveries in %.1f s, none failed',
           scalar @r, $took))
    or diag(join ' ', map { $A->status($_) } @failed[0 .. 9]);

is($A->upstream_count + $B->upstream_count + $C->upstream_count,
   scalar @r, 'killed mid-stream: every delivery forwarded');

# the kill happened within the stream: some answered before, some after

my $died = (grep { /Server closed the connection|Connection refused|connection lost/ }
            map { $_->error_log } @nodes) ? 1 : 0;
ok($died, 'the nodes saw Redis go');

ok($A->wait_until(sub { connected() eq '0 0 0' }, timeout => 5),
   'no worker connected while Redis is down');

for my $i (0 .. 2) {
    is(count_lines($nodes[$i], $warning), 1,
        "node $i: one warning for the outage");

    $j = $nodes[$i]->status_json;
    cmp_ok($j->{redis}{failures}, '>', 0, "node $i: failures counted");
    like($j->{redis}{last_error}, qr/\S/, "node $i: last_error set")
        or diag(explain($j->{redis}));
}

# while Redis is down: node-local limits...

is(join(' ', map { tight($A, 'down') } 1 .. 7),
   '200 200 200 200 200 429 429', 'down: node A counts alone');
is(join(' ', map { tight($B, 'down') } 1 .. 6),
   '200 200 200 200 200 429', 'down: node B too');

# ... and node-local duplicate records

$A->is_forwarded(gh('down-1'), 'down: A forwards');
$r = $A->http(%{ gh('down-1') });
is($A->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'down: A still catches its own duplicate');

ok(!grep({ /\[(?:error|crit|alert)\]/ } map { split /\n/, $_->error_log }
         @nodes), 'down: no error logged');

# Redis comes back on the same port, empty (no persistence)

$redis->start;

ok($A->wait_until(sub { connected() eq '2 2 2' }, timeout => 8),
   'restarted: every worker reconnected') or diag(connected());

for my $i (0 .. 2) {
    is(count_lines($nodes[$i], $back), 1, "node $i: one notice when back");
}

# the counts made during the outage are written in full

my $f;
ok($A->wait_until(sub {
        $f = tight_fields('down');
        return ($f->{"$host:" . $A->nginx_pid} // 0) == 5
               && ($f->{"$host:" . $B->nginx_pid} // 0) == 5;
    }, timeout => 3),
   'restarted: the outage\'s counts resynced') or diag(explain($f));

# cluster-wide again: 10 counted for a limit of 5, so C, asking the
# cluster before it decides on a key it has no fresh view of, refuses

is(tight($C, 'down'), 429, 'restarted: C refuses from its first sight');

# cross-node duplicates are caught again

$A->is_forwarded(gh('back-1'), 'restarted: A forwards');
ok($A->wait_until(sub {
        $redis->cli('GET', 't072:{replay:ids}:'
                    . unpack('H*', 'github:id:back-1')) eq 'd' },
        timeout => 5),
   'restarted: committed in Redis');

my $n = $A->upstream_count + $B->upstream_count + $C->upstream_count;
$r = $B->http(%{ gh('back-1') });
is($B->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'restarted: B catches A\'s delivery');
is($A->upstream_count + $B->upstream_count + $C->upstream_count, $n,
    'restarted: not forwarded again');

cmp_ok($B->status_json->{redis}{syncs}, '>', 0, 'restarted: syncs');

# Redis made slow: it takes connections but answers nothing for 3 s

$redis->pause(3000);
my $paused = time;

@r = map { $nodes[$_ % 3]->http(%{ gh("slow-$_") }) } 0 .. 5;
my @slow = @r;

is(join(' ', map { $_->{status} } @r), '200 200 200 200 200 200',
    'slow: answered');
ok(!grep({ $_->{elapsed} > $TIMEOUT + 1 } @r),
   'slow: no request waited beyond the timeout')
    or diag(join ' ', map { sprintf '%.2f', $_->{elapsed} } @r);

@r = @{ $A->http_many(map { { %{ gh("slow-many-$_") },
                              port => $nodes[$_ % 3]->port(8080) } } 0 .. 5) };

is(join(' ', map { $_->{status} } @r), '200 200 200 200 200 200',
    'slow, at once: answered');
ok(!grep({ $_->{elapsed} > $TIMEOUT + 1 } @r),
   'slow, at once: no request waited beyond the timeout')
    or diag(join ' ', map { sprintf '%.2f', $_->{elapsed} } @r);
push @slow, @r;

$start = time;
is(tight($A, "slow-$$"), 200, 'slow: a synced limit');
cmp_ok(time - $start, '<', 1, 'slow: the limit does not wait on Redis');

diag(sprintf 'slow: requests done %.2f s into the 3 s pause; the longest '
     . 'took %.2f s (timeout %.1f s)', time - $paused,
     (sort { $b <=> $a } map { $_->{elapsed} } @slow)[0], $TIMEOUT);

# the pause ends: back, and one more warning (and notice) for this outage

ok($A->wait_until(sub { connected() eq '2 2 2' }, timeout => 10),
   'slow: every worker reconnected after the pause') or diag(connected());

for my $i (0 .. 2) {
    is(count_lines($nodes[$i], $warning), 2,
        "node $i: one warning per outage");
    ok($nodes[$i]->wait_until(sub { count_lines($nodes[$i], $back) == 2 },
                              timeout => 3),
       "node $i: back again");
}

$_->stop for @nodes;

for my $i (0 .. 2) {
    unlike($nodes[$i]->error_log, qr/open socket/,
        "node $i: no socket left open at exit");
}

$_->_final_check for @nodes[1, 2];
$A->done_testing;

###############################################################################
