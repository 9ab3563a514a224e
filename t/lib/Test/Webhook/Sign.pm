package Test::Webhook::Sign;

# Signing helpers for the webhook module's tests: each provider's scheme,
# computed independently with Perl core Digest::SHA and MIME::Base64.
# Bodies, secrets and ids are byte strings.

use strict;
use warnings;

use Digest::SHA qw(hmac_sha256 hmac_sha256_hex hmac_sha1 hmac_sha1_hex
                   hmac_sha512_hex);
use Exporter qw(import);
use File::Basename qw(dirname);
use File::Temp ();
use MIME::Base64 qw(encode_base64 decode_base64);

our @EXPORT_OK = qw(
    stripe_sig stripe_header
    github_header github_sha1_header
    standard_key standard_sig standard_headers
    shopify_header
    slack_sig slack_headers
    twilio_sig form_encode hubspot_sig square_sig
    crc32 crc32_table openssl_sign
    hmac_sha256_hex hmac_sha1_hex hmac_sha512_hex b64
);

our %EXPORT_TAGS = (all => \@EXPORT_OK);

sub b64 { encode_base64($_[0], '') }

# Stripe: HMAC-SHA256 over "<t>.<body>", key = the whsec_ string verbatim.

sub stripe_sig {
    my ($secret, $ts, $body) = @_;
    return hmac_sha256_hex("$ts.$body", $secret);
}

# stripe_header($secret, $ts, $body, %opt) -> "t=..,v1=<hex>"
#   extra_v1       => [hex, ...]  more v1 items, placed before the real one
#   extra_v1_after => [hex, ...]  more v1 items, placed after the real one
#   v0             => hex         a v0 item (test-mode scheme, must be ignored)
#   no_v1          => 1           leave the real v1 item out
#   no_t           => 1           leave the t= item out

sub stripe_header {
    my ($secret, $ts, $body, %opt) = @_;

    my @items;
    push @items, "t=$ts" unless $opt{no_t};
    push @items, map { "v1=$_" } @{ $opt{extra_v1} || [] };
    push @items, 'v1=' . stripe_sig($secret, $ts, $body) unless $opt{no_v1};
    push @items, map { "v1=$_" } @{ $opt{extra_v1_after} || [] };
    push @items, "v0=$opt{v0}" if defined $opt{v0};

    return join ',', @items;
}

# GitHub: X-Hub-Signature-256 "sha256=<hex>" over the body.

sub github_header {
    my ($secret, $body) = @_;
    return 'sha256=' . hmac_sha256_hex($body, $secret);
}

sub github_sha1_header {
    my ($secret, $body) = @_;
    return 'sha1=' . hmac_sha1_hex($body, $secret);
}

# Standard Webhooks / Svix: key = base64-decode(secret without "whsec_"),
# HMAC-SHA256 over "<id>.<ts>.<body>", signature "v1,<base64>".

sub standard_key {
    my ($secret) = @_;
    (my $k = $secret) =~ s/^whsec_//;
    return decode_base64($k);
}

sub standard_sig {
    my ($secret, $id, $ts, $body) = @_;
    return 'v1,' . b64(hmac_sha256("$id.$ts.$body", standard_key($secret)));
}

# standard_headers($secret, $id, $ts, $body, %opt) -> list of [name, value]
#   prefix    => 'webhook' (default) | 'svix'
#   signature => string   use this webhook-signature value instead
#   extra     => [sig, ...] more space-separated items before the real one
#   no_id / no_timestamp / no_signature => 1   leave that header out

sub standard_headers {
    my ($secret, $id, $ts, $body, %opt) = @_;

    my $p = $opt{prefix} // 'webhook';
    my $sig = $opt{signature}
              // join ' ', @{ $opt{extra} || [] },
                           standard_sig($secret, $id, $ts, $body);

    my @h;
    push @h, ["$p-id", $id] unless $opt{no_id};
    push @h, ["$p-timestamp", $ts] unless $opt{no_timestamp};
    push @h, ["$p-signature", $sig] unless $opt{no_signature};

    return @h;
}

# Shopify: X-Shopify-Hmac-Sha256 = base64(HMAC-SHA256(secret, body)).

sub shopify_header {
    my ($secret, $body) = @_;
    return b64(hmac_sha256($body, $secret));
}

# Slack: X-Slack-Signature "v0=<hex>" over "v0:<ts>:<body>".

sub slack_sig {
    my ($secret, $ts, $body) = @_;
    return 'v0=' . hmac_sha256_hex("v0:$ts:$body", $secret);
}

# slack_headers($secret, $ts, $body) -> list of [name, value]

sub slack_headers {
    my ($secret, $ts, $body) = @_;
    return (
        ['X-Slack-Request-Timestamp', $ts],
        ['X-Slack-Signature', slack_sig($secret, $ts, $body)],
    );
}

# Twilio: base64(HMAC-SHA1(token, url + key1 + value1 + ...)) over the
# decoded form parameters sorted by key, then value, bytewise, exact
# duplicates once (as twilio-node does).  @pairs: [key, value], decoded.

sub twilio_sig {
    my ($token, $url, @pairs) = @_;

    my %seen;
    my $data = $url;

    for my $p (sort { $a->[0] cmp $b->[0] || $a->[1] cmp $b->[1] } @pairs) {
        next if $seen{"$p->[0]\0$p->[1]"}++;
        $data .= $p->[0] . $p->[1];
    }

    return b64(hmac_sha1($data, $token));
}

# application/x-www-form-urlencoded, in the given order

sub form_encode {
    my (@pairs) = @_;

    my $enc = sub {
        my ($s) = @_;
        $s =~ s/([^A-Za-z0-9\-._~ ])/sprintf '%%%02X', ord $1/ge;
        $s =~ tr/ /+/;
        return $s;
    };

    return join '&', map { $enc->($_->[0]) . '=' . $enc->($_->[1]) } @pairs;
}

# HubSpot v3: base64(HMAC-SHA256(secret, method + url + body + ts_ms)).

sub hubspot_sig {
    my ($secret, $method, $url, $body, $ts_ms) = @_;
    return b64(hmac_sha256("$method$url$body$ts_ms", $secret));
}

# Square: base64(HMAC-SHA256(signature key, notification url + body)).

sub square_sig {
    my ($key, $url, $body) = @_;
    return b64(hmac_sha256("$url$body", $key));
}

# PayPal signs the body's CRC-32 (IEEE, as zlib), as an unsigned number.

my @CRC = map {
    my $c = $_;
    $c = ($c & 1) ? (0xEDB88320 ^ ($c >> 1)) : ($c >> 1) for 1 .. 8;
    $c;
} 0 .. 255;

# the table itself (256 entries), for a test that forges a CRC
sub crc32_table { @CRC }

sub crc32 {
    my ($s) = @_;
    my $c = 0xFFFFFFFF;
    $c = $CRC[($c ^ ord $_) & 0xFF] ^ ($c >> 8) for split //, $s;
    return $c ^ 0xFFFFFFFF;
}

# SendGrid, PayPal, SNS: the raw signature (DER for ECDSA, PKCS #1 v1.5
# for RSA) of $msg by the PEM private key in $keyfile, digest 'sha1' or
# 'sha256', made by the openssl command line.

sub openssl_sign {
    my ($keyfile, $digest, $msg) = @_;

    my $in = File::Temp->new(DIR => dirname($keyfile));
    binmode $in;
    print $in $msg;
    close $in;

    my $sig = `openssl dgst -$digest -sign $keyfile $in`;
    die "openssl dgst -sign $keyfile failed" if $? || !length $sig;
    return $sig;
}

1;
