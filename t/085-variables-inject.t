#!/usr/bin/perl

# No module variable carries a control byte into the upstream.  Every byte
# below 0x20 and 0x7F, and every JSON escape that decodes to one, is sent
# through every request-sourced $webhook_id and $webhook_event of every
# preset (JSON body, header, the signed id header, a URL through $uri),
# in enforce mode (signed) and monitor mode (forged: nothing verified),
# with the proxy_set_header lines of the conf-examples.  The upstream must
# get one request with an intact header block and the exact body, and the
# values escaped as "\xNN" (the backslash too), the same in the log.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha256 hmac_sha256_hex hmac_sha1_hex);
use POSIX qw(strftime);

use Test::Webhook;
use Test::Webhook::Sign qw(:all);
use Test::Webhook::Ed25519 qw(ed25519_sign);
use Test::Webhook::Presets qw(presets);

###############################################################################

my $seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
my $pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
my $seed_other =
    '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';

my $secret = 'inject-test-secret-0123456789';
my $whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
my $url = 'https://erp.example/hook';

# the lines every conf-example forwards
my $proxy = <<'EOF';
            proxy_set_header X-Webhook-Provider $webhook_provider;
            proxy_set_header X-Webhook-Id       $webhook_id;
            proxy_set_header X-Webhook-Event    $webhook_event;
            proxy_pass http://%%UPSTREAM%%;
EOF

# name => [location lines, id source, event source]; a source is
# 'json:PATH', 'header:NAME' or 'uri'
my %p = (
    stripe    => ['', 'json', 'json'],
    standard  => ['', 'header', 'json'],
    slack     => ['', 'json', 'json'],
    razorpay  => ['', 'header', 'json'],
    meta      => ['', 'json', 'json'],
    paddle    => ['', 'json', 'json'],
    zoom      => ['', undef, 'json'],
    square    => ["webhook_public_url $url;", 'json', 'json'],
    hubspot   => ["webhook_public_url $url;", 'json', 'json'],
    typeform  => ['', 'json', 'json'],
    calendly  => ['', undef, 'json'],
    xero      => ['', undef, 'json'],
    intercom  => ['', 'json', 'json'],
    mailgun   => ['', 'json', 'json'],
    discord   => ['', 'json', 'json'],
    linear    => ['', 'header', 'header'],
    github    => ['', 'header', 'header'],
    shopify   => ['', 'header', 'header'],
    bitbucket => ['', 'header', 'header'],
    gitlab    => ['', 'header', 'header'],
    twitch    => ['', 'header', 'header'],
    twilio    => ["webhook_public_url $url;", 'header', undef],
    custom    => ['webhook_signature_header X-Sig;
            webhook_id $http_x_acme_id;
            webhook_event $uri;', 'header', 'uri'],
);

# The second wave, signed as t/lib/Test/Webhook/Presets.pm does: name =>
# [body, id source, event source], the body's %ID% and %EV% replaced by
# JSON string literals; a source is 'json' or 'header:NAME'.  Dropbox,
# Airtable and Braintree read neither variable from the request.
my %w2 = (
    intuit => ['{"eventNotifications":[{"realmId":"1","dataChangeEvent":'
               . '{"entities":[{"name":%EV%,"id":"1"}]}}]}', undef, 'json'],
    checkout => ['{"id":%ID%,"type":%EV%}', 'json', 'json'],
    gocardless => ['{"events":[{"id":"EV1","resource_type":%EV%}],'
                   . '"meta":{"webhook_id":%ID%}}', 'json', 'json'],
    paystack => ['{"event":%EV%,"data":{"id":1}}', undef, 'json'],
    lemonsqueezy => ['{"meta":{"event_name":%EV%},"data":{}}', undef, 'json'],
    coinbase => ['{"event":{"id":%ID%,"type":%EV%}}', 'json', 'json'],
    mux => ['{"type":%EV%,"id":%ID%}', 'json', 'json'],
    woocommerce => ['{"id":1}', 'header:X-WC-Webhook-Delivery-ID',
                    'header:X-WC-Webhook-Topic'],
    zendesk => ['{"type":%EV%}', 'header:X-Zendesk-Webhook-Invocation-Id',
                'json'],
    asana => ['{"events":[{"action":%EV%}]}', undef, 'json'],
    sentry => ['{"action":"created"}', 'header:Request-ID',
               'header:Sentry-Hook-Resource'],
    vercel => ['{"id":%ID%,"type":%EV%}', 'json', 'json'],
    frameio => ['{"type":%EV%}', undef, 'json'],
    trello => ['{"action":{"id":%ID%,"type":%EV%}}', 'json', 'json'],
    recurly => ['{"id":%ID%,"event_type":%EV%}', 'json', 'json'],
    box => ['{"trigger":%EV%}', 'header:box-delivery-id', 'json'],
    docusign => ['{"event":%EV%}', undef, 'json'],
    sendgrid => ['[{"sg_event_id":%ID%,"event":%EV%}]', 'json', 'json'],
    paypal => ['{"id":%ID%,"event_type":%EV%}', 'json', 'json'],
    clerk => ['{"type":%EV%}', 'header:svix-id', 'json'],
    resend => ['{"type":%EV%}', 'header:svix-id', 'json'],
    # the signature inside the body: the fields are set, then signed
    adyen => [undef, 'json', 'json'],
    sns => [undef, 'json', undef],
);

for my $name (keys %w2) {
    $p{$name} = [undef, map { defined $_ ? s/:.*//r : undef }
                            @{$w2{$name}}[1, 2]];
}

my $t = Test::Webhook->new;
my %P = presets($t);

$t->write_file('secret', $secret, 0600);
$t->write_file('whsec', $whsec, 0600);

my $locations = '';

for my $name (sort keys %w2) {
    my $conf = $P{$name}{conf} =~ s/^/            /gmr;

    for my $mode (qw(enforce monitor)) {
        $locations .= <<"EOF";
        location /$mode/$name {
$conf            webhook_mode $mode;
$proxy
        }

EOF
    }
}

for my $name (sort grep { !$w2{$_} } keys %p) {
    my $key = $name eq 'discord' ? "webhook_public_key $pub;"
            : $name eq 'standard' ? 'webhook_secret file:%%TESTDIR%%/whsec;'
            : 'webhook_secret file:%%TESTDIR%%/secret;';

    for my $mode (qw(enforce monitor)) {
        $locations .= <<"EOF";
        location /$mode/$name {
            webhook_verify $name;
            $key
            webhook_mode $mode;
            $p{$name}[0]
$proxy
        }

EOF
    }
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

# What the module must make of a value: "\xNN" for every control byte, DEL
# and the backslash; everything else as is.

sub esc {
    my ($s) = @_;
    $s =~ s/([\x00-\x1f\x7f\\])/sprintf('\\x%02x', ord $1)/ge;
    return $s;
}

# A JSON string literal's text for a decoded value: control bytes as
# \u00XX, except the short escapes where asked for.

sub jstr {
    my ($s, $short) = @_;
    my %short = ("\n" => '\n', "\r" => '\r', "\t" => '\t', "\b" => '\b',
                 "\f" => '\f');
    $s =~ s/(["\\])/\\$1/g;
    $s =~ s/([\x00-\x1f])/$short && $short{$1} ? $short{$1}
                                   : sprintf('\\u%04x', ord $1)/ge;
    $s =~ s/\x7f/\\u007f/g if $short;
    return qq("$s");
}

# The request of preset $name carrying $id and $event (decoded values),
# signed with the location's key, or forged.

sub request {
    my ($name, $mode, $id, $event, %o) = @_;

    return request2(@_) if $w2{$name};

    my $k = $mode eq 'enforce' ? $secret : 'forged-' . $secret;
    my $now = time;
    my $j = sub { jstr($_[0], $o{short}) };
    my (@h, $body);
    my $path = "/$mode/$name";

    if ($name eq 'stripe') {
        $body = '{"id":' . $j->($id) . ',"type":' . $j->($event) . '}';
        @h = (['Stripe-Signature', stripe_header($k, $now, $body)]);

    } elsif ($name eq 'standard') {
        $body = '{"type":' . $j->($event) . '}';
        @h = standard_headers($mode eq 'enforce' ? $whsec
                              : 'whsec_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
                              $id, $now, $body);

    } elsif ($name eq 'slack') {
        $body = '{"event_id":' . $j->($id) . ',"event":{"type":'
              . $j->($event) . '}}';
        @h = slack_headers($k, $now, $body);

    } elsif ($name eq 'razorpay') {
        $body = '{"event":' . $j->($event) . '}';
        @h = (['X-Razorpay-Signature', hmac_sha256_hex($body, $k)],
              ['X-Razorpay-Event-Id', $id]);

    } elsif ($name eq 'meta') {
        $body = '{"object":"page","entry":[{"id":"P1","changes":[{"value":'
              . '{"messages":[{"id":' . $j->($id) . '}]},"field":'
              . $j->($event) . '}]}]}';
        @h = (['X-Hub-Signature-256', 'sha256=' . hmac_sha256_hex($body, $k)]);

    } elsif ($name eq 'paddle') {
        $body = '{"notification_id":' . $j->($id) . ',"event_type":'
              . $j->($event) . '}';
        @h = (['Paddle-Signature',
               "ts=$now;h1=" . hmac_sha256_hex("$now:$body", $k)]);

    } elsif ($name eq 'zoom') {
        $body = '{"event":' . $j->($event) . '}';
        @h = (['x-zm-request-timestamp', $now],
              ['x-zm-signature', 'v0=' . hmac_sha256_hex("v0:$now:$body", $k)]);

    } elsif ($name eq 'square') {
        $body = '{"event_id":' . $j->($id) . ',"type":' . $j->($event) . '}';
        @h = (['x-square-hmacsha256-signature', square_sig($k, $url, $body)]);

    } elsif ($name eq 'hubspot') {
        $body = '[{"eventId":' . $j->($id) . ',"subscriptionType":'
              . $j->($event) . '}]';
        my $ms = $now * 1000;
        @h = (['X-HubSpot-Signature-v3',
               hubspot_sig($k, 'POST', $url, $body, $ms)],
              ['X-HubSpot-Request-Timestamp', $ms]);

    } elsif ($name eq 'typeform') {
        $body = '{"event_id":' . $j->($id) . ',"event_type":'
              . $j->($event) . '}';
        @h = (['Typeform-Signature', 'sha256=' . b64(hmac_sha256($body, $k))]);

    } elsif ($name eq 'calendly') {
        $body = '{"event":' . $j->($event) . '}';
        @h = (['Calendly-Webhook-Signature',
               "t=$now,v1=" . hmac_sha256_hex("$now.$body", $k)]);

    } elsif ($name eq 'xero') {
        $body = '{"events":[{"eventCategory":' . $j->($event) . '}]}';
        @h = (['x-xero-signature', b64(hmac_sha256($body, $k))]);

    } elsif ($name eq 'intercom') {
        $body = '{"id":' . $j->($id) . ',"topic":' . $j->($event) . '}';
        @h = (['X-Hub-Signature', 'sha1=' . hmac_sha1_hex($body, $k)]);

    } elsif ($name eq 'mailgun') {
        my $token = 'tok' . $now . int(rand 1e9);
        $body = '{"signature":{"token":"' . $token . '","timestamp":"' . $now
              . '","signature":"' . hmac_sha256_hex("$now$token", $k)
              . '"},"event-data":{"event":' . $j->($event) . ',"id":'
              . $j->($id) . '}}';

    } elsif ($name eq 'discord') {
        $body = '{"type":' . $j->($event) . ',"id":' . $j->($id) . '}';
        @h = (['X-Signature-Ed25519', unpack('H*', ed25519_sign(
                   $mode eq 'enforce' ? $seed : $seed_other, "$now$body"))],
              ['X-Signature-Timestamp', $now]);

    } elsif ($name eq 'linear') {
        $body = '{"type":"Issue","webhookTimestamp":' . ($now * 1000) . '}';
        @h = (['Linear-Delivery', $id], ['Linear-Event', $event],
              ['Linear-Signature', hmac_sha256_hex($body, $k)]);

    } elsif ($name eq 'github') {
        $body = '{"zen":"x"}';
        @h = (['X-GitHub-Delivery', $id], ['X-GitHub-Event', $event],
              ['X-Hub-Signature-256', github_header($k, $body)]);

    } elsif ($name eq 'shopify') {
        $body = '{"id":1}';
        @h = (['X-Shopify-Event-Id', $id], ['X-Shopify-Topic', $event],
              ['X-Shopify-Hmac-Sha256', shopify_header($k, $body)]);

    } elsif ($name eq 'bitbucket') {
        $body = '{"repository":{}}';
        @h = (['X-Request-UUID', $id], ['X-Event-Key', $event],
              ['X-Hub-Signature', 'sha256=' . hmac_sha256_hex($body, $k)]);

    } elsif ($name eq 'gitlab') {
        $body = '{"object_kind":"push"}';
        @h = (['Idempotency-Key', $id], ['X-Gitlab-Event', $event],
              ['X-Gitlab-Token', $k]);

    } elsif ($name eq 'twitch') {
        $body = '{"event":{}}';
        my $ts = strftime('%Y-%m-%dT%H:%M:%SZ', gmtime $now);
        @h = (['Twitch-Eventsub-Message-Id', $id],
              ['Twitch-Eventsub-Message-Timestamp', $ts],
              ['Twitch-Eventsub-Subscription-Type', $event],
              ['Twitch-Eventsub-Message-Signature',
               'sha256=' . hmac_sha256_hex("$id$ts$body", $k)]);

    } elsif ($name eq 'twilio') {
        my @pairs = (['CallSid', 'CA1'], ['From', '+15550001']);
        $body = form_encode(@pairs);
        @h = (['Content-Type', 'application/x-www-form-urlencoded'],
              ['I-Twilio-Idempotency-Token', $id],
              ['X-Twilio-Signature', twilio_sig($k, $url, @pairs)]);

    } else { # custom
        $body = '{"any":"thing"}';
        @h = (['X-Sig', hmac_sha256_hex($body, $k)], ['X-Acme-Id', $id]);
        $path .= '/' . $o{uri} if defined $o{uri};
    }

    unshift @h, ['Content-Type', 'application/json']
        unless $name eq 'twilio';

    return { path => $path, body => $body, headers => \@h };
}

# The same for the second wave.  A header source's value is the one the
# request carries (Svix's id is signed: "msg_" and the id); {expect}
# holds what the variables must then read.

sub request2 {
    my ($name, $mode, $id, $event, %o) = @_;

    my $p = $P{$name};
    my $key = $mode eq 'enforce' ? $p->{secret} : $p->{other};
    my ($tmpl, $idsrc, $evsrc) = @{$w2{$name}};
    my $now = time;
    my $body;

    if ($name eq 'adyen') {
        $body = $p->{body}->($key, 'x1', '', $now, pspReference => $id,
                             eventCode => $event);
    } elsif ($name eq 'sns') {
        $body = $p->{body}->($key, 'x1', '', $now, MessageId => $id);
    } else {
        $body = $tmpl =~ s/%ID%/jstr($id, $o{short})/er
                      =~ s/%EV%/jstr($event, $o{short})/er;
    }

    my @h = $p->{sign}->($key, $body, $now,
                         ($idsrc // '') =~ /^header:/ ? $id : 'x1');
    my %expect = (id => $id, event => $event);

    for (['id', $idsrc, $id], ['event', $evsrc, $event]) {
        my ($var, $src, $value) = @$_;
        next unless ($src // '') =~ /^header:(.*)/;
        my $header = $1;
        my ($set) = grep { lc $_->[0] eq lc $header } @h;
        if ($set && $var eq 'id') {
            $expect{id} = $set->[1];        # a header the signature made
        } elsif ($set) {
            $set->[1] = $value;
        } else {
            push @h, [$header, $value];
        }
    }

    push @h, ['Content-Type', 'application/json']
        unless grep { lc $_->[0] eq 'content-type' } @h;

    return { path => "/$mode/$name", body => $body, headers => \@h,
             expect => \%expect };
}

# The request got through (200), the upstream got exactly one request with
# the exact body, a header block of well-formed lines, no header it was not
# meant to get, and the variables escaped.

my $smuggled = 0;

sub check {
    my ($name, $mode, $req, $id, $event, $what) = @_;

    $t->upstream_reset;

    my $r = $t->http(%$req);
    my $tag = "$name $mode: $what";

    is($r->{status}, 200, "$tag: passes") or return;

    $t->wait_until(sub { $t->upstream_count > 0 }, timeout => 5);

    my @u = @{$t->upstream_requests};
    $smuggled++ if grep { $_->{uri} =~ m{^/smuggled} } @u;
    is(scalar @u, 1, "$tag: one request at the upstream") or return;
    my $u = $u[0];

    is($u->{body}, $req->{body}, "$tag: the body is intact");

    # the client's own header lines go through as they came
    my %sent = map { lc($_->[0]) . ": $_->[1]" => 1 } @{$req->{headers}};
    my @lines = split /\r\n/, $u->{head};
    shift @lines;   # the request line

    my @bad = grep {
        !(/^([^:]+): (.*)$/ && $sent{lc($1) . ": $2"})
        && !/^(Host|Connection|Content-Length|X-Webhook-(Provider|Id|Event)):
              \ [\x20-\x7e]*$/x
    } @lines;

    is_deeply(\@bad, [], "$tag: no foreign header line at the upstream");

    my $h = $u->{headers};

    $id = $req->{expect}{id} if defined $id && $req->{expect};
    $event = $req->{expect}{event} if defined $event && $req->{expect};

    is($h->{'x-webhook-id'} // '', esc($id), "$tag: \$webhook_id escaped")
        if defined $id;
    is($h->{'x-webhook-event'} // '', esc($event),
       "$tag: \$webhook_event escaped") if defined $event;

    return $u;
}

###############################################################################

my @ctl = (0x01 .. 0x1f, 0x7f);

# header values: nginx itself refuses NUL, CR and LF there
my @hctl = grep { $_ != 0x0a && $_ != 0x0d } @ctl;

my $all = 'a' . join('', map { chr($_) . 'b' } @ctl) . '\\z';
my $hall = 'a' . join('', map { chr($_) . 'b' } @hctl) . '\\z';

my $smuggle_id = "evt_1\r\nX-Injected: yes";
my $smuggle_event = "x\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: internal";

for my $name (sort keys %p) {
    my ($idsrc, $evsrc) = @{$p{$name}}[1, 2];

    for my $mode (qw(enforce monitor)) {

        for my $short (0, 1) {
            my $id = !defined $idsrc ? undef
                   : $idsrc eq 'json' ? "id-$all" : "id-$hall";
            my $event = !defined $evsrc ? undef
                      : $evsrc eq 'json' ? "ev-$all"
                      : $evsrc eq 'header' ? "ev-$hall" : undef;

            next if $short && !grep { defined $_ && $_ eq 'json' }
                                    ($idsrc, $evsrc);

            check($name, $mode,
                  request($name, $mode, $id // 'id-plain',
                          $event // 'ev-plain', short => $short),
                  $id, $event,
                  $short ? 'JSON short escapes' : 'every control byte');
        }

        next unless grep { defined $_ && $_ eq 'json' } ($idsrc, $evsrc);

        my $id = ($idsrc // '') eq 'json' ? $smuggle_id : undef;
        my $event = ($evsrc // '') eq 'json' ? $smuggle_event : undef;

        check($name, $mode,
              request($name, $mode, $id // 'id-plain', $event // 'ev-plain',
                      short => 1),
              $id, $event, 'a header and a request smuggled in');
    }
}

# one byte at a time, through a JSON field (both forms of escape) and a
# header, in both modes

for my $mode (qw(enforce monitor)) {
    for my $c (@ctl) {
        my $v = sprintf("v%02x%sv", $c, chr $c);

        for my $short (0, 1) {
            check('stripe', $mode,
                  request('stripe', $mode, $v, $v, short => $short),
                  $v, $v, sprintf('0x%02x in JSON%s', $c,
                                  $short ? ' (short)' : ''));
        }

        next if $c == 0x0a || $c == 0x0d;

        check('github', $mode, request('github', $mode, $v, $v), $v, $v,
              sprintf('0x%02x in a header', $c));
    }
}

# \u0000 in a JSON field: either the body has no fields, or the NUL is
# escaped; never a raw NUL

for my $mode (qw(enforce monitor)) {
    my $r = $t->http(%{request('stripe', $mode, "n\x00ul", "n\x00ul")});
    is($r->{status}, 200, "stripe $mode: \\u0000 passes");
    my $h = $t->upstream_last->{headers};
    ok(($h->{'x-webhook-id'} // '\\x00') =~ /^(n\\x00ul|\\x00)$/,
       "stripe $mode: \\u0000 is not forwarded raw");
}

# URL: $uri is percent-decoded by nginx, so "%0D%0A" is a CR LF there

for my $mode (qw(enforce monitor)) {
    my $uri = "a%0D%0AX-Injected:%20yes%0D%0A%0D%0AGET%20/smuggled%01%7F";
    check('custom', $mode,
          request('custom', $mode, 'id-plain', undef, uri => $uri),
          'id-plain', "/$mode/custom/a\r\nX-Injected: yes\r\n\r\n"
                      . "GET /smuggled\x01\x7f",
          'a header and a request in the decoded URI');
}

is($smuggled, 0, 'no smuggled request ever reached the upstream');

# a header carrying CR or LF never gets that far: nginx refuses it itself

my $r = $t->http(request => "POST /enforce/github HTTP/1.1\r\n"
    . "Host: localhost\r\nX-GitHub-Delivery: a\rX-Injected: yes\r\n"
    . "Content-Length: 0\r\nConnection: close\r\n\r\n");
is($r->{status}, 400, 'a bare CR in a header: nginx answers 400');

# the log shows the id as the variable does: escaped, on one line

my $log = $t->error_log;
unlike($log, qr/^(X-Injected|GET)/m, 'no line of the error log was forged');
like($log, qr/would reject: signature_mismatch .* id "v0a\\x0av"/,
     'the log shows the id as \$webhook_id holds it');

$t->done_testing;

###############################################################################
