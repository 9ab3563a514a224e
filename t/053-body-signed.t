#!/usr/bin/perl

# Schemes whose signed timestamp (linear) or whole signature (mailgun)
# lives inside the JSON body, so the decision waits for the body: linear
# trusts only the body's webhookTimestamp (milliseconds), never the
# unsigned Linear-Timestamp header; mailgun signs timestamp + token of its
# "signature" object, not the event data.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha256_hex);

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

my $lin = 'lin_wh_0123456789abcdef0123456789abcdef';
my $mg = 'key-0123456789abcdef0123456789abcdef';

$t->write_file('linear.secret', $lin, 0600);
$t->write_file('mailgun.secret', $mg, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /linear-vector {
            webhook_verify linear;
            webhook_secret file:%%TESTDIR%%/linear.secret;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /linear {
            webhook_verify linear;
            webhook_secret file:%%TESTDIR%%/linear.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # Linear's own SDK allows 60 s
        location /linear60 {
            webhook_verify linear;
            webhook_secret file:%%TESTDIR%%/linear.secret;
            webhook_timestamp_tolerance 60s;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /linear-file {
            webhook_verify linear;
            webhook_secret file:%%TESTDIR%%/linear.secret;
            client_body_buffer_size 128;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /mailgun-vector {
            webhook_verify mailgun;
            webhook_secret file:%%TESTDIR%%/mailgun.secret;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /mailgun {
            webhook_verify mailgun;
            webhook_secret file:%%TESTDIR%%/mailgun.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub linear {
    my ($path, $body, $sig, @more) = @_;
    my @h = (['Content-Type', 'application/json'],
             ['Linear-Delivery', '234d1a4e-b617-4388-90fe-adc3633d6b72'],
             ['Linear-Event', 'Issue'], @more);
    push @h, ['Linear-Signature', $sig] if defined $sig;
    return { path => $path, body => $body, headers => \@h };
}

sub linear_body {
    my ($ms, %o) = @_;
    my $b = '{"action":"create","type":"Issue","data":{"id":"2174add1",'
          . '"title":"' . ($o{title} // 'Test') . '"},'
          . '"url":"https://linear.app/x/issue/ENG-1"';
    $b .= ',"webhookTimestamp":' . $ms if defined $ms;
    return $b . ',"webhookId":"000042e3-d123-4980-b49f-8e140eef9329"}';
}

my $lvec = '{"action":"create","type":"Issue","data":{"id":"2174add1-f7c8-'
    . '44e3-bbf3-2d60b5ea8bc9","title":"Test"},"url":"https://linear.app/x/'
    . 'issue/ENG-1","createdAt":"2023-11-14T22:13:20.000Z","webhookTimestamp'
    . '":1700000000000,"webhookId":"000042e3-d123-4980-b49f-8e140eef9329"}';
my $lsig = 'aa55936cea923c881129de6968209949507b9978d48fe36cdc31c5b1f11b5998';
my ($u, $body, $ms);

$u = $t->is_forwarded(linear('/linear-vector', $lvec, $lsig,
    ['Linear-Timestamp', '1700000000000']), 'linear: vector');
is_deeply($t->vars($u), {
    provider => 'linear', verified => 1,
    id => '234d1a4e-b617-4388-90fe-adc3633d6b72', event => 'Issue',
    timestamp => 1700000000, secret_index => 1, reason => '',
}, 'linear: vector: variables, the timestamp from the body');

$t->is_rejected(linear('/linear-vector', $lvec =~ s/Test/Tesu/r, $lsig),
    401, 'signature_mismatch', 'linear: vector tampered');

$t->is_rejected(linear('/linear', $lvec, $lsig,
    ['Linear-Timestamp', time * 1000]), 401, 'timestamp_expired',
    'linear: vector with a fresh (unsigned) Linear-Timestamp: still stale');

$ms = time * 1000;
$body = linear_body($ms);

$u = $t->is_forwarded(linear('/linear', $body, hmac_sha256_hex($body, $lin)),
    'linear: fresh');
is($t->vars($u)->{timestamp}, int($ms / 1000), 'linear: fresh: timestamp');

$t->is_forwarded(linear('/linear', $body, uc hmac_sha256_hex($body, $lin)),
    'linear: upper-case hex');

$t->is_rejected(linear('/linear', $body, hmac_sha256_hex($body, 'nope')),
    401, 'signature_mismatch', 'linear: wrong secret');

$t->is_rejected(linear('/linear', linear_body($ms, title => 'Tesu'),
    hmac_sha256_hex($body, $lin)), 401, 'signature_mismatch',
    'linear: tampered');

$t->is_rejected(linear('/linear', $body), 401, 'signature_missing',
    'linear: no signature');

$t->is_rejected(linear('/linear', $body, 'xyz'), 400, 'signature_malformed',
    'linear: signature not hex');

$body = linear_body($ms - 400_000);
$t->is_rejected(linear('/linear', $body, hmac_sha256_hex($body, $lin),
    ['Linear-Timestamp', $ms]), 401, 'timestamp_expired',
    'linear: body timestamp 400 s old');

$body = linear_body($ms + 400_000);
$t->is_rejected(linear('/linear', $body, hmac_sha256_hex($body, $lin)),
    401, 'timestamp_future', 'linear: body timestamp 400 s ahead');

$body = linear_body(undef);
$t->is_rejected(linear('/linear', $body, hmac_sha256_hex($body, $lin),
    ['Linear-Timestamp', $ms]), 400, 'timestamp_missing',
    'linear: no webhookTimestamp (the header does not count)');

$body = 'webhookTimestamp=' . $ms;
$t->is_rejected(linear('/linear', $body, hmac_sha256_hex($body, $lin)),
    400, 'timestamp_missing', 'linear: a signed body that is not JSON');

$body = linear_body('"' . $ms . '"');
$t->is_forwarded(linear('/linear', $body, hmac_sha256_hex($body, $lin)),
    'linear: webhookTimestamp as a string');

$body = linear_body($ms - 90_000);
$t->is_forwarded(linear('/linear', $body, hmac_sha256_hex($body, $lin)),
    'linear: 90 s old, tolerance 5m');
$t->is_rejected(linear('/linear60', $body, hmac_sha256_hex($body, $lin)),
    401, 'timestamp_expired', 'linear: 90 s old, tolerance 60s');

$body = linear_body($ms, title => 'x' x 4000);
$t->is_forwarded(linear('/linear-file', $body, hmac_sha256_hex($body, $lin)),
    'linear: body in a temp file');

###############################################################################

sub mailgun_body {
    my (%o) = @_;

    my $ts = $o{timestamp} // time;
    my $token = $o{token} // 'e0b5477167110d68991efc6b9f89f0a11066af27834600e1';
    my $sig = $o{signature} // hmac_sha256_hex("$ts$token", $o{key} // $mg);
    my $tsjson = $o{ts_number} ? $ts : qq("$ts");

    my @sig;
    push @sig, qq("token":"$token") unless $o{no_token};
    push @sig, qq("timestamp":$tsjson) unless $o{no_timestamp};
    push @sig, qq("signature":"$sig");

    my $event = $o{event} // 'delivered';

    return $o{no_signature}
        ? qq({"event-data":{"event":"$event","id":"ev1"}})
        : '{"signature":{' . join(',', @sig) . '},"event-data":{"event":'
          . qq("$event","id":"CPgfbm-fresh","timestamp":$ts.5}});
}

sub mailgun {
    my ($path, $body) = @_;
    return { path => $path, body => $body,
             headers => [['Content-Type', 'application/json']] };
}

my $mvec = '{"signature":{"token":"e0b5477167110d68991efc6b9f89f0a11066af2783'
    . '4600e123","timestamp":"1700000000","signature":"8eca04bed63975049c9a26'
    . 'a326d5625dad24439c7dc94e19844a6c482592f784"},"event-data":{"event":"de'
    . 'livered","id":"CPgfbmQMTCKtHW6uIWtuVe","timestamp":1700000000.5}}';

$u = $t->is_forwarded(mailgun('/mailgun-vector', $mvec), 'mailgun: vector');
is_deeply($t->vars($u), {
    provider => 'mailgun', verified => 1, id => 'CPgfbmQMTCKtHW6uIWtuVe',
    event => 'delivered', timestamp => 1700000000, secret_index => 1,
    reason => '',
}, 'mailgun: vector: variables');

$t->is_rejected(mailgun('/mailgun-vector', $mvec =~ s/600e123/600e124/r),
    401, 'signature_mismatch', 'mailgun: vector, token changed');

$t->is_rejected(mailgun('/mailgun', $mvec), 401, 'timestamp_expired',
    'mailgun: vector, tolerance 5m');

$t->is_forwarded(mailgun('/mailgun', mailgun_body()), 'mailgun: fresh');

$t->is_forwarded(mailgun('/mailgun', mailgun_body(ts_number => 1)),
    'mailgun: fresh, timestamp as a number');

$t->is_rejected(mailgun('/mailgun', mailgun_body(key => 'key-wrong')),
    401, 'signature_mismatch', 'mailgun: wrong key');

$t->is_rejected(mailgun('/mailgun', mailgun_body(timestamp => time - 400)),
    401, 'timestamp_expired', 'mailgun: 400 s old');

$t->is_rejected(mailgun('/mailgun', mailgun_body(timestamp => time + 400)),
    401, 'timestamp_future', 'mailgun: 400 s ahead');

$t->is_rejected(mailgun('/mailgun', mailgun_body(no_timestamp => 1)),
    400, 'timestamp_missing', 'mailgun: no timestamp');

$t->is_rejected(mailgun('/mailgun', mailgun_body(no_token => 1)),
    400, 'signature_malformed', 'mailgun: no token');

$t->is_rejected(mailgun('/mailgun', mailgun_body(signature => 'abc')),
    400, 'signature_malformed', 'mailgun: signature not 64 hex digits');

$t->is_rejected(mailgun('/mailgun', mailgun_body(no_signature => 1)),
    401, 'signature_missing', 'mailgun: no signature object');

$t->is_rejected(mailgun('/mailgun', 'timestamp=1&token=2&signature=3'),
    401, 'signature_missing', 'mailgun: a body that is not JSON');

$t->is_rejected(mailgun('/mailgun', ''), 401, 'signature_missing',
    'mailgun: an empty body');

$t->is_rejected(mailgun('/mailgun', '[' x 5000 . ']' x 5000),
    401, 'signature_missing', 'mailgun: JSON nested 5000 deep');

# what Mailgun signs is timestamp + token: the event data is not covered
# (documented; an id cache on the token is the replay defence)

$u = $t->is_forwarded(mailgun('/mailgun', mailgun_body(event => 'failed')),
    'mailgun: the event data is not signed');
is($t->vars($u)->{event}, 'failed', 'mailgun: ... and is passed as is');

is($t->upstream_count, 10, 'only the valid requests were forwarded');

$t->done_testing;

###############################################################################
