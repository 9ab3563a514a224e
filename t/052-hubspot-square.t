#!/usr/bin/perl

# The schemes that sign the URL with the body: hubspot (v3: method + URL +
# body + millisecond timestamp) and square (notification URL + body), with
# webhook_public_url: the default, a fixed URL, and the TLS-terminating
# balancer example; a URL one character off is signature_mismatch.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(hubspot_sig square_sig);

###############################################################################

my $t = Test::Webhook->new;

my $hs = 'hubspot-client-secret-0123-4567-89ab';
my $sq = 'sq_sig_key_0123456789abcdefABCD';

$t->write_file('hubspot.secret', $hs, 0600);
$t->write_file('square.secret', $sq, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /hs-vector {
            webhook_verify hubspot;
            webhook_secret file:%%TESTDIR%%/hubspot.secret;
            webhook_timestamp_tolerance 0;
            webhook_public_url "https://example.com/webhooks/hubspot?portal=123";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /hs-vector-off-by-one {
            webhook_verify hubspot;
            webhook_secret file:%%TESTDIR%%/hubspot.secret;
            webhook_timestamp_tolerance 0;
            webhook_public_url "https://example.com/webhooks/hubspot?portal=124";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /hs {
            webhook_verify hubspot;
            webhook_secret file:%%TESTDIR%%/hubspot.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /hs-lb {
            webhook_verify hubspot;
            webhook_secret file:%%TESTDIR%%/hubspot.secret;
            webhook_public_url "https://erp.example.com$request_uri";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sq-vector {
            webhook_verify square;
            webhook_secret file:%%TESTDIR%%/square.secret;
            webhook_public_url "https://example.com/webhooks/square";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sq-vector-slash {
            webhook_verify square;
            webhook_secret file:%%TESTDIR%%/square.secret;
            webhook_public_url "https://example.com/webhooks/square/";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sq {
            webhook_verify square;
            webhook_secret file:%%TESTDIR%%/square.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sq-lb {
            webhook_verify square;
            webhook_secret file:%%TESTDIR%%/square.secret;
            webhook_public_url "https://erp.example.com$request_uri";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub hubspot {
    my ($path, $body, $sig, $ts, %o) = @_;
    my @h = (['Content-Type', 'application/json']);
    push @h, ['X-HubSpot-Signature-v3', $sig] if defined $sig;
    push @h, ['X-HubSpot-Request-Timestamp', $ts] if defined $ts;
    return { path => $path, body => $body, headers => \@h,
             method => $o{method} // 'POST' };
}

my $hbody = '[{"eventId":100,"subscriptionId":200,"portalId":300,'
          . '"occurredAt":1700000000000,"subscriptionType":"contact.creation",'
          . '"attemptNumber":0,"objectId":123}]';
my $hsig = '42UmhxMd3r3SbEkP/HttoCF26+RkaP2jXoqsUHMFcKk=';
my $u;

is(hubspot_sig($hs, 'POST', 'https://example.com/webhooks/hubspot?portal=123',
    $hbody, '1700000000000'), $hsig, 'hubspot: the vector, recomputed');

$u = $t->is_forwarded(hubspot('/hs-vector', $hbody, $hsig, '1700000000000'),
    'hubspot: vector');
is_deeply($t->vars($u), {
    provider => 'hubspot', verified => 1, id => 100,
    event => 'contact.creation', timestamp => 1700000000, secret_index => 1,
    reason => '',
}, 'hubspot: vector: variables (the first event of the array)');

$t->is_rejected(hubspot('/hs-vector-off-by-one', $hbody, $hsig,
    '1700000000000'), 401, 'signature_mismatch',
    'hubspot: vector, URL one character off');

$t->is_rejected(hubspot('/hs-vector', $hbody, $hsig, '1700000000001'),
    401, 'signature_mismatch', 'hubspot: vector, timestamp + 1 ms');

$t->is_rejected(hubspot('/hs-vector', $hbody, $hsig, '1700000000000',
    method => 'PUT'), 401, 'signature_mismatch',
    'hubspot: vector, another method');

$t->is_rejected(hubspot('/hs-vector', $hbody . ' ', $hsig, '1700000000000'),
    401, 'signature_mismatch', 'hubspot: vector, body + " "');

# fresh: the default public URL is $scheme://$http_host$request_uri (the
# harness sends "Host: localhost")

my $ms = time * 1000 + 123;
my $url = 'http://localhost/hs/events?portal=7';

$u = $t->is_forwarded(hubspot('/hs/events?portal=7', $hbody,
    hubspot_sig($hs, 'POST', $url, $hbody, $ms), $ms), 'hubspot: fresh');
is($t->vars($u)->{timestamp}, int($ms / 1000),
    'hubspot: $webhook_timestamp in seconds');

$t->is_rejected(hubspot('/hs/events?portal=8', $hbody,
    hubspot_sig($hs, 'POST', $url, $hbody, $ms), $ms),
    401, 'signature_mismatch', 'hubspot: fresh, URL one character off');

$t->is_rejected(hubspot('/hs/events?portal=7', $hbody,
    hubspot_sig('wrong-secret', 'POST', $url, $hbody, $ms), $ms),
    401, 'signature_mismatch', 'hubspot: fresh, wrong secret');

my $old = $ms - 400_000;
$t->is_rejected(hubspot('/hs/events?portal=7', $hbody,
    hubspot_sig($hs, 'POST', $url, $hbody, $old), $old),
    401, 'timestamp_expired', 'hubspot: 400 s old');

my $new = $ms + 400_000;
$t->is_rejected(hubspot('/hs/events?portal=7', $hbody,
    hubspot_sig($hs, 'POST', $url, $hbody, $new), $new),
    401, 'timestamp_future', 'hubspot: 400 s ahead');

$t->is_rejected(hubspot('/hs/events?portal=7', $hbody,
    hubspot_sig($hs, 'POST', $url, $hbody, '')),
    400, 'timestamp_missing', 'hubspot: no timestamp');

$t->is_rejected(hubspot('/hs/events?portal=7', $hbody, undef, $ms),
    401, 'signature_missing', 'hubspot: no signature');

$t->is_rejected(hubspot('/hs/events?portal=7', $hbody, 'AAAA', $ms),
    400, 'signature_malformed', 'hubspot: signature of the wrong length');

# behind a TLS-terminating balancer

$t->is_forwarded(hubspot('/hs-lb/x?y=1', $hbody,
    hubspot_sig($hs, 'POST', 'https://erp.example.com/hs-lb/x?y=1', $hbody,
                $ms), $ms), 'hubspot: balancer');

$t->is_rejected(hubspot('/hs-lb/x?y=1', $hbody,
    hubspot_sig($hs, 'POST', 'http://erp.example.com/hs-lb/x?y=1', $hbody,
                $ms), $ms), 401, 'signature_mismatch',
    'hubspot: balancer, signed with http');

###############################################################################

sub square {
    my ($path, $body, $sig) = @_;
    my @h = (['Content-Type', 'application/json']);
    push @h, ['x-square-hmacsha256-signature', $sig] if defined $sig;
    return { path => $path, body => $body, headers => \@h };
}

my $sbody = '{"merchant_id":"6SSW7HV8K2ST5","type":"payment.created",'
          . '"event_id":"13b867cf-db3d-4b1c-90b6-2f32a9d78124",'
          . '"created_at":"2023-11-14T22:13:20Z","data":{"type":"payment",'
          . '"id":"KkAkhdMs"}}';
my $ssig = 'gnc8QYWMYogOC1stlmnZ8Xf4RBvl96qSPX+AdXsiHIA=';

$u = $t->is_forwarded(square('/sq-vector', $sbody, $ssig), 'square: vector');
is_deeply($t->vars($u), {
    provider => 'square', verified => 1,
    id => '13b867cf-db3d-4b1c-90b6-2f32a9d78124', event => 'payment.created',
    timestamp => '', secret_index => 1, reason => '',
}, 'square: vector: variables');

$t->is_rejected(square('/sq-vector-slash', $sbody, $ssig),
    401, 'signature_mismatch', 'square: vector, URL with a trailing "/"');

$t->is_rejected(square('/sq-vector', $sbody . "\n", $ssig),
    401, 'signature_mismatch', 'square: vector, body + newline');

$t->is_rejected(square('/sq-vector', $sbody,
    'v3ho4BAVYp6wV9LQ09y71zOah74='), 400, 'signature_malformed',
    'square: the legacy SHA-1 signature in the SHA-256 header');

$t->is_rejected(square('/sq-vector', $sbody), 401, 'signature_missing',
    'square: no signature');

$url = 'http://localhost/sq/notify';

$t->is_forwarded(square('/sq/notify', $sbody,
    square_sig($sq, $url, $sbody)), 'square: fresh');

$t->is_rejected(square('/sq/notifz', $sbody,
    square_sig($sq, $url, $sbody)), 401, 'signature_mismatch',
    'square: fresh, URL one character off');

$t->is_rejected(square('/sq/notify', $sbody,
    square_sig('wrong-key', $url, $sbody)), 401, 'signature_mismatch',
    'square: fresh, wrong key');

$t->is_forwarded(square('/sq-lb/notify', $sbody,
    square_sig($sq, 'https://erp.example.com/sq-lb/notify', $sbody)),
    'square: balancer');

$t->is_rejected(square('/sq-lb/notify', $sbody,
    square_sig($sq, 'http://localhost/sq-lb/notify', $sbody)),
    401, 'signature_mismatch', 'square: balancer, the internal URL');

is($t->upstream_count, 6, 'only the valid requests were forwarded');

$t->done_testing;

###############################################################################
