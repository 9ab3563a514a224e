#!/usr/bin/perl

# webhook_verify stripe: Stripe-Signature "t=<ts>,v1=<hex>[,v1=..][,v0=..]",
# HMAC-SHA256 over "<t>.<body>" with the whsec_ string verbatim as the key;
# $webhook_id and $webhook_event from the body's "id" and "type".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(stripe_header stripe_sig);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'whsec_5f0e8c3b2a1d4e6f7a8b9c0d1e2f3a4b';

$t->write_file('stripe.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /stripe {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /stripe30 {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_timestamp_tolerance 30s;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /stripe-notol {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
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
    return qq({"id":"evt_$seq","type":"payment_intent.succeeded",)
         . qq("data":{"object":{"amount":$seq,"currency":"eur"}}});
}

sub req {
    my ($path, $body, $sig) = @_;
    my @h = (['Content-Type', 'application/json']);
    push @h, ['Stripe-Signature', $sig] if defined $sig;
    return { path => $path, body => $body, headers => \@h };
}

my ($now, $body, $u);

# valid

$now = time;
$body = body();
$u = $t->is_forwarded(req('/stripe', $body, stripe_header($secret, $now, $body)),
    'valid');
is_deeply($t->vars($u), {
    provider => 'stripe', verified => 1, id => "evt_$seq",
    timestamp => $now, event => 'payment_intent.succeeded',
    secret_index => 1, reason => '',
}, 'valid: variables');

$body = body();
$t->is_forwarded({ path => '/stripe', body => $body,
    headers => [['stripe-signature', stripe_header($secret, time, $body)]] },
    'header name in lower case');

# the spec vector, with the age check off

$body = '{"id":"evt_test_0001","type":"test.event","data":'
      . '{"amount":1000,"currency":"usd"}}';
$u = $t->is_forwarded(req('/stripe-notol', $body, 't=1700000000,v1='
    . '55f0f458f245af15f56277f48aae5282d05c382dfd280605ce8a3fffe3368913'),
    'spec vector, tolerance 0');
is_deeply($t->vars($u), {
    provider => 'stripe', verified => 1, id => 'evt_test_0001',
    timestamp => 1700000000, event => 'test.event',
    secret_index => 1, reason => '',
}, 'spec vector: variables');

$t->is_rejected(req('/stripe-notol', $body . ' ', 't=1700000000,v1='
    . '55f0f458f245af15f56277f48aae5282d05c382dfd280605ce8a3fffe3368913'),
    401, 'signature_mismatch', 'spec vector tampered, tolerance 0');

# multiple signatures

$body = body();
$t->is_forwarded(req('/stripe', $body,
    stripe_header($secret, time, $body, extra_v1 => ['0' x 64])),
    'several v1, the first wrong');

$body = body();
$t->is_forwarded(req('/stripe', $body,
    stripe_header($secret, time, $body, extra_v1_after => ['f' x 64],
        v0 => '1' x 64)),
    'several v1 and a v0, the last v1 wrong');

$body = body();
$now = time;
$t->is_rejected(req('/stripe', $body,
    stripe_header($secret, $now, $body, no_v1 => 1,
        extra_v1 => ['0' x 64, 'a' x 64])),
    401, 'signature_mismatch', 'several v1, all wrong');

$t->is_rejected(req('/stripe', $body,
    stripe_header($secret, $now, $body, no_v1 => 1,
        v0 => stripe_sig($secret, $now, $body))),
    401, 'signature_missing', 'only v0 (a correct HMAC)');

# bad signatures

$body = body();
$now = time;
my $sig = stripe_header($secret, $now, $body);

$t->is_rejected(req('/stripe', $body . 'x', $sig),
    401, 'signature_mismatch', 'tampered body');

(my $flipped = $body) =~ s/payment_intent/payment_intenT/;
$t->is_rejected(req('/stripe', $flipped, $sig),
    401, 'signature_mismatch', 'one byte changed');

$t->is_rejected(req('/stripe', $body,
    stripe_header('whsec_0000000000000000000000000000000', $now, $body)),
    401, 'signature_mismatch', 'wrong secret');

$t->is_rejected(req('/stripe', $body, "t=$now,v1=" . stripe_sig($secret,
    $now + 1, $body)), 401, 'signature_mismatch', 'signed another t');

$t->is_rejected(req('/stripe', $body),
    401, 'signature_missing', 'no header');

$t->is_rejected(req('/stripe', $body, "t=$now,v1=" . ('z' x 64)),
    400, 'signature_malformed', 'v1 not hex');

$t->is_rejected(req('/stripe', $body, "t=$now,v1=" . ('a' x 62)),
    400, 'signature_malformed', 'v1 of the wrong length');

# timestamps

$now = time;
$body = body();

$t->is_rejected(req('/stripe', $body,
    stripe_header($secret, $now - 400, $body)),
    401, 'timestamp_expired', 'stale (now - 400 s, tolerance 5m)');

$t->is_rejected(req('/stripe', $body,
    stripe_header($secret, $now + 400, $body)),
    401, 'timestamp_future', 'future (now + 400 s, tolerance 5m)');

$t->is_rejected(req('/stripe', $body,
    'v1=' . stripe_sig($secret, $now, $body)),
    400, 'timestamp_missing', 'no t=');

$t->is_rejected(req('/stripe', $body,
    't=abc,v1=' . stripe_sig($secret, 'abc', $body)),
    400, 'timestamp_missing', 't= not a number');

$body = body();
$t->is_forwarded(req('/stripe', $body,
    stripe_header($secret, time - 200, $body)),
    'now - 200 s, tolerance 5m');

$body = body();
$t->is_forwarded(req('/stripe30', $body,
    stripe_header($secret, time - 10, $body)),
    'now - 10 s, tolerance 30s');

$now = time;
$t->is_rejected(req('/stripe30', $body,
    stripe_header($secret, $now - 60, $body)),
    401, 'timestamp_expired', 'now - 60 s, tolerance 30s');

$t->is_rejected(req('/stripe30', $body,
    stripe_header($secret, $now + 60, $body)),
    401, 'timestamp_future', 'now + 60 s, tolerance 30s');

$body = body();
$t->is_forwarded(req('/stripe-notol', $body,
    stripe_header($secret, time - 86400 * 365, $body)),
    'a year old, tolerance 0');

is($t->upstream_count, 8, 'only the valid requests reached the upstream');

$t->done_testing;

###############################################################################
