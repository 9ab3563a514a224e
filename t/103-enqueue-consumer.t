#!/usr/bin/perl

# The consumer example (examples/queue/consumer.py, Python 3 + redis-py)
# against deliveries nginx queued: each is handed to the handler with
# its body byte-identical and its fields, then acknowledged; a consumer
# killed in the middle of a delivery leaves it pending (the status page
# shows it), and another consumer takes it over with XAUTOCLAIM; a
# failing delivery is retried with exponential backoff, then moved to
# the dead-letter stream; a flaky one succeeds on a later attempt.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(sha256_hex);

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();
plan(skip_all => 'python3 with redis-py is needed (apt-get install '
                 . 'python3-redis)')
    unless system('/usr/bin/python3 -c "import redis" 2>/dev/null') == 0;

my $consumer = "$FindBin::Bin/../examples/queue/consumer.py";

my $t = Test::Webhook->new;
my $redis = Test::Webhook::Redis->new(dir => $t->testdir);
my $dir = $t->testdir;

my $secret = 'gh_queue_consumer_91aa';
$t->write_file('github.secret', $secret, 0600);

# the ERP's handler: records the delivery; crashes, fails, or is flaky
# on request of the delivery id

$t->write_file('handler.sh', <<"EOF", 0755);
#!/bin/sh
body=\$(mktemp $dir/body.XXXXXX)
cat > "\$body"
echo "\$WEBHOOK_ID \$WEBHOOK_ATTEMPT \$WEBHOOK_EVENT \$WEBHOOK_PRESET \$WEBHOOK_H_X_GITHUB_HOOK_ID \$(sha256sum < "\$body" | cut -c1-64) \$(date +%s.%N)" >> $dir/handled.log
case "\$WEBHOOK_ID" in
crash-*)
    # the consumer: our parent, or the parent of the sh -c between us
    p=\$PPID
    case "\$(cat /proc/\$p/comm)" in
    sh|dash|bash) p=\$(cut -d' ' -f4 /proc/\$p/stat) ;;
    esac
    [ "\$WEBHOOK_ATTEMPT" = 1 ] && kill -9 \$p && sleep 5 ;;
fail-*) echo "ERP said no" >&2; exit 1 ;;
flaky-*) [ "\$WEBHOOK_ATTEMPT" -lt 3 ] && exit 1 ;;
esac
exit 0
EOF

my $conf = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT timeout=1s prefix=t083:;

    webhook_enqueue_header X-GitHub-Hook-ID;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_enqueue "stream={erp}:github";
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$conf =~ s/REDIS_PORT/$redis->port/e;
$t->write_file_expand('nginx.conf', $conf);
$t->run;

ok($t->wait_until(sub {
    my $j = $t->status_json;
    return $j && $j->{redis}{connected_workers} == 1;
}, timeout => 10), 'the worker connected to Redis');

###############################################################################

my %sent;

sub send_gh {
    my ($id, $body) = @_;

    $body //= qq({"action":"created","delivery":"$id"}\n\x00\xff);
    $sent{$id} = $body;

    my $r = $t->http(path => '/github', body => $body, timeout => 10,
                     headers => [
                         ['X-GitHub-Event', 'push'],
                         ['X-GitHub-Delivery', $id],
                         ['X-GitHub-Hook-ID', '4711'],
                         ['X-Hub-Signature-256', github_header($secret, $body)],
                     ]);

    return $r->{status} == 200 && $r->{body} =~ /"queued"/;
}

# runs the consumer; its exit status

sub consume {
    my (%o) = @_;

    my @cmd = ('/usr/bin/python3', $consumer,
               '--redis', 'redis://127.0.0.1:' . $redis->port . '/0',
               '--stream', '{erp}:github', '--group', 'erp',
               '--consumer', $o{name}, '--exec', "$dir/handler.sh",
               '--block', '0.2', '--drain',
               '--backoff-base', '0.2', '--backoff-cap', '1',
               '--max-attempts', '3', '--claim-idle', $o{claim_idle} // '5');

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>>', "$dir/consumer.log";
        open STDERR, '>&', \*STDOUT;
        exec(@cmd) or POSIX::_exit(127);
    }

    # bounded: a consumer that never drains is killed and fails the test
    my $deadline = time + 60;
    while (time < $deadline) {
        return $? if waitpid($pid, POSIX::WNOHANG()) == $pid;
        select(undef, undef, undef, 0.1);
    }
    kill 'KILL', $pid;
    waitpid($pid, 0);
    return -1;
}

# the handler's log: [id, attempt, event, preset, hook id, sha256, time]

sub handled {
    open my $fh, '<', "$dir/handled.log" or return ();
    return map { chomp; [ split / / ] } <$fh>;
}

sub pending {
    my $p = $redis->command('XPENDING', '{erp}:github', 'erp');
    return ref $p eq 'ARRAY' ? $p->[0] : -1;
}

# ordinary deliveries: byte-identical, every field, acknowledged

for my $n (1 .. 5) {
    send_gh("ok-$n") or fail("ok-$n not queued");
}

is(consume(name => 'c1'), 0, 'consumer c1 drained the stream');

my @h = handled();
is(scalar @h, 5, '5 deliveries handled');
is(scalar(grep { $_->[5] eq sha256_hex($sent{$_->[0]}) } @h), 5,
   'each body byte-identical on the handler\'s stdin');
is(join(',', map { "$_->[0]/$_->[1]/$_->[2]/$_->[3]/$_->[4]" } @h[0, 4]),
   'ok-1/1/push/github/4711,ok-5/1/push/github/4711',
   'fields in the environment: id, attempt, event, preset, header');
is(pending(), 0, 'all acknowledged');

# a consumer killed mid-delivery; another takes over with XAUTOCLAIM

send_gh('crash-1') or fail('crash-1 not queued');

isnt(consume(name => 'c2'), 0, 'consumer c2 killed while handling crash-1');
is(pending(), 1, 'crash-1 left pending at c2');

ok($t->wait_until(sub {
    my $j = $t->status_json;
    my $g = $j && $j->{queues}{'{erp}:github'}{groups}{erp};
    return $g && $g->{pending} == 1 && $g->{lag} == 0;
}, timeout => 10), 'status: 1 pending in group erp, lag 0');

is(consume(name => 'c3', claim_idle => '0.5'), 0,
   'consumer c3 drained the stream');

@h = grep { $_->[0] eq 'crash-1' } handled();
is(join(' ', map { $_->[1] } @h), '1 2',
   'crash-1: attempt 1 at c2, attempt 2 after XAUTOCLAIM');
is(pending(), 0, 'crash-1 acknowledged');

# failing: retried with backoff, then dead-lettered; flaky: succeeds

send_gh('fail-1') or fail('fail-1 not queued');
send_gh('flaky-1') or fail('flaky-1 not queued');

is(consume(name => 'c4'), 0, 'consumer c4 drained the stream');

@h = grep { $_->[0] eq 'fail-1' } handled();
is(join(' ', map { $_->[1] } @h), '1 2 3', 'fail-1: 3 attempts');

# base 0.2 s x 2^(attempt - 1), jittered to 50-100%: at least 0.1, 0.2

ok(@h == 3 && $h[1][6] - $h[0][6] >= 0.1 && $h[2][6] - $h[1][6] >= 0.2,
   'fail-1: the waits grow (at least 0.1 s, then 0.2 s)')
    or diag(join ' ', map { $_->[6] } @h);

my $dead = $redis->command('XRANGE', '{erp}:github:dead', '-', '+');
is(scalar @$dead, 1, 'one entry in the dead-letter stream');
my %d = @{ $dead->[0][1] };
is("$d{id} $d{attempts}", 'fail-1 3', 'dead letter: fail-1 after 3 attempts');
like($d{error}, qr/handler exited 1: ERP said no/,
     'dead letter: the last error');
is($d{body}, $sent{'fail-1'}, 'dead letter: the body byte-identical');
like($d{'source-id'}, qr/^\d+-\d+$/, 'dead letter: the source entry id');

@h = grep { $_->[0] eq 'flaky-1' } handled();
is(join(' ', map { $_->[1] } @h), '1 2 3',
   'flaky-1: delivered at the third attempt');
is(pending(), 0, 'nothing left pending');

$t->done_testing;
