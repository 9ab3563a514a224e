#!/usr/bin/perl

# The second wave of presets against the providers' own SDKs (npm, pinned
# in t/sdk/package-lock.json).  svix signs for the Standard Webhooks
# senders clerk and resend, and resend's own webhooks.verify() accepts the
# same request; @mux/mux-node, gocardless-nodejs, box-node-sdk and
# coinbase-commerce-node only verify, so the test signs and the SDK must
# accept exactly what the module forwards and refuse what it refuses.  Where SDK and module disagree (a timestamp
# from the future) the test says so.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha256 hmac_sha256_hex);
use POSIX qw(strftime);

use Test::Webhook;
use Test::Webhook::SDK;

###############################################################################

if (my $why = Test::Webhook::SDK::unavailable()) {
    plan(skip_all => $why);
}

my %secret = (
    mux => 'mux-sdk-signing-secret-0123456789',
    gocardless => 'gc-sdk-webhook-secret-0123456789',
    clerk => 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    resend => 'whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD',
    box => 'box-sdk-primary-key-0123456789',
    coinbase => 'coinbase-sdk-shared-secret-0123',
);

my $box_secondary = 'box-sdk-secondary-key-0123456789';

my $t = Test::Webhook->new;

$t->write_file('box2.secret', $box_secondary, 0600);

my $locations = '';

for my $name (sort keys %secret) {
    $t->write_file("$name.secret", $secret{$name}, 0600);
    my $more = $name eq 'box'
        ? "webhook_secret file:%%TESTDIR%%/box2.secret;\n"
          . "            webhook_timestamp_tolerance 10m;"
        : '';
    $locations .= <<"LOCATION";
        location /$name {
            webhook_verify $name;
            webhook_secret file:%%TESTDIR%%/$name.secret;
            $more
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
LOCATION
}

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

$locations
    }
}

EOF

$t->run;

###############################################################################

sub req {
    my ($path, $body, @h) = @_;
    return { path => $path, body => $body,
             headers => [['Content-Type', 'application/json'], @h] };
}

my $now = time;

# Mux and GoCardless: the test signs, SDK and module judge the same bytes

my $mux_body = '{"type":"video.asset.ready","id":"0b7b6f5e-sdk",'
             . '"data":{"id":"asset_1","status":"ready"}}';
my $gc_body = '{"events":[{"id":"EV0000SDK001","resource_type":"mandates",'
            . '"action":"created"}],"meta":{"webhook_id":"WB0000SDK001"}}';

sub mux_header {
    my ($ts, $body, $secret) = @_;
    return "t=$ts,v1=" . hmac_sha256_hex("$ts.$body", $secret);
}

my @cases = (
    # [name, sdk job, module request, forwarded?, status, reason]
    ['mux: fresh',
     { sdk => 'mux-verify', payload => $mux_body, secret => $secret{mux},
       header => mux_header($now, $mux_body, $secret{mux}) },
     1],
    ['mux: tampered body',
     { sdk => 'mux-verify', payload => $mux_body . ' ', secret => $secret{mux},
       header => mux_header($now, $mux_body, $secret{mux}) },
     0, 401, 'signature_mismatch'],
    ['mux: wrong secret',
     { sdk => 'mux-verify', payload => $mux_body, secret => $secret{mux},
       header => mux_header($now, $mux_body, 'not-the-secret') },
     0, 401, 'signature_mismatch'],
    ['mux: 400 s old',
     { sdk => 'mux-verify', payload => $mux_body, secret => $secret{mux},
       header => mux_header($now - 400, $mux_body, $secret{mux}) },
     0, 401, 'timestamp_expired'],
    ['gocardless: fresh',
     { sdk => 'gocardless-verify', payload => $gc_body,
       secret => $secret{gocardless},
       header => hmac_sha256_hex($gc_body, $secret{gocardless}) },
     1],
    ['gocardless: tampered body',
     { sdk => 'gocardless-verify', payload => $gc_body . ' ',
       secret => $secret{gocardless},
       header => hmac_sha256_hex($gc_body, $secret{gocardless}) },
     0, 401, 'signature_mismatch'],
    ['gocardless: wrong secret',
     { sdk => 'gocardless-verify', payload => $gc_body,
       secret => $secret{gocardless},
       header => hmac_sha256_hex($gc_body, 'not-the-secret') },
     0, 401, 'signature_mismatch'],
);

my $answers = Test::Webhook::SDK::run([ map { $_->[1] } @cases ]);

for my $i (0 .. $#cases) {
    my ($name, $job, $ok, $status, $reason) = @{ $cases[$i] };
    my ($preset) = $name =~ /^(\w+)/;
    my $hdr = $preset eq 'mux' ? 'Mux-Signature' : 'Webhook-Signature';
    my $r = req("/$preset", $job->{payload}, [$hdr, $job->{header}]);

    if ($ok) {
        ok($answers->[$i]{ok}, "$name: the SDK accepts")
            or diag($answers->[$i]{error});
        my $u = $t->is_forwarded($r, "$name: the module forwards");
        is($t->vars($u)->{verified}, 1, "$name: verified");

    } else {
        ok(exists $answers->[$i]{error}, "$name: the SDK refuses");
        $t->is_rejected($r, $status, $reason, "$name: the module refuses");
    }
}

# a disagreement: @mux/mux-node checks only the age of the timestamp, so a
# signature from 400 s in the future passes it; the module refuses it
{
    my $h = mux_header($now + 400, $mux_body, $secret{mux});
    my $a = Test::Webhook::SDK::run([{ sdk => 'mux-verify',
        payload => $mux_body, secret => $secret{mux}, header => $h }]);
    ok($a->[0]{ok}, 'mux: 400 s ahead: the SDK accepts');
    $t->is_rejected(req('/mux', $mux_body, ['Mux-Signature', $h]),
                    401, 'timestamp_future', 'mux: 400 s ahead: refused');
}

# Box: box-node-sdk's WebhooksManager.validateMessage() answers true or
# false for the same headers and body; the location allows Box's 10
# minutes

sub box_time {
    my ($t) = @_;
    return strftime('%Y-%m-%dT%H:%M:%S', gmtime($t - 7 * 3600)) . '-07:00';
}

sub box_headers {
    my ($body, $ts, $k1, $k2) = @_;
    return {
        'box-delivery-id' => 'f96bb54b-ee16-4fc5-aa65-8c2d9e5b546f',
        'box-delivery-timestamp' => $ts,
        'box-signature-version' => '1',
        'box-signature-algorithm' => 'HmacSHA256',
        'box-signature-primary' => b64(hmac_sha256($body . $ts, $k1)),
        'box-signature-secondary' => b64(hmac_sha256($body . $ts, $k2)),
    };
}

sub b64 { require MIME::Base64; MIME::Base64::encode_base64($_[0], '') }

my $box_body = '{"type":"webhook_event","id":"eb0c4e06-sdk","trigger":'
             . '"FILE.UPLOADED","source":{"id":"123","type":"file"}}';

my @box = (
    # [name, body signed, body sent, time, primary key, secondary key,
    #  SDK says, module: undef forwarded, else [status, reason]]
    ['fresh', $box_body, $box_body, $now - 10, $secret{box}, $box_secondary,
     1, undef],
    ['only the secondary signature good', $box_body, $box_body, $now - 10,
     'retired-primary', $box_secondary, 1, undef],
    ['tampered body', $box_body, $box_body . ' ', $now - 10, $secret{box},
     $box_secondary, 0, [401, 'signature_mismatch']],
    ['wrong keys', $box_body, $box_body, $now - 10, 'x', 'y',
     0, [401, 'signature_mismatch']],
    ['700 s old', $box_body, $box_body, $now - 700, $secret{box},
     $box_secondary, 0, [401, 'timestamp_expired']],
    # a disagreement: the SDK refuses any timestamp ahead of its clock,
    # the module allows the tolerance both ways (clock skew)
    ['60 s ahead', $box_body, $box_body, $now + 60, $secret{box},
     $box_secondary, 0, undef],
);

my $box_answers = Test::Webhook::SDK::run([ map {
    { sdk => 'box-verify', payload => $_->[2],
      headers => box_headers($_->[1], box_time($_->[3]), $_->[4], $_->[5]),
      primary => $secret{box}, secondary => $box_secondary }
} @box ]);

for my $i (0 .. $#box) {
    my ($name, $signed, $sent, $when, $k1, $k2, $sdk, $module) = @{ $box[$i] };
    my $h = box_headers($signed, box_time($when), $k1, $k2);
    my $r = req('/box', $sent, map { [$_, $h->{$_}] } sort keys %$h);

    is($box_answers->[$i]{ok} ? 1 : 0, $sdk,
       "box: $name: the SDK says " . ($sdk ? 'valid' : 'invalid'))
        or diag($box_answers->[$i]{error});

    if (!defined $module) {
        $t->is_forwarded($r, "box: $name: the module forwards");
    } else {
        $t->is_rejected($r, @$module, "box: $name: the module refuses");
    }
}

# Coinbase Commerce: coinbase-commerce-node's Webhook.verifySigHeader()

{
    my $body = '{"attempt_number":1,"event":{"id":"24934862-sdk","type":'
             . '"charge:confirmed","data":{}},"id":"f6ed9d25-sdk"}';
    my $good = hmac_sha256_hex($body, $secret{coinbase});
    my $a = Test::Webhook::SDK::run([
        { sdk => 'coinbase-verify', payload => $body, header => $good,
          secret => $secret{coinbase} },
        { sdk => 'coinbase-verify', payload => $body . ' ', header => $good,
          secret => $secret{coinbase} },
        { sdk => 'coinbase-verify', payload => $body,
          header => hmac_sha256_hex($body, 'not-the-secret'),
          secret => $secret{coinbase} },
    ]);
    ok($a->[0]{ok}, 'coinbase: fresh: the SDK accepts') or diag($a->[0]{error});
    my $u = $t->is_forwarded(req('/coinbase', $body,
        ['X-CC-Webhook-Signature', $good]), 'coinbase: fresh: forwarded');
    is($t->vars($u)->{id}, '24934862-sdk', 'coinbase: $webhook_id event.id');
    ok(exists $a->[1]{error}, 'coinbase: tampered: the SDK refuses');
    $t->is_rejected(req('/coinbase', $body . ' ',
        ['X-CC-Webhook-Signature', $good]),
        401, 'signature_mismatch', 'coinbase: tampered: refused');
    ok(exists $a->[2]{error}, 'coinbase: wrong secret: the SDK refuses');
    $t->is_rejected(req('/coinbase', $body,
        ['X-CC-Webhook-Signature', hmac_sha256_hex($body, 'not-the-secret')]),
        401, 'signature_mismatch', 'coinbase: wrong secret: refused');
}

# clerk and resend: Standard Webhooks, signed by svix

my $std_body = '{"type":"user.created","data":{"id":"user_29w83sxmDNGwOuEt'
             . 'hce5gg5lIAx","email_addresses":[]},"object":"event"}';

my @std;

for my $name (qw(clerk resend)) {
    for my $case (['fresh', $now, $secret{$name}],
                  ['wrong secret', $now,
                   'whsec_' . 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo='],
                  ['400 s old', $now - 400, $secret{$name}])
    {
        push @std, [$name, @$case];
    }
}

my $sigs = Test::Webhook::SDK::sign([ map {
    { sdk => 'svix', secret => $_->[3], id => "msg_sdk_$_->[0]",
      timestamp => $_->[2], payload => $std_body }
} @std ]);

my $resend_checks = Test::Webhook::SDK::run([ map {
    { sdk => 'resend-verify', secret => $secret{resend},
      id => "msg_sdk_$std[$_][0]", timestamp => $std[$_][2],
      header => $sigs->[$_], payload => $std_body }
} grep { $std[$_][0] eq 'resend' } 0 .. $#std ]);

my $k = 0;

for my $i (0 .. $#std) {
    my ($name, $case, $ts) = @{ $std[$i] };
    my $r = req("/$name", $std_body, ['svix-id', "msg_sdk_$name"],
                ['svix-timestamp', $ts], ['svix-signature', $sigs->[$i]]);

    if ($name eq 'resend') {
        my $a = $resend_checks->[$k++];
        is(exists $a->{ok} ? 1 : 0, $case eq 'fresh' ? 1 : 0,
           "resend: $case: resend's own verify() agrees");
    }

    if ($case eq 'fresh') {
        my $u = $t->is_forwarded($r, "$name: $case (svix)");
        is_deeply([@{ $t->vars($u) }{qw(provider id event)}],
                  ['standard', "msg_sdk_$name", 'user.created'],
                  "$name: an alias of standard");

    } elsif ($case eq 'wrong secret') {
        $t->is_rejected($r, 401, 'signature_mismatch', "$name: $case");

    } else {
        $t->is_rejected($r, 401, 'timestamp_expired', "$name: $case");
    }
}

done_testing();
