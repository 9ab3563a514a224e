#!/usr/bin/perl

# webhook_handshake: Asana's endpoint handshake (a POST carrying
# X-Hook-Secret, without X-Hook-Signature and without a body) reaches the
# upstream unverified only where webhook_handshake is on, and only in
# exactly that shape; the upstream answers it (echoes the header), and
# the answer goes back.  Anything else without a signature is refused as
# before: a body, a chunked or unknown-length body, a second X-Hook-Secret,
# an empty, overlong or non-printable value, another preset, the
# directive off.  Events signed with the handshake's secret then pass.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha256_hex);

use Test::Webhook;

###############################################################################

my $secret = '8a8b0f5cd5a3e4c0e1b2f7d6a9c8b7e6';

my $t = Test::Webhook->new;

$t->write_file('asana.secret', $secret, 0600);
$t->write_file('github.secret', 'github-secret-0123', 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /asana {
            webhook_verify asana;
            webhook_secret file:%%TESTDIR%%/asana.secret;
            webhook_handshake on;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /asana-off {
            webhook_verify asana;
            webhook_secret file:%%TESTDIR%%/asana.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_handshake on;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $new = 'f00dfacef00dfacef00dfacef00dface';

# the handshake: forwarded, unverified, the header as sent, no body

{
    my $n = $t->upstream_count;
    my $r = $t->http(path => '/asana', body => '',
                     headers => [['X-Hook-Secret', $new]]);
    is($r->{status}, 200, 'handshake: answered by the upstream');
    is($t->upstream_count, $n + 1, 'handshake: forwarded once');
    my $u = $t->upstream_last;
    is($u->{headers}{'x-hook-secret'}, $new, 'handshake: X-Hook-Secret as sent');
    is($u->{body}, '', 'handshake: no body');
    is_deeply([@{ $t->vars($u) }{qw(provider verified reason)}],
              ['asana', 0, ''], 'handshake: $webhook_verified 0');
}

# HTTP/1.1 without Content-Length: no body by definition

{
    my $n = $t->upstream_count;
    my $r = $t->http(request => "POST /asana HTTP/1.1\r\nHost: localhost\r\n"
                              . "X-Hook-Secret: $new\r\n"
                              . "Connection: close\r\n\r\n");
    is($r->{status}, 200, 'handshake without Content-Length: forwarded');
    is($t->upstream_count, $n + 1, 'handshake without Content-Length: once');
}

# every other shape without a signature is refused, nothing forwarded

my @refused = (
    ['with a body', { body => '{"events":[]}',
                      headers => [['X-Hook-Secret', $new]] }],
    ['chunked', { body => '', chunked => 1,
                  headers => [['X-Hook-Secret', $new]] }],
    ['chunked with a body', { body => '{"events":[]}', chunked => 1,
                              headers => [['X-Hook-Secret', $new]] }],
    ['two X-Hook-Secret', { body => '', headers => [
        ['X-Hook-Secret', $new], ['X-Hook-Secret', 'other']] }],
    ['an empty X-Hook-Secret', { body => '',
                                 headers => [['X-Hook-Secret', '']] }],
    ['a space in X-Hook-Secret', { body => '',
                                   headers => [['X-Hook-Secret', 'a b']] }],
    ['257 characters', { body => '',
                         headers => [['X-Hook-Secret', 'a' x 257]] }],
    ['no X-Hook-Secret', { body => '' }],
);

for my $case (@refused) {
    $t->is_rejected({ path => '/asana', %{ $case->[1] } }, 401,
                    'signature_missing', "handshake $case->[0]");
}

$t->is_rejected({ path => '/asana-off', body => '',
                  headers => [['X-Hook-Secret', $new]] },
                401, 'signature_missing', 'handshake: webhook_handshake off');
$t->is_rejected({ path => '/github', body => '',
                  headers => [['X-Hook-Secret', $new]] },
                401, 'signature_missing', 'handshake: a preset without one');

# 256 characters are a handshake

{
    my $r = $t->http(path => '/asana', body => '',
                     headers => [['X-Hook-Secret', 'a' x 256]]);
    is($r->{status}, 200, 'handshake: 256 characters');
}

# a signature present: verified as always, X-Hook-Secret or not

{
    my $body = '{"events":[{"action":"added"}]}';
    $t->is_rejected({ path => '/asana', body => $body,
                      headers => [['X-Hook-Secret', $new],
                                  ['X-Hook-Signature', '0' x 64]] },
                    401, 'signature_mismatch',
                    'handshake header with a bad signature');
    my $u = $t->is_forwarded({ path => '/asana', body => $body,
        headers => [['X-Hook-Signature', hmac_sha256_hex($body, $secret)]] },
        'an event signed with the secret');
    is_deeply([@{ $t->vars($u) }{qw(verified event)}], [1, 'added'],
              'event: verified');
}

done_testing();
