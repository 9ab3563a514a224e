#!/usr/bin/perl

# webhook_redis with a password (password_file, AUTH) and over a unix
# socket; a wrong or missing password is a failure shown in the status,
# never a failed request; a password file others can read is refused at
# load.  nginx -s reload while connected: the new workers connect, the
# sync lease moves to one of them, and no socket is left open; a syncing
# worker killed hands its lease over once it expires.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Sys::Hostname qw(hostname);
use Time::HiRes qw(sleep);

use Test::Webhook;
use Test::Webhook::Redis;

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $password = 'redis-pass-7c1e90ab';

my %t = map { $_ => Test::Webhook->new } qw(tcp unix wrong none);
my $redis = Test::Webhook::Redis->new(dir => $t{tcp}->testdir,
                                      password => $password,
                                      unixsocket => 1);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes WORKERS;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    # timeout: this test is about passwords and reloads; a first request
    # for a synced key waits for Redis, and a loaded machine must not
    # turn that into a failure counted here
    webhook_redis URL PASSWORD prefix=t073: timeout=2s;

    webhook_limit_zone zone=rl:1m key=$http_x_tenant rate=5r/m sync=on;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /limited {
            webhook_limit zone=rl;
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

my %setup = (
    tcp   => [2, 'redis://127.0.0.1:' . $redis->port . '/0', $password],
    unix  => [2, 'unix:' . $redis->socket, $password],
    wrong => [1, 'redis://127.0.0.1:' . $redis->port, 'not-the-password'],
    none  => [1, 'redis://127.0.0.1:' . $redis->port, undef],
);

for my $name (sort keys %setup) {
    my ($workers, $url, $pass) = @{ $setup{$name} };
    my $t = $t{$name};

    (my $c = $conf) =~ s/WORKERS/$workers/;
    $c =~ s/URL/$url/;

    if (defined $pass) {
        $t->write_file('redis.pass', "$pass\n", 0600);
        $c =~ s{PASSWORD}{password_file=%%TESTDIR%%/redis.pass};

    } else {
        $c =~ s/PASSWORD//;
    }

    $t->write_file_expand('nginx.conf', $c);
    $t->run;
}

###############################################################################

sub redis_status {
    my ($t) = @_;
    my $j = $t->status_json;
    return $j ? $j->{redis} : {};
}

sub limited {
    my ($t, $tenant) = @_;
    return $t->http(method => 'GET', path => '/limited', timeout => 10,
                    headers => [['X-Tenant', $tenant]])->{status};
}

my $host = lc hostname();
my $s;

# this node's count for a key in Redis, over its windows

sub redis_count {
    my ($t, $tenant) = @_;
    my $n = 0;
    for my $key ($redis->scan('t073:{rl:' . unpack('H*', $tenant) . '}:*')) {
        my %h = split /\n/, $redis->cli('HGETALL', $key);
        my $pid = $t->nginx_pid;
        $n += $h{$_} for grep { /^\Q$host\E:$pid:[0-9a-f]{16}$/ } keys %h;
    }
    return $n;
}

# the right password, over TCP and over the unix socket

for my $name (qw(tcp unix)) {
    my $t = $t{$name};

    ok($t->wait_until(sub { redis_status($t)->{connected_workers} == 2 },
                      timeout => 10),
       "$name: AUTH accepted, both workers connected");

    is(limited($t, "auth-$name"), 200, "$name: a synced limit");

    ok($t->wait_until(sub { redis_count($t, "auth-$name") == 1 },
                      timeout => 5),
       "$name: its count reached Redis");

    is(redis_status($t)->{failures}, 0, "$name: no failures");
}

# a wrong password, no password: failures, shown; requests still served

for my $name (qw(wrong none)) {
    my $t = $t{$name};

    ok($t->wait_until(sub { redis_status($t)->{failures} > 0 },
                      timeout => 5),
       "$name: a failure");

    $s = redis_status($t);
    is($s->{connected_workers}, 0, "$name: not connected");

    is(join(' ', map { limited($t, $name) } 1 .. 6),
       '200 200 200 200 200 429', "$name: limits are node-local meanwhile");
}

like(redis_status($t{wrong})->{last_error}, qr/^AUTH: .*(?:WRONGPASS|invalid)/i,
    'wrong: last_error says AUTH was refused');
like(redis_status($t{none})->{last_error}, qr/NOAUTH/,
    'none: last_error says authentication is required');

# it keeps trying, with backoff, but warns once

sleep(1);

for my $name (qw(wrong none)) {
    is(scalar(grep { /\[warn\].*webhook: redis .* is unavailable/ }
              split /\n/, $t{$name}->error_log), 1,
       "$name: one warning");
    cmp_ok(redis_status($t{$name})->{failures}, '>=', 2,
       "$name: retried");
    cmp_ok(redis_status($t{$name})->{failures}, '<=', 12,
       "$name: with backoff, not in a tight loop");
}

# a password file others can read is refused at load

my $t = $t{tcp};

$t->write_file('loose.pass', "$password\n", 0644);
(my $loose = $t->read_file('nginx.conf'))
    =~ s{password_file=\S+}{password_file=${\ $t->testdir}/loose.pass};
$t->write_file('loose.conf', $loose);

my ($rc, $out) = $t->try_config('loose.conf');
isnt($rc, 0, 'password file readable by others: nginx -t fails');
like($out, qr/webhook_redis: secret file .*loose\.pass.* is accessible by group or others/,
    'password file readable by others: the message says why');

# reload while connected, twice

for my $round (1, 2) {
    my %old = map { $_ => 1 } $t->worker_pids;

    ok($t->reload, "reload $round: new workers");

    ok($t->wait_until(sub {
            my $s = redis_status($t);
            my %now = map { $_ => 1 } $t->worker_pids;
            return $s->{connected_workers} == 2
                   && $now{ $s->{leader_pid} } && !$old{ $s->{leader_pid} };
        }, timeout => 10),
       "reload $round: the new workers connected, one of them syncs")
        or diag(explain(redis_status($t)));

    is(limited($t, "reload-$round"), 200, "reload $round: limits work");
}

unlike($t->error_log, qr/open socket/, 'reload: no socket left open');

# the syncing worker dies: another takes the lease once it expires

$s = redis_status($t);
my $leader = $s->{leader_pid};

$t->expect_alert(qr/worker process $leader exited on signal 9/);
kill 'KILL', $leader;

ok($t->wait_until(sub {
        my $s = redis_status($t);
        return $s->{leader_pid} && $s->{leader_pid} != $leader
               && $s->{connected_workers} == 2;
    }, timeout => 10),
   'leader killed: another worker syncs') or diag(explain(redis_status($t)));

is(limited($t, 'after-kill'), 200, 'leader killed: limits work');

ok($t->wait_until(sub { redis_count($t, 'after-kill') == 1 }, timeout => 5),
   'leader killed: the new leader syncs');

$_->stop for values %t;

for my $name (sort keys %t) {
    unlike($t{$name}->error_log, qr/open socket/,
        "$name: no socket left open at exit");
}

$t{$_}->_final_check for qw(unix wrong none);
$t{tcp}->done_testing;

###############################################################################
