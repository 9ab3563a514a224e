#!/usr/bin/perl

# Redis as a less trusted party.
#
#   - Fields of a limit's hash that are not non-negative integers (written
#     there by someone else: "-50", "1e3", "0x10", "2.5", "abc", 20
#     digits) are not summed: the node admits exactly the limit.
#   - A limit's key holding another type (a string): the script fails,
#     counted as a failure, on_error=local answers, no crash.
#   - A server that answers scripts with replies of the wrong type (a
#     fake Redis: an integer, a string, nil, arrays of the wrong size or
#     element type, negative sums, nested arrays, a status): each is
#     counted as a failure, requests are answered, no worker crashes.
#   - The node id is "<hostname>:<master pid>:<16 hex digits>", the same
#     for every worker and across a reload.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use IO::Select;
use POSIX ();
use Sys::Hostname qw(hostname);
use Time::HiRes qw(time sleep);

use Test::Webhook;
use Test::Webhook::Redis;

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $t = Test::Webhook->new;
my $f = Test::Webhook->new;
my $redis = Test::Webhook::Redis->new(dir => $t->testdir);

# a fake Redis: answers the handshake, then each script with the next of
# these replies, round and round

my @wrong = (
    ":5\r\n",                                   # an integer
    "\$3\r\nnew\r\n",                           # a string
    "\$-1\r\n",                                 # nil
    "*-1\r\n",                                  # nil array
    "*1\r\n:1\r\n",                             # one sum only
    "*3\r\n:1\r\n:2\r\n:3\r\n",                 # three
    "*2\r\n\$1\r\n1\r\n\$1\r\n2\r\n",           # strings
    "*2\r\n:-1\r\n:0\r\n",                      # a negative sum
    "*2\r\n*1\r\n:1\r\n:0\r\n",                 # nested
    "+OK\r\n",                                  # a status
    "*0\r\n",                                   # empty
);

my $fake = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => 0,
                                 Listen => 16, ReuseAddr => 1)
    or die "listen: $!";
my $fake_port = $fake->sockport;

my $fake_pid = fork;
die "fork: $!" unless defined $fake_pid;

if ($fake_pid == 0) {
    my $sel = IO::Select->new($fake);
    my (%buf, $n);

    while (1) {
        for my $s ($sel->can_read(1)) {
            if ($s == $fake) {
                my $c = $fake->accept or next;
                $sel->add($c);
                $buf{$c} = '';
                next;
            }

            my $got = sysread($s, my $chunk, 65536);
            if (!$got) {
                $sel->remove($s);
                delete $buf{$s};
                close $s;
                next;
            }

            $buf{$s} .= $chunk;

            # whole commands: *N\r\n then N bulk strings
            while ($buf{$s} =~ /^\*(\d+)\r\n/) {
                my ($argc, $pos) = ($1, length "*$1\r\n");
                my @argv;
                for (1 .. $argc) {
                    last unless substr($buf{$s}, $pos) =~ /^\$(\d+)\r\n/;
                    my $len = $1;
                    $pos += length("\$$len\r\n");
                    last if length($buf{$s}) < $pos + $len + 2;
                    push @argv, substr($buf{$s}, $pos, $len);
                    $pos += $len + 2;
                }
                last if @argv < $argc;
                substr($buf{$s}, 0, $pos) = '';

                my $cmd = uc $argv[0];
                my $reply = $cmd eq 'PING' ? "+PONG\r\n"
                          : $cmd =~ /^EVAL/ ? $wrong[$n++ % @wrong]
                          : "+OK\r\n";
                syswrite($s, $reply);
            }
        }
    }
}

close $fake;

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT/0 timeout=2s prefix=t077:;

    webhook_limit_zone zone=rl:1m key=$http_x_tenant rate=5r/h sync=on;

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

        location / {
            return 200 "fast";
        }
    }
}

EOF

(my $real = $conf) =~ s/REDIS_PORT/$redis->port/e;
(my $fconf = $conf) =~ s/REDIS_PORT/$fake_port/e;

$t->write_file_expand('nginx.conf', $real);
$t->run;

$f->write_file_expand('nginx.conf', $fconf);
$f->run;

###############################################################################

sub limited {
    my ($n, $tenant, $node) = @_;
    $node //= $t;
    return join ' ', map {
        $node->http(method => 'GET', path => '/limited', timeout => 10,
                    headers => [['X-Tenant', $tenant]])->{status}
    } 1 .. $n;
}

sub connected {
    my ($node) = @_;
    return $node->wait_until(sub {
        my $j = $node->status_json;
        $j && $j->{redis}{connected_workers} == 2 && $j;
    }, timeout => 10);
}

ok(connected($t), 'real redis: both workers connected');

# the node id, in Redis's field names

my $host = lc hostname();
my $tenant = "id-$$";

is(limited(1, $tenant), '200', 'a request');

my $window = int(time * 1000 / 3600000);
my $key = "t077:{rl:" . unpack('H*', $tenant) . "}:";

my $field;
$t->wait_until(sub {
    ($field) = grep { length } split /\n/,
               $redis->cli('HKEYS', $key . $window);
    $field;
}, timeout => 5);

my $pid = $t->nginx_pid;
like($field // '', qr/^\Q$host\E:$pid:[0-9a-f]{16}$/,
    'node id: <hostname>:<master pid>:<16 hex digits>');

$t->reload;

is(limited(1, $tenant), '200', 'after a reload: a request');

ok($t->wait_until(sub {
    $redis->cli('HGET', $key . $window, $field) eq '2'
}, timeout => 5), 'after a reload: the same node id counts on');

is(join(' ', grep { length } split /\n/,
        $redis->cli('HKEYS', $key . $window)), $field,
   'after a reload: still one field');

# fields that are not non-negative integers are not summed

$tenant = "junk-$$";
$key = "t077:{rl:" . unpack('H*', $tenant) . "}:";
$window = int(time * 1000 / 3600000);

for my $w ($window, $window - 1) {
    $redis->cli('HSET', $key . $w, 'neg', '-50', 'exp', '1e3', 'hex', '0x10',
                'frac', '2.5', 'word', 'abc', 'long', '9' x 20,
                'space', ' 7', 'plus', '+3');
    $redis->cli('PEXPIRE', $key . $w, 60000);
}

is(limited(8, $tenant), '200 200 200 200 200 429 429 429',
    'junk fields: exactly the limit admitted');

# a limit's key of another type: the script fails, on_error=local answers

$tenant = "type-$$";
$key = "t077:{rl:" . unpack('H*', $tenant) . "}:";
$window = int(time * 1000 / 3600000);

$redis->cli('SET', $key . $_, 'not a hash', 'PX', 60000)
    for $window, $window - 1;

my $before = $t->status_json->{redis}{failures};

is(limited(3, $tenant), '200 200 200',
    'wrong key type: answered (on_error=local, node-local counts)');

ok($t->wait_until(sub { $t->status_json->{redis}{failures} > $before },
                  timeout => 5),
   'wrong key type: counted as a failure');
like($t->status_json->{redis}{last_error}, qr/WRONGTYPE/,
    'wrong key type: last_error says so');

ok(connected($t), 'real redis: connected again after the outage');

# a server answering with replies of the wrong type

ok(connected($f), 'fake redis: both workers connected');

my @w = $f->worker_pids;
my $answers = '';

for my $i (1 .. 2 * @wrong) {
    $answers .= limited(1, "fake-$i", $f) . ' ';
}

is($answers, '200 ' x (2 * @wrong),
    'fake: every request answered, admitted (on_error=local)');

my $j = $f->wait_until(sub {
    my $j = $f->status_json;
    $j && $j->{redis}{failures} >= @wrong && $j;
}, timeout => 10);
cmp_ok($j && $j->{redis}{failures}, '>=', scalar @wrong,
    'fake: the wrong replies counted as failures');
like($j->{redis}{last_error}, qr/wrong type|unexpected reply/,
    'fake: last_error says so');
is(join(' ', sort $f->worker_pids), join(' ', sort @w),
    'fake: no worker crashed');

$f->stop;
$t->stop;

kill 'KILL', $fake_pid;
waitpid($fake_pid, 0);

$f->_final_check;
$t->done_testing;

###############################################################################
