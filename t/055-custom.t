#!/usr/bin/perl

# webhook_verify custom: the scheme from webhook_signature_header,
# webhook_signature_pattern, webhook_signature_encoding, webhook_digest,
# webhook_signed_payload and webhook_timestamp.  The proof of generality:
# custom configurations reproducing the Stripe, Slack and GitHub schemes
# pass the same providers.md vectors as the presets; then the edges of
# patterns and templates, and the configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha1 hmac_sha256_hex hmac_sha512_hex);

use Test::Webhook;
use Test::Webhook::Sign qw(stripe_header stripe_sig slack_headers b64);

###############################################################################

my $t = Test::Webhook->new;

my %secret = (
    stripe => 'whsec_5f0e8c3b2a1d4e6f7a8b9c0d1e2f3a4b',
    slack_docs => '8f742231b10e8888abcd99yyyzzz85a5',
    slack => 'slack_signing_secret_0123456789ab',
    github_docs => "It's a Secret to Everybody",
    github => 'gh_webhook_secret_0123456789',
    other => 'custom-secret-0123',
);

$t->write_file("$_.secret", $secret{$_}, 0600) for keys %secret;

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    # Stripe's t= item, for the template and the tolerance
    map $http_stripe_signature $stripe_t {
        "~(?:^|,)t=(?<t>[0-9]+)(?:,|$)"  $t;
        default                          "";
    }

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /stripe {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_signature_header Stripe-Signature;
            webhook_signature_pattern "(?:^|,)v1=([^,]*)";
            webhook_signed_payload "$stripe_t.{body}";
            webhook_timestamp $stripe_t;
            webhook_id $http_x_request_id;
            %%WEBHOOK_PROXY_HEADERS%%

            location /stripe/vector {
                webhook_timestamp_tolerance 0;
                proxy_pass http://%%UPSTREAM%%;
            }

            proxy_pass http://%%UPSTREAM%%;
        }

        location /slack-docs {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/slack_docs.secret;
            webhook_signature_header X-Slack-Signature;
            webhook_signature_pattern "^v0=([0-9a-f]+)$";
            webhook_signed_payload "v0:$http_x_slack_request_timestamp:{body}";
            webhook_timestamp $http_x_slack_request_timestamp;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /slack {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/slack.secret;
            webhook_signature_header X-Slack-Signature;
            webhook_signature_pattern "^v0=([0-9a-f]+)$";
            webhook_signed_payload "v0:$http_x_slack_request_timestamp:{body}";
            webhook_timestamp $http_x_slack_request_timestamp;
            %%WEBHOOK_PROXY_HEADERS%%

            location /slack/vector {
                webhook_timestamp_tolerance 0;
                proxy_pass http://%%UPSTREAM%%;
            }

            proxy_pass http://%%UPSTREAM%%;
        }

        location /github {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/github_docs.secret;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_signature_header X-Hub-Signature-256;
            webhook_signature_pattern "^sha256=(.*)$";
            webhook_event $http_x_github_event;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # no pattern: the whole value; base64 of HMAC-SHA1
        location /whole {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/other.secret;
            webhook_signature_header X-Signature;
            webhook_signature_encoding base64;
            webhook_digest sha1;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # base64url of HMAC-SHA512 over the method, the URI and the body
        location /url512 {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/other.secret;
            webhook_signature_header X-Signature;
            webhook_signature_pattern "s=([A-Za-z0-9_-]+)";
            webhook_signature_encoding base64url;
            webhook_digest sha512;
            webhook_signed_payload "$request_method $request_uri\n{body}\n";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # catastrophic backtracking meets the match limit
        location /redos {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/other.secret;
            webhook_signature_header X-Signature;
            webhook_signature_pattern "^((?:a|a)+)+$";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # a capture that can be empty
        location /empty {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/other.secret;
            webhook_signature_header X-Signature;
            webhook_signature_pattern "s=([0-9a-f]*)";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $common = '{"id":"evt_test_0001","type":"test.event","data":'
           . '{"amount":1000,"currency":"usd"}}';

sub req {
    my ($path, $body, @h) = @_;
    return { path => $path, body => $body, headers => \@h };
}

my ($u, $now, $body, $sig);

# Stripe, as a custom scheme

my $svec = 't=1700000000,v1=55f0f458f245af15f56277f48aae5282d05c382dfd2806'
         . '05ce8a3fffe3368913';

$u = $t->is_forwarded(req('/stripe/vector', $common,
    ['Stripe-Signature', $svec], ['X-Request-Id', 'req-1']),
    'stripe as custom: vector');
is_deeply($t->vars($u), {
    provider => 'custom', verified => 1, id => 'req-1', event => '',
    timestamp => 1700000000, secret_index => 1, reason => '',
}, 'stripe as custom: vector: variables');

$t->is_rejected(req('/stripe/vector', $common . ' ',
    ['Stripe-Signature', $svec]), 401, 'signature_mismatch',
    'stripe as custom: vector, tampered');

my $utf8 = '{"id":"evt_test_0002","name":"Caf' . "\xc3\xa9 \xe2\x98\x95"
         . '","note":"multi-byte"}';
$t->is_forwarded(req('/stripe/vector', $utf8, ['Stripe-Signature',
    't=1700000000,v1=fb75ecd3471d4bbeeae6bbbe2363eeb5932c4c45bff316f5d63a2e'
    . 'a8e7b4e4c1']), 'stripe as custom: UTF-8 vector');

$now = time;
$body = '{"id":"evt_custom","type":"invoice.paid"}';

$t->is_forwarded(req('/stripe', $body, ['Stripe-Signature',
    stripe_header($secret{stripe}, $now, $body, extra_v1 => ['0' x 64],
                  v0 => '1' x 64)]),
    'stripe as custom: fresh, a wrong v1 first, a v0 after');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    stripe_header($secret{stripe}, $now - 400, $body)]),
    401, 'timestamp_expired', 'stripe as custom: 400 s old');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    stripe_header($secret{stripe}, $now + 400, $body)]),
    401, 'timestamp_future', 'stripe as custom: 400 s ahead');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    stripe_header($secret{stripe}, $now, $body, no_t => 1)]),
    400, 'timestamp_missing', 'stripe as custom: no t=');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    "t=$now,v0=" . stripe_sig($secret{stripe}, $now, $body)]),
    401, 'signature_missing', 'stripe as custom: only v0 (no match)');

$t->is_rejected(req('/stripe', $body), 401, 'signature_missing',
    'stripe as custom: no header');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    "t=$now,v1=xyz"]), 400, 'signature_malformed',
    'stripe as custom: v1 not hex');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    "t=$now,v1=,v1=" . stripe_sig($secret{stripe}, $now, $body)]),
    400, 'signature_malformed', 'stripe as custom: an empty capture');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    "t=$now," . join(',', map { 'v1=' . ('0' x 64) } 1 .. 17)]),
    400, 'signature_malformed', 'stripe as custom: 17 matches');

$t->is_rejected(req('/stripe', $body, ['Stripe-Signature',
    stripe_header('whsec_wrong', $now, $body)]),
    401, 'signature_mismatch', 'stripe as custom: wrong secret');

# Slack, as a custom scheme: the documentation's vector and ours

my $slack_docs = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_doma'
    . 'in=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CE'
    . 'RLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_u'
    . 'rl=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F39770088555'
    . '4%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0'
    . 'bc887a14d10d2c447fce8b6703c';

$u = $t->is_forwarded(req('/slack-docs', $slack_docs,
    ['X-Slack-Request-Timestamp', '1531420618'],
    ['X-Slack-Signature', 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd'
                        . '27519666489c69b503']),
    'slack as custom: the documentation vector');
is($t->vars($u)->{timestamp}, 1531420618, 'slack as custom: timestamp');

$t->is_forwarded(req('/slack/vector', $common,
    ['X-Slack-Request-Timestamp', '1700000000'],
    ['X-Slack-Signature', 'v0=5dd419ca8a05b1877f1bccee23e321526beef0f5375cc7'
                        . '9befdfad2e5fbede06']),
    'slack as custom: vector');

$now = time;
$t->is_forwarded(req('/slack', $body,
    slack_headers($secret{slack}, $now, $body)), 'slack as custom: fresh');

$t->is_rejected(req('/slack', $body,
    slack_headers($secret{slack}, $now - 400, $body)),
    401, 'timestamp_expired', 'slack as custom: 400 s old');

$t->is_rejected(req('/slack', $body,
    ['X-Slack-Signature', 'x v0=' . ('a' x 64)]),
    401, 'signature_missing', 'slack as custom: anchored pattern, no match');

# GitHub, as a custom scheme, with two secrets

$u = $t->is_forwarded(req('/github', 'Hello, World!',
    ['X-GitHub-Event', 'ping'],
    ['X-Hub-Signature-256', 'sha256=757107ea0eb2509fc211221cce984b8a37570b6'
                          . 'd7586c22c46f4379c8b043e17']),
    'github as custom: the documentation vector');
is_deeply([@{ $t->vars($u) }{qw(secret_index event timestamp)}],
    [1, 'ping', ''], 'github as custom: first secret, event, no timestamp');

$u = $t->is_forwarded(req('/github', $common,
    ['X-Hub-Signature-256', 'sha256=a41543cc0b934a575c49463f4cd0dfbfb148f85'
                          . 'ad00245b9f2dc5a8859789da7']),
    'github as custom: vector');
is($t->vars($u)->{secret_index}, 2, 'github as custom: second secret');

$t->is_rejected(req('/github', $common,
    ['X-Hub-Signature-256', 'garbage']), 401, 'signature_missing',
    'github as custom: no "sha256=" (no match)');

$t->is_rejected(req('/github', $common,
    ['X-Hub-Signature-256', 'sha256=garbage']), 400, 'signature_malformed',
    'github as custom: "sha256=garbage"');

# the whole value, base64 HMAC-SHA1

$t->is_forwarded(req('/whole', $body,
    ['X-Signature', b64(hmac_sha1($body, $secret{other}))]),
    'no pattern: the whole value, base64 SHA-1');

$t->is_rejected(req('/whole', $body,
    ['X-Signature', hmac_sha256_hex($body, $secret{other})]),
    400, 'signature_malformed', 'no pattern: hex where base64 SHA-1 is due');

# base64url SHA-512 over "<method> <uri>\n<body>\n"

$sig = b64(pack 'H*', hmac_sha512_hex("POST /url512?a=1\n$body\n",
                                      $secret{other}));
$sig =~ tr{+/}{-_};
$sig =~ s/=+$//;

$t->is_forwarded(req('/url512?a=1', $body, ['X-Signature', "k=1, s=$sig"]),
    'base64url SHA-512 over method, URI and body');

$t->is_rejected(req('/url512?a=2', $body, ['X-Signature', "k=1, s=$sig"]),
    401, 'signature_mismatch', 'base64url SHA-512, another URI');

# a pattern that backtracks without end stops at the match limit

$t->is_rejected(req('/redos', $body, ['X-Signature', 'a' x 60 . 'b']),
    400, 'signature_malformed', 'catastrophic pattern: match limit');
like($t->error_log, qr/webhook_signature_pattern "\^\(\(\?:a\|a\)\+\)\+\$" failed/,
    'catastrophic pattern: logged');

# a pattern whose capture can be empty

$t->is_rejected(req('/empty', $body, ['X-Signature', 's=']),
    400, 'signature_malformed', 'empty capture');
$t->is_forwarded(req('/empty', $body,
    ['X-Signature', 's=' . hmac_sha256_hex($body, $secret{other})]),
    'a capture that could be empty, but is not');

is($t->upstream_count, 11, 'only the valid requests were forwarded');

###############################################################################

# configuration errors: nginx -t fails with a clear message

# every location of these holds a secret
sub try_location {
    $t->try_location("webhook_secret file:%%TESTDIR%%/other.secret;\n"
                     . "            $_[0]");
}

my @errors = (
    ['a bad pattern', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signature_pattern "v1=([0-9a-f]+";',
     qr/webhook_signature_pattern "v1=\(\[0-9a-f\]\+" is not a valid regular expression/],
    ['a pattern without a capture', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signature_pattern "v1=[0-9a-f]+";',
     qr/webhook_signature_pattern "v1=\[0-9a-f\]\+" has no capture group/],
    ['a template without {body}', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signed_payload "v0:$http_x_ts";',
     qr/webhook_signed_payload "v0:\$http_x_ts" must contain "\{body\}" exactly once \(found 0\)/],
    ['a template with {body} twice', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signed_payload "{body}.{body}";',
     qr/must contain "\{body\}" exactly once \(found 2\)/],
    ['an unknown variable in the template', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signed_payload "$no_such_variable_here{body}";',
     qr/unknown "no_such_variable_here" variable/],
    ['an unknown encoding', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signature_encoding base32;',
     qr/invalid value "base32"/],
    ['an unknown digest', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_digest md5;',
     qr/invalid value "md5"/],
    ['custom without a header', 'webhook_verify custom;',
     qr/"webhook_verify custom" in \S+:\d+ has no "webhook_signature_header"/],
    ['custom directives with a preset', 'webhook_verify stripe;
        webhook_signature_pattern "v1=(.*)";',
     qr/apply to "webhook_verify custom" only, not to "webhook_verify stripe"/],
    ['a duplicate pattern', 'webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signature_pattern "a(.)";
        webhook_signature_pattern "b(.)";',
     qr/"webhook_signature_pattern" directive is duplicate/],
);

for my $e (@errors) {
    my ($name, $location, $re) = @$e;
    my ($rc, $out) = try_location($location);
    isnt($rc, 0, "$name: nginx -t fails");
    like($out, qr/\[emerg\].*$re/, "$name: the message") or diag($out);
}

my ($rc, $out) = try_location('webhook_verify custom;
        webhook_signature_header X-Sig;
        webhook_signature_pattern "(?:^|,)v1=([0-9a-f]+)";
        webhook_signed_payload "${http_x_ts}.{body}";
        webhook_digest sha512;
        webhook_signature_encoding base64url;
        webhook_timestamp $http_x_ts;');
is($rc, 0, 'a complete custom scheme passes nginx -t') or diag($out);

$t->done_testing;

###############################################################################
