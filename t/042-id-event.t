#!/usr/bin/perl

# webhook_id and webhook_event: complex values that override the preset's
# defaults for $webhook_id and $webhook_event; the variables in log_format.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(stripe_header github_header);

###############################################################################

my $t = Test::Webhook->new;

my $stripe = 'whsec_id_event_tests_44aa9c';
my $github = 'gh_id_event_tests_51be';

$t->write_file('stripe.secret', $stripe, 0600);
$t->write_file('github.secret', $github, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    log_format webhook "$webhook_provider|$webhook_verified|$webhook_id|"
                       "$webhook_event|$webhook_secret_index|"
                       "$webhook_reject_reason|$status";

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        access_log %%TESTDIR%%/webhook.log webhook;

        location /stripe {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /stripe-override {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_id $http_x_request_id;
            webhook_event "erp.$http_x_kind";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github-override {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_id $arg_delivery;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $body = '{"id":"evt_from_body","type":"customer.created","data":{}}';
my $u;

$u = $t->is_forwarded({ path => '/stripe', body => $body, headers => [
    ['X-Request-Id', 'req-0001'],
    ['Stripe-Signature', stripe_header($stripe, time, $body)],
] }, 'stripe defaults');
is_deeply([@{ $t->vars($u) }{qw(id event)}],
    ['evt_from_body', 'customer.created'], 'stripe defaults: from the body');

$u = $t->is_forwarded({ path => '/stripe-override', body => $body,
    headers => [
        ['X-Request-Id', 'req-0002'],
        ['X-Kind', 'customer'],
        ['Stripe-Signature', stripe_header($stripe, time, $body)],
    ] }, 'stripe overridden');
is_deeply([@{ $t->vars($u) }{qw(verified id event)}],
    [1, 'req-0002', 'erp.customer'], 'stripe overridden: the complex values');

$u = $t->is_forwarded({ path => '/github-override?delivery=d-77',
    body => $body, headers => [
        ['X-GitHub-Delivery', 'from-header'],
        ['X-GitHub-Event', 'issues'],
        ['X-Hub-Signature-256', github_header($github, $body)],
    ] }, 'github id overridden');
is_deeply([@{ $t->vars($u) }{qw(id event)}], ['d-77', 'issues'],
    'github id overridden, event still the default');

$t->is_rejected({ path => '/stripe', body => $body . ' ', headers => [
    ['Stripe-Signature', stripe_header($stripe, time, $body)],
] }, 401, 'signature_mismatch', 'rejected, for the log');

# variables in log_format (the access log is written when a request ends)

$t->stop;

# an empty value may be logged as "" or as "-" (not found)
my @log = map { join '|', map { $_ eq '-' ? '' : $_ } split /\|/, $_, -1 }
          split /\n/, $t->read_file('webhook.log');

# on the rejected line, only what the rejection must tell
$log[3] =~ s/^(\w+\|\d\|)[^|]*\|[^|]*\|/$1*|*|/ if @log > 3;

is_deeply(\@log, [
    'stripe|1|evt_from_body|customer.created|1||200',
    'stripe|1|req-0002|erp.customer|1||200',
    'github|1|d-77|issues|1||200',
    'stripe|0|*|*||signature_mismatch|401',
], 'variables in log_format');

$t->done_testing;

###############################################################################
