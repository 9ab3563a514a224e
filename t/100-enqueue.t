#!/usr/bin/perl

# webhook_enqueue: verified deliveries go into a real Redis Stream.
# Signed deliveries held in memory, spilled to a temp file, chunked and
# over HTTP/2 arrive byte-identical with every field; a duplicate is not
# queued twice; a bad signature is not queued at all; a location without
# webhook_verify queues too; MAXLEN trims; an XADD Redis refuses and a
# Redis too slow give 503 queue_unavailable with Retry-After, and drop
# the replay record (local and redis=on) so the retry is queued; the
# status page shows length, pending and lag per group, and the counts.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(sleep time);

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $t = Test::Webhook->new;
my $redis = Test::Webhook::Redis->new(dir => $t->testdir);

my $secret = 'gh_queue_secret_5b1e';
$t->write_file('github.secret', $secret, 0600);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT timeout=1s prefix=t080:;

    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_replay_zone zone=shared:1m ttl=10m;

    webhook_enqueue_header X-GitHub-Hook-ID;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       127.0.0.1:%%PORT_8081%% http2;
        server_name  localhost;

        client_body_buffer_size 4k;
        client_max_body_size    1m;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            webhook_enqueue_header User-Agent;
            webhook_enqueue stream=erp:$webhook_provider;
        }

        location /shared {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=shared redis=on;
            webhook_enqueue stream=erp:shared;
        }

        location /trimmed {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_enqueue stream=erp:trimmed maxlen=10;
        }

        location /plain {
            webhook_enqueue stream=erp:plain;
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

my $seq = 0;

sub gh {
    my ($id, %o) = @_;

    $seq++;
    my $body = $o{body}
               // qq({"action":"created","delivery":"$id","n":$seq});
    my @h = (
        ['X-GitHub-Event', 'issues'],
        ['X-GitHub-Delivery', $id],
        ['X-GitHub-Hook-ID', "hook-$seq"],
        ['User-Agent', 'GitHub-Hookshot/test'],
        ['X-Hub-Signature-256', $o{signature} // github_header($secret, $body)],
    );

    return { path => $o{path} // '/github', body => $body, headers => \@h,
             chunked => $o{chunked}, timeout => 10 };
}

# the entry with this id, as { field => value }; undef if absent

sub entry {
    my ($stream, $id) = @_;

    my $r = $redis->command('XRANGE', $stream, $id, $id);
    return undef unless ref $r eq 'ARRAY' && @$r == 1;
    return { @{ $r->[0][1] } };
}

sub xlen {
    return $redis->command('XLEN', $_[0]);
}

# 200 {"status":"queued","id":...}: the id, or undef

sub queued {
    my ($r) = @_;

    return undef unless $r->{status} == 200
        && ($r->{headers}{'content-type'} // '') eq 'application/json'
        && $r->{body} =~ /\A\{"status":"queued","id":"(\d+-\d+)"\}\z/;
    return $1;
}

my ($r, $id, $e, $req, $j);

# the same delivery again: the record is settled once the first request
# is over (with redis=on, by a script sent then), so a resend a moment
# earlier may still be 409 in flight; the provider's retry comes later

sub resend {
    my ($req) = @_;
    my $r;
    $t->wait_until(sub {
        $r = $t->http(%$req);
        return $r->{status} != 409;
    }, timeout => 10, interval => 0.1);
    return $r;
}

# in memory: every field

$req = gh('mem-1');
my $before_ms = int(time() * 1000);
$r = $t->http(%$req);
$id = queued($r);
ok($id, 'in memory: 200 queued with the stream id') or diag($r->{raw});

$e = entry('erp:github', $id);
ok($e, 'in memory: the entry is in stream erp:$webhook_provider');
is($e->{body}, $req->{body}, 'in memory: body byte-identical');
is($e->{preset}, 'github', 'field preset');
is($e->{id}, 'mem-1', 'field id: the delivery id');
is($e->{event}, 'issues', 'field event');
is($e->{timestamp}, '', 'field timestamp: empty, GitHub signs none');
ok($e->{received} >= $before_ms - 1000
   && $e->{received} <= int(time() * 1000) + 1000,
   'field received: unix ms of the request')
    or diag("received $e->{received}, before $before_ms");
is($e->{client}, '127.0.0.1', 'field client');
is($e->{'h:user-agent'}, 'GitHub-Hookshot/test',
   'webhook_enqueue_header from the location');
is(join(',', sort keys %$e),
   'body,client,event,h:user-agent,id,preset,received,timestamp',
   'no other field: the location\'s headers replace the http level\'s');

# a duplicate is answered, not queued again

my $len = xlen('erp:github');
$r = resend($req);
is("$r->{status} $r->{body}", '200 {"status":"duplicate"}',
   'the same delivery again: 200 duplicate');
is(xlen('erp:github'), $len, 'the duplicate is not queued twice');

# a bad signature is refused and not queued

$t->is_rejected(gh('bad-1', signature => 'sha256=' . ('0' x 64)), 401,
    'signature_mismatch', 'bad signature');
is(xlen('erp:github'), $len, 'the refused delivery is not queued');

# bodies that are not one memory buffer: temp file, chunked, HTTP/2

my $big = join('', map { chr(($_ * 7 + 3) % 256) } 1 .. 300_000);

$req = gh('file-1', body => $big);
$r = $t->http(%$req);
$id = queued($r);
ok($id, 'temp file: 200 queued') or diag($r->{raw});
$e = entry('erp:github', $id);
ok($e && $e->{body} eq $big,
   'temp file (300 kB, binary): body byte-identical');

# another body each time: the same signed body under a fresh delivery id
# is a duplicate (replay records are keyed on the MAC as well)

my $bigc = $big . 'chunked';

$req = gh('chunked-1', body => $bigc, chunked => 1);
$req->{chunk_size} = 1000;
$id = queued($t->http(%$req));
ok($id, 'chunked: 200 queued');
$e = entry('erp:github', $id);
ok($e && $e->{body} eq $bigc, 'chunked: body byte-identical');

$req = gh('h2-1', body => "small h2 body\n\0with a NUL");
$r = $t->h2(%$req, port => $t->port(8081));
$id = queued($r);
ok($id, 'HTTP/2: 200 queued') or diag($r->{raw});
$e = entry('erp:github', $id);
ok($e && $e->{body} eq $req->{body}, 'HTTP/2: body byte-identical');

my $bigh = $big . 'h2';

$req = gh('h2-2', body => $bigh);
$r = $t->h2(%$req, port => $t->port(8081), no_length => 1);
$id = queued($r);
ok($id, 'HTTP/2 without content-length, temp file: 200 queued');
$e = entry('erp:github', $id);
ok($e && $e->{body} eq $bigh, 'HTTP/2, temp file: body byte-identical');

# too large: refused before anything is queued

$len = xlen('erp:github');
$r = $t->http(%{ gh('huge-1', body => 'x' x 1_100_000) });
is($r->{status}, 413, 'over client_max_body_size: 413');
is(xlen('erp:github'), $len, 'nothing queued');

# no webhook_verify: the body is read by the content handler itself

$req = { path => '/plain', body => "plain\r\nbody", timeout => 10 };
$id = queued($t->http(%$req));
ok($id, 'no webhook_verify: 200 queued');
$e = entry('erp:plain', $id);
ok($e && $e->{body} eq "plain\r\nbody" && $e->{preset} eq '' && $e->{id} eq '',
   'no webhook_verify: body as sent, no preset, no id');

$req = { path => '/plain', body => $big, chunked => 1, timeout => 10 };
$id = queued($t->http(%$req));
ok($id, 'no webhook_verify, chunked into a temp file: 200 queued');
$e = entry('erp:plain', $id);
ok($e && $e->{body} eq $big,
   'no webhook_verify, temp file: body byte-identical');

$r = $t->h2(path => '/plain', body => $big, timeout => 10,
           port => $t->port(8081), no_length => 1);
$id = queued($r);
ok($id, 'no webhook_verify, HTTP/2 without content-length: 200 queued');
$e = entry('erp:plain', $id);
ok($e && $e->{body} eq $big, 'no webhook_verify, HTTP/2: body byte-identical');

$r = $t->http(path => '/plain', method => 'GET');
is($r->{status}, 405, 'GET to webhook_enqueue: 405');

# MAXLEN ~ 10 trims (whole nodes of stream-node-max-entries)

$redis->command('CONFIG', 'SET', 'stream-node-max-entries', '5');

for my $n (1 .. 40) {
    queued($t->http(%{ gh("trim-$n", path => '/trimmed') }))
        or fail("trim-$n not queued");
}

$len = xlen('erp:trimmed');
ok($len >= 10 && $len <= 15, "maxlen=10: 40 queued, $len kept");

# Redis refuses the XADD (the key is no stream): 503, record dropped

$redis->command('SET', 'erp:github', 'not a stream');
$redis->command('SET', 'erp:shared', 'not a stream');

for my $path ('/github', '/shared') {
    $req = gh("refused$path", path => $path);
    $r = $t->http(%$req);

    is($t->reject_summary($r),
       '503 application/json {"error":"queue_unavailable","status":503}',
       "$path: XADD refused: 503 queue_unavailable");
    is($r->{headers}{'retry-after'}, '5', "$path: with Retry-After");

    $redis->command('DEL', $path eq '/github' ? 'erp:github' : 'erp:shared');

    # the record is dropped once the request is over (for redis=on, by a
    # script sent then): a retry a moment earlier is still 409 in flight

    $r = resend($req);
    $id = queued($r);
    ok($id, "$path: the retry is queued (the replay record was dropped)")
        or diag($r->{raw});

    if ($path eq '/shared') {
        $e = entry('erp:shared', $id);
        is($e && $e->{'h:x-github-hook-id'}, "hook-$seq",
           'webhook_enqueue_header inherited from the http level');
    }

    $r = resend($req);
    is("$r->{status} $r->{body}", '200 {"status":"duplicate"}',
       "$path: after the 200, the record is committed");
}

like($t->error_log, qr/redis refused XADD to stream "erp:github": WRONGTYPE/,
     'the refusal is logged with Redis\'s reason');

# Redis too slow: 503 within the timeout, and the retry is queued

$req = gh('slow-1');
$redis->pause(3000);
my $start = time();
$r = $t->http(%$req);
my $took = time() - $start;
is($r->{status}, 503, 'Redis paused: 503');
ok($took < 2.9, sprintf('answered before Redis came back (%.2f s)', $took));

my $slow_503 = 1;

ok($t->wait_until(sub {
    my $r = $t->http(%$req);
    $slow_503++ if $r->{status} == 503;
    return queued($r);
}, timeout => 10, interval => 0.5), 'Redis back: the retry is queued');

# the status poll: one worker of the node, at most once a second; two
# commands per stream (XLEN, XINFO GROUPS), whatever the requests do

my @streams = qw(erp:github erp:plain erp:shared erp:trimmed);
my $stat = sub {
    my $info = $redis->command('INFO', 'commandstats');
    return ($info =~ /cmdstat_xlen:calls=(\d+)/)[0] // 0;
};

my $calls0 = $stat->();
my $t0 = time();
$t->http(path => '/plain', body => 'poll') for 1 .. 20;
sleep(3);
my $calls = $stat->() - $calls0;
my $secs = time() - $t0;

ok($calls > 0 && $calls <= @streams * (int($secs) + 2),
   sprintf('XLEN: %d calls for %d streams in %.1f s (at most one poll a '
           . 'second)', $calls, scalar @streams, $secs));

$redis->command('DEL', 'erp:plain');

# status: length, pending and lag per group, counts

$redis->command('XGROUP', 'CREATE', 'erp:plain', 'erp-workers', '0',
                'MKSTREAM');
queued($t->http(path => '/plain', body => 'one')) or fail('plain 1');
queued($t->http(path => '/plain', body => 'two')) or fail('plain 2');
queued($t->http(path => '/plain', body => 'three')) or fail('plain 3');
$redis->command('XREADGROUP', 'GROUP', 'erp-workers', 'w1', 'COUNT', '1',
                'STREAMS', 'erp:plain', '>');

ok($t->wait_until(sub {
    $j = $t->status_json;
    my $q = $j && $j->{queues}{'erp:plain'};
    return $q && defined $q->{length} && $q->{length} == 3
        && $q->{groups}{'erp-workers'}
        && $q->{groups}{'erp-workers'}{pending} == 1;
}, timeout => 10), 'status JSON: length 3, 1 pending in the group')
    or diag(explain($j->{queues}));

is($j->{queues}{'erp:plain'}{groups}{'erp-workers'}{lag}, 2,
   'status JSON: lag 2 (not yet delivered to the group)');
is($j->{queues}{'erp:plain'}{enqueued}, 26, 'status JSON: enqueued 26');
is($j->{queues}{'erp:github'}{failures}, 1 + $slow_503,
   'status JSON: failures on erp:github: every 503 (refused, too slow)');

is($j->{locations}{'/github'}{rejected}{queue_unavailable}, 1 + $slow_503,
   'status JSON: the location counts queue_unavailable refusals');
is($j->{locations}{'/shared'}{rejected}{queue_unavailable}, 1,
   'status JSON: per location');

my $p = $t->prometheus($t->status_prometheus);
is($p->{'nginx_webhook_queue_length{stream="erp:plain"}'}, 3,
   'prometheus: queue_length');
is($p->{'nginx_webhook_queue_pending{stream="erp:plain",group="erp-workers"}'},
   1, 'prometheus: queue_pending');
is($p->{'nginx_webhook_queue_lag{stream="erp:plain",group="erp-workers"}'},
   2, 'prometheus: queue_lag');
is($p->{'nginx_webhook_enqueued_total{stream="erp:plain"}'}, 26,
   'prometheus: enqueued_total');
is($p->{'nginx_webhook_enqueue_failures_total{stream="erp:github"}'},
   1 + $slow_503,
   'prometheus: enqueue_failures_total');

$t->done_testing;
