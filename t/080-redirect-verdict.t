#!/usr/bin/perl

# A verdict never outlives the configuration that gave it.  After an
# internal redirect (try_files, error_page) into a location that verifies:
# a pass is re-used only under the same verification configuration, any
# other location judges the request again (the body is still there), and
# a refusal is never turned into a pass.  error_page into a location
# without webhook_verify stays what the user wrote there.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header stripe_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'redirect-verdict-secret-a-0123';
my $other = 'redirect-verdict-secret-b-4567';

$t->write_file('a.secret', $secret, 0600);
$t->write_file('b.secret', $other, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=seen:1m;
    webhook_limit_zone zone=once:1m key=$remote_addr rate=1r/m;
    webhook_limit_zone zone=many:1m key=$remote_addr rate=1000r/m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        # monitor passes everything on; the enforcing location judges again

        location /monitor {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/a.secret;
            webhook_mode monitor;
            root %%TESTDIR%%;
            try_files /nonexistent @enforce;
        }

        location @enforce {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/a.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # another secret, another preset: judged again

        location /other-secret {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/a.secret;
            root %%TESTDIR%%;
            try_files /nonexistent @secret-b;
        }

        location @secret-b {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/b.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /other-preset {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/a.secret;
            root %%TESTDIR%%;
            try_files /nonexistent @stripe;
        }

        location @stripe {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/a.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # refused here; the error_page's location would pass it

        location /refused {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/a.secret;
            error_page 401 = @secret-b;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /limited {
            webhook_limit zone=once;
            error_page 429 = @enforce;
            proxy_pass http://%%UPSTREAM%%;
        }

        # what the user wrote: a location without webhook_verify

        location /plain {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/a.secret;
            error_page 401 = @plain;
            proxy_pass http://%%UPSTREAM%%;
        }

        location @plain {
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # the same verification, other checks: the request is judged
        # again, but its own delivery is no duplicate of itself

        location /same {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/a.secret;
            webhook_replay zone=seen;

            root %%TESTDIR%%;
            try_files /nonexistent /same/limited;

            location /same/limited {
                webhook_limit zone=many;
                %%WEBHOOK_PROXY_HEADERS%%
                proxy_pass http://%%UPSTREAM%%;
            }
        }
    }
}

EOF

$t->run;

###############################################################################

my $body = '{"action":"opened","number":8}';

sub gh {
    my ($key, $id, $b) = @_;
    $b //= $body;
    return [
        ['X-Hub-Signature-256', github_header($key, $b)],
        ['X-GitHub-Delivery', $id],
    ];
}

sub rejected_for {
    my ($reason) = @_;
    my @lines = $t->error_log =~ /webhook rejected: \Q$reason\E /g;
    return scalar @lines;
}

# monitor, then try_files into an enforcing location

$t->is_rejected({ path => '/monitor', body => $body,
                  headers => gh('forged', 'm-1') },
    401, 'signature_mismatch', 'monitor -> enforce: forged body refused');

my $u = $t->is_forwarded({ path => '/monitor', body => $body,
                           headers => gh($secret, 'm-2') },
    'monitor -> enforce: genuine body forwarded');
is($t->vars($u)->{verified}, '1', 'monitor -> enforce: verified');
is($t->vars($u)->{reason}, '', 'monitor -> enforce: no would-be reason');

# verified with secret a, judged again with secret b

$t->is_rejected({ path => '/other-secret', body => $body,
                  headers => gh($secret, 's-1') },
    401, 'signature_mismatch', 'other secret after try_files: judged again');

$t->is_rejected({ path => '/other-preset', body => $body,
                  headers => gh($secret, 'p-1') },
    401, 'signature_missing', 'other preset after try_files: judged again');

# a refusal stands: signed for b, refused in a location of a, error_page
# into the location of b that would pass it

$t->is_rejected({ path => '/refused', body => $body,
                  headers => gh($other, 'r-1') },
    401, 'signature_mismatch', 'error_page into a passing location: refused');

# rate limited, then error_page 429 into a verifying location

$t->is_forwarded({ path => '/limited', body => $body,
                   headers => gh($secret, 'l-1') }, 'first within the limit');
$t->is_rejected({ path => '/limited', body => $body,
                  headers => gh($secret, 'l-2') },
    429, 'rate_limited', 'error_page 429 into a verifying location: refused');

# error_page 401 = @named without webhook_verify: as the user wrote it

$u = $t->is_forwarded({ path => '/plain', body => $body,
                        headers => gh('forged', 'n-1') },
    'error_page 401 = @plain: forwarded as written');
my $v = $t->vars($u);
is($v->{verified}, '0', '@plain: $webhook_verified is 0');
is($v->{reason}, 'signature_mismatch', '@plain: $webhook_reject_reason set');

# the same verification configuration: the verdict is re-used, the
# request's own delivery id is not taken for a duplicate

$u = $t->is_forwarded({ path => '/same', body => $body,
                        headers => gh($secret, 'same-1') },
    'same verification after try_files: forwarded');
is($t->vars($u)->{verified}, '1', 'same verification: verified');
is($t->vars($u)->{id}, 'same-1', 'same verification: the id');

my $n = $t->upstream_count;
my $r = $t->http(path => '/same', body => $body,
                 headers => gh($secret, 'same-1'));
is($r->{status}, 200, 'the same delivery again: acknowledged');
like($r->{body}, qr/"duplicate"/, 'the same delivery again: a duplicate');
is($t->upstream_count, $n, 'the same delivery again: not forwarded');

is(rejected_for('duplicate_in_flight'), 0, 'no request was its own duplicate');

$t->done_testing;

###############################################################################
