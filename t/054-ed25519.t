#!/usr/bin/perl

# Ed25519: discord (X-Signature-Ed25519 over timestamp + body) and
# Standard Webhooks' "v1a," signatures, with webhook_public_key in every
# form (hex, base64, whpk_, PEM; literal, file:, env:), the RFC 8032 key of
# the providers.md vector, bodies in memory and in temp files, and the
# configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use MIME::Base64 qw(encode_base64);

use Test::Webhook;
use Test::Webhook::Ed25519 qw(ed25519_sign ed25519_public_pem);
use Test::Webhook::Sign qw(standard_sig b64);

###############################################################################

# RFC 8032 section 7.1, tests 1 and 2
my $seed1 = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
my $pub1 = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
my $seed2 = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';
my $pub2 = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';

my $b64pub1 = encode_base64(pack('H*', $pub1), '');
my $whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

$ENV{WEBHOOK_TEST_DISCORD_KEY} = $b64pub1;

my $t = Test::Webhook->new;

$t->write_file('discord.pub', ed25519_public_pem($pub1));
$t->write_file('standard.secret', $whsec, 0600);
$t->write_file('bad.pub', "not a key\n");
$t->write_file('p256.pub', "-----BEGIN PUBLIC KEY-----\n"
    . "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEb/Z20UF3LvCG7wtOPi0ndU3Oj3IX\n"
    . "VppVnTyPmHLCmTNU93PZqrj6kPiZPU8N9SmTiHU6oXagCDeiE9adUVdU4A==\n"
    . "-----END PUBLIC KEY-----\n");

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

env WEBHOOK_TEST_DISCORD_KEY;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /discord-vector {
            webhook_verify discord;
            webhook_public_key $pub1;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /discord-pem {
            webhook_verify discord;
            webhook_public_key file:%%TESTDIR%%/discord.pub;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /discord-env {
            webhook_verify discord;
            webhook_public_key env:WEBHOOK_TEST_DISCORD_KEY;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /discord-other {
            webhook_verify discord;
            webhook_public_key $pub2;
            webhook_timestamp_tolerance 0;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /discord {
            webhook_verify discord;
            webhook_public_key $pub2;
            webhook_public_key $pub1;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /discord-file {
            webhook_verify discord;
            webhook_public_key $pub1;
            client_body_buffer_size 128;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /std-both {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            webhook_public_key whpk_$b64pub1;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /std-key {
            webhook_verify standard;
            webhook_public_key whpk_$b64pub1;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /std-secret {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub discord {
    my ($path, $body, $sig, $ts) = @_;
    my @h = (['Content-Type', 'application/json']);
    push @h, ['X-Signature-Ed25519', $sig] if defined $sig;
    push @h, ['X-Signature-Timestamp', $ts] if defined $ts;
    return { path => $path, body => $body, headers => \@h };
}

sub dsig {
    my ($seed, $ts, $body) = @_;
    return unpack 'H*', ed25519_sign($seed, "$ts$body");
}

my $dbody = '{"type":1,"id":"1103338912345678901","application_id":'
          . '"1103338900000000000","token":"aW50ZXJhY3Rpb24","version":1}';
my $dvec = '962c923010f03af43974131ad4344091bb7ca2883ab45ccf15a1343a37c548db'
         . '828a56c32a4e40c8d98276e9e6f5c537dc8e825666a1d00c78d00eee28d73102';
my ($u, $now, $body);

$u = $t->is_forwarded(discord('/discord-vector', $dbody, $dvec, '1700000000'),
    'discord: vector, hex key');
is_deeply($t->vars($u), {
    provider => 'discord', verified => 1, id => '1103338912345678901',
    event => 1, timestamp => 1700000000, secret_index => 1, reason => '',
}, 'discord: vector: variables');

$t->is_forwarded(discord('/discord-pem', $dbody, $dvec, '1700000000'),
    'discord: vector, PEM key from a file');
$t->is_forwarded(discord('/discord-env', $dbody, uc $dvec, '1700000000'),
    'discord: vector, base64 key from the environment, upper-case hex');

$t->is_rejected(discord('/discord-other', $dbody, $dvec, '1700000000'),
    401, 'signature_mismatch', 'discord: vector, another key');

$t->is_rejected(discord('/discord-vector', $dbody =~ s/1}$/2}/r, $dvec,
    '1700000000'), 401, 'signature_mismatch', 'discord: vector, tampered');

$t->is_rejected(discord('/discord-vector', $dbody, $dvec, '1700000001'),
    401, 'signature_mismatch', 'discord: vector, timestamp + 1');

$t->is_rejected(discord('/discord-vector', $dbody, $dvec =~ s/2$/3/r,
    '1700000000'), 401, 'signature_mismatch',
    'discord: vector, signature changed');

$t->is_rejected(discord('/discord-vector', $dbody, undef, '1700000000'),
    401, 'signature_missing', 'discord: no signature');

$t->is_rejected(discord('/discord-vector', $dbody, substr($dvec, 2),
    '1700000000'), 400, 'signature_malformed', 'discord: 63-byte signature');

$t->is_rejected(discord('/discord-vector', $dbody, 'g' x 128, '1700000000'),
    400, 'signature_malformed', 'discord: signature not hex');

$t->is_rejected(discord('/discord-vector', $dbody, $dvec),
    400, 'timestamp_missing', 'discord: no timestamp');

# fresh, with the second of two keys

$now = time;
$body = '{"type":2,"id":"fresh-interaction","data":{"name":"erp"}}';

$u = $t->is_forwarded(discord('/discord', $body, dsig($seed1, $now, $body),
    $now), 'discord: fresh');
is_deeply([@{ $t->vars($u) }{qw(verified timestamp secret_index event)}],
    [1, $now, 2, 2], 'discord: fresh: the second webhook_public_key');

$t->is_forwarded(discord('/discord', $body, dsig($seed2, $now, $body),
    $now), 'discord: fresh, the first key');

$t->is_rejected(discord('/discord', $body,
    dsig($seed1, $now - 400, $body), $now - 400),
    401, 'timestamp_expired', 'discord: 400 s old');

$t->is_rejected(discord('/discord', $body,
    dsig($seed1, $now + 400, $body), $now + 400),
    401, 'timestamp_future', 'discord: 400 s ahead');

$body = '{"type":2,"data":"' . ('x' x 5000) . '"}';
$t->is_forwarded(discord('/discord-file', $body, dsig($seed1, $now, $body),
    $now), 'discord: body in a temp file');

###############################################################################

# Standard Webhooks: "v1a,<base64 Ed25519>" over id.timestamp.body

sub std {
    my ($path, $body, $sig, $id, $ts) = @_;
    return { path => $path, body => $body, headers => [
        ['Content-Type', 'application/json'],
        ['webhook-id', $id], ['webhook-timestamp', $ts],
        ['webhook-signature', $sig]] };
}

sub v1a {
    my ($seed, $id, $ts, $body) = @_;
    return 'v1a,' . b64(ed25519_sign($seed, "$id.$ts.$body"));
}

$now = time;
$body = '{"type":"invoice.paid","id":"evt_std_1"}';
my $id = 'msg_2KWPBgLlAfxdpx2AI54pPJ85f4W';
my $v1 = standard_sig($whsec, $id, $now, $body);
my $v1a = v1a($seed1, $id, $now, $body);

$u = $t->is_forwarded(std('/std-key', $body, $v1a, $id, $now),
    'standard: v1a with a whpk_ key');
is_deeply([@{ $t->vars($u) }{qw(verified id event secret_index)}],
    [1, $id, 'invoice.paid', 1], 'standard: v1a: variables');

$t->is_forwarded(std('/std-both', $body, $v1a, $id, $now),
    'standard: v1a, with a secret too');
$t->is_forwarded(std('/std-both', $body, $v1, $id, $now),
    'standard: v1, with a public key too');
$t->is_forwarded(std('/std-both', $body, 'v1,' . b64("\0" x 32) . " $v1a",
    $id, $now),
    'standard: a bad v1 and a good v1a');
$t->is_forwarded(std('/std-both', $body,
    'v1a,' . b64("\0" x 64) . " $v1", $id, $now),
    'standard: a bad v1a and a good v1');

$t->is_rejected(std('/std-key', $body, $v1, $id, $now),
    401, 'signature_missing', 'standard: only v1, only a public key');
$t->is_rejected(std('/std-secret', $body, $v1a, $id, $now),
    401, 'signature_missing', 'standard: only v1a, only a secret');

$t->is_rejected(std('/std-key', $body, v1a($seed2, $id, $now, $body), $id,
    $now), 401, 'signature_mismatch', 'standard: v1a, another key');
$t->is_rejected(std('/std-key', $body . ' ', $v1a, $id, $now),
    401, 'signature_mismatch', 'standard: v1a, tampered body');
$t->is_rejected(std('/std-key', $body, $v1a, $id . 'x', $now),
    401, 'signature_mismatch', 'standard: v1a, another id');
$t->is_rejected(std('/std-key', $body, 'v1a,AAAA', $id, $now),
    400, 'signature_malformed', 'standard: v1a of the wrong length');
$t->is_rejected(std('/std-key', $body, v1a($seed1, $id, $now - 400, $body),
    $id, $now - 400), 401, 'timestamp_expired', 'standard: v1a, stale');

is($t->upstream_count, 11, 'only the valid requests were forwarded');

###############################################################################

# configuration errors

sub try_location { $t->try_location(@_) }

my ($rc, $out);

($rc, $out) = try_location('webhook_verify discord;');
isnt($rc, 0, 'discord without a key: nginx -t fails');
like($out, qr/\[emerg\].*webhook_verify discord.*webhook_public_key/,
    'discord without a key: named');

($rc, $out) = try_location('webhook_verify standard;');
isnt($rc, 0, 'standard without secret or key: nginx -t fails');
like($out, qr/\[emerg\].*neither "webhook_secret" nor "webhook_public_key"/,
    'standard without secret or key: named');

($rc, $out) = try_location("webhook_verify discord;
            webhook_public_key file:%%TESTDIR%%/bad.pub;");
isnt($rc, 0, 'a file that is no key: nginx -t fails');
like($out,
    qr/\[emerg\].*webhook_public_key file:\S*bad\.pub is not a public key/,
    'a file that is no key: named');

($rc, $out) = try_location("webhook_verify discord;
            webhook_public_key file:%%TESTDIR%%/p256.pub;");
isnt($rc, 0, 'a P-256 PEM key: nginx -t fails');
like($out, qr/\[emerg\].*is an ECDSA P-256 key: .*needs an Ed25519 key/,
    'a P-256 PEM key: named');

($rc, $out) = try_location('webhook_verify discord;
            webhook_public_key ' . substr($pub1, 2) . ';');
isnt($rc, 0, 'a 31-byte hex key: nginx -t fails');
like($out, qr/\[emerg\].*webhook_public_key literal is not a public key/,
    'a 31-byte hex key: named');

($rc, $out) = try_location("webhook_verify discord;
            webhook_public_key file:%%TESTDIR%%/discord.pub;");
is($rc, 0, 'a world-readable public key file is fine') or diag($out);
unlike($out, qr/\[warn\]/, 'no warning for a public key');

$t->done_testing;

###############################################################################
