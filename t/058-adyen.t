#!/usr/bin/perl

# adyen: Adyen's standard webhooks, every notification item signed by
# base64 HMAC-SHA256 (hex key) of eight of its fields joined with ':'.
# Adyen's documented vector (the item of its docs, reproduced by
# @adyen/api-library's hmacValidator); items signed by that SDK, with
# escapes, ':' and '\' in values; several items (each must verify);
# tampered, wrong key, rotation, missing, malformed (duplicate fields,
# fractions, literals, not JSON, too many items); the replay record keyed
# on the items' signatures in any order; a body in a temp file.  Adyen
# signs no timestamp: there is nothing stale or future to test.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha256);
use Encode qw(decode);
use JSON::PP;
use MIME::Base64 qw(encode_base64);

use Test::Webhook;
use Test::Webhook::SDK;

###############################################################################

my $key = '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056';
my $key2 = 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f90';

my $t = Test::Webhook->new;

$t->write_file('adyen.secret', $key, 0600);
$t->write_file('adyen2.secret', "$key2\n", 0600);
$t->write_file('bad.secret', 'not-hex', 0600);

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

        location /adyen {
            webhook_verify adyen;
            webhook_secret file:%%TESTDIR%%/adyen.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /adyen-other {
            webhook_verify adyen;
            webhook_secret file:%%TESTDIR%%/adyen2.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /adyen-rotation {
            webhook_verify adyen;
            webhook_secret file:%%TESTDIR%%/adyen2.secret;
            webhook_secret file:%%TESTDIR%%/adyen.secret;
            client_body_buffer_size 128;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /adyen-replay {
            webhook_verify adyen;
            webhook_secret file:%%TESTDIR%%/adyen.secret;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my @signed = qw(pspReference originalReference merchantAccountCode
                merchantReference value currency eventCode success);

# the signing string of an item (a hash with amount => {value, currency})

sub signing_string {
    my ($item) = @_;
    my %f = (%$item, %{ $item->{amount} // {} });
    return join ':', map { $f{$_} // '' } @signed;
}

sub hmac {
    my ($hexkey, $item) = @_;
    my $s = signing_string($item);
    utf8::encode($s) if utf8::is_utf8($s);
    return encode_base64(hmac_sha256($s, pack('H*', $hexkey)), '');
}

# an item with its signature (or the one given)

sub item {
    my (%o) = @_;
    my $sig = delete $o{sig};
    my $hexkey = delete $o{key} // $key;
    my %item = (
        pspReference => '7914073381342284',
        merchantAccountCode => 'TestMerchant',
        merchantReference => 'TestPayment-1407325143704',
        amount => { value => 1130, currency => 'EUR' },
        eventCode => 'AUTHORISATION',
        success => 'true',
        eventDate => '2026-12-06T10:00:00+01:00',
        %o,
    );
    delete $item{$_} for grep { !defined $item{$_} } keys %item;
    $item{additionalData} = { hmacSignature => $sig // hmac($hexkey, \%item) };
    return \%item;
}

sub body {
    my (@items) = @_;
    return JSON::PP->new->canonical->encode({
        live => 'false',
        notificationItems => [ map { { NotificationRequestItem => $_ } }
                                   @items ],
    });
}

sub adyen {
    my ($path, $body) = @_;
    return { path => $path, body => $body,
             headers => [['Content-Type', 'application/json']] };
}

# the documented vector

is(hmac($key, item()), 'coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=',
    'adyen: the documented signature is reproduced by this test');
open my $fh, '<', "$FindBin::Bin/vectors/adyen.msg" or die "adyen.msg: $!";
my $msg = do { local $/; <$fh> };
close $fh;
is(signing_string(item()), $msg =~ s/\n$//r,
    'adyen: the documented signing string (t/vectors/adyen.msg)');

my $vector = body(item());

my $u = $t->is_forwarded(adyen('/adyen', $vector), 'adyen: documented vector');
is_deeply($t->vars($u), {
    provider => 'adyen', verified => 1, id => '7914073381342284',
    event => 'AUTHORISATION', timestamp => '', secret_index => 1,
    reason => '',
}, 'adyen: variables');

$t->is_forwarded(adyen('/adyen', body(item(originalReference => ''))),
    'adyen: an empty originalReference is the absent one');
$t->is_forwarded(adyen('/adyen', body(item(originalReference => 'ORIG-1'))),
    'adyen: with an originalReference');
$t->is_forwarded(adyen('/adyen', body(item(), item(pspReference => 'PSP-2',
    eventCode => 'CAPTURE', success => 'false')),
    ), 'adyen: two items, both signed');
$t->is_forwarded(adyen('/adyen', body(item(eventDate => 'changed',
    sig => hmac($key, item())))),
    'adyen: an unsigned field (eventDate) may change');

# tampered

$t->is_rejected(adyen('/adyen', $vector =~ s/1130/1131/r),
    401, 'signature_mismatch', 'adyen: amount changed');
$t->is_rejected(adyen('/adyen', $vector =~ s/"AUTHORISATION"/"REFUND"/r),
    401, 'signature_mismatch', 'adyen: eventCode changed');
$t->is_rejected(adyen('/adyen', $vector =~ s/"true"/"false"/r),
    401, 'signature_mismatch', 'adyen: success changed');
$t->is_rejected(adyen('/adyen', body(item(),
    item(pspReference => 'PSP-2', sig => hmac($key, item())))),
    401, 'signature_mismatch', 'adyen: second item signed for another');
$t->is_rejected(adyen('/adyen', body(item(merchantReference => 'A:B',
    sig => hmac($key, item(merchantReference => 'A\\:B'))))),
    401, 'signature_mismatch', "adyen: ':' is not escaped");

# wrong key, rotation

$t->is_rejected(adyen('/adyen-other', $vector),
    401, 'signature_mismatch', 'adyen: another key');
$u = $t->is_forwarded(adyen('/adyen-rotation', body(item(),
    item(pspReference => 'PSP-3'))), 'adyen: rotation, temp file');
is($t->vars($u)->{secret_index}, 2, 'adyen: rotation: second secret');
$t->is_rejected(adyen('/adyen-rotation', body(item(),
    item(pspReference => 'PSP-3', key => 'ff' x 32))),
    401, 'signature_mismatch', 'adyen: rotation, one item with no key');

# missing

$t->is_rejected(adyen('/adyen', body(item(sig => ''))),
    401, 'signature_missing', 'adyen: empty hmacSignature');
$t->is_rejected(adyen('/adyen', $vector =~ s/"additionalData":\{[^}]*\},//r),
    401, 'signature_missing', 'adyen: no additionalData');
$t->is_rejected(adyen('/adyen', body(item(), item(sig => ''))),
    401, 'signature_missing', 'adyen: second item unsigned');
$t->is_rejected(adyen('/adyen', '{"live":"false","notificationItems":[]}'),
    401, 'signature_missing', 'adyen: no items');
$t->is_rejected(adyen('/adyen', '{"live":"false"}'),
    401, 'signature_missing', 'adyen: no notificationItems');
$t->is_rejected(adyen('/adyen', 'pspReference=1&hmacSignature=x'),
    401, 'signature_missing', 'adyen: not JSON');
$t->is_rejected(adyen('/adyen', ''),
    401, 'signature_missing', 'adyen: empty body');

# malformed

$t->is_rejected(adyen('/adyen', body(item(sig => 'not base64!'))),
    400, 'signature_malformed', 'adyen: hmacSignature not base64');
$t->is_rejected(adyen('/adyen', body(item(sig => encode_base64('x' x 31, '')))),
    400, 'signature_malformed', 'adyen: hmacSignature of 31 bytes');
$t->is_rejected(adyen('/adyen',
    $vector =~ s/"pspReference":/"pspReference":"1","pspReference":/r),
    400, 'signature_malformed', 'adyen: pspReference twice');
$t->is_rejected(adyen('/adyen', $vector =~ s/"value":1130/"value":11.30/r),
    400, 'signature_malformed', 'adyen: a fractional amount');
$t->is_rejected(adyen('/adyen', $vector =~ s/"success":"true"/"success":true/r),
    400, 'signature_malformed', 'adyen: success as a literal');
$t->is_rejected(adyen('/adyen', $vector . ' trailing'),
    400, 'signature_malformed', 'adyen: not JSON after the items');
$t->is_rejected(adyen('/adyen', '{"notificationItems":[{"NotificationRequestItem":"x"}]}'),
    400, 'signature_malformed', 'adyen: an item that is a string');
$t->is_rejected(adyen('/adyen', body(map { item(pspReference => "P$_") } 1 .. 33)),
    400, 'signature_malformed', 'adyen: 33 items');
$t->is_forwarded(adyen('/adyen', body(map { item(pspReference => "P$_") } 1 .. 32)),
    'adyen: 32 items');

# replay: the same items, in any order, are the same delivery

my ($i1, $i2) = (item(pspReference => 'R-1'), item(pspReference => 'R-2'));

$t->is_forwarded(adyen('/adyen-replay', body($i1, $i2)),
    'adyen: replay: first delivery');

for my $case ([ 'again', body($i1, $i2) ],
              [ 'items reordered', body($i2, $i1) ])
{
    my $n = $t->upstream_count;
    my $r = $t->http(%{ adyen('/adyen-replay', $case->[1]) });
    is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
        "adyen: replay: $case->[0]: duplicate");
    is($t->upstream_count, $n, "adyen: replay: $case->[0]: not forwarded");
}

$t->is_forwarded(adyen('/adyen-replay', body(item(pspReference => 'R-1',
    eventCode => 'CAPTURE'))),
    'adyen: replay: same pspReference, another event: new');

# the SDK's ground truth: @adyen/api-library's hmacValidator signs

SKIP: {
    my $why = Test::Webhook::SDK::unavailable();
    skip($why, 10) if $why;

    my @items = (
        { pspReference => '7914073381342284',
          merchantAccountCode => 'TestMerchant',
          merchantReference => 'TestPayment-1407325143704',
          amount => { value => 1130, currency => 'EUR' },
          eventCode => 'AUTHORISATION', success => 'true' },
        { pspReference => 'QFQTPCQ8HXSKGK82', originalReference => 'PSP:1\\x',
          merchantAccountCode => 'ERP_Merchant',
          merchantReference => "Facture caf\xc3\xa9 \\ n\xc2\xb0 42: \"a\"",
          amount => { value => 0, currency => 'JPY' },
          eventCode => 'REFUND', success => 'false' },
    );

    my $sigs = Test::Webhook::SDK::sign([
        map { { sdk => 'adyen', key => $key, item => $_ } } @items
    ]);

    is($sigs->[0], 'coqCmt/IZ4E3CzPvMY8zTjQVL5hYJUiBRg8UU+iCWo0=',
        'adyen: SDK: the documented vector');

    $items[$_]{additionalData} = { hmacSignature => $sigs->[$_] } for 0, 1;
    $items[1]{merchantReference} = decode('UTF-8',
                                          $items[1]{merchantReference});

    my $json = JSON::PP->new->canonical->ascii;
    my $sbody = $json->encode({ live => 'false', notificationItems => [
        map { { NotificationRequestItem => $_ } } @items ] });

    like($sbody, qr/\\u00e9/, 'adyen: SDK: the body has \u escapes');

    $u = $t->is_forwarded(adyen('/adyen', $sbody),
        'adyen: SDK: two items, escapes, ":" and "\\" in values');
    $t->is_rejected(adyen('/adyen', $sbody =~ s/"JPY"/"EUR"/r),
        401, 'signature_mismatch', 'adyen: SDK: tampered');
    $t->is_rejected(adyen('/adyen-other', $sbody),
        401, 'signature_mismatch', 'adyen: SDK: wrong key');
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
            webhook_verify adyen;
            webhook_secret file:%%TESTDIR%%/bad.secret;
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }
    }
}

EOF

my ($rc, $out) = $t->try_config('bad.conf');
isnt($rc, 0, 'adyen: a key that is not hex: nginx -t fails');
like($out, qr/\[emerg\].*bad\.secret is not a valid "adyen" secret \(hex/,
    'adyen: a key that is not hex: named');

$t->done_testing;

###############################################################################
