#!/usr/bin/perl

# Internal redirects (error_page to a named location, try_files) re-run
# the phases in a location that verifies too, under the same verification
# configuration here: a pass is re-used (not judged, counted or logged
# again), and a refusal stands, whatever the error_page says.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'redirect-tests-secret-0123';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        # every location below verifies, inherited from the server
        webhook_verify github;
        webhook_secret file:%%TESTDIR%%/github.secret;

        location /hook {
            error_page 401 = @judged;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # proxied, so it runs the preaccess phase (a "return" would answer
        # in the rewrite phase, before the module could look again)
        location @judged {
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /try {
            root %%TESTDIR%%;
            try_files /nonexistent @proxy;
        }

        location @proxy {
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $body = '{"action":"opened","number":7}';

sub rejections {
    my @lines = $t->error_log =~ /webhook rejected: /g;
    return scalar @lines;
}

# a bad signature: 401, error_page to a named location that verifies: the
# refusal stands there (it never becomes a pass by a redirect)

$t->is_rejected({ path => '/hook', body => $body, headers => [
    ['X-Hub-Signature-256', github_header('wrong secret', $body)],
] }, 401, 'signature_mismatch', 'error_page = @judged: the refusal stands');
is(rejections(), 1, 'the request was judged (and logged) once');

# a good signature, then try_files into a named location that verifies

my $u = $t->is_forwarded({ path => '/try', body => $body, headers => [
    ['X-Hub-Signature-256', github_header($secret, $body)],
    ['X-GitHub-Delivery', 'a1b2c3'],
] }, 'try_files to a verifying named location');

is($t->vars($u)->{verified}, '1', 'try_files: still verified');
is($t->vars($u)->{id}, 'a1b2c3', 'try_files: id kept');
is(rejections(), 1, 'no new rejection after try_files');

$t->done_testing;

###############################################################################
