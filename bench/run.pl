#!/usr/bin/perl
#
# What turning verification on costs: the same POST through plain nginx
# proxying and through a location with webhook_verify, measured in the
# same run with wrk, printed as ratios against plain nginx.
#
#   ./build.sh bench [--duration 5] [--rounds 3] [--connections 16]
#
# One nginx worker on one core, wrk on the other; scenarios are
# interleaved round by round and the median is reported, so drift on a
# shared machine hits every scenario alike.  Timings are printed, never
# asserted: they are not tests.

use strict;
use warnings;

use File::Temp qw(tempdir);
use Getopt::Long;
use IO::Socket::INET;
use Digest::SHA qw(hmac_sha256_hex);
use POSIX qw(WNOHANG);
use Time::HiRes qw(sleep);

my %opt = (duration => 5, rounds => 3, connections => 16);
GetOptions(\%opt, 'duration=i', 'rounds=i', 'connections=i')
    or die "usage: $0 [--duration S] [--rounds N] [--connections N]\n";

use FindBin;
my $root = "$FindBin::RealBin/..";
my $nginx = $ENV{NGINX_BINARY} // '/usr/sbin/nginx';
my $module = "$root/build/ngx_http_webhook_module.so";
-f $module or die "no $module: run ./build.sh first\n";
system('which wrk >/dev/null 2>&1') == 0 or die "wrk is not installed\n";

my $dir = tempdir('webhook-bench-XXXXXX', TMPDIR => 1, CLEANUP => 1);
chmod 0755, $dir;

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1:0', Listen => 1)
        or die "socket: $!";
    return $s->sockport;
}

my ($front, $back) = (free_port(), free_port());

sub write_file {
    my ($name, $content, $mode) = @_;
    open my $fh, '>', "$dir/$name" or die "$name: $!";
    print $fh $content;
    close $fh;
    chmod $mode // 0644, "$dir/$name";
}

my $gh_secret = 'bench-github-secret-0123456789';
my $st_secret = 'whsec_bench_stripe_0123456789abcdef';
write_file('github.secret', $gh_secret, 0600);
write_file('stripe.secret', $st_secret, 0600);
write_file('stripe-old.secret', 'whsec_bench_retired_secret_000000', 0600);

# webhook_enqueue needs a redis-server: started below if there is one
my $redis_port = free_port();
my $have_redis = system('which redis-server >/dev/null 2>&1') == 0;
my $queue_http = $have_redis
    ? "webhook_redis redis://127.0.0.1:$redis_port timeout=1s;" : '';
my $queue_location = $have_redis
    ? "location /queue { webhook_verify github; "
      . "webhook_secret file:$dir/github.secret; "
      . "webhook_enqueue stream=bench:github maxlen=10000; }" : '';

# the peer users would otherwise write: the HMAC in njs (Debian's
# libnginx-mod-http-js, built for Debian's nginx only)
my $njs = '/usr/lib/nginx/modules/ngx_http_js_module.so';
$njs = undef unless -f $njs && $nginx eq '/usr/sbin/nginx';

write_file('verify.js', <<"EOF");
import crypto from 'crypto';

function verify(r) {
    var sig = r.headersIn['X-Hub-Signature-256'] || '';
    var mac = 'sha256=' + crypto.createHmac('sha256', '$gh_secret')
                                .update(r.requestBuffer).digest('hex');
    if (mac !== sig) {
        r.return(401, 'signature mismatch\\n');
        return;
    }
    r.internalRedirect('\@backend');
}

export default { verify };
EOF

my $njs_load = $njs ? "load_module $njs;" : '';
my $njs_http = $njs ? "js_import main from $dir/verify.js;" : '';
my $njs_locations = $njs ? <<'EOF' : '';
        # njs reads the body from memory only
        location /njs {
            client_body_buffer_size 2m;
            client_body_in_single_buffer on;
            js_content main.verify;
        }

        location @backend {
            proxy_pass http://backend;
        }
EOF

write_file('nginx.conf', <<"EOF");
load_module $module;
$njs_load
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $dir/cbt;
    proxy_temp_path $dir/pt;
    fastcgi_temp_path $dir/ft;
    uwsgi_temp_path $dir/ut;
    scgi_temp_path $dir/st;
    client_max_body_size 1m;
    $njs_http

    webhook_limit_zone zone=bench:1m key=\$binary_remote_addr rate=1000000r/s;
    $queue_http

    upstream backend {
        server 127.0.0.1:$back;
        keepalive 32;
    }

    server {
        listen 127.0.0.1:$front;
        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location /plain {
            proxy_pass http://backend;
        }

        $queue_location

        location /github {
            webhook_verify github;
            webhook_secret file:$dir/github.secret;
            proxy_pass http://backend;
        }

        # the whole edge: allowlist, a rate limit, then the signature
        location /guarded {
            webhook_allow_ip 127.0.0.0/8;
            webhook_limit zone=bench;
            webhook_verify github;
            webhook_secret file:$dir/github.secret;
            proxy_pass http://backend;
        }

        # rotation: the matching secret is the second of two
        location /stripe {
            webhook_verify stripe;
            webhook_secret file:$dir/stripe-old.secret;
            webhook_secret file:$dir/stripe.secret;
            webhook_timestamp_tolerance 0;
            proxy_pass http://backend;
        }

$njs_locations
    }

    server {
        listen 127.0.0.1:$back;
        location / {
            return 200 "ok\\n";
        }
    }
}
EOF

my $pid = fork // die "fork: $!";
if ($pid == 0) {
    exec $nginx, '-p', "$dir/", '-c', "$dir/nginx.conf", '-e',
        "$dir/error.log", '-g', 'daemon off;';
    die "exec: $!";
}
END { if ($pid) { kill 'QUIT', $pid; waitpid($pid, 0); } }

for (1 .. 100) {
    last if IO::Socket::INET->new("127.0.0.1:$front");
    sleep 0.05;
}

# bodies: a typical event, and one large enough to spill to a temp file

sub body {
    my ($size) = @_;
    my $b = '{"id":"evt_bench","type":"invoice.paid","data":{"pad":"';
    $b .= 'x' x ($size - length($b) - 3);
    return $b . '"}}';
}

my @scenarios;
my $ts = time;

for my $size (1024, 65536) {
    my $body = body($size);
    my $label = $size >= 1024 ? ($size / 1024) . ' KiB' : "$size B";

    push @scenarios,
        { name => "plain proxy, $label", path => '/plain', body => $body,
          size => $size, headers => {} },
        { name => "github, $label", path => '/github', body => $body,
          size => $size, headers => {
              'X-Hub-Signature-256' => 'sha256='
                  . hmac_sha256_hex($body, $gh_secret) } },
        { name => "allow+limit+github, $label", path => '/guarded',
          body => $body, size => $size, headers => {
              'X-Hub-Signature-256' => 'sha256='
                  . hmac_sha256_hex($body, $gh_secret) } },
        { name => "stripe 2 secrets, $label", path => '/stripe',
          body => $body, size => $size, headers => {
              'Stripe-Signature' => "t=$ts,v1="
                  . hmac_sha256_hex("$ts.$body", $st_secret) } };

    push @scenarios,
        { name => "njs github HMAC, $label", path => '/njs', body => $body,
          size => $size, headers => {
              'X-Hub-Signature-256' => 'sha256='
                  . hmac_sha256_hex($body, $gh_secret) } } if $njs;
}

sub lua_string {
    my ($s) = @_;
    $s =~ s/([\\"])/\\$1/g;
    return qq("$s");
}

for my $s (@scenarios) {
    my $lua = "wrk.method = \"POST\"\n"
            . 'wrk.body = ' . lua_string($s->{body}) . "\n"
            . "wrk.headers[\"Content-Type\"] = \"application/json\"\n";
    $lua .= "wrk.headers[\"$_\"] = " . lua_string($s->{headers}{$_}) . "\n"
        for keys %{ $s->{headers} };

    ($s->{script} = $s->{name}) =~ s/\W+/_/g;
    write_file("$s->{script}.lua", $lua);

    # a bench that measured refusals would be worse than none
    my $out = `wrk -t1 -c1 -d1s -s $dir/$s->{script}.lua http://127.0.0.1:$front$s->{path} 2>&1`;
    die "$s->{name}: requests were refused:\n$out"
        if $out =~ /Non-2xx/ || $out !~ /Requests\/sec/;
}

sub wrk_run {
    my ($s) = @_;
    my $out = `wrk -t1 -c$opt{connections} -d$opt{duration}s --latency -s $dir/$s->{script}.lua http://127.0.0.1:$front$s->{path} 2>&1`;
    die "$s->{name}: refused requests during the run:\n$out"
        if $out =~ /Non-2xx/;
    my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
    my ($p50, $unit) = $out =~ /\s50%\s+([\d.]+)(us|ms|s)/;
    $p50 *= { us => 0.001, ms => 1, s => 1000 }->{$unit};
    return ($rps, $p50);
}

printf "nginx %s, 1 worker, wrk -t1 -c%d, %d s x %d rounds (median)\n\n",
    (`$nginx -v 2>&1` =~ m{nginx/(\S+)})[0], $opt{connections},
    $opt{duration}, $opt{rounds};

for my $round (1 .. $opt{rounds}) {
    for my $s (@scenarios) {
        my ($rps, $p50) = wrk_run($s);
        push @{ $s->{rps} }, $rps;
        push @{ $s->{p50} }, $p50;
    }
}

sub median {
    my @v = sort { $a <=> $b } @_;
    return $v[$#v / 2];
}

my %plain = map { $_->{size} => $_ } grep { $_->{path} eq '/plain' } @scenarios;

printf "%-30s %12s %10s %12s %10s\n", 'scenario', 'req/s', 'vs plain',
    'p50 latency', 'vs plain';

for my $s (@scenarios) {
    my $base = $plain{ $s->{size} };
    my ($rps, $p50) = (median(@{ $s->{rps} }), median(@{ $s->{p50} }));
    printf "%-30s %12.0f %9.3fx %10.3fms %9.3fx\n", $s->{name}, $rps,
        $rps / median(@{ $base->{rps} }), $p50,
        $p50 / median(@{ $base->{p50} });
}


###############################################################################
# Durable accept: a verified GitHub delivery answered by webhook_enqueue
# (XADD to a local redis-server, in memory) against the same delivery
# through proxy_pass to the local upstream, interleaved in the same run;
# requests/s and p99 latency.

sub queue_bench {
    return print "\nwebhook_enqueue: skipped, no redis-server\n"
        unless $have_redis;

    my $rpid = fork // die "fork: $!";
    if ($rpid == 0) {
        open STDOUT, '>', "$dir/redis.log";
        exec 'redis-server', '--port', $redis_port, '--bind', '127.0.0.1',
            '--save', '', '--appendonly', 'no', '--dir', $dir;
        die "exec: $!";
    }

    my $up;
    for (1 .. 100) {
        last if $up = IO::Socket::INET->new("127.0.0.1:$redis_port");
        sleep 0.05;
    }
    die "redis-server did not start\n" unless $up;
    sleep 1;    # the worker's connection: retried with backoff

    my $body = body(1024);
    my $sig = 'sha256=' . hmac_sha256_hex($body, $gh_secret);
    my @q = (
        { name => 'proxy_pass, github 1 KiB', path => '/github',
          body => $body, headers => { 'X-Hub-Signature-256' => $sig } },
        { name => 'webhook_enqueue, github 1 KiB', path => '/queue',
          body => $body, headers => { 'X-Hub-Signature-256' => $sig } },
    );

    for my $s (@q) {
        my $lua = "wrk.method = \"POST\"\n"
                . 'wrk.body = ' . lua_string($s->{body}) . "\n";
        $lua .= "wrk.headers[\"$_\"] = " . lua_string($s->{headers}{$_})
                . "\n" for keys %{ $s->{headers} };
        ($s->{script} = $s->{name}) =~ s/\W+/_/g;
        write_file("$s->{script}.lua", $lua);
    }

    for my $round (1 .. $opt{rounds}) {
        for my $s (@q) {
            my $out = `wrk -t1 -c$opt{connections} -d$opt{duration}s --latency -s $dir/$s->{script}.lua http://127.0.0.1:$front$s->{path} 2>&1`;
            die "$s->{name}: refused requests during the run:\n$out"
                if $out =~ /Non-2xx/ || $out !~ /Requests\/sec/;
            my ($rps) = $out =~ /Requests\/sec:\s+([\d.]+)/;
            my ($p99, $unit) = $out =~ /\s99%\s+([\d.]+)(us|ms|s)/;
            push @{ $s->{rps} }, $rps;
            push @{ $s->{p99} },
                $p99 * { us => 0.001, ms => 1, s => 1000 }->{$unit};
        }
    }

    kill 'TERM', $rpid;
    waitpid($rpid, 0);

    printf "\n%-30s %12s %12s\n", 'durable accept', 'req/s', 'p99 latency';
    printf "%-30s %12.0f %10.3fms\n", $_->{name}, median(@{ $_->{rps} }),
        median(@{ $_->{p99} }) for @q;
}

queue_bench();
