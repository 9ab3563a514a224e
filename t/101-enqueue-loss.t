#!/usr/bin/perl

# webhook_enqueue and a Redis crash: no acknowledged loss.
#
# A paced stream of signed deliveries goes to a webhook_enqueue location
# while redis-server (appendfsync always: what it acknowledged is on
# disk) is killed with SIGKILL and started again.  Every delivery is
# answered 200 queued or 503 queue_unavailable, never anything else;
# every 200's entry is in the stream after the restart, with its body
# byte-identical; the 503s, sent again once Redis is back, are queued
# (the replay records were dropped); a 200'd delivery sent again is a
# duplicate, not queued twice.  The figures are printed.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use POSIX ();
use Storable qw(nstore retrieve);
use Time::HiRes qw(sleep time);

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $t = Test::Webhook->new;
my $redis = Test::Webhook::Redis->new(dir => $t->testdir,
    args => ['--appendonly', 'yes', '--appendfsync', 'always']);

my $secret = 'gh_queue_loss_7d20';
$t->write_file('github.secret', $secret, 0600);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT timeout=1s prefix=t081:;

    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            webhook_enqueue stream=erp:loss;
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
    return $j && $j->{redis}{connected_workers} == 2;
}, timeout => 10), 'both workers connected to Redis');

###############################################################################

my $N = 400;

sub gh {
    my ($n) = @_;

    my $body = qq({"action":"created","delivery":"loss-$n","pad":")
               . ('x' x ($n % 97)) . '"}';

    return { path => '/github', body => $body, timeout => 10,
             headers => [
                 ['X-GitHub-Event', 'issues'],
                 ['X-GitHub-Delivery', "loss-$n"],
                 ['X-Hub-Signature-256', github_header($secret, $body)],
             ] };
}

my @reqs = map { gh($_) } 1 .. $N;

# the stream of requests in a child; Redis killed and restarted meanwhile

my $out = $t->testdir . '/loss.sto';
my $pid = fork;
die "fork: $!" unless defined $pid;

if ($pid == 0) {
    my $r = $t->http_batch(\@reqs, concurrency => 4, interval => 0.05);
    nstore($r, $out);
    POSIX::_exit(0);
}

ok($t->wait_until(sub {
    ($redis->command('XLEN', 'erp:loss') // 0) >= 60
}, timeout => 30, interval => 0.02), 'deliveries are being queued');

$redis->kill;
my $killed_at = time();
sleep(1.5);
$redis->start;
note(sprintf('Redis was down %.1f s', time() - $killed_at));

waitpid($pid, 0);
my @r = @{ retrieve($out) };
is(scalar @r, $N, "$N responses");

my (%acked, @failed, @other);

for my $i (0 .. $#r) {
    my $r = $r[$i];

    if ($r->{status} == 200
        && $r->{body} =~ /\A\{"status":"queued","id":"(\d+-\d+)"\}\z/)
    {
        $acked{$i} = $1;

    } elsif ($r->{status} == 503
             && $r->{body} eq '{"error":"queue_unavailable","status":503}'
             && ($r->{headers}{'retry-after'} // '') eq '5')
    {
        push @failed, $i;

    } else {
        push @other, "$i: $r->{status} $r->{body}";
    }
}

is(scalar @other, 0, 'every answer is 200 queued or 503 queue_unavailable')
    or diag(join "\n", @other[0 .. ($#other > 9 ? 9 : $#other)]);
ok(scalar @failed > 0, 'Redis down: 503s');

# every acknowledged delivery is in the stream, byte-identical

my $found = 0;
my @missing;

for my $i (sort { $a <=> $b } keys %acked) {
    my $e = $redis->command('XRANGE', 'erp:loss', $acked{$i}, $acked{$i});
    my %f = (ref $e eq 'ARRAY' && @$e == 1) ? @{ $e->[0][1] } : ();

    if (defined $f{body} && $f{body} eq $reqs[$i]{body}
        && $f{id} eq 'loss-' . ($i + 1))
    {
        $found++;

    } else {
        push @missing, "$i ($acked{$i})";
    }
}

my $acked = keys %acked;

diag(sprintf('loss test: sent %d, acknowledged %d, answered 503 %d, '
             . 'acknowledged and found in the stream %d',
             $N, $acked, scalar @failed, $found));

is($found, $acked, 'no acknowledged loss: every 200 has its stream entry')
    or diag("missing: @missing[0 .. ($#missing > 9 ? 9 : $#missing)]");
ok($acked > 0, 'deliveries were acknowledged around the outage');

# Redis back: the provider's retries of the 503s are queued

ok($t->wait_until(sub {
    my $r = $t->http(%{ gh(0) });
    return $r->{status} == 200;
}, timeout => 15, interval => 0.2), 'Redis back: queueing again');

my $retried = 0;

for my $i (@failed) {
    my $r = $t->http(%{ $reqs[$i] });

    next unless $r->{body} =~ /\A\{"status":"queued","id":"(\d+-\d+)"\}\z/;

    my $e = $redis->command('XRANGE', 'erp:loss', $1, $1);
    my %f = (ref $e eq 'ARRAY' && @$e == 1) ? @{ $e->[0][1] } : ();
    $retried++ if defined $f{body} && $f{body} eq $reqs[$i]{body};
}

is($retried, scalar @failed, 'every 503\'d delivery, sent again: queued');

# and a 200'd one sent again is not queued twice

my $len = $redis->command('XLEN', 'erp:loss');
my ($first) = sort { $a <=> $b } keys %acked;
my $r = $t->http(%{ $reqs[$first] });
is("$r->{status} $r->{body}", '200 {"status":"duplicate"}',
   'an acknowledged delivery sent again: 200 duplicate');
is($redis->command('XLEN', 'erp:loss'), $len, 'not queued twice');

# at least once: each delivery is in the stream; a 503 whose XADD Redis
# had already written may be there twice (the consumer dedupes on id)

my %seen;
my $all = $redis->command('XRANGE', 'erp:loss', '-', '+');
for my $e (@$all) {
    my %f = @{ $e->[1] };
    $seen{$f{id}}++;
}

is(scalar(grep { $seen{"loss-$_"} } 1 .. $N), $N,
   'every delivery is in the stream at least once');
is(scalar(grep { $seen{'loss-' . ($_ + 1)} != 1 } keys %acked), 0,
   'every acknowledged delivery exactly once');
note('deliveries in the stream twice (a 503 Redis had stored): '
     . scalar(grep { $seen{$_} > 1 } keys %seen));

$t->done_testing;
