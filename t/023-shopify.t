#!/usr/bin/perl

# webhook_verify shopify: X-Shopify-Hmac-Sha256 (or Shopify-Hmac-Sha256) =
# base64(HMAC-SHA256(secret, body)), no timestamp; $webhook_id =
# X-Shopify-Event-Id (else X-Shopify-Webhook-Id), $webhook_event =
# X-Shopify-Topic.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(shopify_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'shpss_0123456789abcdef0123456789abcdef';

$t->write_file('shopify.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /shopify {
            webhook_verify shopify;
            webhook_secret file:%%TESTDIR%%/shopify.secret;
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
    return qq({"id":$seq,"email":"jon\@example.com","total_price":"$seq.00",)
         . qq("line_items":[{"sku":"A-$seq","quantity":1}]});
}

sub req {
    my ($body, @h) = @_;
    return { path => '/shopify', body => $body,
        headers => [['Content-Type', 'application/json'], @h] };
}

my ($body, $u);

# valid

$body = body();
$u = $t->is_forwarded(req($body,
    ['X-Shopify-Topic', 'orders/create'],
    ['X-Shopify-Event-Id', "ev-$seq"],
    ['X-Shopify-Webhook-Id', "wh-$seq"],
    ['X-Shopify-Hmac-Sha256', shopify_header($secret, $body)]), 'valid');
is_deeply($t->vars($u), {
    provider => 'shopify', verified => 1, id => "ev-$seq", timestamp => '',
    event => 'orders/create', secret_index => 1, reason => '',
}, 'valid: variables');

$body = body();
$u = $t->is_forwarded(req($body,
    ['X-Shopify-Topic', 'orders/paid'],
    ['X-Shopify-Webhook-Id', "wh-$seq"],
    ['X-Shopify-Hmac-Sha256', shopify_header($secret, $body)]),
    'valid, only X-Shopify-Webhook-Id');
is_deeply([@{ $t->vars($u) }{qw(id event)}], ["wh-$seq", 'orders/paid'],
    'id falls back to X-Shopify-Webhook-Id');

$body = body();
$u = $t->is_forwarded(req($body,
    ['Shopify-Hmac-Sha256', shopify_header($secret, $body)]),
    'valid, Shopify-Hmac-Sha256 header');
is($t->vars($u)->{verified}, 1, 'Shopify-Hmac-Sha256: verified');

# the spec vector

$body = '{"id":"evt_test_0001","type":"test.event","data":'
      . '{"amount":1000,"currency":"usd"}}';
$t->is_forwarded(req($body,
    ['X-Shopify-Topic', 'orders/create'],
    ['X-Shopify-Webhook-Id', 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043'],
    ['X-Shopify-Hmac-Sha256', '0PXR9rHuGqBGAZag1teiKwLGgXGPBVzQTsc53yIkjM0=']),
    'spec vector');

# bad signatures

$body = body();
my $sig = shopify_header($secret, $body);

$t->is_rejected(req($body . ' ', ['X-Shopify-Hmac-Sha256', $sig]),
    401, 'signature_mismatch', 'tampered body');

$t->is_rejected(req($body,
    ['X-Shopify-Hmac-Sha256', shopify_header('shpss_another', $body)]),
    401, 'signature_mismatch', 'wrong secret');

$t->is_rejected(req($body, ['X-Shopify-Topic', 'orders/create']),
    401, 'signature_missing', 'no header');

$t->is_rejected(req($body, ['X-Shopify-Hmac-Sha256', 'not base64!!']),
    400, 'signature_malformed', 'not base64');

$t->is_rejected(req($body, ['X-Shopify-Hmac-Sha256', 'AAAA']),
    400, 'signature_malformed', 'base64 of the wrong length');

is($t->upstream_count, 4, 'only the valid requests reached the upstream');

$t->done_testing;

###############################################################################
