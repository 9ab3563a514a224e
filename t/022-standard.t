#!/usr/bin/perl

# webhook_verify standard (alias svix): Standard Webhooks.  Headers
# webhook-id / webhook-timestamp / webhook-signature, or the svix-* family;
# HMAC-SHA256 over "<id>.<ts>.<body>" with the base64-decoded part of the
# whsec_ secret; a space-separated list of "v1,<base64>" signatures, other
# versions ignored.  $webhook_id = the id header, $webhook_event = body "type".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(standard_headers standard_sig b64);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
my $other = 'whsec_' . b64('another key of 24 bytes!');

$t->write_file('standard.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /standard {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /svix {
            webhook_verify svix;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /notol {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $seq = 0;

sub body {
    $seq++;
    return qq({"type":"invoice.paid","data":{"invoice":"in_$seq",)
         . qq("amount":$seq}});
}

sub req {
    my ($path, $body, @h) = @_;
    return { path => $path, body => $body,
        headers => [['Content-Type', 'application/json'], @h] };
}

my ($now, $body, $id, $u);

# valid, both header families

$now = time;
$body = body();
$id = "msg_$seq";
$u = $t->is_forwarded(req('/standard', $body,
    standard_headers($secret, $id, $now, $body)), 'webhook-* headers');
is_deeply($t->vars($u), {
    provider => 'standard', verified => 1, id => $id, timestamp => $now,
    event => 'invoice.paid', secret_index => 1, reason => '',
}, 'webhook-* headers: variables');

$now = time;
$body = body();
$id = "msg_$seq";
$u = $t->is_forwarded(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, prefix => 'svix')),
    'svix-* headers');
is_deeply([@{ $t->vars($u) }{qw(verified id timestamp event)}],
    [1, $id, $now, 'invoice.paid'], 'svix-* headers: variables');

# the svix alias

$body = body();
$t->is_forwarded(req('/svix', $body,
    standard_headers($secret, "msg_$seq", time, $body)),
    'svix preset, webhook-* headers');

$body = body();
$u = $t->is_forwarded(req('/svix', $body,
    standard_headers($secret, "msg_$seq", time, $body, prefix => 'svix')),
    'svix preset, svix-* headers');
is($t->vars($u)->{verified}, 1, 'svix preset: verified');

# vectors of the specification, with the age check off

$t->is_forwarded(req('/notol', '{"test": 2432232314}',
    ['webhook-id', 'msg_p5jXN8AQM9LWM0D4loKWxJek'],
    ['webhook-timestamp', '1614265330'],
    ['webhook-signature', 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=']),
    'Standard Webhooks spec vector, tolerance 0');

$body = '{"id":"evt_test_0001","type":"test.event","data":'
      . '{"amount":1000,"currency":"usd"}}';
$u = $t->is_forwarded(req('/notol', $body,
    ['svix-id', 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W'],
    ['svix-timestamp', '1700000000'],
    ['svix-signature', 'v1,KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg=']),
    'svix vector, tolerance 0');
is_deeply($t->vars($u), {
    provider => 'standard', verified => 1,
    id => 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W', timestamp => 1700000000,
    event => 'test.event', secret_index => 1, reason => '',
}, 'svix vector: variables');

$body = qq({"id":"evt_test_0002","name":"Caf\xc3\xa9 \xe2\x98\x95",)
      . qq("note":"multi-byte"});
$t->is_forwarded(req('/notol', $body,
    ['webhook-id', 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4X'],
    ['webhook-timestamp', '1700000000'],
    ['webhook-signature', 'v1,4zH69FWf5ckUjPGiyeZzOTtOzrwO69gSMQbVwUK40hU=']),
    'UTF-8 vector, tolerance 0');

# signature lists

my $bad = 'v1,' . b64("\0" x 32);

$body = body();
$now = time;
$id = "msg_$seq";
$t->is_forwarded(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, signature =>
        "$bad v1a,junk v2,@{[ b64('x' x 32) ]} "
        . standard_sig($secret, $id, $now, $body))),
    'v1 bad, v1a junk, v2, v1 good');

$body = body();
$now = time;
$id = "msg_$seq";
$t->is_forwarded(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, signature =>
        standard_sig($other, $id, $now, $body) . ' '
        . standard_sig($secret, $id, $now, $body))),
    'two v1, the second good (sender-side rotation)');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body,
        signature => "$bad " . standard_sig($other, $id, $now, $body))),
    401, 'signature_mismatch', 'two v1, both wrong');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body,
        signature => 'v2,' . b64('y' x 32))),
    401, 'signature_missing', 'only an unknown version');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body,
        signature => 'v1a,' . b64('z' x 64))),
    401, 'signature_missing', 'only v1a, no public key configured');

# bad signatures

$body = body();
$now = time;
$id = "msg_$seq";
my @good = standard_headers($secret, $id, $now, $body);

$t->is_rejected(req('/standard', $body . ' ', @good),
    401, 'signature_mismatch', 'tampered body');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body,
        signature => standard_sig($secret, "${id}x", $now, $body))),
    401, 'signature_mismatch', 'signature for another id');

$t->is_rejected(req('/standard', $body,
    standard_headers($other, $id, $now, $body)),
    401, 'signature_mismatch', 'wrong secret');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, no_signature => 1)),
    401, 'signature_missing', 'no signature header');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, no_id => 1)),
    400, 'signature_malformed', 'no id header');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, signature => 'v1,!!!!')),
    400, 'signature_malformed', 'v1 not base64');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, signature => 'v1,AAAA')),
    400, 'signature_malformed', 'v1 of the wrong length');

# timestamps

$now = time;
$body = body();
$id = "msg_$seq";

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now - 400, $body)),
    401, 'timestamp_expired', 'stale (now - 400 s)');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now + 400, $body)),
    401, 'timestamp_future', 'future (now + 400 s)');

$t->is_rejected(req('/standard', $body,
    standard_headers($secret, $id, $now, $body, no_timestamp => 1)),
    400, 'timestamp_missing', 'no timestamp header');

$t->is_rejected(req('/standard', $body,
    ['webhook-id', $id], ['webhook-timestamp', 'abc'],
    ['webhook-signature', standard_sig($secret, $id, 'abc', $body)]),
    400, 'timestamp_missing', 'timestamp not a number');

is($t->upstream_count, 9, 'only the valid requests reached the upstream');

$t->done_testing;

###############################################################################
