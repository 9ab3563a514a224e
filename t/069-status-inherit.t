#!/usr/bin/perl

# The status location is never verified nor counted, even when it
# inherits webhook_verify (and a limit) from its server.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file('github.secret', 'status-inherit-secret', 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_limit_zone zone=one:64k key=$remote_addr rate=1r/m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        webhook_verify github;
        webhook_secret file:%%TESTDIR%%/github.secret;
        webhook_limit zone=one;

        location /hook {
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$t->run;

###############################################################################

for my $i (1 .. 3) {
    my ($json, $r) = $t->status_json;
    is($r->{status}, 200, "status request $i answers 200, unsigned and "
        . 'past a 1r/m limit');
    ok($json && !exists $json->{locations}{'/status'},
        "status request $i: the status location is not listed");
}

my $r = $t->http(path => '/hook', body => '{}');
is($r->{status}, 401, 'the inherited verification still applies elsewhere');

$t->done_testing;

###############################################################################
