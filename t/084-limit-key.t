#!/usr/bin/perl

# The key of a webhook_limit_zone: a key longer than 65535 bytes cannot
# be counted, so the request is refused (429 rate_limited) instead of
# passing uncounted; an empty key is not limited, as with limit_req.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    large_client_header_buffers 4 128k;

    webhook_limit_zone zone=bykey:1m key=$http_x_key rate=1r/m;
    webhook_limit_zone zone=dry:1m key=$http_x_key rate=1r/m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /limited {
            webhook_limit zone=bykey;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /dry {
            webhook_limit zone=dry dry_run;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $body = '{"n":1}';
my $long = 'k' x 70000;

for my $i (1 .. 3) {
    $t->is_rejected({ path => '/limited', body => $body,
                      headers => [['X-Key', $long]] },
        429, 'rate_limited', "a key over 65535 bytes ($i): refused");
}

like($t->error_log, qr/key of limit zone "bykey" is longer than 65535 bytes/,
    'the long key is logged');

# a key of 65535 bytes is a key like any other

my $edge = 'e' x 65535;
$t->is_forwarded({ path => '/limited', body => $body,
                   headers => [['X-Key', $edge]] }, '65535 bytes: counted');
$t->is_rejected({ path => '/limited', body => $body,
                  headers => [['X-Key', $edge]] },
    429, 'rate_limited', '65535 bytes: the second is over the limit');

# an empty key is not limited

for my $i (1 .. 3) {
    $t->is_forwarded({ path => '/limited', body => $body },
        "empty key $i: not limited");
}

# dry_run: only the would-be reason

my $u = $t->is_forwarded({ path => '/dry', body => $body,
                           headers => [['X-Key', $long]] },
    'dry_run, long key: goes on');
is($t->vars($u)->{reason}, 'rate_limited', 'dry_run: the would-be reason');

$t->done_testing;

###############################################################################
