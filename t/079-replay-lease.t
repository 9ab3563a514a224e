#!/usr/bin/perl

# webhook_replay ... redis=on lease=: an in-flight record does not outlive
# its owner.  Node A forwards a delivery to an upstream that never answers;
# its records in Redis are in flight under the lease (not the record's
# lifetime), and the lease is renewed while the request is alive.  A's
# worker is then killed (SIGKILL): the provider's retry at node B gets 409
# while the lease runs, and once it ran out the retry is forwarded, once;
# the commit gives the record its full lifetime, and a further retry is a
# duplicate.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Time::HiRes qw(time sleep);

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $LEASE = 5;

my $A = Test::Webhook->new;
my $B = Test::Webhook->new;
my $redis = Test::Webhook::Redis->new(dir => $A->testdir);

my $secret = 'gh_lease_secret_71c0aa';

# an upstream that takes requests and never answers

my $hang = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                  Listen => 16, ReuseAddr => 1)
    or die "listen: $!";
my $hang_port = $hang->sockport;

my $hang_pid = fork;
die "fork: $!" unless defined $hang_pid;

if ($hang_pid == 0) {
    my $sel = IO::Select->new($hang);
    while (1) {
        for my $s ($sel->can_read(1)) {
            if ($s == $hang) {
                my $c = $hang->accept;
                $sel->add($c) if $c;
            } elsif (!sysread($s, my $buf, 65536)) {
                $sel->remove($s);
                close $s;
            }
        }
    }
}

close $hang;

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 1;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT/0 timeout=2s prefix=t079:;

    webhook_replay_zone zone=ids:4m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids redis=on lease=LEASEs;
            proxy_read_timeout 60s;
            proxy_pass http://TARGET;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$conf =~ s/REDIS_PORT/$redis->port/e;
$conf =~ s/LEASE/$LEASE/;

for my $t ($A, $B) {
    (my $c = $conf) =~ s/TARGET/$t == $A ? "127.0.0.1:$hang_port"
                                          : '%%UPSTREAM%%'/e;
    $t->write_file('github.secret', $secret, 0600);
    $t->write_file_expand('nginx.conf', $c);
    $t->run;
}

$A->expect_alert(qr/exited on signal 9/);

###############################################################################

sub gh {
    my ($id) = @_;
    my $body = qq({"action":"created","delivery":"$id"});
    return { path => '/github', body => $body, timeout => 70,
             headers => [
                 ['X-GitHub-Event', 'issues'],
                 ['X-GitHub-Delivery', $id],
                 ['X-Hub-Signature-256', github_header($secret, $body)],
             ] };
}

# the delivery's records in Redis: key => [value, pttl]

sub records {
    my %r;
    for my $key ($redis->scan('t079:{replay:ids}:*')) {
        $r{$key} = [ $redis->cli('GET', $key), $redis->cli('PTTL', $key) ];
    }
    return \%r;
}

for my $t ($A, $B) {
    ok($t->wait_until(sub {
        my $j = $t->status_json;
        $j && $j->{redis}{connected_workers} == 1;
    }, timeout => 10), 'connected');
}

my $delivery = gh("lease-$$");

# A forwards it; the upstream never answers

my $client = fork;
die "fork: $!" unless defined $client;

if ($client == 0) {
    $A->http(%$delivery);
    POSIX::_exit(0);
}

my $r;
ok($A->wait_until(sub {
    $r = records();
    keys %$r == 2 && !grep { $_->[0] !~ /^f:/ } values %$r;
}, timeout => 10), 'A: two records in flight in Redis')
    or diag(explain($r));

my ($first) = map { $_->[1] } values %$r;
cmp_ok($first, '<=', $LEASE * 1000,
    "A: in flight under the lease (PTTL $first ms), not the 10m lifetime");

# renewed while the request is alive: the PTTL goes up again

my $least = $first;

ok($A->wait_until(sub {
    my ($now) = map { $_->[1] } values %{ records() };
    return 0 unless defined $now;
    # a PTTL only goes down by itself: once it went up, it was renewed
    # (the first sample may have been taken just as it was renewed)
    return 1 if $now > $least;
    $least = $now;
    return 0;
}, timeout => 2 * $LEASE), 'A: the lease is renewed while the request is '
   . 'alive');

# the worker holding the claim is killed

my @w = $A->worker_pids;
kill 'KILL', @w;

ok($A->wait_until(sub {
    my @n = $A->worker_pids;
    @n == 1 && $n[0] != $w[0];
}, timeout => 10), 'A: its worker killed, another one started');

waitpid($client, 0);

# the retry, at B, while the lease runs: in flight

my $n = $B->upstream_count;

my $in_flight = keys %{ records() };
$r = $B->http(%$delivery);

if ($in_flight) {
    is($B->status($r), 409, 'B: the retry while the lease runs: 409');
    like($r->{body}, qr/duplicate_in_flight/,
        'B: duplicate_in_flight');
}

is($B->upstream_count, $n, 'B: not forwarded meanwhile');

# the lease runs out (nothing renews it): the retry goes through, once

ok($A->wait_until(sub { keys %{ records() } == 0 },
                  timeout => 3 * $LEASE),
   'the records expired with the lease');

$B->is_forwarded($delivery, 'B: the retry after the lease');

is($B->upstream_count, $n + 1, 'B: forwarded once');

# the commit: the full lifetime, and a further retry is a duplicate

$r = records();
ok(keys %$r && !grep({ $_->[0] ne 'd' || $_->[1] <= $LEASE * 1000 }
                     values %$r),
   'committed: "d" for the record\'s lifetime') or diag(explain($r));

$r = $A->http(%$delivery);
is($A->reject_summary($r), '200 application/json {"status":"duplicate"}',
   'A: a further retry is a duplicate');
is($B->upstream_count, $n + 1, 'not forwarded again');

$A->stop;
$B->stop;

kill 'KILL', $hang_pid;
waitpid($hang_pid, 0);

$B->_final_check;
$A->done_testing;

###############################################################################
