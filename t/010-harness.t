#!/usr/bin/perl

# Tests for the test harness itself: nginx start/stop/reload, the recording
# upstream (bytes, knobs, concurrency), the HTTP/1.1 and h2c clients,
# try_config.  Needs no directive of the module (only load_module).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Digest::SHA qw(sha256_hex);
use Test::More;
use Time::HiRes qw(time);

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        client_max_body_size 4m;

        location / {
            proxy_pass http://%%UPSTREAM%%;
        }

        location /plain {
            return 200 "plain\n";
        }
    }

    server {
        listen       127.0.0.1:%%PORT_8081%% http2;
        server_name  localhost;

        client_max_body_size 4m;

        location / {
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->write_file_expand('bad.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        bogus_directive_for_harness on;
    }
}

EOF

$t->plan(37);

# config checks before anything runs

my ($rc, $out) = $t->try_config;
is($rc, 0, 'try_config: good config passes');
like($out, qr/syntax is ok/, 'try_config: output');

($rc, $out) = $t->try_config('bad.conf');
isnt($rc, 0, 'try_config: bad config fails');
like($out, qr/unknown directive "bogus_directive_for_harness"/,
    'try_config: error names the directive');

isnt($t->port(8080), $t->port(8081), 'distinct ports');
is($t->port(8080), $t->port(8080), 'port mapping is stable');

$t->run;

ok($t->nginx_pid, 'nginx running');
ok(scalar $t->worker_pids, 'workers running');

my $r = $t->http(method => 'GET', path => '/plain');
is($r->{status}, 200, 'GET status');
is($r->{body}, "plain\n", 'GET body');

# 1 MiB with every byte value, content-length

my $bin = join '', map { chr } 0 .. 255;
my $big = $bin x 4096;
is(length $big, 1048576, '1 MiB body');

$r = $t->http(path => '/cl', body => $big,
    headers => [['Content-Type', 'application/octet-stream']]);
is($r->{status}, 200, 'content-length: status');
is($t->json($r)->{sha256}, sha256_hex($big), 'content-length: upstream sha');
is($r->{headers}{'x-upstream-sha256'}, sha256_hex($big),
    'content-length: sha header');

my $u = $t->upstream_last;
ok($u->{body} eq $big, 'content-length: upstream bytes identical');
is($u->{uri}, '/cl', 'upstream uri');
is($u->{method}, 'POST', 'upstream method');
is($u->{headers}{'content-type'}, 'application/octet-stream',
    'upstream header');

# chunked

$r = $t->http(path => '/chunked', body => $big, chunked => 1,
    chunk_size => 10000);
is($r->{status}, 200, 'chunked: status');
ok($t->upstream_last->{body} eq $big, 'chunked: upstream bytes identical');

$r = $t->http(path => '/slow', body => 'a' x 300, chunked => 1,
    chunk_size => 100, chunk_delay => 0.1);
is($t->json($r)->{length}, 300, 'chunked with delays');

# h2c

$r = $t->h2(port => $t->port(8081), path => '/h2', body => $big,
    headers => [['X-Test', 'h2']]);
is($r->{status}, 200, 'h2: status');
ok($t->upstream_last->{body} eq $big, 'h2: upstream bytes identical');
is($t->upstream_last->{headers}{'x-test'}, 'h2', 'h2: header');

$r = $t->h2(port => $t->port(8081), path => '/h2s', body => $bin,
    no_length => 1);
is($t->json($r)->{sha256}, sha256_hex($bin), 'h2: without content-length');

is($t->upstream_count, 5, 'upstream count');

# knobs

$r = $t->http(path => '/status', body => 'x',
    headers => [['X-Upstream-Status', '500']]);
is($r->{status}, 500, 'knob: status');

my $t0 = time;
$r = $t->http(path => '/delay', body => 'x',
    headers => [['X-Upstream-Delay', '1.5']]);
ok(time - $t0 >= 1.4, 'knob: delay');
is($r->{status}, 200, 'knob: delay status');

$t->upstream_reset;
is($t->upstream_count, 0, 'upstream reset');

# concurrency: 40 requests held by the upstream at the same time

$t0 = time;
my $many = $t->http_many(map { {
    path => "/many/$_", body => "body $_",
    headers => [['X-Upstream-Delay', '1']],
} } 1 .. 40);
my $elapsed = time - $t0;

is((grep { $_->{status} == 200 } @$many), 40, 'concurrent: all answered');
ok($elapsed < 8, "concurrent: served in parallel");
is($t->upstream_count, 40, 'concurrent: all recorded');
is(join(',', sort { $a <=> $b }
            map { $_->{uri} =~ m{(\d+)$} } @{ $t->upstream_requests }),
    join(',', 1 .. 40), 'concurrent: every request recorded once');

# reload

ok($t->reload, 'reload');
is($t->http(method => 'GET', path => '/plain')->{status}, 200,
    'after reload');

# the log check recognises what it must

is(scalar(my @l = Test::Webhook::bad_lines(join "\n",
    '2024/01/01 00:00:00 [info] 1#1: fine',
    '2024/01/01 00:00:00 [alert] 1#1: worker process 2 exited on signal 11',
    '==1==ERROR: AddressSanitizer: heap-use-after-free',
    'src/x.c:1:2: runtime error: signed integer overflow',
    '2024/01/01 00:00:00 [notice] 1#1: signal process started')), 3,
    'bad_lines');

###############################################################################
