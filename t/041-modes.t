#!/usr/bin/perl

# webhook_mode monitor; error_page on a rejection status; the PREACCESS
# phase (satisfy any cannot bypass the check); auth_request in the same
# location still runs after the body was read (write_event_handler restored).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(stripe_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'whsec_modes_tests_0d9c8b7a6f5e';

$t->write_file('stripe.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /monitor {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_mode monitor;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /errpage {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            error_page 401 /err401.json;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /err401.json {
            return 401 '{"custom":"$webhook_reject_reason"}';
        }

        location /satisfy {
            satisfy any;
            allow all;
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /authreq {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            auth_request /auth;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /authdeny {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            auth_request /deny;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /auth {
            internal;
            return 204;
        }

        location = /deny {
            internal;
            return 403;
        }
    }
}

EOF

$t->run;

###############################################################################

my $seq = 0;

sub body {
    $seq++;
    return qq({"id":"evt_mode_$seq","type":"invoice.created","data":{}});
}

sub req {
    my ($path, $body, $sig, %extra) = @_;
    my @h = (['Content-Type', 'application/json']);
    push @h, ['Stripe-Signature', $sig] if defined $sig;
    return { path => $path, body => $body, headers => \@h, %extra };
}

my ($now, $body, $u, $r);

# monitor: never rejects, tells the truth in the variables

$body = body();
$u = $t->is_forwarded(req('/monitor', $body . 'x',
    stripe_header($secret, time, $body)), 'monitor: bad signature');
is_deeply([@{ $t->vars($u) }{qw(verified reason secret_index)}],
    [0, 'signature_mismatch', ''], 'monitor: bad signature: variables');

$body = body();
$u = $t->is_forwarded(req('/monitor', $body), 'monitor: no signature');
is_deeply([@{ $t->vars($u) }{qw(verified reason)}],
    [0, 'signature_missing'], 'monitor: no signature: variables');

$body = body();
$u = $t->is_forwarded(req('/monitor', $body,
    stripe_header($secret, time - 400, $body)), 'monitor: stale');
is_deeply([@{ $t->vars($u) }{qw(verified reason)}],
    [0, 'timestamp_expired'], 'monitor: stale: variables');

$body = body();
$u = $t->is_forwarded(req('/monitor', $body, 'garbage'),
    'monitor: malformed');
is($t->vars($u)->{verified}, 0, 'monitor: malformed: not verified');

$body = body();
$now = time;
$u = $t->is_forwarded(req('/monitor', $body,
    stripe_header($secret, $now, $body)), 'monitor: valid');
is_deeply($t->vars($u), {
    provider => 'stripe', verified => 1, id => "evt_mode_$seq",
    timestamp => $now, event => 'invoice.created', secret_index => 1,
    reason => '',
}, 'monitor: valid: variables');

# error_page takes over the body, the status stays

$body = body();
my $n = $t->upstream_count;
$r = $t->http(%{ req('/errpage', $body . 'x',
    stripe_header($secret, time, $body)) });
is($t->status($r), 401, 'error_page: status stays 401');
like($r->{body}, qr/^\{"custom":/, 'error_page: the custom body');
is($t->upstream_count, $n, 'error_page: not forwarded');

$body = body();
$t->is_forwarded(req('/errpage', $body, stripe_header($secret, time, $body)),
    'error_page location, valid');

# PREACCESS: satisfy any with allow all does not bypass the check

$body = body();
$t->is_rejected(req('/satisfy', $body . 'x',
    stripe_header($secret, time, $body)),
    401, 'signature_mismatch', 'satisfy any, allow all: bad signature');

$t->is_rejected(req('/satisfy', $body),
    401, 'signature_missing', 'satisfy any, allow all: no signature');

$body = body();
$t->is_forwarded(req('/satisfy', $body, stripe_header($secret, time, $body)),
    'satisfy any, allow all: valid');

# auth_request after the body was read, in one piece and slowly

$body = body();
$u = $t->is_forwarded(req('/authreq', $body,
    stripe_header($secret, time, $body), timeout => 5),
    'auth_request: valid');
is($t->vars($u)->{verified}, 1, 'auth_request: verified');

$body = body() . (' ' x 3000);
$t->is_forwarded(req('/authreq', $body,
    stripe_header($secret, time, $body), timeout => 5,
    chunked => 1, chunk_size => 500, chunk_delay => 0.05),
    'auth_request: valid, body arriving slowly');

$body = body() . (' ' x 100000);
$t->is_forwarded(req('/authreq', $body,
    stripe_header($secret, time, $body), timeout => 5),
    'auth_request: valid, large body');

$body = body();
$t->is_rejected(req('/authreq', $body . 'x',
    stripe_header($secret, time, $body), timeout => 5),
    401, 'signature_mismatch', 'auth_request: bad signature');

$body = body();
$n = $t->upstream_count;
$r = $t->http(%{ req('/authdeny', $body,
    stripe_header($secret, time, $body), timeout => 5) });
is($t->status($r), 403, 'auth_request denying after a valid signature: 403');
is($t->upstream_count, $n, 'auth_request denying: not forwarded');

$t->done_testing;

###############################################################################
