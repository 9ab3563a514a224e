#!/usr/bin/perl

# The status location honours webhook_allow_ip, set in it or inherited
# from its server: other addresses get 403 ip_not_allowed (JSON, or the
# location's error_page), and no counter leaves nginx.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file('github.secret', 'status-allow-secret', 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       [::1]:%%PORT_8080%%;
        server_name  localhost;

        # the server's allowlist: not this client
        webhook_allow_ip 10.0.0.0/8;

        location /hook {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }

        location = /status-local {
            webhook_status;
            webhook_allow_ip 127.0.0.0/8;
        }

        location = /status-all {
            webhook_status;
            webhook_allow_ip all;
        }

        location = /status-v6 {
            webhook_status;
            webhook_allow_ip ::1;
        }

        location = /status-page {
            webhook_status;
            error_page 403 /denied;
        }

        location = /denied {
            return 403 "go away\n";
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        location = /status {
            webhook_status;
        }
    }
}

EOF

$t->run;

###############################################################################

my $denied = '{"error":"ip_not_allowed","status":403}';

my ($json, $r) = $t->status_json('/status');
is($r->{status}, 403, 'inherited allowlist: the status location answers 403');
is($r->{body}, $denied, 'inherited allowlist: ip_not_allowed, nothing else');
like($r->{headers}{'content-type'} // '', qr{^application/json},
     'inherited allowlist: as JSON');

(undef, $r) = $t->status_prometheus('/status');
is($r->{status}, 403, 'inherited allowlist: Prometheus format refused too');
unlike($r->{body}, qr/nginx_webhook/, 'inherited allowlist: no metric leaks');

$r = $t->http(method => 'POST', path => '/status', body => 'x');
is($r->{status}, 403, 'inherited allowlist: POST refused by the allowlist');

($json, $r) = $t->status_json('/status-local');
is($r->{status}, 200, 'allowed here: 200');
ok($json && exists $json->{locations}{'/hook'},
   'allowed here: the counters');

($json, $r) = $t->status_json('/status-all');
is($r->{status}, 200, 'webhook_allow_ip all: 200');

(undef, $r) = $t->status_json('/status-v6');
is($r->{status}, 403, 'an IPv6-only list: IPv4 client refused');
($json, $r) = $t->status_json('/status-v6', addr => '::1');
is($r->{status}, 200, 'an IPv6-only list: ::1 allowed');

(undef, $r) = $t->status_json('/status-page');
is($r->{status}, 403, 'error_page 403: still 403');
is($r->{body}, "go away\n", 'error_page 403: its body');

($json, $r) = $t->status_json('/status', port => $t->port(8081));
is($r->{status}, 200, 'no allowlist at all: 200');

my $line = 'webhook rejected: ip_not_allowed (403), status location, '
         . 'client 127.0.0.1';
like($t->error_log, qr/\Q$line\E/, 'the refusal is logged');

$t->done_testing;

###############################################################################
