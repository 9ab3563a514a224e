#!/usr/bin/perl

# Body handling (stripe preset): the body is hashed where nginx keeps it,
# memory or temp file, HTTP/1.1 content-length and chunked, HTTP/2; the
# upstream gets exactly the verified bytes.  Oversized bodies get 413.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(stripe_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'whsec_body_tests_6b1d0f3e9a2c';

$t->write_file('stripe.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       127.0.0.1:%%PORT_8081%% http2;
        server_name  localhost;

        client_body_buffer_size 16k;
        client_max_body_size 8m;

        location /hook {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /small {
            client_max_body_size 1k;
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub req {
    my ($body, %extra) = @_;
    return { path => '/hook', body => $body, headers => [
        ['Content-Type', 'application/octet-stream'],
        ['Stripe-Signature', stripe_header($secret, time, $body)],
    ], %extra };
}

# 1 MiB of pseudo-random bytes (deterministic), and every byte value

my $seed = 12345;
my $big = '';
while (length $big < 1048576) {
    $seed = ($seed * 1103515245 + 12345) % 2147483648;
    $big .= pack 'N', $seed;
}
$big = substr($big, 0, 1048576);

my $bytes = join '', map { chr } 0 .. 255;

my $json = '{"id":"evt_body_1","type":"charge.succeeded","data":{}}';

# content-length, in memory and spilled to a temp file

my $u = $t->is_forwarded(req($json), 'small JSON body');
is_deeply([@{ $t->vars($u) }{qw(verified id event)}],
    [1, 'evt_body_1', 'charge.succeeded'], 'small JSON body: variables');

$t->is_forwarded(req($big), '1 MiB body');

like($t->error_log, qr/a client request body is buffered to a temporary file/,
    '1 MiB body went through a temp file');

$t->is_forwarded(req($bytes), 'every byte value');
$t->is_forwarded(req($bytes x 4096), '1 MiB of every byte value');

$t->is_forwarded(req(''), 'empty body');

# chunked

$t->is_forwarded(req($big, chunked => 1, chunk_size => 8192),
    '1 MiB chunked');

$t->is_forwarded(req($bytes x 64, chunked => 1, chunk_size => 1000,
    chunk_delay => 0.05), 'chunked, arriving slowly');

$t->is_forwarded(req($json, chunked => 1, chunk_size => 7,
    chunk_delay => 0.01), 'small JSON body in tiny chunks');

# HTTP/2

my $h2 = $t->port(8081);

$t->is_forwarded(req($json, h2 => 1, port => $h2), 'h2c small body');
$t->is_forwarded(req($big, h2 => 1, port => $h2), 'h2c 1 MiB body');
$t->is_forwarded(req($bytes, h2 => 1, port => $h2, no_length => 1),
    'h2c without content-length');
$t->is_forwarded(req($big, h2 => 1, port => $h2, no_length => 1),
    'h2c 1 MiB without content-length');

# tampered large bodies

my $tampered = $big;
substr($tampered, -1, 1) = chr(ord(substr($tampered, -1)) ^ 1);

my $r = req($big);
$r->{body} = $tampered;
$t->is_rejected($r, 401, 'signature_mismatch', '1 MiB, last byte flipped');

$r = req($big, chunked => 1, chunk_size => 65536);
$r->{body} = $tampered;
$t->is_rejected($r, 401, 'signature_mismatch',
    '1 MiB chunked, last byte flipped');

$r = req($big, h2 => 1, port => $h2);
$r->{body} = substr($big, 1);
$t->is_rejected($r, 401, 'signature_mismatch', 'h2c 1 MiB, first byte cut');

# over client_max_body_size

my $four = 'x' x 4096;
my $n = $t->upstream_count;

$r = $t->http(path => '/small', body => $four, chunked => 1,
    chunk_size => 512, headers => [
        ['Stripe-Signature', stripe_header($secret, time, $four)],
    ]);
is($t->status($r), 413, 'chunked 4k over a 1k limit: 413');

$r = $t->http(path => '/small', body => $four, headers => [
    ['Stripe-Signature', stripe_header($secret, time, $four)],
]);
is($t->status($r), 413, 'content-length 4k over a 1k limit: 413');

# Over HTTP/2 nginx answers 413 while the client is still sending DATA
# frames and resets the stream; curl 7.88 then sometimes reports an empty
# reply or a stream error instead of the 413.  What matters here is that
# nginx refused the body as too large and nothing went upstream.

for my $h2_case (['with content-length', 0, qr/too large body: 4096 bytes/],
    ['without length', 1, qr/too large chunked body: \d+ bytes/])
{
    my ($name, $no_length, $logged) = @$h2_case;

    $t->h2(path => '/small', port => $h2, body => $four,
        no_length => $no_length,
        headers => [['Stripe-Signature', stripe_header($secret, time, $four)]]);

    like($t->error_log, qr/$logged.*"POST \/small HTTP\/2\.0"/,
        "h2c 4k $name over a 1k limit: refused as too large");
}

is($t->upstream_count, $n, 'oversized bodies not forwarded');

$t->is_forwarded({ path => '/small', body => $json, headers => [
    ['Stripe-Signature', stripe_header($secret, time, $json)],
] }, 'under the 1k limit');

$t->done_testing;

###############################################################################
