package Test::Webhook::Presets;

# A valid delivery of every preset (and of one custom scheme), for tests
# that need all of them at once: the location lines, the secret or key,
# a wrong one, a body carrying a tag, and the signature.
#
#   my %p = presets($t);    # writes secrets and keys into $t->testdir
#
#   $p{$name} = {
#       conf    => location lines (%%TESTDIR%% still to be expanded),
#       secret  => what signs (for an asymmetric scheme, a key's name),
#       other   => a wrong secret or key of the same form,
#       body    => sub ($secret, $tag, $pad, $now[, FIELD => VALUE...])
#                  -> a body naming $tag as a word (twice where a changed
#                  byte may pass: one changed name leaves the other),
#                  $pad inside a JSON string "pad" where the body is
#                  JSON; FIELD => VALUE sets a field of Adyen's item or
#                  SNS's message before they are signed,
#       sign    => sub ($secret, $body, $now, $tag) -> [header, value]...,
#       header  => the header carrying the signature (for a scheme that
#                  signs inside the body: a header the preset reads),
#       in_body => the signature travels in the body,
#       partial => the signature covers part of the body only (or, for
#                  GitLab, none of it): a changed byte may pass,
#   }
#
# Asymmetric schemes are signed with the openssl command line (ECDSA
# P-256 for SendGrid, RSA for PayPal and SNS): one process per request.

use strict;
use warnings;

use Digest::SHA qw(sha1 hmac_sha256 hmac_sha256_hex hmac_sha1 hmac_sha1_hex
                   hmac_sha512_hex);
use Exporter qw(import);
use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use POSIX qw(strftime);

use Test::Webhook::Ed25519 qw(ed25519_sign);
use Test::Webhook::Sign qw(b64 stripe_header standard_headers twilio_sig
                           form_encode crc32 openssl_sign);

our @EXPORT_OK = qw(presets);

my $ED_SEED =
    '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
my $ED_PUB =
    'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
my $ED_OTHER =
    '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';

my $PAYPAL_URL = 'https://api.paypal.com/v1/notifications/certs/'
               . 'CERT-360caa42-fca2a594-ab1f2a55';
my $PAYPAL_WEBHOOK_ID = '1JE4291016473214C';
my $SNS_URL = 'https://sns.eu-west-1.amazonaws.com/'
            . 'SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';

sub iso8601    { strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $_[0]) }
sub iso8601_ms { strftime('%Y-%m-%dT%H:%M:%S', gmtime $_[0]) . '.663Z' }
sub rfc3339    { strftime('%Y-%m-%dT%H:%M:%S', gmtime $_[0]) . '.5Z' }

# Box writes its timestamp with the sender's offset
sub box_time {
    strftime('%Y-%m-%dT%H:%M:%S', gmtime($_[0] - 7 * 3600)) . '-07:00';
}

# the body most presets get: every common id and event member
sub json_body {
    my (undef, $tag, $pad) = @_;
    return qq({"id":"$tag","type":"test.event","event_id":"$tag",)
         . qq("object":"page","entry":[{"id":"$tag"}],"pad":"$pad"});
}

sub presets {
    my ($t) = @_;
    my $dir = $t->testdir;

    my $openssl = sub {
        my $out = `openssl $_[0] 2>&1`;
        die "openssl $_[0]: $out" if $?;
    };

    # key => the private key file; the public side pinned in the conf
    for my $k (qw(ec ecx)) {
        $openssl->("ecparam -name prime256v1 -genkey -noout -out $dir/$k.key");
        $openssl->("ec -in $dir/$k.key -pubout -out $dir/$k.pem");
    }
    for my $k (qw(rsa rsax)) {
        $openssl->("req -x509 -newkey rsa:2048 -nodes -keyout $dir/$k.key "
                   . "-out $dir/$k.pem -days 2 -subj /CN=$k.test");
    }

    # base64 of a signature of $msg by the key $key, digest $digest
    my $pkey_sign = sub {
        my ($key, $digest, $msg) = @_;
        return b64(openssl_sign("$dir/$key.key", $digest, $msg));
    };

    my %p;

    # a scheme with one header: name => [header, sub ($s, $b, $now, $tag)]
    my %one = (
        stripe => ['Stripe-Signature', sub {
            (['Stripe-Signature', stripe_header($_[0], $_[2], $_[1])]);
        }],
        github => ['X-Hub-Signature-256', sub {
            my ($s, $b, $now, $tag) = @_;
            (['X-GitHub-Event', 'push'], ['X-GitHub-Delivery', $tag],
             ['X-Hub-Signature-256', 'sha256=' . hmac_sha256_hex($b, $s)]);
        }],
        shopify => ['X-Shopify-Hmac-Sha256', sub {
            my ($s, $b, $now, $tag) = @_;
            (['X-Shopify-Event-Id', $tag],
             ['X-Shopify-Hmac-Sha256', b64(hmac_sha256($b, $s))]);
        }],
        slack => ['X-Slack-Signature', sub {
            my ($s, $b, $now) = @_;
            (['X-Slack-Request-Timestamp', $now],
             ['X-Slack-Signature', 'v0=' . hmac_sha256_hex("v0:$now:$b", $s)]);
        }],
        razorpay => ['X-Razorpay-Signature', sub {
            my ($s, $b, $now, $tag) = @_;
            (['X-Razorpay-Event-Id', $tag],
             ['X-Razorpay-Signature', hmac_sha256_hex($b, $s)]);
        }],
        meta => ['X-Hub-Signature-256', sub {
            (['X-Hub-Signature-256', 'sha256=' . hmac_sha256_hex($_[1], $_[0])]);
        }],
        paddle => ['Paddle-Signature', sub {
            my ($s, $b, $now) = @_;
            (['Paddle-Signature',
              "ts=$now;h1=" . hmac_sha256_hex("$now:$b", $s)]);
        }],
        zoom => ['x-zm-signature', sub {
            my ($s, $b, $now) = @_;
            (['x-zm-request-timestamp', $now],
             ['x-zm-signature', 'v0=' . hmac_sha256_hex("v0:$now:$b", $s)]);
        }],
        twitch => ['Twitch-Eventsub-Message-Signature', sub {
            my ($s, $b, $now, $tag) = @_;
            my $ts = rfc3339($now);
            (['Twitch-Eventsub-Message-Id', $tag],
             ['Twitch-Eventsub-Message-Timestamp', $ts],
             ['Twitch-Eventsub-Message-Signature',
              'sha256=' . hmac_sha256_hex("$tag$ts$b", $s)]);
        }],
        square => ['x-square-hmacsha256-signature', sub {
            my ($s, $b) = @_;
            (['x-square-hmacsha256-signature',
              b64(hmac_sha256("https://hooks.example/square$b", $s))]);
        }],
        hubspot => ['X-HubSpot-Signature-v3', sub {
            my ($s, $b, $now) = @_;
            my $ms = $now * 1000 + 7;
            (['X-HubSpot-Request-Timestamp', $ms],
             ['X-HubSpot-Signature-v3',
              b64(hmac_sha256("POSThttps://hooks.example/hubspot$b$ms", $s))]);
        }],
        linear => ['Linear-Signature', sub {
            (['Linear-Event', 'Issue'],
             ['Linear-Signature', hmac_sha256_hex($_[1], $_[0])]);
        }],
        bitbucket => ['X-Hub-Signature', sub {
            my ($s, $b, $now, $tag) = @_;
            (['X-Request-UUID', $tag], ['X-Event-Key', 'repo:push'],
             ['X-Hub-Signature', 'sha256=' . hmac_sha256_hex($b, $s)]);
        }],
        typeform => ['Typeform-Signature', sub {
            (['Typeform-Signature', 'sha256=' . b64(hmac_sha256($_[1], $_[0]))]);
        }],
        gitlab => ['X-Gitlab-Token', sub {
            my ($s, $b, $now, $tag) = @_;
            (['X-Gitlab-Event', 'Push Hook'], ['X-Gitlab-Event-UUID', $tag],
             ['X-Gitlab-Token', $s]);
        }],
        calendly => ['Calendly-Webhook-Signature', sub {
            my ($s, $b, $now) = @_;
            (['Calendly-Webhook-Signature',
              "t=$now,v1=" . hmac_sha256_hex("$now.$b", $s)]);
        }],
        xero => ['x-xero-signature', sub {
            (['x-xero-signature', b64(hmac_sha256($_[1], $_[0]))]);
        }],
        intercom => ['X-Hub-Signature', sub {
            (['X-Hub-Signature', 'sha1=' . hmac_sha1_hex($_[1], $_[0])]);
        }],
        twilio => ['X-Twilio-Signature', sub {
            my ($s, $b) = @_;
            my @pairs = map { [split /=/, $_, 2] } split /&/, $b;
            (['Content-Type', 'application/x-www-form-urlencoded'],
             ['X-Twilio-Signature',
              twilio_sig($s, 'https://hooks.example/twilio', @pairs)]);
        }],
        discord => ['X-Signature-Ed25519', sub {
            my ($s, $b, $now) = @_;
            (['X-Signature-Timestamp', $now],
             ['X-Signature-Ed25519', unpack 'H*', ed25519_sign($s, "$now$b")]);
        }],
        custom => ['X-Custom-Signature', sub {
            (['X-Custom-Signature', 't=1,sig=' . hmac_sha256_hex($_[1], $_[0])]);
        }],

        # the second wave
        intuit => ['intuit-signature', sub {
            (['intuit-signature', b64(hmac_sha256($_[1], $_[0]))]);
        }],
        checkout => ['Cko-Signature', sub {
            (['Cko-Signature', hmac_sha256_hex($_[1], $_[0])]);
        }],
        gocardless => ['Webhook-Signature', sub {
            (['Webhook-Signature', hmac_sha256_hex($_[1], $_[0])]);
        }],
        paystack => ['x-paystack-signature', sub {
            (['x-paystack-signature', hmac_sha512_hex($_[1], $_[0])]);
        }],
        lemonsqueezy => ['X-Signature', sub {
            (['X-Signature', hmac_sha256_hex($_[1], $_[0])],
             ['X-Event-Name', 'order_created']);
        }],
        coinbase => ['X-CC-Webhook-Signature', sub {
            (['X-CC-Webhook-Signature', hmac_sha256_hex($_[1], $_[0])]);
        }],
        mux => ['Mux-Signature', sub {
            my ($s, $b, $now) = @_;
            (['Mux-Signature', "t=$now,v1=" . hmac_sha256_hex("$now.$b", $s)]);
        }],
        woocommerce => ['X-WC-Webhook-Signature', sub {
            my ($s, $b, $now, $tag) = @_;
            (['X-WC-Webhook-Signature', b64(hmac_sha256($b, $s))],
             ['X-WC-Webhook-Delivery-ID', $tag],
             ['X-WC-Webhook-Topic', 'order.created']);
        }],
        zendesk => ['X-Zendesk-Webhook-Signature', sub {
            my ($s, $b, $now, $tag) = @_;
            my $ts = iso8601($now);
            (['X-Zendesk-Webhook-Signature-Timestamp', $ts],
             ['X-Zendesk-Webhook-Signature', b64(hmac_sha256("$ts$b", $s))],
             ['X-Zendesk-Webhook-Invocation-Id', $tag]);
        }],
        dropbox => ['X-Dropbox-Signature', sub {
            (['X-Dropbox-Signature', hmac_sha256_hex($_[1], $_[0])]);
        }],
        asana => ['X-Hook-Signature', sub {
            (['X-Hook-Signature', hmac_sha256_hex($_[1], $_[0])]);
        }],
        # Sentry-Hook-Timestamp is not signed (nor checked): left out, so
        # that a changed timestamp never passes as a changed request
        sentry => ['Sentry-Hook-Signature', sub {
            my ($s, $b, $now, $tag) = @_;
            (['Sentry-Hook-Signature', hmac_sha256_hex($b, $s)],
             ['Sentry-Hook-Resource', 'issue'], ['Request-ID', $tag]);
        }],
        vercel => ['x-vercel-signature', sub {
            (['x-vercel-signature', hmac_sha1_hex($_[1], $_[0])]);
        }],
        airtable => ['X-Airtable-Content-MAC', sub {
            (['X-Airtable-Content-MAC',
              'hmac-sha256=' . hmac_sha256_hex($_[1], decode_base64($_[0]))]);
        }],
        frameio => ['X-Frameio-Signature', sub {
            my ($s, $b, $now) = @_;
            (['X-Frameio-Request-Timestamp', $now],
             ['X-Frameio-Signature', 'v0=' . hmac_sha256_hex("v0:$now:$b", $s)]);
        }],
        trello => ['X-Trello-Webhook', sub {
            my ($s, $b) = @_;
            (['X-Trello-Webhook',
              b64(hmac_sha1($b . 'https://hooks.example/trello', $s))]);
        }],
        recurly => ['recurly-signature', sub {
            my ($s, $b, $now) = @_;
            my $ms = "${now}123";
            (['recurly-signature', "$ms," . hmac_sha256_hex("$ms.$b", $s)]);
        }],
        box => ['box-signature-primary', sub {
            my ($s, $b, $now, $tag) = @_;
            my $ts = box_time($now);
            (['box-delivery-timestamp', $ts], ['box-delivery-id', $tag],
             ['box-signature-version', '1'],
             ['box-signature-algorithm', 'HmacSHA256'],
             ['box-signature-primary', b64(hmac_sha256($b . $ts, $s))],
             ['box-signature-secondary',
              b64(hmac_sha256($b . $ts, "$s-secondary"))]);
        }],
        docusign => ['X-DocuSign-Signature-1', sub {
            (['X-DocuSign-Signature-1', b64(hmac_sha256($_[1], $_[0]))]);
        }],
        sendgrid => ['X-Twilio-Email-Event-Webhook-Signature', sub {
            my ($s, $b, $now) = @_;
            (['Content-Type', 'application/json'],
             ['X-Twilio-Email-Event-Webhook-Timestamp', $now],
             ['X-Twilio-Email-Event-Webhook-Signature',
              $pkey_sign->($s, 'sha256', "$now$b")]);
        }],
        paypal => ['PAYPAL-TRANSMISSION-SIG', sub {
            my ($s, $b, $now, $tag) = @_;
            my $time = iso8601($now);
            my $signed = join '|', "tx-$tag", $time, $PAYPAL_WEBHOOK_ID,
                                   crc32($b);
            (['Content-Type', 'application/json'],
             ['PAYPAL-TRANSMISSION-ID', "tx-$tag"],
             ['PAYPAL-TRANSMISSION-TIME', $time],
             ['PAYPAL-TRANSMISSION-SIG', $pkey_sign->($s, 'sha256', $signed)],
             ['PAYPAL-CERT-URL', $PAYPAL_URL],
             ['PAYPAL-AUTH-ALGO', 'SHA256withRSA']);
        }],
    );

    # Standard Webhooks, and the senders that sign through Svix
    for my $name (qw(standard clerk resend)) {
        my $prefix = $name eq 'standard' ? 'webhook' : 'svix';
        $one{$name} = ["$prefix-signature", sub {
            my ($s, $b, $now, $tag) = @_;
            standard_headers($s, "msg_$tag", $now, $b, prefix => $prefix);
        }];
    }

    for my $name (keys %one) {
        $p{$name} = { header => $one{$name}[0], sign => $one{$name}[1],
                      body => \&json_body,
                      secret => "campaign_${name}_secret_5f1c" };
    }

    @{ $p{$_} }{qw(secret other)} = ('whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'whsec_' . b64('another-key-of-32-bytes-00000000'))
        for qw(standard clerk resend);

    # bodies a scheme asks for

    $p{twilio}{body} = sub {
        my (undef, $tag, $pad) = @_;
        form_encode(['CallSid', "CA$tag"], ['From', '15550001'],
                    ['Tag', $tag], ['Pad', $pad]);
    };

    $p{linear}{body} = sub {
        my (undef, $tag, $pad, $now) = @_;
        qq({"action":"create","type":"Issue","webhookTimestamp":)
        . ($now * 1000) . qq(,"webhookId":"$tag","pad":"$pad"});
    };

    $p{hubspot}{body} = sub {
        my (undef, $tag, $pad) = @_;
        qq([{"eventId":"$tag","subscriptionType":"contact.creation",)
        . qq("pad":"$pad"}]);
    };

    $p{airtable}{body} = sub {
        my (undef, $tag, $pad, $now) = @_;
        qq({"base":{"id":"app$tag"},"webhook":{"id":"$tag"},)
        . qq("timestamp":") . iso8601_ms($now) . qq(","pad":"$pad"});
    };

    $p{sendgrid}{body} = sub {
        my (undef, $tag, $pad, $now) = @_;
        qq([{"email":"ap\@example.com","timestamp":$now,"event":"delivered",)
        . qq("sg_event_id":"$tag","pad":"$pad"}]);
    };

    # schemes that sign inside the body

    $p{mailgun} = {
        header => 'Content-Type', in_body => 1, partial => 1,
        secret => 'campaign_mailgun_secret_5f1c',
        sign => sub { (['Content-Type', 'application/json']) },
        body => sub {
            my ($s, $tag, $pad, $now) = @_;
            my $token = "tok-$tag";
            my $sig = hmac_sha256_hex("$now$token", $s);
            qq({"signature":{"token":"$token","timestamp":"$now",)
            . qq("signature":"$sig"},"event-data":{"id":"$tag",)
            . qq("event":"delivered","pad":"$pad"}});
        },
    };

    my @adyen = qw(pspReference originalReference merchantAccountCode
                   merchantReference value currency eventCode success);

    $p{adyen} = {
        header => 'Content-Type', in_body => 1, partial => 1,
        secret => '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2A'
                . 'CF6BA056',
        other => 'a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c'
               . '6d7e8f90',
        sign => sub { (['Content-Type', 'application/json']) },
        body => sub {
            my ($s, $tag, $pad, $now, %fields) = @_;
            my %item = (pspReference => $tag, merchantAccountCode => 'ERP',
                        merchantReference => "order-$tag",
                        amount => { value => 1130, currency => 'EUR' },
                        eventCode => 'AUTHORISATION', success => 'true',
                        pad => $pad, %fields);
            my %f = (%item, %{ $item{amount} });
            my $signed = join ':', map { $f{$_} // '' } @adyen;
            $item{additionalData} = { hmacSignature =>
                b64(hmac_sha256($signed, pack 'H*', $s)) };
            JSON::PP->new->canonical->encode({ live => 'false',
                notificationItems => [{ NotificationRequestItem => \%item }] });
        },
    };

    $p{braintree} = {
        header => 'Content-Type', in_body => 1, partial => 1,
        secret => 'pk1campaign:b1f0c0ffee0000000000000000000001',
        other => 'pk1campaign:b1f0c0ffee0000000000000000000002',
        sign => sub {
            (['Content-Type', 'application/x-www-form-urlencoded']);
        },
        body => sub {
            my ($s, $tag) = @_;
            my ($pub, $priv) = split /:/, $s, 2;
            my $payload = encode_base64("<notification><kind>check</kind>"
                . "<subject><id>$tag</id></subject></notification>\n");
            form_encode([bt_signature =>
                             "$pub|" . hmac_sha1_hex($payload, sha1($priv))],
                        [bt_payload => $payload], [tag => $tag],
                        [ref => "order-$tag"]);
        },
    };

    my @sns = qw(Message MessageId Subject Timestamp TopicArn Type);

    $p{sns} = {
        header => 'x-amz-sns-message-type', in_body => 1, partial => 1,
        secret => 'rsa', other => 'rsax',
        sign => sub {
            (['Content-Type', 'text/plain; charset=UTF-8'],
             ['x-amz-sns-message-type', 'Notification']);
        },
        body => sub {
            my ($s, $tag, $pad, $now, %fields) = @_;
            my %m = (Type => 'Notification', MessageId => $tag,
                     TopicArn => 'arn:aws:sns:eu-west-1:123456789012:erp',
                     Subject => 'Invoice posted',
                     Message => qq({"invoice":"$tag"}),
                     Timestamp => iso8601_ms($now), SignatureVersion => '2',
                     SigningCertURL => $SNS_URL, pad => $pad, %fields);
            $m{Signature} = $pkey_sign->($s, 'sha256',
                join '', map { "$_\n$m{$_}\n" } @sns);
            JSON::PP->new->canonical->encode(\%m);
        },
    };

    @{ $p{sendgrid} }{qw(secret other)} = ('ec', 'ecx');
    @{ $p{paypal} }{qw(secret other)} = ('rsa', 'rsax');
    $p{discord}{secret} = $ED_SEED;
    $p{discord}{other} = $ED_OTHER;
    $p{airtable}{secret} = b64(join '', map { chr } 0 .. 31);
    $p{airtable}{other} = b64(join '', map { chr } 1 .. 32);
    $p{gitlab}{partial} = 1;

    # the location lines

    for my $name (keys %p) {
        my $q = $p{$name};
        $q->{other} //= "$q->{secret}x";

        if ($name =~ /^(?:sendgrid|paypal|sns)$/) {
            my $url = { sendgrid => '', paypal => " url=$PAYPAL_URL",
                        sns => " url=$SNS_URL" }->{$name};
            $q->{conf} = "webhook_public_key file:%%TESTDIR%%/"
                       . "$q->{secret}.pem$url;\n";
        } elsif ($name eq 'discord') {
            $q->{conf} = "webhook_public_key $ED_PUB;\n";
        } else {
            $t->write_file("$name.secret", $q->{secret}, 0600);
            $q->{conf} = "webhook_secret file:%%TESTDIR%%/$name.secret;\n";
        }

        $q->{conf} = "webhook_verify $name;\n$q->{conf}";
    }

    $p{$_}{conf} .= "webhook_public_url https://hooks.example/$_;\n"
        for qw(twilio square hubspot trello);
    $p{paypal}{conf} .= "webhook_paypal_webhook_id $PAYPAL_WEBHOOK_ID;\n";
    $p{custom}{conf} .= "webhook_signature_header X-Custom-Signature;\n"
        . "webhook_signature_pattern \"sig=([0-9a-f]+)\";\n"
        . "webhook_signed_payload \"{body}\";\n";

    return %p;
}

1;
