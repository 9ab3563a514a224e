#!/usr/bin/perl

# Subrequests fail closed.  A subrequest (auth_request, SSI) has no body
# of its own, so a location with webhook_verify reached as one refuses it
# with 403 subrequest_unsupported instead of skipping the check; the
# allowlist, which needs only the client's address, applies to it.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'subrequest-tests-secret-8899';

$t->write_file('github.secret', $secret, 0600);
$t->write_file('page.html',
    "before|<!--# include virtual=\"/verify-ssi\" -->|after\n");

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /hook {
            auth_request /verify;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /verify {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /monitored {
            auth_request /verify-monitor;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /verify-monitor {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_mode monitor;
            proxy_pass_request_body off;
            proxy_set_header Content-Length "";
            proxy_pass http://%%UPSTREAM%%;
        }

        location /gate {
            auth_request /allow;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /allow {
            webhook_allow_ip 192.0.2.0/24;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /page.html {
            ssi on;
            root %%TESTDIR%%;
        }

        location = /verify-ssi {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $body = '{"action":"opened","number":9}';
my @signed = (['X-Hub-Signature-256', github_header($secret, $body)]);

# auth_request into a verifying location: refused, nothing forwarded

my $r = $t->http(path => '/hook', body => $body, headers => \@signed);
is($r->{status}, 403, 'auth_request into webhook_verify: 403');
is($t->upstream_count, 0, 'auth_request: nothing forwarded');
like($t->error_log,
    qr/webhook rejected: subrequest_unsupported \(403\)/,
    'auth_request: the reason is logged');

# monitor mode records it and lets it go, as for any other check

$r = $t->http(path => '/monitored', body => $body, headers => \@signed);
is($r->{status}, 200, 'monitor: the subrequest goes on');
like($t->error_log,
    qr/webhook would reject: subrequest_unsupported/,
    'monitor: the would-be reason is logged');

# the allowlist applies to a subrequest

$t->upstream_reset;
$r = $t->http(path => '/gate', body => $body);
is($r->{status}, 403, 'auth_request into webhook_allow_ip: 403');
is($t->upstream_count, 0, 'allowlist: nothing forwarded');

# SSI: the include is refused, with the JSON reason in its place

$r = $t->http(method => 'GET', path => '/page.html');
is($r->{status}, 200, 'ssi: the page');
like($r->{body},
    qr/before\|\{"error":"subrequest_unsupported","status":403\}\|after/,
    'ssi: the include is refused');
is($t->upstream_count, 0, 'ssi: nothing forwarded');

$t->done_testing;

###############################################################################
