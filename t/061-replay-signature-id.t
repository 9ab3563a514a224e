#!/usr/bin/perl

# A scheme without a delivery id (Xero) is deduplicated on the verified
# signature itself: the same signed body again is a duplicate, another
# body is not.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(hmac_sha256_base64);

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'xero_replay_key_0123456789abcdef';

$t->write_file('xero.secret', $secret, 0600);

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

        location /xero {
            webhook_verify xero;
            webhook_secret file:%%TESTDIR%%/xero.secret;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub xero {
    my ($body) = @_;
    my $sig = hmac_sha256_base64($body, $secret);
    $sig .= '=' while length($sig) % 4;
    return { path => '/xero', body => $body,
             headers => [['x-xero-signature', $sig]] };
}

my $one = '{"events":[{"eventCategory":"INVOICE"}],"entropy":"AAAA"}';
my $two = '{"events":[{"eventCategory":"INVOICE"}],"entropy":"BBBB"}';

$t->is_forwarded(xero($one), 'first delivery forwarded');

my $n = $t->upstream_count;
my $r = $t->request(%{ xero($one) });
is($r->{status}, 200, 'same signed body again: 200');
is($r->{body}, '{"status":"duplicate"}', 'same signed body again: duplicate');
is($t->upstream_count, $n, 'same signed body again: not forwarded');

$t->is_forwarded(xero($two), 'another body is another delivery');

$t->done_testing;

###############################################################################
