#!/usr/bin/perl

# Latency histograms: per location and preset, the request time and the
# upstream response time in fixed buckets, counted in the log phase.
# Bucket placement is asserted by counts: the slow requests wait at
# least 1.2 s in the upstream (so they are above the 1 s bound whatever
# the load), the fast ones not at all (so they are far below 1 s);
# refused requests have a request time and no upstream time.  A status
# location can show a subset of the buckets; the JSON's p50/p95/p99 are
# estimates inside the bucket that holds them.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_latency_secret_5c1f';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

worker_processes  2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        webhook_secret file:%%TESTDIR%%/github.secret;

        location /hooks/github {
            webhook_verify github;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /hooks/other {
            webhook_verify github;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }

        location = /status-coarse {
            webhook_status;
            webhook_latency_buckets 1s 30s;
        }
    }
}

EOF

$t->run;

###############################################################################

my $seq = 0;

sub gh {
    my ($path, %o) = @_;

    $seq++;
    my $body = qq({"zen":"Keep it logically awesome.","hook_id":$seq});
    my @h = (['X-GitHub-Delivery', "latency-$seq"],
             ['X-GitHub-Event', 'ping'],
             ['X-Hub-Signature-256', github_header($secret, $body)]);

    push @h, ['X-Upstream-Delay', $o{delay}] if $o{delay};
    $body .= ' ' if $o{tampered};

    return { path => $path, body => $body, headers => \@h, timeout => 20 };
}

# /hooks/github: 6 fast, 3 slow (in parallel), 2 refused

my $batch = $t->http_batch([ (map { gh('/hooks/github') } 1 .. 6),
                             (map { gh('/hooks/github', delay => 1.2) }
                              1 .. 3),
                             (map { gh('/hooks/github', tampered => 1) }
                              1 .. 2) ],
                           concurrency => 11);

my %by;
$by{ $t->status($_) }++ for @$batch;
is_deeply(\%by, { 200 => 9, 401 => 2 }, 'traffic');

# the log phase runs after the response: poll

my $m;
$t->wait_until(sub {
    $m = $t->prometheus($t->status_prometheus);
    return ($m->{'nginx_webhook_request_duration_seconds_count'
                 . '{location="/hooks/github",preset="github"}'} // 0) == 11;
}, timeout => 5);

sub req {
    my ($le, $what) = @_;
    $what //= 'request';
    return $m->{"nginx_webhook_${what}_duration_seconds_bucket"
                . qq({location="/hooks/github",preset="github",le="$le"})};
}

is(req('+Inf'), 11, 'request time: every request, refused ones too');
is(req('1'), 8, 'request time: 6 fast and 2 refused at or below 1 s');
is(req('30'), 11, 'request time: the 3 slow ones between 1 s and 30 s');
cmp_ok(req('0.5'), '<=', req('1'), 'buckets are cumulative');
is($m->{'nginx_webhook_request_duration_seconds_count'
        . '{location="/hooks/github",preset="github"}'}, 11, '_count');
cmp_ok($m->{'nginx_webhook_request_duration_seconds_sum'
            . '{location="/hooks/github",preset="github"}'}, '>=', 3.6,
       '_sum: at least the three waits');

is(req('+Inf', 'upstream'), 9, 'upstream time: only what was proxied');
is(req('1', 'upstream'), 6, 'upstream time: the fast ones at or below 1 s');
is(req('30', 'upstream'), 9, 'upstream time: the slow ones above 1 s');
cmp_ok($m->{'nginx_webhook_upstream_duration_seconds_sum'
            . '{location="/hooks/github",preset="github"}'}, '>=', 3.6,
       'upstream _sum: at least the three waits');

# every default bound is there, and nothing for the other location yet

my @le = map { /le="([^"]+)"/ } grep { /request_duration_seconds_bucket\{location="\/hooks\/github"/ } keys %$m;
is_deeply([ sort { $a <=> $b } grep { $_ ne '+Inf' } @le ],
          [ qw(0.005 0.01 0.025 0.05 0.1 0.25 0.5 1 2 5 10 30) ],
          'the default buckets, 5 ms to 30 s');
is($m->{'nginx_webhook_request_duration_seconds_count'
        . '{location="/hooks/other",preset="github"}'}, 0,
   'another location has its own series');

# the JSON: counts, buckets and estimated percentiles

my $j = $t->status_json;
my $h = $j->{locations}{'/hooks/github'}{request_time} || {};
is($h->{count}, 11, 'JSON request_time count');
is($h->{buckets}{1}, 8, 'JSON request_time buckets');
is($h->{buckets}{'+Inf'}, 11, 'JSON +Inf');
cmp_ok($h->{p50}, '<=', 1, 'p50: in a bucket at or below 1 s');
cmp_ok($h->{p95}, '>', 1, 'p95: in a bucket above 1 s (3 of 11 are slow)');
cmp_ok($h->{p95}, '<=', 30, 'p95: at most the bound of its bucket');
my $u = $j->{locations}{'/hooks/github'}{upstream_response_time} || {};
is($u->{count}, 9, 'JSON upstream_response_time count');
ok(!defined $j->{locations}{'/hooks/other'}{request_time}{p50},
   'no requests: no estimate (null)');
is($j->{module_version}, '0.1.0', 'module_version');

# a status location that shows fewer buckets, from the same counts

my $c = $t->prometheus($t->status_prometheus('/status-coarse'));
my @cle = map { /le="([^"]+)"/ } grep { /request_duration_seconds_bucket\{location="\/hooks\/github"/ } keys %$c;
is_deeply([ sort @cle ], [ '+Inf', '1', '30' ], 'a subset of buckets shown');
is($c->{'nginx_webhook_request_duration_seconds_bucket'
        . '{location="/hooks/github",preset="github",le="1"}'}, 8,
   'same counts at 1 s');
is($c->{'nginx_webhook_build_info{version="0.1.0"}'}, 1, 'build info');

$t->stop;

# configuration errors

for my $case (
    [ 'webhook_latency_buckets 10ms 5ms;', qr/not above the one before/ ],
    [ 'webhook_latency_buckets 0;', qr/invalid bucket "0"/ ],
    [ 'webhook_latency_buckets ' . join(' ', map { "${_}ms" } 1 .. 17) . ';',
      qr/at most 16 buckets/ ],
) {
    $t->write_file_expand('bad.conf', <<"EOF");
%%TEST_GLOBALS%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    $case->[0]
    server { listen 127.0.0.1:%%PORT_8080%%; }
}
EOF
    my ($rc, $out) = $t->try_config('bad.conf');
    isnt($rc, 0, "rejected: $case->[0]");
    like($out, $case->[1], 'with a clear message') or diag($out);
}

for my $case (
    [ 'location /x { webhook_verify github; webhook_latency_buckets 1s; }',
      qr/without "webhook_status"/ ],
    [ 'location /s { webhook_status; webhook_latency_buckets 750ms; }',
      qr/750ms is not one of the buckets counted/ ],
) {
    $t->write_file_expand('bad.conf', <<"EOF");
%%TEST_GLOBALS%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    webhook_secret file:%%TESTDIR%%/github.secret;
    server { listen 127.0.0.1:%%PORT_8080%%; $case->[0] }
}
EOF
    my ($rc, $out) = $t->try_config('bad.conf');
    isnt($rc, 0, "rejected: $case->[0]");
    like($out, $case->[1], 'with a clear message') or diag($out);
}

# http-level buckets: counted, and a status location may pick among them

$t->write_file_expand('good.conf', <<'EOF');
%%TEST_GLOBALS%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    webhook_latency_buckets 100ms 750ms 3s;
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location = /s { webhook_status; webhook_latency_buckets 750ms; }
    }
}
EOF
my ($rc, $out) = $t->try_config('good.conf');
is($rc, 0, 'http-level buckets, a subset in a status location') or diag($out);

$t->done_testing;
