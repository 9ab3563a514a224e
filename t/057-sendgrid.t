#!/usr/bin/perl

# sendgrid: SendGrid's Signed Event Webhook, ECDSA P-256 / SHA-256 over
# timestamp + body, with keys pinned by webhook_public_key (base64 DER as
# SendGrid's console shows it, PEM, file:, env:, literal).  Test keys are
# made with the openssl CLI; signatures with openssl, and with node:crypto
# proven against @sendgrid/eventwebhook (t/sdk) where it is installed.
# Tampered, wrong key, missing, malformed, stale, future; two keys
# (rotation); a body in a temp file; an ECDSA signature's twin (r, n - s)
# is a duplicate, not a new delivery; the configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Math::BigInt;
use MIME::Base64 qw(encode_base64);

use Test::Webhook;
use Test::Webhook::SDK;
use Test::Webhook::Sign qw(openssl_sign);

###############################################################################

my $t = Test::Webhook->new;
my $dir = $t->testdir;

sub openssl {
    my ($cmd) = @_;
    my $out = `openssl $cmd 2>&1`;
    die "openssl $cmd: $out" if $?;
    return $out;
}

for my $k (qw(k1 k2)) {
    openssl("ecparam -name prime256v1 -genkey -noout -out $dir/$k.key");
    openssl("ec -in $dir/$k.key -pubout -out $dir/$k.pem");
    openssl("ec -in $dir/$k.key -pubout -outform DER -out $dir/$k.der");
}

openssl("genrsa -out $dir/rsa.key 2048");
openssl("rsa -in $dir/rsa.key -pubout -out $dir/rsa.pem");
openssl("ecparam -name secp384r1 -genkey -noout -out $dir/p384.key");
openssl("ec -in $dir/p384.key -pubout -out $dir/p384.pem");

my %b64 = map { $_ => encode_base64($t->read_file("$_.der"), '') } qw(k1 k2);

$t->write_file('k1.b64', "$b64{k1}\n");
$ENV{WEBHOOK_TEST_SENDGRID_KEY} = $b64{k2};

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

env WEBHOOK_TEST_SENDGRID_KEY;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /sendgrid {
            webhook_verify sendgrid;
            webhook_public_key file:%%TESTDIR%%/k1.b64;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sendgrid-literal {
            webhook_verify sendgrid;
            webhook_public_key $b64{k1};
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sendgrid-other {
            webhook_verify sendgrid;
            webhook_public_key env:WEBHOOK_TEST_SENDGRID_KEY;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sendgrid-rotation {
            webhook_verify sendgrid;
            webhook_public_key env:WEBHOOK_TEST_SENDGRID_KEY;
            webhook_public_key file:%%TESTDIR%%/k1.pem;
            client_body_buffer_size 128;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sendgrid-replay {
            webhook_verify sendgrid;
            webhook_public_key file:%%TESTDIR%%/k1.pem;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

# DER ECDSA signature of $msg by $key (openssl dgst: SHA-256)

sub ecdsa {
    my ($key, $msg) = @_;
    return openssl_sign("$dir/$key.key", 'sha256', $msg);
}

sub sg {
    my ($path, $body, $sig, $ts) = @_;
    my @h = (['Content-Type', 'application/json']);
    push @h, ['X-Twilio-Email-Event-Webhook-Signature', $sig] if defined $sig;
    push @h, ['X-Twilio-Email-Event-Webhook-Timestamp', $ts] if defined $ts;
    return { path => $path, body => $body, headers => \@h };
}

sub signed {
    my ($path, $key, $ts, $body) = @_;
    return sg($path, $body, encode_base64(ecdsa($key, "$ts$body"), ''), $ts);
}

my $now = time;
my $body = '[{"email":"ap@example.com","timestamp":' . $now . ','
    . '"event":"delivered","sg_event_id":"sg-evt-0001",'
    . '"sg_message_id":"14c5d75ce93.dfd.64b469.filter0001.16648.5515E0B88.0"},'
    . '{"email":"ap@example.com","event":"open","sg_event_id":"sg-evt-0002"}]'
    . "\r\n";

my $u = $t->is_forwarded(signed('/sendgrid', 'k1', $now, $body),
    'sendgrid: valid, base64 DER key from a file');
is_deeply($t->vars($u), {
    provider => 'sendgrid', verified => 1, id => 'sg-evt-0001',
    event => 'delivered', timestamp => $now, secret_index => 1, reason => '',
}, 'sendgrid: variables');

$t->is_forwarded(signed('/sendgrid-literal', 'k1', $now, $body),
    'sendgrid: valid, literal base64 DER key');

my $sig = encode_base64(ecdsa('k1', "$now$body"), '');

$t->is_rejected(sg('/sendgrid', $body =~ s/delivered/bounce/r, $sig, $now),
    401, 'signature_mismatch', 'sendgrid: tampered body');
$t->is_rejected(sg('/sendgrid', $body, $sig, $now + 1),
    401, 'signature_mismatch', 'sendgrid: timestamp changed');
$t->is_rejected(sg('/sendgrid-other', $body, $sig, $now),
    401, 'signature_mismatch', 'sendgrid: another key configured');
$t->is_rejected(signed('/sendgrid', 'k2', $now, $body),
    401, 'signature_mismatch', 'sendgrid: signed by another key');
$t->is_rejected(sg('/sendgrid', $body, undef, $now),
    401, 'signature_missing', 'sendgrid: no signature');
$t->is_rejected(sg('/sendgrid', $body, '', $now),
    401, 'signature_missing', 'sendgrid: empty signature');
$t->is_rejected(sg('/sendgrid', $body, $sig, undef),
    400, 'timestamp_missing', 'sendgrid: no timestamp');
$t->is_rejected(sg('/sendgrid', $body, $sig, 'yesterday'),
    400, 'timestamp_missing', 'sendgrid: timestamp not a number');
$t->is_rejected(sg('/sendgrid', $body, '%%%not base64', $now),
    400, 'signature_malformed', 'sendgrid: signature not base64');
$t->is_rejected(sg('/sendgrid', $body, 'A' x 2000, $now),
    400, 'signature_malformed', 'sendgrid: signature too long');
$t->is_rejected(sg('/sendgrid', $body, encode_base64('x' x 70, ''), $now),
    401, 'signature_mismatch', 'sendgrid: base64 of no DER signature');
$t->is_rejected(signed('/sendgrid', 'k1', $now - 3600, $body),
    401, 'timestamp_expired', 'sendgrid: stale (signed an hour ago)');
$t->is_rejected(signed('/sendgrid', 'k1', $now + 3600, $body),
    401, 'timestamp_future', 'sendgrid: future (signed an hour ahead)');

# rotation: either key verifies; a body in a temp file

$u = $t->is_forwarded(signed('/sendgrid-rotation', 'k1', $now, $body x 20),
    'sendgrid: rotation, second key, body in a temp file');
is($t->vars($u)->{secret_index}, 2, 'sendgrid: rotation: key 2 matched');
$u = $t->is_forwarded(signed('/sendgrid-rotation', 'k2', $now, $body),
    'sendgrid: rotation, first key');
is($t->vars($u)->{secret_index}, 1, 'sendgrid: rotation: key 1 matched');

# an ECDSA signature is not unique: (r, n - s) verifies the same bytes.
# Without an sg_event_id the record is keyed on what was signed, so the
# twin is a duplicate.

sub der_twin {
    my ($der) = @_;
    my $n = Math::BigInt->from_hex('FFFFFFFF00000000FFFFFFFFFFFFFFFF'
                                   . 'BCE6FAADA7179E84F3B9CAC2FC632551');
    my $rlen = ord substr($der, 3, 1);
    my $r = substr($der, 4, $rlen);
    my $s = substr($der, 4 + $rlen + 2);
    my $s2 = $n - Math::BigInt->from_hex(unpack 'H*', $s);
    my $hex = $s2->as_hex =~ s/^0x//r;
    $hex = "0$hex" if length($hex) % 2;
    my $sb = pack 'H*', $hex;
    $sb = "\0$sb" if ord($sb) & 0x80;
    my $seq = "\x02" . chr(length $r) . $r . "\x02" . chr(length $sb) . $sb;
    return "\x30" . chr(length $seq) . $seq;
}

my $noid = '[{"email":"ap@example.com","event":"processed"}]';
my $raw = ecdsa('k1', "$now$noid");
my $twin = der_twin($raw);
isnt($twin, $raw, 'sendgrid: the twin signature differs');

$t->is_forwarded(sg('/sendgrid', $noid, encode_base64($twin, ''), $now),
    'sendgrid: the twin signature verifies');
$t->is_forwarded(sg('/sendgrid-replay', $noid, encode_base64($raw, ''), $now),
    'sendgrid: replay: first delivery');
my $n0 = $t->upstream_count;
my $r = $t->http(%{ sg('/sendgrid-replay', $noid, encode_base64($twin, ''),
                       $now) });
is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'sendgrid: replay: the twin signature is a duplicate');
is($t->upstream_count, $n0, 'sendgrid: replay: the twin is not forwarded');

# the SDK's ground truth: node:crypto signs, @sendgrid/eventwebhook
# verifies with the base64 DER key before the request is sent

SKIP: {
    my $why = Test::Webhook::SDK::unavailable();
    skip($why, 12) if $why;

    my $sbody = '[{"email":"sdk@example.com","event":"delivered",'
        . '"sg_event_id":"sdk-1","category":["caf' . "\xc3\xa9" . '"]}]';
    my $vals = Test::Webhook::SDK::sign([
        map { { sdk => 'sendgrid', private_pem => $t->read_file('k1.key'),
                public_b64 => $b64{k1}, timestamp => $_, payload => $sbody } }
            ($now, $now - 3600, $now + 3600)
    ]);

    $u = $t->is_forwarded(sg('/sendgrid', $sbody, $vals->[0], $now),
        'sendgrid: SDK-verified signature');
    is($t->vars($u)->{id}, 'sdk-1', 'sendgrid: SDK: id');
    $t->is_rejected(sg('/sendgrid', $sbody . ' ', $vals->[0], $now),
        401, 'signature_mismatch', 'sendgrid: SDK: tampered');
    $t->is_rejected(sg('/sendgrid-other', $sbody, $vals->[0], $now),
        401, 'signature_mismatch', 'sendgrid: SDK: wrong key');
    $t->is_rejected(sg('/sendgrid', $sbody, $vals->[1], $now - 3600),
        401, 'timestamp_expired', 'sendgrid: SDK: stale');
    $t->is_rejected(sg('/sendgrid', $sbody, $vals->[2], $now + 3600),
        401, 'timestamp_future', 'sendgrid: SDK: future');
}

# configuration errors

sub try_location { $t->try_location(@_) }

my ($rc, $out) = try_location('webhook_verify sendgrid;');
isnt($rc, 0, 'sendgrid without a key: nginx -t fails');
like($out, qr/\[emerg\].*webhook_verify sendgrid.*no "webhook_public_key"/,
    'sendgrid without a key: named');

($rc, $out) = try_location("webhook_verify sendgrid;
            webhook_public_key file:%%TESTDIR%%/rsa.pem;");
isnt($rc, 0, 'sendgrid with an RSA key: nginx -t fails');
like($out, qr/\[emerg\].*rsa\.pem is an RSA key: .*needs an ECDSA P-256/,
    'sendgrid with an RSA key: named');

($rc, $out) = try_location("webhook_verify sendgrid;
            webhook_public_key file:%%TESTDIR%%/p384.pem;");
isnt($rc, 0, 'sendgrid with a P-384 key: nginx -t fails');
like($out, qr/\[emerg\].*p384\.pem is an unsupported key/,
    'sendgrid with a P-384 key: named');

($rc, $out) = try_location("webhook_verify discord;
            webhook_public_key file:%%TESTDIR%%/k1.pem;");
isnt($rc, 0, 'discord with a P-256 key: nginx -t fails');
like($out, qr/\[emerg\].*k1\.pem is an ECDSA P-256 key: .*needs an Ed25519/,
    'discord with a P-256 key: named');

($rc, $out) = try_location("webhook_verify sendgrid;
            webhook_public_key file:%%TESTDIR%%/k1.pem url=https://x/;");
isnt($rc, 0, 'sendgrid with url=: nginx -t fails');
like($out, qr/\[emerg\].*"url=" is not used by "webhook_verify sendgrid"/,
    'sendgrid with url=: named');

($rc, $out) = try_location("webhook_verify sendgrid;
            webhook_public_key file:%%TESTDIR%%/k1.pem other=1;");
isnt($rc, 0, 'an unknown parameter: nginx -t fails');
like($out, qr/\[emerg\].*invalid parameter "other=1"/,
    'an unknown parameter: named');

($rc, $out) = try_location('webhook_verify sendgrid;
            webhook_public_key MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE;');
isnt($rc, 0, 'a truncated DER key: nginx -t fails');
like($out, qr/\[emerg\].*webhook_public_key literal is not a public key/,
    'a truncated DER key: named');

$t->done_testing;

###############################################################################
