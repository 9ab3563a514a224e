#!/usr/bin/perl

# braintree: form fields bt_signature ("public_key|hex" pairs joined with
# '&') and bt_payload (base64 XML), HMAC-SHA1 keyed with SHA-1 of the
# private key; webhook_secret "public_key:private_key".  Ground truth:
# braintree's webhookTesting.sampleNotification (t/sdk), checked by its
# own webhookNotification.parse; the same construction in Perl for the
# bad inputs: tampered, wrong private key, unknown public key, missing,
# malformed, rotation (two API keys), the trailing-newline variant the
# SDK accepts, replay.  Braintree's timestamp is inside the XML: not
# checked, so nothing is stale or future here.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(sha1 hmac_sha1_hex);
use MIME::Base64 qw(encode_base64);

use Test::Webhook;
use Test::Webhook::SDK;
use Test::Webhook::Sign qw(form_encode);

###############################################################################

my ($pub1, $priv1) = ('pk1erp0test0001', 'b1f0c0ffee0000000000000000000001');
my ($pub2, $priv2) = ('pk2erp0test0002', 'b1f0c0ffee0000000000000000000002');

my $t = Test::Webhook->new;

$t->write_file('bt1.secret', "$pub1:$priv1\n", 0600);
$t->write_file('bt2.secret', "$pub2:$priv2", 0600);
$t->write_file('btwrong.secret', "$pub1:not-the-private-key", 0600);
$t->write_file('bad.secret', 'no-colon-here', 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /bt {
            webhook_verify braintree;
            webhook_secret file:%%TESTDIR%%/bt1.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /bt-wrong {
            webhook_verify braintree;
            webhook_secret file:%%TESTDIR%%/btwrong.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /bt-rotation {
            webhook_verify braintree;
            webhook_secret file:%%TESTDIR%%/bt2.secret;
            webhook_secret file:%%TESTDIR%%/bt1.secret;
            client_body_buffer_size 128;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /bt-replay {
            webhook_verify braintree;
            webhook_secret file:%%TESTDIR%%/bt1.secret;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub xml_payload {
    my ($id) = @_;
    my $xml = "<notification>\n  <timestamp type=\"datetime\">"
        . "2026-12-06T10:00:00Z</timestamp>\n"
        . "  <kind>subscription_charged_successfully</kind>\n"
        . "  <subject><subscription><id>$id</id></subscription></subject>\n"
        . "</notification>\n";
    return encode_base64($xml);        # lines of 76, each ending "\n"
}

sub bt_sig {
    my ($pub, $priv, $payload) = @_;
    return "$pub|" . hmac_sha1_hex($payload, sha1($priv));
}

sub bt {
    my ($path, @params) = @_;
    return { path => $path, body => form_encode(@params),
             headers => [['Content-Type',
                          'application/x-www-form-urlencoded']] };
}

my $payload = xml_payload('sub-0001');
my $sig = bt_sig($pub1, $priv1, $payload);

my $u = $t->is_forwarded(bt('/bt', [bt_signature => $sig],
    [bt_payload => $payload]), 'braintree: valid');
is_deeply($t->vars($u), {
    provider => 'braintree', verified => 1, id => '', event => '',
    timestamp => '', secret_index => 1, reason => '',
}, 'braintree: variables');

$t->is_forwarded(bt('/bt', [bt_payload => $payload], [bt_signature => $sig]),
    'braintree: fields in the other order');
$t->is_forwarded(bt('/bt', [bt_signature => $sig],
    [bt_payload => $payload =~ s/\n$//r]),
    'braintree: the payload without its last newline (as the SDK accepts)');
$t->is_forwarded(bt('/bt', [bt_signature => "other|00&$sig&x|y"],
    [bt_payload => $payload]), 'braintree: among other pairs');

# tampered, wrong key

my $tampered = xml_payload('sub-0002');
$t->is_rejected(bt('/bt', [bt_signature => $sig], [bt_payload => $tampered]),
    401, 'signature_mismatch', 'braintree: another payload');
$t->is_rejected(bt('/bt', [bt_signature => $sig],
    [bt_payload => "$payload\n"]),
    401, 'signature_mismatch', 'braintree: two newlines added');
$t->is_rejected(bt('/bt-wrong', [bt_signature => $sig],
    [bt_payload => $payload]),
    401, 'signature_mismatch', 'braintree: another private key');
$t->is_rejected(bt('/bt', [bt_signature => bt_sig($pub2, $priv1, $payload)],
    [bt_payload => $payload]),
    401, 'signature_mismatch', 'braintree: another public key');
$t->is_rejected(bt('/bt', [bt_signature => bt_sig($pub1, $priv2, $payload)],
    [bt_payload => $payload]),
    401, 'signature_mismatch', 'braintree: signed with another private key');
$t->is_rejected(bt('/bt', [bt_signature => "$pub1|" . ('0' x 40)],
    [bt_payload => $payload]),
    401, 'signature_mismatch', 'braintree: zero MAC');

# rotation: the pair of either API key

$u = $t->is_forwarded(bt('/bt-rotation',
    [bt_signature => bt_sig($pub1, $priv1, $payload x 4)],
    [bt_payload => $payload x 4]),
    'braintree: rotation: first key, body in a temp file');
is($t->vars($u)->{secret_index}, 2, 'braintree: rotation: secret 2');
$u = $t->is_forwarded(bt('/bt-rotation',
    [bt_signature => bt_sig($pub2, $priv2, $payload)],
    [bt_payload => $payload]), 'braintree: rotation: second key');
is($t->vars($u)->{secret_index}, 1, 'braintree: rotation: secret 1');

# missing, malformed

$t->is_rejected(bt('/bt', [bt_payload => $payload]),
    401, 'signature_missing', 'braintree: no bt_signature');
$t->is_rejected(bt('/bt', [bt_signature => ''], [bt_payload => $payload]),
    401, 'signature_missing', 'braintree: empty bt_signature');
$t->is_rejected({ path => '/bt', body => '' },
    401, 'signature_missing', 'braintree: empty body');
$t->is_rejected(bt('/bt', [bt_signature => $sig]),
    400, 'signature_malformed', 'braintree: no bt_payload');
$t->is_rejected(bt('/bt', [bt_signature => $sig],
    [bt_payload => '<notification/>']),
    400, 'signature_malformed', 'braintree: payload not base64');
$t->is_rejected(bt('/bt', [bt_signature => 'nopipe'],
    [bt_payload => $payload]),
    400, 'signature_malformed', 'braintree: no pair');
$t->is_rejected(bt('/bt', [bt_signature => join('&', ("a|b") x 8, $sig)],
    [bt_payload => $payload]),
    400, 'signature_malformed', 'braintree: nine pairs');
$t->is_rejected(bt('/bt', [bt_signature => $sig], [bt_signature => $sig],
    [bt_payload => $payload]),
    400, 'signature_malformed', 'braintree: bt_signature twice');
$t->is_rejected(bt('/bt', [bt_signature => $sig], [bt_payload => $payload],
    [bt_payload => $tampered]),
    400, 'signature_malformed', 'braintree: bt_payload twice');

# replay

my $rp = xml_payload('sub-replay');
my $rreq = bt('/bt-replay', [bt_signature => bt_sig($pub1, $priv1, $rp)],
    [bt_payload => $rp]);
$t->is_forwarded($rreq, 'braintree: replay: first delivery');
my $n0 = $t->upstream_count;
my $r = $t->http(%$rreq);
is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'braintree: replay: again: duplicate');
is($t->upstream_count, $n0, 'braintree: replay: again: not forwarded');

# the SDK's ground truth

SKIP: {
    my $why = Test::Webhook::SDK::unavailable();
    skip($why, 9) if $why;

    my $n = Test::Webhook::SDK::sign([
        { sdk => 'braintree', public_key => $pub1, private_key => $priv1,
          kind => 'subscription_went_past_due', id => 'sdk-sub-1' },
        { sdk => 'braintree', public_key => $pub2, private_key => $priv2,
          kind => 'check', id => 'sdk-check' },
    ]);

    is($n->[0]{bt_signature}, bt_sig($pub1, $priv1, $n->[0]{bt_payload}),
        'braintree: SDK: the same construction');

    $t->is_forwarded(bt('/bt', [bt_signature => $n->[0]{bt_signature}],
        [bt_payload => $n->[0]{bt_payload}]), 'braintree: SDK notification');
    $u = $t->is_forwarded(bt('/bt-rotation',
        [bt_signature => $n->[1]{bt_signature}],
        [bt_payload => $n->[1]{bt_payload}]), 'braintree: SDK: second key');
    $t->is_rejected(bt('/bt', [bt_signature => $n->[1]{bt_signature}],
        [bt_payload => $n->[1]{bt_payload}]),
        401, 'signature_mismatch', 'braintree: SDK: key not configured');
}

# configuration

$t->write_file_expand('bad.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8081%%;

        location / {
            webhook_verify braintree;
            webhook_secret file:%%TESTDIR%%/bad.secret;
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }
    }
}

EOF

my ($rc, $out) = $t->try_config('bad.conf');
isnt($rc, 0, 'braintree: a secret without ":": nginx -t fails');
like($out, qr/\[emerg\].*bad\.secret is not a valid "braintree" secret/,
    'braintree: a secret without ":": named');

$t->done_testing;

###############################################################################
