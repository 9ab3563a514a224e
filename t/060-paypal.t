#!/usr/bin/perl

# paypal: PAYPAL-TRANSMISSION-SIG, SHA256withRSA of
# transmission_id|transmission_time|webhook_id|crc32(body), by the
# certificate PAYPAL-CERT-URL names, pinned with webhook_public_key
# file:cert.pem url=...; webhook_paypal_webhook_id.  No PayPal SDK signs
# offline: requests are signed as PayPal's documentation describes, with
# a certificate made by the openssl CLI.  Valid; tampered body, id, time;
# another webhook id; a certificate URL not pinned; wrong certificate;
# rotation (two certificates); missing, malformed, stale, future; a body
# forged to the same CRC-32 is a duplicate of the original; the
# configuration errors.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use MIME::Base64 qw(encode_base64);
use POSIX qw(strftime);

use Test::Webhook;
use Test::Webhook::Sign qw(crc32 crc32_table openssl_sign);

###############################################################################

my $t = Test::Webhook->new;
my $dir = $t->testdir;

sub openssl {
    my ($cmd) = @_;
    my $out = `openssl $cmd 2>&1`;
    die "openssl $cmd: $out" if $?;
    return $out;
}

for my $c (qw(c1 c2)) {
    openssl("req -x509 -newkey rsa:2048 -nodes -keyout $dir/$c.key "
        . "-out $dir/$c.pem -days 2 -subj /CN=messageverificationcerts.test");
}

openssl("ecparam -name prime256v1 -genkey -noout -out $dir/ec.key");
openssl("ec -in $dir/ec.key -pubout -out $dir/ec.pem");

my $url1 = 'https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-ab1f2a55';
my $url2 = 'https://api.paypal.com/v1/notifications/certs/CERT-360caa42-fca2a594-cd3e4b66';
my $whid = '1JE4291016473214C';

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        webhook_paypal_webhook_id $whid;

        location /paypal {
            webhook_verify paypal;
            webhook_public_key file:%%TESTDIR%%/c1.pem url=$url1;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /paypal-other-id {
            webhook_verify paypal;
            webhook_public_key file:%%TESTDIR%%/c1.pem url=$url1;
            webhook_paypal_webhook_id 8PT597110X687430LKGECATA;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /paypal-rotation {
            webhook_verify paypal;
            webhook_public_key file:%%TESTDIR%%/c2.pem url=$url2;
            webhook_public_key file:%%TESTDIR%%/c1.pem url=$url1;
            client_body_buffer_size 128;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /paypal-swapped {
            webhook_verify paypal;
            webhook_public_key file:%%TESTDIR%%/c2.pem url=$url1;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /paypal-replay {
            webhook_verify paypal;
            webhook_public_key file:%%TESTDIR%%/c1.pem url=$url1;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

# CRC-32's table, for forging a body to a given CRC below
my @crc_table = crc32_table();

sub rsa_sign {
    my ($key, $msg) = @_;
    return encode_base64(openssl_sign("$dir/$key.key", 'sha256', $msg), '');
}

sub iso { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) }

# a request; %o: key, url, id, time, whid, body_signed, sig, algo, drop

sub pp {
    my ($path, $body, %o) = @_;
    my $id = $o{id} // 'b2a8f360-9495-11ee-8d36-8b3a7b8f6a1c';
    my $time = $o{time} // iso(time);
    my $signed = join '|', $id, $time, $o{whid} // $whid,
        crc32($o{body_signed} // $body);
    my %h = (
        'PAYPAL-TRANSMISSION-ID' => $id,
        'PAYPAL-TRANSMISSION-TIME' => $time,
        'PAYPAL-TRANSMISSION-SIG' => $o{sig} // rsa_sign($o{key} // 'c1',
                                                        $signed),
        'PAYPAL-CERT-URL' => $o{url} // $url1,
        'PAYPAL-AUTH-ALGO' => $o{algo} // 'SHA256withRSA',
    );
    delete $h{$_} for @{ $o{drop} // [] };
    return { path => $path, body => $body,
             headers => [['Content-Type', 'application/json'],
                         map { [$_, $h{$_}] } sort keys %h] };
}

my $body = '{"id":"WH-2WR32451HC0233532-67976317FL4543714","event_version":'
    . '"1.0","create_time":"2026-12-06T10:00:00.000Z","resource_type":'
    . '"sale","event_type":"PAYMENT.SALE.COMPLETED","summary":"Payment '
    . 'completed for $ 7.47 USD","resource":{"id":"80021663DE681814L",'
    . '"amount":{"total":"7.47","currency":"USD"},"state":"completed"}}';

my $u = $t->is_forwarded(pp('/paypal', $body), 'paypal: valid');
my $v = $t->vars($u);
is_deeply([ @$v{qw(provider verified id event secret_index reason)} ],
    [ 'paypal', 1, 'WH-2WR32451HC0233532-67976317FL4543714',
      'PAYMENT.SALE.COMPLETED', 1, '' ], 'paypal: variables');
ok($v->{timestamp} && abs($v->{timestamp} - time) < 60,
    'paypal: the transmission time is the timestamp');

# tampered

$t->is_rejected(pp('/paypal', $body =~ s/7\.47/8.47/gr, body_signed => $body),
    401, 'signature_mismatch', 'paypal: body changed');
# the time as signed, and one second before it (not "now - 1": signing
# may cross a second, and that would be the signed time again)
my $signed_at = time;
my $good = pp('/paypal', $body, time => iso($signed_at));
for my $h ('PAYPAL-TRANSMISSION-ID', 'PAYPAL-TRANSMISSION-TIME') {
    my $req = { %$good, headers => [ map {
        $_->[0] eq $h
            ? [$h, $h =~ /TIME/ ? iso($signed_at - 1) : 'other-id'] : $_
    } @{ $good->{headers} } ] };
    $t->is_rejected($req, 401, 'signature_mismatch', "paypal: $h changed");
}
$t->is_rejected(pp('/paypal-other-id', $body),
    401, 'signature_mismatch', 'paypal: signed for another webhook id');
$t->is_rejected(pp('/paypal', $body, key => 'c2'),
    401, 'signature_mismatch', 'paypal: signed by another certificate');
$t->is_rejected(pp('/paypal-swapped', $body),
    401, 'signature_mismatch', 'paypal: the URL pins another certificate');
$t->is_rejected(pp('/paypal', $body, url => $url2, key => 'c2'),
    401, 'signature_mismatch', 'paypal: a certificate URL not pinned');
$t->is_rejected(pp('/paypal', $body,
    url => 'https://evil.example/v1/notifications/certs/CERT-360caa42-fca2a594-ab1f2a55'),
    401, 'signature_mismatch', 'paypal: the same path on another host');

# rotation

$u = $t->is_forwarded(pp('/paypal-rotation', $body x 3),
    'paypal: rotation, first certificate pinned second, temp file');
is($t->vars($u)->{secret_index}, 2, 'paypal: rotation: key 2');
$u = $t->is_forwarded(pp('/paypal-rotation', $body, key => 'c2',
    url => $url2), 'paypal: rotation, new certificate');
is($t->vars($u)->{secret_index}, 1, 'paypal: rotation: key 1');
$t->is_rejected(pp('/paypal-rotation', $body, key => 'c2', url => $url1),
    401, 'signature_mismatch', 'paypal: rotation, URL of the other one');

# missing, malformed, stale, future

$t->is_rejected(pp('/paypal', $body, drop => ['PAYPAL-TRANSMISSION-SIG']),
    401, 'signature_missing', 'paypal: no signature');
$t->is_rejected(pp('/paypal', $body, sig => '!!!'),
    400, 'signature_malformed', 'paypal: signature not base64');
$t->is_rejected(pp('/paypal', $body, algo => 'SHA1withRSA'),
    400, 'signature_malformed', 'paypal: another algorithm');
$t->is_rejected(pp('/paypal', $body, drop => ['PAYPAL-AUTH-ALGO']),
    400, 'signature_malformed', 'paypal: no algorithm');
$t->is_rejected(pp('/paypal', $body, drop => ['PAYPAL-CERT-URL']),
    400, 'signature_malformed', 'paypal: no certificate URL');
$t->is_rejected(pp('/paypal', $body, drop => ['PAYPAL-TRANSMISSION-ID']),
    400, 'signature_malformed', 'paypal: no transmission id');
$t->is_rejected(pp('/paypal', $body, drop => ['PAYPAL-TRANSMISSION-TIME']),
    400, 'timestamp_missing', 'paypal: no transmission time');
$t->is_rejected(pp('/paypal', $body, time => 'yesterday'),
    400, 'timestamp_missing', 'paypal: transmission time not a time');
$t->is_rejected(pp('/paypal', $body, time => iso(time - 3600)),
    401, 'timestamp_expired', 'paypal: stale');
$t->is_rejected(pp('/paypal', $body, time => iso(time + 3600)),
    401, 'timestamp_future', 'paypal: future');

# CRC-32 is no hash: a body forged to the original's CRC verifies, but the
# record is keyed on the signed string, so it is the original's duplicate

sub forge_crc {
    my ($orig, $new) = @_;
    # append 4 bytes so that crc32($new . x) == crc32($orig)
    my $target = crc32($orig);
    my %inv;
    $inv{ $crc_table[$_] >> 24 } = $_ for 0 .. 255;
    my $c = crc32($new) ^ 0xFFFFFFFF;
    my $t2 = $target ^ 0xFFFFFFFF;
    my @idx;
    for my $i (reverse 0 .. 3) {
        my $k = $inv{ ($t2 >> 24) & 0xFF };
        unshift @idx, $k;
        $t2 = (($t2 ^ $crc_table[$k]) << 8) & 0xFFFFFFFF;
    }
    my $x = '';
    for my $k (@idx) {
        my $b = ($c ^ $k) & 0xFF;
        $x .= chr $b;
        $c = $crc_table[($c ^ $b) & 0xFF] ^ ($c >> 8);
    }
    return $new . $x;
}

my $forged = forge_crc($body, $body =~ s/7\.47/747.00/gr);
is(crc32($forged), crc32($body), 'paypal: forged body has the same CRC-32');

my $orig = pp('/paypal-replay', $body);
my $sig = { map { @$_ } @{ $orig->{headers} } };
my $forged_req = { %$orig, body => $forged };

$t->is_forwarded($orig, 'paypal: replay: the original');
my $n0 = $t->upstream_count;
my $r = $t->http(%$forged_req);
is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'paypal: replay: the forged body is a duplicate');
is($t->upstream_count, $n0, 'paypal: replay: the forged body not forwarded');

# configuration errors

sub try_location { $t->try_location(@_) }

my ($rc, $out) = try_location("webhook_verify paypal;
            webhook_public_key file:%%TESTDIR%%/c1.pem url=$url1;");
isnt($rc, 0, 'paypal without a webhook id: nginx -t fails');
like($out, qr/\[emerg\].*webhook_verify paypal.*no "webhook_paypal_webhook_id"/,
    'paypal without a webhook id: named');

($rc, $out) = try_location("webhook_verify paypal;
            webhook_paypal_webhook_id $whid;
            webhook_public_key file:%%TESTDIR%%/c1.pem;");
isnt($rc, 0, 'paypal without url=: nginx -t fails');
like($out, qr/\[emerg\].*c1\.pem has no "url="/, 'paypal without url=: named');

($rc, $out) = try_location("webhook_verify paypal;
            webhook_paypal_webhook_id $whid;
            webhook_public_key file:%%TESTDIR%%/ec.pem url=$url1;");
isnt($rc, 0, 'paypal with a P-256 key: nginx -t fails');
like($out, qr/\[emerg\].*ec\.pem is an ECDSA P-256 key: .*needs an RSA key/,
    'paypal with a P-256 key: named');

($rc, $out) = try_location("webhook_verify paypal;
            webhook_paypal_webhook_id $whid;");
isnt($rc, 0, 'paypal without a certificate: nginx -t fails');

$t->done_testing;

###############################################################################
