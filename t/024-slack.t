#!/usr/bin/perl

# webhook_verify slack: X-Slack-Signature "v0=<hex>" over "v0:<ts>:<body>",
# X-Slack-Request-Timestamp (unix seconds); $webhook_id = body "event_id",
# $webhook_event = body "event.type", else "type".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(slack_headers slack_sig);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'slack_signing_secret_0123456789ab';
my $docs_secret = '8f742231b10e8888abcd99yyyzzz85a5';

$t->write_file('slack.secret', $secret, 0600);
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

        location /slack {
            webhook_verify slack;
            webhook_secret file:%%TESTDIR%%/slack.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /vector {
            webhook_verify slack;
            webhook_secret file:%%TESTDIR%%/slack.secret;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /docs {
            webhook_verify slack;
            webhook_secret file:%%TESTDIR%%/docs.secret;
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
    return qq({"token":"XXYYZZ","team_id":"T1DC2JH3J","type":"event_callback",)
         . qq("event_id":"Ev$seq","event_time":1700000000,)
         . qq("event":{"type":"app_mention","text":"hi $seq"}});
}

sub req {
    my ($path, $body, @h) = @_;
    return { path => $path, body => $body,
        headers => [['Content-Type', 'application/json'], @h] };
}

my ($now, $body, $u);

# valid

$now = time;
$body = body();
$u = $t->is_forwarded(req('/slack', $body,
    slack_headers($secret, $now, $body)), 'valid');
is_deeply($t->vars($u), {
    provider => 'slack', verified => 1, id => "Ev$seq", timestamp => $now,
    event => 'app_mention', secret_index => 1, reason => '',
}, 'valid: variables');

$now = time;
$body = '{"token":"XXYYZZ","challenge":"3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWM'
      . 'mHkvFXO7tYXAYM8P","type":"url_verification"}';
$u = $t->is_forwarded(req('/slack', $body,
    slack_headers($secret, $now, $body)), 'url_verification');
is_deeply([@{ $t->vars($u) }{qw(verified id event)}],
    [1, '', 'url_verification'], 'url_verification: event from "type"');

# vectors: Slack's documentation and the spec, with the age check off

$body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteam'
      . 'now&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_na'
      . 'me=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2'
      . 'F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibI'
      . 'GlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c'
      . '447fce8b6703c';
is(length $body, 362, 'docs vector body');

$u = $t->is_forwarded({ path => '/docs', body => $body, headers => [
    ['Content-Type', 'application/x-www-form-urlencoded'],
    ['X-Slack-Request-Timestamp', '1531420618'],
    ['X-Slack-Signature', 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd2'
                          . '7519666489c69b503'],
] }, 'Slack docs vector, tolerance 0');
is_deeply([@{ $t->vars($u) }{qw(verified timestamp)}], [1, 1531420618],
    'docs vector: variables');

$body = '{"id":"evt_test_0001","type":"test.event","data":'
      . '{"amount":1000,"currency":"usd"}}';
$t->is_forwarded(req('/vector', $body,
    ['X-Slack-Request-Timestamp', '1700000000'],
    ['X-Slack-Signature', 'v0=5dd419ca8a05b1877f1bccee23e321526beef0f5375cc79b'
                          . 'efdfad2e5fbede06']),
    'spec vector, tolerance 0');

$t->is_rejected(req('/docs', $body,
    ['X-Slack-Request-Timestamp', '1531420618'],
    ['X-Slack-Signature', 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd2'
                          . '7519666489c69b503']),
    401, 'signature_mismatch', 'docs signature on another body');

# bad signatures

$now = time;
$body = body();
my @good = slack_headers($secret, $now, $body);

$t->is_rejected(req('/slack', $body . ' ', @good),
    401, 'signature_mismatch', 'tampered body');

$t->is_rejected(req('/slack', $body,
    ['X-Slack-Request-Timestamp', $now - 1], $good[1]),
    401, 'signature_mismatch', 'another timestamp');

$t->is_rejected(req('/slack', $body,
    slack_headers('another_signing_secret_01234567', $now, $body)),
    401, 'signature_mismatch', 'wrong secret');

$t->is_rejected(req('/slack', $body, $good[0]),
    401, 'signature_missing', 'no signature header');

$t->is_rejected(req('/slack', $body, $good[0],
    ['X-Slack-Signature', 'v0=' . ('x' x 64)]),
    400, 'signature_malformed', 'not hex');

$t->is_rejected(req('/slack', $body, $good[0],
    ['X-Slack-Signature', 'v0=abcd']),
    400, 'signature_malformed', 'hex of the wrong length');

# timestamps

$now = time;
$body = body();

$t->is_rejected(req('/slack', $body, slack_headers($secret, $now - 400, $body)),
    401, 'timestamp_expired', 'stale (now - 400 s)');

$t->is_rejected(req('/slack', $body, slack_headers($secret, $now + 400, $body)),
    401, 'timestamp_future', 'future (now + 400 s)');

$t->is_rejected(req('/slack', $body,
    ['X-Slack-Signature', slack_sig($secret, $now, $body)]),
    400, 'timestamp_missing', 'no timestamp header');

$t->is_rejected(req('/slack', $body,
    ['X-Slack-Request-Timestamp', 'yesterday'],
    ['X-Slack-Signature', slack_sig($secret, 'yesterday', $body)]),
    400, 'timestamp_missing', 'timestamp not a number');

is($t->upstream_count, 4, 'only the valid requests reached the upstream');

$t->done_testing;

###############################################################################
