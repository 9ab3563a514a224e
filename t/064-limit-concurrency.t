#!/usr/bin/perl

# Concurrent requests from two workers never let more than the limit
# through: the check and the increment are one atomic step in shared
# memory.  200 requests over 40 connections at once against 50r/m.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes qw(time sleep);

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

worker_processes  2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_limit_zone zone=m:1m key=$remote_addr rate=50r/m;

    log_format pid $pid;

    server {
        # reuseport: one socket per worker, the kernel spreads connections
        listen       127.0.0.1:%%PORT_8080%% reuseport;
        server_name  localhost;

        access_log %%TESTDIR%%/pid.log pid;

        location /m {
            webhook_limit zone=m;
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

is(scalar(my @w = $t->worker_pids), 2, 'two workers');

# stay inside one minute window when the clock allows (windows are
# numbered from the wall clock); the bounds below hold either way

my $left = 60 - (time % 60);
sleep($left + 0.05) if $left < 8;

my $start = time;
my $rs = $t->http_batch([ map { { method => 'POST', path => '/m',
                                  body => "n=$_", timeout => 10 } } 1 .. 200 ],
                        concurrency => 40);
my $took = time - $start;

my %by;
$by{ $t->status($_) }++ for @$rs;
my $passed = $by{200} // 0;
my $limited = $by{429} // 0;

is($passed + $limited, 200, 'every answer is 200 or 429')
    or diag(explain \%by);

# across a minute boundary the previous window's weight lets in at most
# 50 x (time past the boundary) / 60 more: nothing, for a run this short
cmp_ok($passed, '<=', 50 + int(50 * $took / 60),
    sprintf('never more than the limit (run took %.1f s)', $took));
cmp_ok($passed, '>=', 40, 'the limit was used');

my %pids = map { $_ => 1 } split /\n/, $t->read_file('pid.log');
is(scalar keys %pids, 2, 'both workers served requests');

is($t->upstream_count, $passed, 'the upstream got exactly the passed ones');

ok(!grep({ $_->{status} == 429
           && $t->reject_summary($_)
              ne $t->reject_expected(429, 'rate_limited') } @$rs),
    'every 429 is rate_limited');
ok(!grep({ ($_->{headers}{'ratelimit-limit'} // '') ne '50' } @$rs),
    'every answer has RateLimit-Limit 50');

# one key in the zone

my $j = $t->status_json;
is($j && $j->{zones}{m}{type}, 'limit', 'status: zone m, type limit');
is($j && $j->{zones}{m}{entries}, 1, 'status: one key');

$t->done_testing;

###############################################################################
