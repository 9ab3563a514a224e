#!/usr/bin/perl

# Requests signed by the providers' own SDKs (npm, pinned in
# t/sdk/package-lock.json): stripe, standardwebhooks, svix,
# @octokit/webhooks-methods, twilio (form and JSON), @shopify/shopify-api,
# @hubspot/api-client.  For each: valid -> forwarded byte-identical;
# tampered, wrong secret, missing, stale -> the exact reason, not
# forwarded.  One node process signs everything up front.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::SDK;

###############################################################################

if (my $why = Test::Webhook::SDK::unavailable()) {
    plan(skip_all => $why);
}

my %secret = (
    stripe => 'whsec_sdk_5f0e8c3b2a1d4e6f7a8b9c0d',
    standard => 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    github => 'gh_sdk_secret_0123456789',
    twilio => 'twilio_sdk_auth_token_0123456789',
    shopify => 'shpss_sdk_0123456789abcdef',
    hubspot => 'hubspot-sdk-secret-0123-4567-89ab',
);

my $t = Test::Webhook->new;

$t->write_file("$_.secret", $secret{$_}, 0600) for keys %secret;

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

        location /standard {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /twilio {
            webhook_verify twilio;
            webhook_secret file:%%TESTDIR%%/twilio.secret;
            webhook_public_url "https://erp.example.com$request_uri";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /shopify {
            webhook_verify shopify;
            webhook_secret file:%%TESTDIR%%/shopify.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /hubspot {
            webhook_verify hubspot;
            webhook_secret file:%%TESTDIR%%/hubspot.secret;
            webhook_public_url "https://erp.example.com$request_uri";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $now = time;
my $old = $now - 400;

my $body = '{"id":"evt_sdk_0001","type":"invoice.paid","data":'
         . '{"amount":4200,"currency":"eur"}}';
my $utf8 = '{"id":"evt_sdk_0002","type":"customer.updated","name":'
         . "\"M\xc3\xbcller & S\xc3\xb6hne \xe2\x98\x95\"}";
my $msgid = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';

my %form = (AccountSid => 'AC0123', Body => "Gr\xc3\xbc\xc3\x9fe 100% + \xe2\x9c\x93",
            From => '+4915112345678', MessageSid => 'SM0001',
            To => '+4930123456');
my $form_body = join '&', map {
    my ($k, $v) = ($_, $form{$_});
    $v =~ s/([^A-Za-z0-9\-._~ ])/sprintf '%%%02X', ord $1/ge;
    $v =~ tr/ /+/;
    "$k=$v";
} sort keys %form;

my $twurl = 'https://erp.example.com/twilio/sms?tenant=erp1';
my $hsurl = 'https://erp.example.com/hubspot/events?portal=7';
my $hsbody = '[{"eventId":7001,"subscriptionType":"deal.creation",'
           . '"portalId":7,"occurredAt":1700000000000}]';

# every job, signed by one node process; name => job

my @jobs = (
    [stripe => { sdk => 'stripe', payload => $body,
                 secret => $secret{stripe}, timestamp => $now }],
    [stripe_utf8 => { sdk => 'stripe', payload => $utf8,
                      secret => $secret{stripe}, timestamp => $now }],
    [stripe_wrong => { sdk => 'stripe', payload => $body,
                       secret => 'whsec_other', timestamp => $now }],
    [stripe_old => { sdk => 'stripe', payload => $body,
                     secret => $secret{stripe}, timestamp => $old }],

    map({
        my $sdk = $_;
        ([$sdk => { sdk => $sdk, secret => $secret{standard}, id => $msgid,
                    timestamp => $now, payload => $utf8 }],
         ["${sdk}_wrong" => { sdk => $sdk, id => $msgid, timestamp => $now,
                              secret => 'whsec_c2VjcmV0LW90aGVyLTAxMjM0NTY3',
                              payload => $utf8 }],
         ["${sdk}_old" => { sdk => $sdk, secret => $secret{standard},
                            id => $msgid, timestamp => $old,
                            payload => $utf8 }]);
    } qw(standardwebhooks svix)),

    [octokit => { sdk => 'octokit', secret => $secret{github},
                  payload => $utf8 }],
    [octokit_wrong => { sdk => 'octokit', secret => 'nope',
                        payload => $utf8 }],

    [twilio => { sdk => 'twilio', token => $secret{twilio}, url => $twurl,
                 params => \%form }],
    [twilio_wrong => { sdk => 'twilio', token => 'nope', url => $twurl,
                       params => \%form }],
    [twilio_hash => { sdk => 'twilio-body-hash', body => $body }],

    [shopify => { sdk => 'shopify', secret => $secret{shopify},
                  payload => $utf8 }],
    [shopify_wrong => { sdk => 'shopify', secret => 'nope',
                        payload => $utf8 }],

    [hubspot => { sdk => 'hubspot', secret => $secret{hubspot},
                  method => 'POST', url => $hsurl, body => $hsbody,
                  timestamp => $now * 1000 }],
    [hubspot_wrong => { sdk => 'hubspot', secret => 'nope',
                        method => 'POST', url => $hsurl, body => $hsbody,
                        timestamp => $now * 1000 }],
    [hubspot_old => { sdk => 'hubspot', secret => $secret{hubspot},
                      method => 'POST', url => $hsurl, body => $hsbody,
                      timestamp => $old * 1000 }],
    [hubspot_url => { sdk => 'hubspot', secret => $secret{hubspot},
                      method => 'POST', url => $hsurl =~ s/7$/8/r,
                      body => $hsbody, timestamp => $now * 1000 }],
);

my $values = Test::Webhook::SDK::sign([map { $_->[1] } @jobs]);
my %sig;
@sig{ map { $_->[0] } @jobs } = @$values;

# the JSON variant needs the body's hash, from the SDK, in the URL first

my $twjson = "https://erp.example.com/twilio/json?bodySHA256=$sig{twilio_hash}";
$values = Test::Webhook::SDK::sign([
    { sdk => 'twilio', token => $secret{twilio}, url => $twjson },
]);
$sig{twilio_json} = $values->[0];

###############################################################################

sub req {
    my ($path, $body, @h) = @_;
    return { path => $path, body => $body,
             headers => [['Content-Type', 'application/json'], @h] };
}

my $u;

# stripe

$u = $t->is_forwarded(req('/stripe', $body,
    ['Stripe-Signature', $sig{stripe}]), 'stripe SDK');
is_deeply([@{ $t->vars($u) }{qw(verified id event timestamp)}],
    [1, 'evt_sdk_0001', 'invoice.paid', $now], 'stripe SDK: variables');
$t->is_forwarded(req('/stripe', $utf8,
    ['Stripe-Signature', $sig{stripe_utf8}]), 'stripe SDK, UTF-8 body');
$t->is_rejected(req('/stripe', $body . ' ',
    ['Stripe-Signature', $sig{stripe}]), 401, 'signature_mismatch',
    'stripe SDK, tampered');
$t->is_rejected(req('/stripe', $body,
    ['Stripe-Signature', $sig{stripe_wrong}]), 401, 'signature_mismatch',
    'stripe SDK, wrong secret');
$t->is_rejected(req('/stripe', $body), 401, 'signature_missing',
    'stripe SDK, no header');
$t->is_rejected(req('/stripe', $body,
    ['Stripe-Signature', $sig{stripe_old}]), 401, 'timestamp_expired',
    'stripe SDK, 400 s old');

# standardwebhooks and svix, each with both header families

for my $sdk (qw(standardwebhooks svix)) {
    for my $p (qw(webhook svix)) {
        my @h = (["$p-id", $msgid], ["$p-timestamp", $now]);

        $u = $t->is_forwarded(req('/standard', $utf8, @h,
            ["$p-signature", $sig{$sdk}]), "$sdk SDK, $p-*");
        is($t->vars($u)->{id}, $msgid, "$sdk SDK, $p-*: id");

        $t->is_rejected(req('/standard', $utf8 =~ s/customer/cust0mer/r, @h,
            ["$p-signature", $sig{$sdk}]), 401, 'signature_mismatch',
            "$sdk SDK, $p-*, tampered");
    }

    my @h = (['webhook-id', $msgid]);

    $t->is_rejected(req('/standard', $utf8, @h, ['webhook-timestamp', $now],
        ['webhook-signature', $sig{"${sdk}_wrong"}]), 401,
        'signature_mismatch', "$sdk SDK, wrong secret");
    $t->is_rejected(req('/standard', $utf8, @h, ['webhook-timestamp', $now]),
        401, 'signature_missing', "$sdk SDK, no signature");
    $t->is_rejected(req('/standard', $utf8, @h, ['webhook-timestamp', $old],
        ['webhook-signature', $sig{"${sdk}_old"}]), 401,
        'timestamp_expired', "$sdk SDK, 400 s old");
}

# @octokit/webhooks-methods

$t->is_forwarded(req('/github', $utf8,
    ['X-Hub-Signature-256', $sig{octokit}]), 'octokit SDK');
$t->is_rejected(req('/github', $utf8 . "\n",
    ['X-Hub-Signature-256', $sig{octokit}]), 401, 'signature_mismatch',
    'octokit SDK, tampered');
$t->is_rejected(req('/github', $utf8,
    ['X-Hub-Signature-256', $sig{octokit_wrong}]), 401,
    'signature_mismatch', 'octokit SDK, wrong secret');
$t->is_rejected(req('/github', $utf8), 401, 'signature_missing',
    'octokit SDK, no header');

# twilio: form and JSON

sub form {
    my ($path, $body, @h) = @_;
    return { path => $path, body => $body, headers => [
        ['Content-Type', 'application/x-www-form-urlencoded'], @h] };
}

$t->is_forwarded(form('/twilio/sms?tenant=erp1', $form_body,
    ['X-Twilio-Signature', $sig{twilio}]), 'twilio SDK, form');
$t->is_forwarded(form('/twilio/sms?tenant=erp1',
    join('&', reverse split /&/, $form_body),
    ['X-Twilio-Signature', $sig{twilio}]),
    'twilio SDK, form, parameters reordered');
$t->is_rejected(form('/twilio/sms?tenant=erp1', $form_body . '&Extra=1',
    ['X-Twilio-Signature', $sig{twilio}]), 401, 'signature_mismatch',
    'twilio SDK, form, a parameter added');
$t->is_rejected(form('/twilio/sms?tenant=erp2', $form_body,
    ['X-Twilio-Signature', $sig{twilio}]), 401, 'signature_mismatch',
    'twilio SDK, form, the URL differs');
$t->is_rejected(form('/twilio/sms?tenant=erp1', $form_body,
    ['X-Twilio-Signature', $sig{twilio_wrong}]), 401, 'signature_mismatch',
    'twilio SDK, form, wrong token');
$t->is_rejected(form('/twilio/sms?tenant=erp1', $form_body), 401,
    'signature_missing', 'twilio SDK, no header');

my $jpath = "/twilio/json?bodySHA256=$sig{twilio_hash}";
$t->is_forwarded(req($jpath, $body, ['X-Twilio-Signature', $sig{twilio_json}]),
    'twilio SDK, JSON');
$t->is_rejected(req($jpath, $body =~ s/4200/4201/r,
    ['X-Twilio-Signature', $sig{twilio_json}]), 401, 'signature_mismatch',
    'twilio SDK, JSON, tampered body');

# shopify

$t->is_forwarded(req('/shopify', $utf8,
    ['X-Shopify-Hmac-Sha256', $sig{shopify}],
    ['X-Shopify-Topic', 'orders/create']), 'shopify SDK');
$t->is_rejected(req('/shopify', $utf8 . ' ',
    ['X-Shopify-Hmac-Sha256', $sig{shopify}]), 401, 'signature_mismatch',
    'shopify SDK, tampered');
$t->is_rejected(req('/shopify', $utf8,
    ['X-Shopify-Hmac-Sha256', $sig{shopify_wrong}]), 401,
    'signature_mismatch', 'shopify SDK, wrong secret');
$t->is_rejected(req('/shopify', $utf8), 401, 'signature_missing',
    'shopify SDK, no header');

# hubspot

my @hts = (['X-HubSpot-Request-Timestamp', $now * 1000]);

$u = $t->is_forwarded(req('/hubspot/events?portal=7', $hsbody, @hts,
    ['X-HubSpot-Signature-v3', $sig{hubspot}]), 'hubspot SDK');
is_deeply([@{ $t->vars($u) }{qw(id event timestamp)}],
    [7001, 'deal.creation', $now], 'hubspot SDK: variables');
$t->is_rejected(req('/hubspot/events?portal=7', $hsbody, @hts,
    ['X-HubSpot-Signature-v3', $sig{hubspot_url}]), 401,
    'signature_mismatch', 'hubspot SDK, URL one character off');
$t->is_rejected(req('/hubspot/events?portal=7', $hsbody . ' ', @hts,
    ['X-HubSpot-Signature-v3', $sig{hubspot}]), 401, 'signature_mismatch',
    'hubspot SDK, tampered');
$t->is_rejected(req('/hubspot/events?portal=7', $hsbody, @hts,
    ['X-HubSpot-Signature-v3', $sig{hubspot_wrong}]), 401,
    'signature_mismatch', 'hubspot SDK, wrong secret');
$t->is_rejected(req('/hubspot/events?portal=7', $hsbody, @hts), 401,
    'signature_missing', 'hubspot SDK, no header');
$t->is_rejected(req('/hubspot/events?portal=7', $hsbody,
    ['X-HubSpot-Request-Timestamp', $old * 1000],
    ['X-HubSpot-Signature-v3', $sig{hubspot_old}]), 401,
    'timestamp_expired', 'hubspot SDK, 400 s old');

is($t->upstream_count, 12, 'only the valid requests were forwarded');

$t->done_testing;

###############################################################################
