#!/usr/bin/perl

# webhook_enqueue ... wait_replicas=N with a real replica (a second
# redis-server with --replicaof): the 200 comes only once WAIT confirmed
# the replica has the entry (it is read back from the replica right
# after the answer); with the replica down, or fewer replicas than asked
# for, the answer is 503 queue_unavailable, and the retry goes through
# once the replica is back.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $t = Test::Webhook->new;
my $primary = Test::Webhook::Redis->new(dir => $t->testdir);
my $replica = Test::Webhook::Redis->new(dir => $t->testdir, name => 'replica',
    args => ['--replicaof', '127.0.0.1', $primary->port]);

my $secret = 'gh_queue_replicas_0c4f';
$t->write_file('github.secret', $secret, 0600);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT timeout=1s prefix=t082:;

    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /one {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            webhook_enqueue stream=erp:replicated wait_replicas=1;
        }

        location /two {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_enqueue stream=erp:two wait_replicas=2;
        }
    }
}

EOF

$conf =~ s/REDIS_PORT/$primary->port/e;
$t->write_file_expand('nginx.conf', $conf);

sub linked {
    return $t->wait_until(sub {
        ($replica->command('INFO', 'replication') // '')
            =~ /master_link_status:up/
    }, timeout => 15, interval => 0.1);
}

ok(linked(), 'the replica is linked to the primary');

$t->run;

###############################################################################

my $seq = 0;

sub gh {
    my ($id, $path) = @_;

    $seq++;
    my $body = qq({"action":"created","delivery":"$id","n":$seq});

    return { path => $path // '/one', body => $body, timeout => 10,
             headers => [
                 ['X-GitHub-Event', 'issues'],
                 ['X-GitHub-Delivery', $id],
                 ['X-Hub-Signature-256', github_header($secret, $body)],
             ] };
}

sub queued {
    my ($r) = @_;
    return $r->{status} == 200
           && $r->{body} =~ /\A\{"status":"queued","id":"(\d+-\d+)"\}\z/
           ? $1 : undef;
}

sub on_replica {
    my ($stream, $id) = @_;
    my $e = $replica->command('XRANGE', $stream, $id, $id);
    return (ref $e eq 'ARRAY' && @$e == 1) ? { @{ $e->[0][1] } } : undef;
}

my ($r, $id, $e, $req);

# the retry loop: the worker connects to Redis after it starts

ok($t->wait_until(sub { queued($t->http(%{ gh('warmup') })) },
                  timeout => 10, interval => 0.2), 'queueing');

# read from the replica right after the 200: WAIT made sure it is there
# (loopback replication is quick anyway: the 503s below are what prove
# that the answer waits for WAIT)

my $on = 0;

for my $n (1 .. 20) {
    $req = gh("rep-$n");
    $id = queued($t->http(%$req));
    $e = $id && on_replica('erp:replicated', $id);
    $on++ if $e && $e->{body} eq $req->{body};
}

is($on, 20, 'wait_replicas=1: 20 deliveries, each on the replica when '
            . 'answered');

# two replicas asked for, one there

$r = $t->http(%{ gh('two-1', '/two') });
is($t->reject_summary($r),
   '503 application/json {"error":"queue_unavailable","status":503}',
   'wait_replicas=2 with one replica: 503 queue_unavailable');
is($r->{headers}{'retry-after'}, '5', 'with Retry-After');

like($t->error_log, qr/stream "erp:two" entry \d+-\d+ reached 1 of 2 replicas/,
     'logged: the entry, and how many replicas confirmed it');

# the replica down: 503, and the retry is queued once it is back

$replica->kill;

$req = gh('down-1');
$r = $t->http(%$req);
is($r->{status}, 503, 'replica down: 503');

# (a retry sent while the first request's log phase still runs is 409)
$t->wait_until(sub {
    $r = $t->http(%$req);
    return $r->{status} != 409;
}, timeout => 10, interval => 0.1);
is($r->{status}, 503, 'replica down: the retry too (not a duplicate: the '
                      . 'record was dropped)');

$replica->start;
ok(linked(), 'the replica is back');

$r = $t->http(%$req);
$id = queued($r);
ok($id, 'replica back: the retry is queued') or diag($r->{raw});
$e = $id && on_replica('erp:replicated', $id);
ok($e && $e->{id} eq 'down-1', 'and is on the replica');

$t->done_testing;
