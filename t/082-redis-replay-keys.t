#!/usr/bin/perl

# webhook_replay ... redis=on across two nginx nodes and a real
# redis-server: both keys of a delivery (the verified MAC, the unsigned
# delivery id) are claimed cluster-wide, so the same signed GitHub body
# under fresh delivery ids is forwarded once whichever node it reaches,
# and so is an identical Twilio request; the settle reaches Redis before
# the answer leaves, so a resend to the other node right after the answer
# is 200 {"status":"duplicate"}, never 409, and the retry of an upstream
# 5xx goes through there.  Without a signed timestamp a committed record
# lives the preset's default lifetime: at least 24 h (GitHub 72 h).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header twilio_sig form_encode);
use Digest::SHA qw(hmac_sha256_hex);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my @nodes = map { Test::Webhook->new } 1 .. 2;
my $redis = Test::Webhook::Redis->new(dir => $nodes[0]->testdir);

my $secret = 'gh_redis_keys_4410';
my $token = 'redis_keys_twilio_777';
my $rzp = 'rzp_redis_keys_9';

# lingering_close: a node does not end a request (its log phase) until
# the client closes, and the client holds it open while it resends

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT timeout=2s prefix=t082:;

    webhook_replay_zone zone=ids:4m;

    lingering_close    always;
    lingering_time     30s;
    lingering_timeout  20s;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids redis=on;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /twilio {
            webhook_verify twilio;
            webhook_secret file:%%TESTDIR%%/twilio.secret;
            webhook_replay zone=ids redis=on;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /razorpay {
            webhook_verify razorpay;
            webhook_secret file:%%TESTDIR%%/razorpay.secret;
            webhook_replay zone=ids redis=on;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$conf =~ s/REDIS_PORT/$redis->port/e;

for my $t (@nodes) {
    $t->write_file('github.secret', $secret, 0600);
    $t->write_file('twilio.secret', $token, 0600);
    $t->write_file('razorpay.secret', $rzp, 0600);
    $t->write_file_expand('nginx.conf', $conf);
    $t->run;
}

my ($A, $B) = @nodes;

for my $t (@nodes) {
    $t->wait_until(sub {
        my $j = $t->status_json;
        return $j && $j->{redis}{connected_workers} == 2;
    }, timeout => 10);
}

is(join(' ', map { $_->status_json->{redis}{connected_workers} } @nodes),
   '2 2', 'every worker of both nodes connected');

###############################################################################

my $seq = 0;

sub gh {
    my (%o) = @_;

    $seq++;
    my $body = $o{body} // qq({"action":"opened","n":$seq});
    my @h = (
        ['X-GitHub-Event', 'issues'],
        ['X-GitHub-Delivery', $o{id} // "rk-$seq"],
        ['X-Hub-Signature-256', github_header($secret, $body)],
    );
    push @h, ['X-Upstream-Status', $o{status}] if $o{status};

    return { path => '/github', body => $body, headers => \@h };
}

sub forwarded {
    return $A->upstream_count + $B->upstream_count;
}

sub summary {
    my ($t, $r) = @_;
    return $t->reject_summary($r);
}

sub key {
    my ($raw) = @_;
    return 't082:{replay:ids}:' . unpack('H*', $raw);
}

my $dup = '200 application/json {"status":"duplicate"}';

# the same signed body under three fresh delivery ids, on either node

my $body = '{"action":"opened","captured":1}';
my $n = forwarded();

$A->is_forwarded(gh(body => $body, id => 'cap-1'), 'A: first');

my @dups;
push @dups, summary($B, $B->http(%{ gh(body => $body, id => 'cap-2') }));
push @dups, summary($A, $A->http(%{ gh(body => $body, id => 'cap-3') }));
push @dups, summary($B, $B->http(%{ gh(body => $body, id => 'cap-4') }));
push @dups, summary($B, $B->http(%{ gh(body => $body, id => 'cap-1') }));

is_deeply(\@dups, [($dup) x 4],
    'fresh delivery ids on B, A, B, and the retry: duplicates');
is(forwarded(), $n + 1, 'the captured body was forwarded once');

# both keys are in Redis, committed, for GitHub's 72 h

my $mac = pack 'H*', hmac_sha256_hex($body, $secret);

is($redis->cli('GET', key("github:sig:$mac")), 'd', 'redis: the MAC key');
is($redis->cli('GET', key('github:id:cap-1')), 'd', 'redis: the id key');

my $pttl = $redis->cli('PTTL', key("github:sig:$mac"));
cmp_ok($pttl, '>', 71 * 3600 * 1000,
    'redis: github record lives its default 72 h (no signed timestamp)');
cmp_ok($pttl, '<=', 72 * 3600 * 1000, 'redis: and not longer');

# razorpay: the 24 h floor

my $rb = '{"event":"payment.captured","n":1}';
my $rr = { path => '/razorpay', body => $rb, headers => [
    ['X-Razorpay-Event-Id', 'rz-1'],
    ['X-Razorpay-Signature', hmac_sha256_hex($rb, $rzp)]] };

$A->is_forwarded($rr, 'razorpay: A: first');
is(summary($B, $B->http(%$rr)), $dup, 'razorpay: B: duplicate');

$pttl = $redis->cli('PTTL', key('razorpay:id:rz-1'));
cmp_ok($pttl, '>', 23 * 3600 * 1000,
    'redis: razorpay record lives at least 24 h');
cmp_ok($pttl, '<=', 24 * 3600 * 1000, 'redis: razorpay: the 24 h floor');

# an identical Twilio request, no idempotency token, on both nodes

my @params = (['CallSid', 'CA-rk'], ['CallStatus', 'completed']);
my $tw = { path => '/twilio', body => form_encode(@params), headers => [
    ['Content-Type', 'application/x-www-form-urlencoded'],
    ['X-Twilio-Signature',
     twilio_sig($token, 'http://localhost/twilio', @params)]] };

$n = forwarded();
$A->is_forwarded($tw, 'twilio: A: first');
is(summary($B, $B->http(%$tw)), $dup, 'twilio: B: identical: duplicate');
is(forwarded(), $n + 1, 'twilio: forwarded once');

# resend to B right after A's answer, A's connection still open

my %seen;
$n = forwarded();

for my $i (1 .. 100) {
    my $req = gh();

    my $c = $A->http_open(%$req);
    my $r = $A->http_read($c, timeout => 10);
    my $again = $B->http(%$req);
    $A->http_close($c);

    $seen{ $A->status($r) . ' / ' . summary($B, $again) }++;
}

is_deeply(\%seen, { "200 / $dup" => 100 },
    '100 resends to B right after A answered: 200 duplicate, never 409')
    or diag(explain \%seen);
is(forwarded(), $n + 100, '100 deliveries forwarded once each');

# after an upstream 5xx at A the retry at B goes through at once

%seen = ();

for my $i (1 .. 10) {
    my $rbody = qq({"action":"opened","retry":$i});
    my $id = "rk-5xx-$i";

    $n = forwarded();

    my $c = $A->http_open(%{ gh(body => $rbody, id => $id, status => 502) });
    my $r = $A->http_read($c, timeout => 10);
    my $retry = $B->http(%{ gh(body => $rbody, id => $id) });
    my $third = $A->http(%{ gh(body => $rbody, id => $id) });
    $A->http_close($c);

    $seen{ join ' / ', $A->status($r), $B->status($retry),
           forwarded() - $n, summary($A, $third) }++;
}

is_deeply(\%seen, { "502 / 200 / 2 / $dup" => 10 },
    'upstream 502 at A, retry at B: forwarded, then a duplicate at A')
    or diag(explain \%seen);

for my $t (@nodes) {
    is($t->status_json->{redis}{failures}, 0, 'no redis failures');
}

$A->done_testing;

###############################################################################
