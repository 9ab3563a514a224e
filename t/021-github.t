#!/usr/bin/perl

# webhook_verify github: X-Hub-Signature-256 "sha256=<hex>" over the body,
# no timestamp; $webhook_id = X-GitHub-Delivery, $webhook_event =
# X-GitHub-Event.  The legacy X-Hub-Signature (sha1) alone is not accepted.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header github_sha1_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_webhook_secret_0123456789';
my $docs_secret = "It's a Secret to Everybody";

$t->write_file('github.secret', $secret, 0600);
$t->write_file('docs.secret', $docs_secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /docs {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/docs.secret;
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
    return qq({"ref":"refs/heads/main","after":"$seq","repository":)
         . qq({"full_name":"acme/erp"},"pusher":{"name":"ci"}});
}

sub req {
    my ($path, $body, @h) = @_;
    return { path => $path, body => $body, headers => [
        ['Content-Type', 'application/json'],
        ['X-GitHub-Delivery', "72d3162e-cc78-11e3-81ab-4c9367dc09$seq"],
        ['X-GitHub-Event', 'push'],
        @h,
    ] };
}

my ($body, $u);

# valid

$body = body();
$u = $t->is_forwarded(req('/github', $body,
    ['X-Hub-Signature-256', github_header($secret, $body)]), 'valid');
is_deeply($t->vars($u), {
    provider => 'github', verified => 1,
    id => "72d3162e-cc78-11e3-81ab-4c9367dc09$seq",
    timestamp => '', event => 'push', secret_index => 1, reason => '',
}, 'valid: variables');

$body = body();
$t->is_forwarded(req('/github', $body,
    ['X-Hub-Signature', github_sha1_header($secret, $body)],
    ['X-Hub-Signature-256', github_header($secret, $body)]),
    'valid, with the legacy header too');

# vectors: the spec's and GitHub's documentation's

$body = '{"id":"evt_test_0001","type":"test.event","data":'
      . '{"amount":1000,"currency":"usd"}}';
$t->is_forwarded(req('/github', $body, ['X-Hub-Signature-256', 'sha256='
    . 'a41543cc0b934a575c49463f4cd0dfbfb148f85ad00245b9f2dc5a8859789da7']),
    'spec vector');

$t->is_forwarded(req('/docs', 'Hello, World!', ['X-Hub-Signature-256',
    'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17']),
    'GitHub docs vector');

# bad signatures

$body = body();
my $sig = github_header($secret, $body);

$t->is_rejected(req('/github', $body . "\n", ['X-Hub-Signature-256', $sig]),
    401, 'signature_mismatch', 'tampered body');

$t->is_rejected(req('/github', substr($body, 1),
    ['X-Hub-Signature-256', $sig]),
    401, 'signature_mismatch', 'body missing its first byte');

$t->is_rejected(req('/github', $body,
    ['X-Hub-Signature-256', github_header('another secret', $body)]),
    401, 'signature_mismatch', 'wrong secret');

$t->is_rejected(req('/github', $body,
    ['X-Hub-Signature', github_sha1_header($secret, $body)],
    ['X-Hub-Signature-256', github_header('another secret', $body)]),
    401, 'signature_mismatch', 'valid sha1 does not rescue a wrong sha256');

$t->is_rejected(req('/github', $body),
    401, 'signature_missing', 'no header');

$t->is_rejected(req('/github', $body,
    ['X-Hub-Signature', github_sha1_header($secret, $body)]),
    401, 'signature_missing', 'legacy sha1 header only');

$t->is_rejected(req('/github', $body, ['X-Hub-Signature-256', 'garbage']),
    400, 'signature_malformed', 'garbage');

$t->is_rejected(req('/github', $body,
    ['X-Hub-Signature-256', 'sha256=' . ('z' x 64)]),
    400, 'signature_malformed', 'not hex');

$t->is_rejected(req('/github', $body,
    ['X-Hub-Signature-256', substr($sig, 0, -1)]),
    400, 'signature_malformed', 'one hex digit short');

$t->is_rejected(req('/github', $body,
    ['X-Hub-Signature-256', $sig . '00']),
    400, 'signature_malformed', 'one byte too long');

is($t->upstream_count, 4, 'only the valid requests reached the upstream');

$t->done_testing;

###############################################################################
