#!/usr/bin/perl

# The HMAC presets decided with headers and body alone: razorpay, meta,
# paddle, zoom, twitch, bitbucket, typeform, calendly, xero, intercom; and
# gitlab's plaintext token.  For each: the providers.md vector (tolerance
# 0), freshly signed requests, and tampered, wrong-secret, missing,
# malformed, stale and future requests with their exact reasons; the
# default $webhook_id and $webhook_event of each preset.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha256 hmac_sha256_hex hmac_sha1_hex);
use IO::Select;
use IO::Socket::INET;
use POSIX qw(strftime);

use Test::Webhook;
use Test::Webhook::Sign qw(b64);

###############################################################################

my $common = '{"id":"evt_test_0001","type":"test.event","data":'
           . '{"amount":1000,"currency":"usd"}}';

sub rfc3339 {
    my ($t) = @_;
    return strftime('%Y-%m-%dT%H:%M:%S', gmtime $t) . '.123456789Z';
}

# name => {
#   secret, sign => sub ($secret, $body, $ts) -> headers,
#   ts => the scheme signs a timestamp, tsfmt => sub ($unix) -> wire form,
#   no_ts => sub ($secret, $body) -> headers without the timestamp,
#   body => a fresh body, id/event => what the variables hold for it,
#   vector => [body, headers, id, event, timestamp],
#   malformed => headers whose signature does not decode
# }

my %p;

$p{razorpay} = {
    secret => 'rzp_webhook_secret_0123456789',
    sign => sub {
        my ($s, $b) = @_;
        return (['X-Razorpay-Signature', hmac_sha256_hex($b, $s)],
                ['X-Razorpay-Event-Id', 'evt_rzp_fresh']);
    },
    body => '{"entity":"event","event":"payment.captured","payload":{}}',
    id => 'evt_rzp_fresh', event => 'payment.captured',
    vector => [$common, [
        ['X-Razorpay-Signature', '39536a849ffac26b54dd3f0310236cd4'
                               . '84ef2de608b1272e276f85edfc5db30a'],
        ['x-razorpay-event-id', 'KdCgBGLcCT6VQo']],
        'KdCgBGLcCT6VQo', '', ''],
    malformed => [['X-Razorpay-Signature', 'z' x 64]],
};

my $meta_vector = '{"object":"whatsapp_business_account","entry":[{"id":'
    . '"102290129340398","changes":[{"value":{"messaging_product":'
    . '"whatsapp","metadata":{"display_phone_number":"15550783881",'
    . '"phone_number_id":"106540352242922"},"messages":[{"from":'
    . '"16315551181","id":"wamid.ABGGFlA5Fpa","timestamp":"1700000000",'
    . '"text":{"body":"caf\u00e9"},"type":"text"}]},"field":"messages"}]}]}';

$p{meta} = {
    secret => '0123456789abcdef0123456789abcdef',
    sign => sub {
        my ($s, $b) = @_;
        return (['X-Hub-Signature-256', 'sha256=' . hmac_sha256_hex($b, $s)]);
    },
    body => '{"object":"page","entry":[{"id":"PAGE1","changes":'
          . '[{"value":{"messages":[{"id":"wamid.FRESH"}]},'
          . '"field":"messages"}]}]}',
    id => 'wamid.FRESH', event => 'messages',
    vector => [$meta_vector, [
        ['X-Hub-Signature-256', 'sha256=ad3357fe1a36bd995ce2a2901f6319bf'
                              . '06dd68c504a51e95a662d7e8abb49080']],
        'wamid.ABGGFlA5Fpa', 'messages', ''],
    malformed => [['X-Hub-Signature-256', 'garbage']],
};

$p{paddle} = {
    secret => 'pdl_ntfset_01gkpjp8bkm3tm53kdgkx6sms7_6h3qd3uFSi9YCD3OLYASh'
            . 'QI90XTI5vEI',
    ts => 1,
    sign => sub {
        my ($s, $b, $t) = @_;
        return (['Paddle-Signature',
                 "ts=$t;h1=" . hmac_sha256_hex("$t:$b", $s)]);
    },
    no_ts => sub {
        my ($s, $b) = @_;
        return (['Paddle-Signature', 'h1=' . hmac_sha256_hex(":$b", $s)]);
    },
    body => '{"event_id":"evt_01h","event_type":"transaction.completed",'
          . '"notification_id":"ntf_01h","data":{}}',
    id => 'ntf_01h', event => 'transaction.completed',
    vector => [$common, [
        ['Paddle-Signature', 'ts=1700000000;h1=41c7f56572a2c5b11621d61a67f4'
                           . '3954e1fc2d044915c7623942780f3ec69ab4']],
        '', '', 1700000000],
    malformed => [['Paddle-Signature', 'ts=1700000000;h1=xyz']],
};

$p{zoom} = {
    secret => 'zoom_secret_token_0123456789',
    ts => 1,
    sign => sub {
        my ($s, $b, $t) = @_;
        return (['x-zm-request-timestamp', $t],
                ['x-zm-signature', 'v0=' . hmac_sha256_hex("v0:$t:$b", $s)]);
    },
    no_ts => sub {
        my ($s, $b) = @_;
        return (['x-zm-signature', 'v0=' . hmac_sha256_hex("v0::$b", $s)]);
    },
    body => '{"event":"meeting.started","event_ts":1700000000000,'
          . '"payload":{}}',
    id => '', event => 'meeting.started',
    vector => [$common, [
        ['x-zm-signature', 'v0=f24a311f2efdd618f5e7e2b7141e59a3a763b8aae1bc'
                         . 'e20b7ea4122415e46b24'],
        ['x-zm-request-timestamp', '1700000000']],
        '', '', 1700000000],
    malformed => [['x-zm-signature', 'sha256=00'],
                  ['x-zm-request-timestamp', time]],
};

my $twitch_id = 'e76c6bd4-55c9-4987-8304-da1588d8988b';

$p{twitch} = {
    secret => 'twitch_eventsub_secret_0123456789',
    ts => 1,
    tsfmt => \&rfc3339,
    sign => sub {
        my ($s, $b, $t) = @_;
        my $id = 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4';
        return (['Twitch-Eventsub-Message-Id', $id],
                ['Twitch-Eventsub-Message-Timestamp', $t],
                ['Twitch-Eventsub-Subscription-Type', 'channel.follow'],
                ['Twitch-Eventsub-Message-Signature',
                 'sha256=' . hmac_sha256_hex("$id$t$b", $s)]);
    },
    no_ts => sub {
        my ($s, $b) = @_;
        return (['Twitch-Eventsub-Message-Id', 'x'],
                ['Twitch-Eventsub-Message-Signature',
                 'sha256=' . hmac_sha256_hex("x$b", $s)]);
    },
    body => '{"subscription":{"type":"channel.follow"},"event":{}}',
    id => 'f1c2a387-161a-49f9-a165-0f21d7a4e1c4', event => 'channel.follow',
    vector => [$common, [
        ['Twitch-Eventsub-Message-Id', $twitch_id],
        ['Twitch-Eventsub-Message-Timestamp',
         '2023-11-14T22:13:20.123456789Z'],
        ['Twitch-Eventsub-Message-Signature', 'sha256=38689e507d4ac903600646d'
            . '7b9e56a1fa09a1f20082d16ce3e59384253b75290'],
        ['Twitch-Eventsub-Message-Type', 'notification']],
        $twitch_id, '', 1700000000],
    malformed => [['Twitch-Eventsub-Message-Id', $twitch_id],
                  ['Twitch-Eventsub-Message-Timestamp', rfc3339(time)],
                  ['Twitch-Eventsub-Message-Signature', 'sha256=']],
};

$p{bitbucket} = {
    secret => 'bitbucket_webhook_secret_0123',
    sign => sub {
        my ($s, $b) = @_;
        return (['X-Hub-Signature', 'sha256=' . hmac_sha256_hex($b, $s)],
                ['X-Request-UUID', '0f0e0d0c-fresh'],
                ['X-Event-Key', 'pullrequest:created']);
    },
    body => '{"repository":{"full_name":"erp/app"}}',
    id => '0f0e0d0c-fresh', event => 'pullrequest:created',
    vector => [$common, [
        ['X-Hub-Signature', 'sha256=47a83238caa9250d16bb9f53289fc2bf0d188ed5'
                          . 'f18d1686a2de48c96c2c297d'],
        ['X-Request-UUID', 'afe2a5fc-8bad-4d53-9c1a-0f3cd4e0c2a1'],
        ['X-Event-Key', 'repo:push']],
        'afe2a5fc-8bad-4d53-9c1a-0f3cd4e0c2a1', 'repo:push', ''],
    malformed => [['X-Hub-Signature', 'sha1=' . ('0' x 40)]],
};

$p{typeform} = {
    secret => 'typeform_secret_0123456789abcdef',
    sign => sub {
        my ($s, $b) = @_;
        return (['Typeform-Signature', 'sha256=' . b64(hmac_sha256($b, $s))]);
    },
    body => '{"event_id":"01HTF","event_type":"form_response",'
          . '"form_response":{}}',
    id => '01HTF', event => 'form_response',
    vector => [$common, [
        ['Typeform-Signature',
         'sha256=ZB8MCrJiAYulyfzmJ96EmPcO+PJaQZ7JEfwKLYecmTM=']],
        '', '', ''],
    malformed => [['Typeform-Signature', 'sha256=' . ('a' x 64)]],
};

$p{calendly} = {
    secret => 'calendly_signing_key_0123456789abcdef',
    ts => 1,
    sign => sub {
        my ($s, $b, $t) = @_;
        return (['Calendly-Webhook-Signature',
                 "t=$t,v1=" . hmac_sha256_hex("$t.$b", $s)]);
    },
    no_ts => sub {
        my ($s, $b) = @_;
        return (['Calendly-Webhook-Signature',
                 'v1=' . hmac_sha256_hex(".$b", $s)]);
    },
    body => '{"event":"invitee.created","payload":{}}',
    id => '', event => 'invitee.created',
    vector => [$common, [
        ['Calendly-Webhook-Signature', 't=1700000000,v1=1692640d67680445f1d5'
            . '80843c0ee3ead30f2da9779046a785fe8a157aa4ad57']],
        '', '', 1700000000],
    malformed => [['Calendly-Webhook-Signature', 't=1,,v1=00']],
};

$p{xero} = {
    secret => 'xero_webhook_key_0123456789abcdefABCDEFGHIJ==',
    sign => sub {
        my ($s, $b) = @_;
        return (['x-xero-signature', b64(hmac_sha256($b, $s))]);
    },
    body => '{"events":[{"eventCategory":"INVOICE","eventType":"UPDATE"}],'
          . '"firstEventSequence":1,"lastEventSequence":1,"entropy":"x"}',
    id => '', event => 'INVOICE',
    vector => ['{"events":[],"lastEventSequence":0,"firstEventSequence":0,'
             . '"entropy":"S0m3r4Nd0mt3xt"}', [
        ['x-xero-signature', '6Qvd9+BDn7vTM9aT5L6b5ZuyL+tDO0OyTXFgCq79xMs=']],
        '', '', ''],
    malformed => [['x-xero-signature', '6Qvd9+BDn7vTM9aT5L6b5Zuy']],
};

$p{intercom} = {
    secret => 'intercom_client_secret_0123456789',
    sign => sub {
        my ($s, $b) = @_;
        return (['X-Hub-Signature', 'sha1=' . hmac_sha1_hex($b, $s)]);
    },
    body => '{"type":"notification_event","id":"notif_fresh",'
          . '"topic":"conversation.user.created","data":{}}',
    id => 'notif_fresh', event => 'conversation.user.created',
    vector => [$common, [
        ['X-Hub-Signature', 'sha1=a0b34aac64e270a867a37c9410302004dea23b5c']],
        'evt_test_0001', '', ''],
    # a SHA-256-sized MAC under the SHA-1 scheme
    malformed => [['X-Hub-Signature', 'sha1=' . ('a' x 64)]],
};

my @names = sort keys %p;

###############################################################################

my $t = Test::Webhook->new;

my $locations = '';

for my $name (@names, 'gitlab') {
    my $secret = $name eq 'gitlab' ? 'gitlab-secret-token'
                                   : $p{$name}{secret};
    $t->write_file("$name.secret", $secret, 0600);

    for my $loc (["/p/$name", ''],
                 ["/v/$name", 'webhook_timestamp_tolerance 0;'])
    {
        $locations .= <<"LOCATION";
        location $loc->[0] {
            webhook_verify $name;
            webhook_secret file:%%TESTDIR%%/$name.secret;
            $loc->[1]
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

LOCATION
    }
}

$t->write_file('other.secret', 'the-other-secret-0001', 0600);

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
        location /rotate/razorpay {
            webhook_verify razorpay;
            webhook_secret file:%%TESTDIR%%/other.secret;
            webhook_secret file:%%TESTDIR%%/razorpay.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /rotate/gitlab {
            webhook_verify gitlab;
            webhook_secret file:%%TESTDIR%%/other.secret;
            webhook_secret file:%%TESTDIR%%/gitlab.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
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

my $forwarded = 0;

for my $name (@names) {
    my $s = $p{$name};
    my $sign = $s->{sign};
    my $fmt = $s->{tsfmt} || sub { $_[0] };
    my ($vbody, $vheaders, $vid, $vevent, $vts) = @{ $s->{vector} };
    my $u;

    # the providers.md vector, its timestamp long past: tolerance 0

    $u = $t->is_forwarded(req("/v/$name", $vbody, @$vheaders),
                          "$name: vector");
    is_deeply($t->vars($u), {
        provider => $name, verified => 1, id => $vid, event => $vevent,
        timestamp => $vts, secret_index => 1, reason => '',
    }, "$name: vector: variables");

    $t->is_rejected(req("/v/$name", $vbody . ' ', @$vheaders),
                    401, 'signature_mismatch', "$name: vector, body + ' '");

    # fresh requests

    my $now = time;
    my $body = $s->{body};

    $u = $t->is_forwarded(req("/p/$name", $body,
                              $sign->($s->{secret}, $body, $fmt->($now))),
                          "$name: fresh");
    is_deeply($t->vars($u), {
        provider => $name, verified => 1, id => $s->{id},
        event => $s->{event}, timestamp => $s->{ts} ? $now : '',
        secret_index => 1, reason => '',
    }, "$name: fresh: variables");

    $forwarded += 2;

    (my $tampered = $body) =~ s/\{/{"x":1,/;
    $t->is_rejected(req("/p/$name", $tampered,
                        $sign->($s->{secret}, $body, $fmt->($now))),
                    401, 'signature_mismatch', "$name: tampered body");

    $t->is_rejected(req("/p/$name", $body,
                        $sign->('not-the-secret', $body, $fmt->($now))),
                    401, 'signature_mismatch', "$name: wrong secret");

    $t->is_rejected(req("/p/$name", $body),
                    401, 'signature_missing', "$name: no signature");

    $t->is_rejected(req("/p/$name", $body, @{ $s->{malformed} }),
                    400, 'signature_malformed', "$name: malformed");

    next unless $s->{ts};

    $t->is_rejected(req("/p/$name", $body,
                        $sign->($s->{secret}, $body, $fmt->($now - 400))),
                    401, 'timestamp_expired', "$name: 400 s old");

    $t->is_rejected(req("/p/$name", $body,
                        $sign->($s->{secret}, $body, $fmt->($now + 400))),
                    401, 'timestamp_future', "$name: 400 s ahead");

    $t->is_rejected(req("/p/$name", $body,
                        $s->{no_ts}->($s->{secret}, $body)),
                    400, 'timestamp_missing', "$name: no timestamp");

    $t->is_forwarded(req("/p/$name", $body,
                         $sign->($s->{secret}, $body, $fmt->($now - 200))),
                     "$name: 200 s old, tolerance 5m");
    $forwarded++;
}

# Paddle: any h1 may match (its SDK keeps only the last one)

{
    my $s = $p{paddle};
    my $body = $s->{body};
    my $now = time;
    my $good = hmac_sha256_hex("$now:$body", $s->{secret});
    my $bad = '0' x 64;

    $t->is_forwarded(req('/p/paddle', $body,
        ['Paddle-Signature', "ts=$now;h1=$good;h1=$bad"]),
        'paddle: two h1, the first good');
    $t->is_forwarded(req('/p/paddle', $body,
        ['Paddle-Signature', "ts=$now;h1=$bad;h1=$good"]),
        'paddle: two h1, the last good');
    $t->is_rejected(req('/p/paddle', $body,
        ['Paddle-Signature', "ts=$now;h1=$bad;h1=" . ('1' x 64)]),
        401, 'signature_mismatch', 'paddle: two h1, both bad');
    $forwarded += 2;
}

# Twitch: the timestamp is signed as the literal string (nanoseconds and
# all); the same instant written differently does not match

{
    my $s = $p{twitch};
    my $body = $s->{body};
    my $now = time;
    my @h = $s->{sign}->($s->{secret}, $body, rfc3339($now));

    for my $h (@h) {
        next unless $h->[0] eq 'Twitch-Eventsub-Message-Timestamp';
        $h = [$h->[0], $h->[1] =~ s/\.123456789Z$/.123456789+00:00/r];
    }

    $t->is_rejected(req('/p/twitch', $body, @h), 401, 'signature_mismatch',
        'twitch: same instant, other spelling');

    @h = grep { $_->[0] ne 'Twitch-Eventsub-Message-Id' }
         $s->{sign}->($s->{secret}, $body, rfc3339($now));

    $t->is_rejected(req('/p/twitch', $body, @h), 400, 'signature_malformed',
        'twitch: no message id (it is signed)');
}

# Meta: without a message, the entry's id

{
    my $s = $p{meta};
    my $body = '{"object":"page","entry":[{"id":"PAGE9","changes":'
             . '[{"value":{},"field":"feed"}]}]}';
    my $u = $t->is_forwarded(req('/p/meta', $body,
        $s->{sign}->($s->{secret}, $body)), 'meta: no message');
    is_deeply([@{ $t->vars($u) }{qw(id event)}], ['PAGE9', 'feed'],
        'meta: no message: entry id, field');
    $forwarded++;
}

# a body that is not JSON never breaks a scheme that does not need JSON

{
    my $s = $p{razorpay};
    my $body = "not json \x00\xff\x01 at all";
    my $u = $t->is_forwarded(req('/p/razorpay', $body,
        $s->{sign}->($s->{secret}, $body)), 'razorpay: a binary body');
    is_deeply([@{ $t->vars($u) }{qw(verified id event)}],
        [1, 'evt_rzp_fresh', ''], 'razorpay: binary body: no event');
    $forwarded++;

    $body = '';
    $t->is_forwarded(req('/p/razorpay', $body,
        $s->{sign}->($s->{secret}, $body)), 'razorpay: an empty body');
    $forwarded++;
}

# rotation: the second secret matches

{
    my $s = $p{razorpay};
    my $u = $t->is_forwarded(req('/rotate/razorpay', $s->{body},
        $s->{sign}->($s->{secret}, $s->{body})), 'razorpay: second secret');
    is($t->vars($u)->{secret_index}, 2, 'razorpay: $webhook_secret_index 2');
    $forwarded++;
}

###############################################################################

# GitLab: the header is the secret itself

sub gitlab {
    my ($path, $token, $body, @more) = @_;
    my @h = (['X-Gitlab-Event', 'Push Hook'],
             ['X-Gitlab-Event-UUID', '13792a34-cac6-4fda-95a8-c58e00a3954e'],
             @more);
    push @h, ['X-Gitlab-Token', $token] if defined $token;
    return req($path, $body, @h);
}

{
    my $body = '{"object_kind":"push"}';
    my $u;

    $u = $t->is_forwarded(gitlab('/p/gitlab', 'gitlab-secret-token', $body),
        'gitlab: token');
    is_deeply($t->vars($u), {
        provider => 'gitlab', verified => 1,
        id => '13792a34-cac6-4fda-95a8-c58e00a3954e', event => 'Push Hook',
        timestamp => '', secret_index => 1, reason => '',
    }, 'gitlab: variables');

    $u = $t->is_forwarded(gitlab('/p/gitlab', 'gitlab-secret-token', $body,
        ['Idempotency-Key', 'f5e5f430-f57b-4e6e-9fac-d9128cd7232f']),
        'gitlab: with Idempotency-Key');
    is($t->vars($u)->{id}, 'f5e5f430-f57b-4e6e-9fac-d9128cd7232f',
        'gitlab: Idempotency-Key is the id');

    $u = $t->is_forwarded(gitlab('/rotate/gitlab', 'gitlab-secret-token',
        $body), 'gitlab: second secret');
    is($t->vars($u)->{secret_index}, 2, 'gitlab: $webhook_secret_index 2');

    $forwarded += 3;

    $t->is_rejected(gitlab('/p/gitlab', 'gitlab-secret-tokeN', $body),
        401, 'signature_mismatch', 'gitlab: one byte off');
    $t->is_rejected(gitlab('/p/gitlab', 'gitlab-secret-token-', $body),
        401, 'signature_mismatch', 'gitlab: one byte longer');
    $t->is_rejected(gitlab('/p/gitlab', 'gitlab-secret-toke', $body),
        401, 'signature_mismatch', 'gitlab: one byte shorter');
    $t->is_rejected(gitlab('/p/gitlab', undef, $body),
        401, 'signature_missing', 'gitlab: no token');

    # decided from the header alone: a wrong token is answered although
    # the announced body never comes

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port(8080))
        or die "connect: $!";
    print $s "POST /p/gitlab HTTP/1.1\r\nHost: localhost\r\n"
           . "X-Gitlab-Token: wrong\r\nContent-Length: 100\r\n\r\n";

    my $raw = '';
    my $sel = IO::Select->new($s);

    while ($raw !~ /\}$/ && $sel->can_read(5)) {
        last unless sysread($s, $raw, 4096, length $raw);
    }

    close $s;

    like($raw, qr/^HTTP\/1\.1 401 .*signature_mismatch/s,
        'gitlab: refused before the body arrives');
}

is($t->upstream_count, $forwarded, 'only the valid requests were forwarded');

$t->done_testing;

###############################################################################
