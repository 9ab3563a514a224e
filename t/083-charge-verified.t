#!/usr/bin/perl

# webhook_limit ... charge=verified: budgets that forgeries cannot spend.
# The check runs before the body, against verified requests plus the
# slots reserved by those in flight; a slot is committed when the
# signature verifies and given back when it does not, or when the request
# ends first.  Concurrent requests over several workers never over-admit.
# charge=all (the default) still counts every admitted request.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'charge-verified-secret-5544';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

worker_processes 4;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_limit_zone zone=provider:1m key=github rate=3r/m;
    webhook_limit_zone zone=everything:1m key=github rate=3r/m;
    webhook_limit_zone zone=crowd:1m key=github rate=5r/m;
    webhook_limit_zone zone=single:1m key=github rate=1r/m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        webhook_verify github;
        webhook_secret file:%%TESTDIR%%/github.secret;

        location /verified {
            webhook_limit zone=provider charge=verified;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /all {
            webhook_limit zone=everything;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /crowd {
            webhook_limit zone=crowd charge=verified;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /single {
            webhook_limit zone=single charge=verified;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $body = '{"action":"opened","number":10}';
my @good = (['X-Hub-Signature-256', github_header($secret, $body)]);
my @forged = (['X-Hub-Signature-256', github_header('forged', $body)]);

# a forged flood leaves the budget intact

for my $i (1 .. 10) {
    my $r = $t->http(path => '/verified', body => $body, headers => \@forged);
    is($r->{status}, 401, "forged $i: refused for its signature, not counted");
}

for my $i (1 .. 3) {
    $t->is_forwarded({ path => '/verified', body => $body,
                       headers => \@good }, "genuine $i of 3 passes");
}

$t->is_rejected({ path => '/verified', body => $body, headers => \@good },
    429, 'rate_limited', 'the fourth genuine one is over the budget');

# charge=all, the default: every admitted request counts

for my $i (1 .. 3) {
    $t->http(path => '/all', body => $body, headers => \@forged);
}

$t->is_rejected({ path => '/all', body => $body, headers => \@good },
    429, 'rate_limited', 'charge=all: forgeries spent the budget');

# concurrency: 30 genuine and 10 forged at once, bodies slow enough for
# all of them to be in flight together, over 4 workers: exactly 5 pass

$t->upstream_reset;

my @reqs;

for my $i (1 .. 40) {
    push @reqs, { path => '/crowd', body => $body, chunked => 1,
                  chunk_size => 8, chunk_delay => 0.05,
                  headers => $i <= 30 ? \@good : \@forged,
                  timeout => 30 };
}

my $rs = $t->http_many(@reqs);

my %by;
$by{"$_->{status}"}++ for @$rs;

is($by{200} // 0, 5, 'concurrent: exactly the limit passes');
is(($by{200} // 0) + ($by{429} // 0) + ($by{401} // 0), 40,
    'concurrent: every other one refused');
is($t->upstream_count, 5, 'concurrent: the upstream saw exactly 5');

my $forged401 = grep { $_->{status} == 401 } @$rs[30 .. 39];
my $forged429 = grep { $_->{status} == 429 } @$rs[30 .. 39];
is($forged401 + $forged429, 10, 'concurrent: no forgery passed');

# a client that aborts mid-body gives its slot back

my $c = $t->http_open(path => '/single', head_only => 1,
                      headers => [@good, ['Content-Length', 1000]]);

ok($t->wait_until(sub { $t->error_log =~ /\S/ || 1 }, timeout => 1),
   'the first request is in flight');
select undef, undef, undef, 0.3;

$t->is_rejected({ path => '/single', body => $body, headers => \@good },
    429, 'rate_limited', 'while the first is in flight: its slot is taken');

$t->http_close($c);

my $status = 0;

$t->wait_until(sub {
    my $r = $t->http(path => '/single', body => $body, headers => \@good);
    $status = $r->{status};
    return $status == 200;
}, timeout => 10, interval => 0.2);

is($status, 200, 'after the abort: the slot is back');

$t->done_testing;

###############################################################################
