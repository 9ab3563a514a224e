#!/usr/bin/perl
#
# What the module costs per request, in instructions: one nginx process
# (master_process off) under valgrind's callgrind, every request a
# distinct signed delivery, counted between callgrind_control -z and -d
# around a batch.  Deterministic where wall-clock figures are not: the
# same build gives the same counts within a fraction of a percent on a
# busy machine.
#
#   ./build.sh bench            (runs this, then bench/run.pl)
#   perl bench/callgrind.pl [--sizes 1024,65536,1048576] [--shape lines]
#
# For each configuration and body size: instructions per request, the
# same beyond plain proxy_pass, the HMAC floor (one HMAC-SHA256 over the
# signed bytes through EVP_MAC, bench/hmac_floor.c, counted the same way)
# and the ratio; then per-stage inclusive counts of the module's own
# functions from callgrind_annotate.  Figures are printed, never asserted.
#
# Bodies (--shape): "lines" is a Stripe-like event whose data is an array
# of small objects, with "type" last as Stripe sends it, so reading the
# event scans the whole body; "pad" is the same with one long string.
#
# WEBHOOK_MODULE (default build/ngx_http_webhook_module.so) picks the
# module, NGINX_BINARY the nginx.

use strict;
use warnings;

use File::Temp qw(tempdir);
use FindBin;
use Getopt::Long;
use POSIX ();
use IO::Socket::INET;
use Digest::SHA qw(hmac_sha256_hex);
use Time::HiRes qw(sleep);

my %opt = (sizes => '1024,65536,1048576', shape => 'lines', keep => 0);
GetOptions(\%opt, 'sizes=s', 'shape=s', 'keep', 'only=s')
    or die "usage: $0 [--sizes N,N] [--shape lines|pad] [--only NAME,..]\n";

my $root = "$FindBin::RealBin/..";
my $nginx = $ENV{NGINX_BINARY} // '/usr/sbin/nginx';
my $module = $ENV{WEBHOOK_MODULE} // "$root/build/ngx_http_webhook_module.so";
my $njs = '/usr/lib/nginx/modules/ngx_http_js_module.so';
my @sizes = split /,/, $opt{sizes};

-f $module or die "no $module: run ./build.sh first\n";
for my $tool (qw(valgrind callgrind_control callgrind_annotate
                 redis-server cc))
{
    system("command -v $tool >/dev/null 2>&1") == 0
        or die "$tool is not installed\n";
}

# njs is Debian's build for Debian's nginx: only beside /usr/sbin/nginx
$njs = undef unless -f $njs && $nginx eq '/usr/sbin/nginx';

my $dir = tempdir('webhook-callgrind-XXXXXX', TMPDIR => 1,
                  CLEANUP => !$opt{keep});
chmod 0755, $dir;
print "# work directory $dir\n" if $opt{keep};

sub free_port {
    my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1:0', Listen => 1)
        or die "socket: $!";
    return $s->sockport;
}

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


# the HMAC floor program

my $floor_bin = "$dir/hmac_floor";
system('cc', '-O2', '-g', '-o', $floor_bin, "$root/bench/hmac_floor.c",
       '-lcrypto') == 0 or die "cannot build bench/hmac_floor.c\n";

sub callgrind_total {
    my ($file) = @_;
    open my $fh, '<', $file or die "$file: $!";
    while (<$fh>) {
        return $1 if /^(?:summary|totals):\s+(\d+)/;
    }
    die "$file: no totals\n";
}

# instructions of one HMAC over len bytes: (11 calls - 1 call) / 10
sub hmac_floor {
    my ($len) = @_;
    my %ir;
    for my $n (1, 11) {
        my $out = "$dir/floor.$len.$n";
        system("valgrind --tool=callgrind --callgrind-out-file=$out "
               . "--toggle-collect=hmac_floor_one $floor_bin $len $n "
               . ">/dev/null 2>&1") == 0 or die "hmac_floor failed\n";
        $ir{$n} = callgrind_total($out);
    }
    return ($ir{11} - $ir{1}) / 10;
}


# nginx under callgrind

my $js = <<'EOF';
import crypto from 'crypto';

// what a user would write without the module: GitHub's scheme in njs
function verify(r) {
    var sig = r.headersIn['X-Hub-Signature-256'] || '';
    var mac = 'sha256=' + crypto.createHmac('sha256', SECRET)
                                .update(r.requestBuffer).digest('hex');
    if (mac !== sig) {
        r.return(401, 'signature mismatch\n');
        return;
    }
    r.internalRedirect('@backend');
}

export default { verify };
EOF
$js =~ s/SECRET/'$gh_secret'/;
write_file('verify.js', $js);

sub nginx_conf {
    my (%o) = @_;
    my ($front, $back) = @o{qw(front back)};

    my $redis = $o{redis}
        ? "webhook_redis redis://127.0.0.1:$o{redis} timeout=5s;\n"
          . "    webhook_limit_zone zone=synced:1m key=\$binary_remote_addr"
          . " rate=1000000r/s sync=on;"
        : '';

    # the same as /stripe-all, the limit zone synced through Redis
    my $sync_location = $o{redis} ? <<"EOF" : '';
        location /stripe-sync {
            webhook_allow_ip 127.0.0.0/8;
            webhook_limit zone=synced;
            webhook_verify stripe;
            webhook_secret file:$dir/stripe.secret;
            webhook_replay zone=ids;
            proxy_pass http://backend;
        }
EOF

    # verification, then the delivery into a Redis stream, answered
    # by nginx (no proxy_pass)
    my $enqueue_location = $o{enqueue} ? <<"EOF" : '';
        location /stripe-enqueue {
            webhook_verify stripe;
            webhook_secret file:$dir/stripe.secret;
            webhook_enqueue stream=bench:stripe maxlen=10000;
        }
EOF

    my $load_njs = $o{njs} ? "load_module $njs;" : '';
    my $njs_http = $o{njs} ? "js_import main from $dir/verify.js;" : '';
    my $njs_location = $o{njs} ? <<"EOF" : '';
        # the njs peer: HMAC in JavaScript, then on to the same upstream;
        # njs reads the body from memory only
        location /njs {
            client_body_buffer_size 2m;
            client_body_in_single_buffer on;
            js_content main.verify;
        }

        location \@backend {
            proxy_pass http://backend;
        }
EOF

    return <<"EOF";
load_module $module;
$load_njs
master_process off;
daemon off;
worker_processes 1;
pid $dir/nginx-$front.pid;
error_log $dir/error-$front.log warn;
events { worker_connections 256; }
http {
    access_log off;
    client_body_temp_path $dir/cbt-$front;
    proxy_temp_path $dir/pt-$front;
    fastcgi_temp_path $dir/ft-$front;
    uwsgi_temp_path $dir/ut-$front;
    scgi_temp_path $dir/st-$front;
    client_max_body_size 2m;
    $njs_http

    webhook_limit_zone zone=bench:1m key=\$binary_remote_addr rate=1000000r/s;
    webhook_replay_zone zone=ids:16m ttl=1h;
    $redis

    upstream backend {
        server 127.0.0.1:$back;
        keepalive 8;
    }

    server {
        listen 127.0.0.1:$front;
        proxy_http_version 1.1;
        proxy_set_header Connection "";

        location /plain {
            proxy_pass http://backend;
        }

        location /stripe-verify {
            webhook_verify stripe;
            webhook_secret file:$dir/stripe.secret;
            proxy_pass http://backend;
        }

        location /github-verify {
            webhook_verify github;
            webhook_secret file:$dir/github.secret;
            proxy_pass http://backend;
        }

        # all checks: the replay record keyed on the id from the body
        location /stripe-all {
            webhook_allow_ip 127.0.0.0/8;
            webhook_limit zone=bench;
            webhook_verify stripe;
            webhook_secret file:$dir/stripe.secret;
            webhook_replay zone=ids;
            proxy_pass http://backend;
        }

        # the same, and \$webhook_id, \$webhook_event handed upstream:
        # Stripe sends "type" last, so the whole body is read for it
        # (a proxy_set_header here replaces the server's: keep-alive
        # needs its Connection "" again)
        location /stripe-event {
            webhook_allow_ip 127.0.0.0/8;
            webhook_limit zone=bench;
            webhook_verify stripe;
            webhook_secret file:$dir/stripe.secret;
            webhook_replay zone=ids;
            proxy_set_header Connection "";
            proxy_set_header X-Webhook-Id \$webhook_id;
            proxy_set_header X-Webhook-Event \$webhook_event;
            proxy_pass http://backend;
        }

        # all checks, the id from a header
        location /github-all {
            webhook_allow_ip 127.0.0.0/8;
            webhook_limit zone=bench;
            webhook_verify github;
            webhook_secret file:$dir/github.secret;
            webhook_replay zone=ids;
            proxy_pass http://backend;
        }

$sync_location
$enqueue_location

$njs_location
    }

    server {
        listen 127.0.0.1:$back;
        keepalive_requests 100000;
        location / {
            return 200 "ok\\n";
        }
    }
}
EOF
}

my @pids;
END {
    kill 'QUIT', @pids if @pids;
    waitpid($_, 0) for @pids;
}

sub wait_port {
    my ($port, $pid) = @_;
    for (1 .. 600) {
        return 1 if IO::Socket::INET->new("127.0.0.1:$port");
        die "the process for port $port exited (see $dir)\n"
            if $pid && waitpid($pid, POSIX::WNOHANG()) == $pid;
        sleep 0.1;
    }
    die "nothing listens on $port\n";
}

sub start_redis {
    my $port = free_port();
    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/redis.log";
        exec 'redis-server', '--port', $port, '--bind', '127.0.0.1',
            '--save', '', '--appendonly', 'no', '--dir', $dir;
        die "exec: $!";
    }
    push @pids, $pid;
    wait_port($port);
    return $port;
}

# returns (front port, pid of valgrind's nginx)
sub start_nginx {
    my (%o) = @_;
    my ($front, $back) = (free_port(), free_port());
    write_file("nginx-$front.conf",
               nginx_conf(front => $front, back => $back, %o));

    my $pid = fork // die "fork: $!";
    if ($pid == 0) {
        open STDOUT, '>', "$dir/valgrind-$front.log";
        open STDERR, '>&', \*STDOUT;
        exec 'valgrind', '--tool=callgrind',
            "--callgrind-out-file=$dir/callgrind-$front.out",
            $nginx, '-p', "$dir/", '-c', "$dir/nginx-$front.conf",
            '-e', "$dir/error-$front.log";
        die "exec: $!";
    }
    push @pids, $pid;
    wait_port($front, $pid);
    return ($front, $pid);
}


# bodies: a Stripe-like event of exactly $size bytes, id $id

sub body {
    my ($size, $id) = @_;
    my $head = qq({"id":"$id","object":"event","api_version":"2024-06-20",)
             . qq("created":1700000000,"data":{"object":{"id":"in_1",)
             . qq("object":"invoice","lines":[);
    my $tail = qq(]}},"livemode":false,"pending_webhooks":1,)
             . qq("request":{"id":null,"idempotency_key":null},)
             . qq("type":"invoice.paid"});
    my $room = $size - length($head) - length($tail);
    my $mid = '';

    if ($opt{shape} eq 'pad') {
        $mid = '"' . ('x' x ($room - 2)) . '"';
    } else {
        my $n = 0;
        while (1) {
            my $line = sprintf '{"id":"il_%08d","amount":%d,'
                . '"currency":"usd","description":"Line item %d"}',
                $n, 100 + $n % 900, $n;
            last if length($mid) + length($line) + 1 > $room - 16;
            $mid .= ($n++ ? ',' : '') . $line;
        }
        $mid .= ($n ? ',' : '') . '"' . ('x' x ($room - length($mid)
                                                 - ($n ? 1 : 0) - 2)) . '"';
    }

    my $b = $head . $mid . $tail;
    die "body is " . length($b) . " bytes, not $size\n"
        if length($b) != $size;
    return $b;
}

my $seq = 0;

sub uuid {
    my $n = $seq++;
    return sprintf '%08x-%04x-4%03x-8%03x-%012x', $$, $n & 0xffff,
        $n >> 16 & 0xfff, 0, $n;
}

# one request of configuration $c at $size: [path, headers, body]
sub request {
    my ($c, $size) = @_;
    my $id = sprintf 'evt_%024d', $seq++;
    my $body = body($size, $id);
    my $ts = time;

    if ($c->{sign} eq 'stripe') {
        return [$c->{path}, [['Stripe-Signature', "t=$ts,v1="
                  . hmac_sha256_hex("$ts.$body", $st_secret)]], $body];
    }

    if ($c->{sign} eq 'github') {
        return [$c->{path}, [
            ['X-Hub-Signature-256', 'sha256='
                . hmac_sha256_hex($body, $gh_secret)],
            ['X-GitHub-Delivery', uuid()],
            ['X-GitHub-Event', 'issues']], $body];
    }

    return [$c->{path}, [], $body];
}

# keep-alive client: sends each request, reads each response
sub send_all {
    my ($port, $reqs) = @_;
    my $s = IO::Socket::INET->new("127.0.0.1:$port") or die "connect: $!";
    $s->autoflush(1);

    for my $q (@$reqs) {
        my ($path, $headers, $body) = @$q;
        my $h = "POST $path HTTP/1.1\r\nHost: bench\r\n"
              . "Content-Type: application/json\r\n"
              . 'Content-Length: ' . length($body) . "\r\n";
        $h .= "$_->[0]: $_->[1]\r\n" for @$headers;
        print $s $h, "\r\n", $body;

        my $head = '';
        while ($head !~ /\r\n\r\n/) {
            my $n = sysread($s, $head, 4096, length $head);
            die "connection closed\n" unless $n;
        }
        my ($status) = $head =~ m{^HTTP/1\.1 (\d+)};
        my ($len) = $head =~ /Content-Length:\s*(\d+)/i;
        my $have = length($head) - index($head, "\r\n\r\n") - 4;
        while (defined $len && $have < $len) {
            my $n = sysread($s, my $buf, $len - $have);
            die "connection closed\n" unless $n;
            $have += $n;
        }
        if ($status != 200 || $head =~ /duplicate/) {
            sysread($s, my $more, 4096);
            die "$path: status $status (a bench of refusals is no bench)\n"
                . "$head$more\n";
        }
    }
    close $s;
}


# stages: the module's functions whose inclusive counts callgrind_annotate
# gives; a name that is not there (renamed) shows as "-"

my @stages = (
    [ allow     => qr/^ngx_http_webhook_allowed$/ ],
    [ limit     => qr/^ngx_http_webhook_limit_check$/,
                   qr/^ngx_http_webhook_\w*header_filter$/ ],
    [ body      => qr/^ngx_http_webhook_body_(next|copy)$/ ],
    [ verify    => qr/^ngx_http_webhook_(verify_headers|verify_body)$/ ],
    [ window    => qr/^ngx_http_webhook_(check_time|signed_timestamp)$/ ],
    [ json      => qr/^ngx_http_webhook_json_(string|field)$/ ],
    [ replay    => qr/^ngx_http_webhook_replay_(check|finish|claim)$/ ],
    [ variables => qr/^ngx_http_webhook_variable$/ ],
    [ redis     => qr/^ngx_http_webhook_(redis\w*_(watch|read|write)_handler
                                         |limit_tick)$/x ],
);

# a header filter's inclusive count holds every filter after it: its own
# count (self) is what it adds
# Inclusive and self counts per function, read from callgrind's output
# itself (callgrind_annotate's inclusive figures vary from run to run):
# a function's inclusive count is what the calls to it cost, from other
# functions; its self count, the cost lines under it.
sub function_counts {
    my ($file) = @_;
    my (%name, %inc, %self, %calls, $fn, $cfn, $call);

    open my $fh, '<', $file or die "$file: $!";
    while (my $line = <$fh>) {
        if ($line =~ /^fn=\((\d+)\)(?: (.*))?$/) {
            $name{"f$1"} = $2 if defined $2;
            $fn = $name{"f$1"};
            $call = 0;
        } elsif ($line =~ /^cfn=\((\d+)\)(?: (.*))?$/) {
            $name{"f$1"} = $2 if defined $2;
            $cfn = $name{"f$1"};
        } elsif ($line =~ /^calls=(\d+)/) {
            $call = 1;
            $calls{$cfn} += $1 if defined $cfn && $cfn ne ($fn // '');
        } elsif ($line =~ /^[+\-*\d]\S*\s+(\d+)/) {
            if ($call) {
                $inc{$cfn} += $1 if defined $cfn && $cfn ne ($fn // '');
                $call = 0;
            } elsif (defined $fn) {
                $self{$fn} += $1;
            }
        }
    }
    close $fh;

    return (\%inc, \%self, \%calls);
}

sub stage_counts {
    my ($file, $n) = @_;
    my ($inc, $self, $calls) = function_counts($file);
    my %by;

    # the Redis sync rounds in the batch, whatever the requests did
    $by{rounds} = $calls->{ngx_http_webhook_limit_tick} // 0;

    for my $s (@stages) {
        my ($name, $inclusive, $own) = @$s;
        for my $fn (keys %$inc) {
            if ($fn =~ $inclusive) {
                $by{$name} += $inc->{$fn};
            }
        }
        next unless $own;
        for my $fn (keys %$self) {
            if ($fn =~ $own) {
                $by{$name} += $self->{$fn};
            }
        }
    }

    return { map { $_ => $by{$_} / $n } keys %by };
}

my %dumps;

# instructions per request of $n requests, after $warm uncounted ones
sub measure {
    my ($port, $pid, $c, $size, $n) = @_;
    my @warm = map { request($c, $size) } 1 .. 2;
    my @reqs = map { request($c, $size) } 1 .. $n;

    # a refused request makes the row "refused", not a figure
    my $ok = eval { send_all($port, \@warm); 1 };
    system("callgrind_control --zero $pid >/dev/null 2>&1") == 0
        or die "callgrind_control --zero failed\n";
    $ok &&= eval { send_all($port, \@reqs); 1 };
    my $error = $@;
    system("callgrind_control --dump $pid >/dev/null 2>&1") == 0
        or die "callgrind_control --dump failed\n";

    # the dumps of a process are numbered from 1
    my $file = "$dir/callgrind-$port.out." . ++$dumps{$port};
    for (1 .. 100) { last if -s $file; sleep 0.1; }

    if (!$ok) {
        my ($first) = $error =~ /^(.*)/;
        print STDERR "# $first\n";
        return (undef, {});
    }
    return (callgrind_total($file) / $n, stage_counts($file, $n));
}


# inst: which nginx runs it (main; redis: with webhook_redis and a
# redis-server; njs: with Debian's njs module); each has its own plain row
my @configs = (
    { name => 'plain proxy_pass', key => 'plain', path => '/plain' },
    { name => 'Stripe, verification only', key => 'stripe-verify',
      path => '/stripe-verify', sign => 'stripe' },
    { name => 'GitHub, verification only', key => 'github-verify',
      path => '/github-verify', sign => 'github' },
    { name => 'Stripe, all checks (id from the body)', key => 'stripe-all',
      path => '/stripe-all', sign => 'stripe' },
    { name => 'GitHub, all checks (id from a header)', key => 'github-all',
      path => '/github-all', sign => 'github' },
    { name => 'Stripe, all checks + $webhook_id, $webhook_event upstream',
      key => 'stripe-event', path => '/stripe-event', sign => 'stripe' },
    { name => 'Stripe, all checks, limit sync=on (Redis)',
      key => 'stripe-sync', path => '/stripe-sync', sign => 'stripe',
      inst => 'redis' },
    { name => 'Stripe, verification + webhook_enqueue (no upstream)',
      key => 'stripe-enqueue', path => '/stripe-enqueue', sign => 'stripe',
      inst => 'redis' },
);

push @configs, { name => 'njs peer: GitHub HMAC in njs (verification only)',
                 key => 'njs', path => '/njs', sign => 'github',
                 inst => 'njs' } if $njs;

if ($opt{only}) {
    my %only = map { $_ => 1 } 'plain', split /,/, $opt{only};
    @configs = grep { $only{ $_->{key} } } @configs;
}

$_->{inst} //= 'main' for @configs;

my %count = (1024 => 20, 65536 => 8, 1048576 => 3);

printf "# nginx %s, module %s, bodies \"%s\"\n",
    (`$nginx -v 2>&1` =~ m{nginx/(\S+)})[0], $module, $opt{shape};

my %floor;
for my $size (@sizes) {
    $floor{github}{$size} = hmac_floor($size);
    $floor{stripe}{$size} = hmac_floor($size + 11);    # "t." + body
}

my %inst;
for my $i (sort keys %{{ map { $_->{inst} => 1 } @configs }}) {
    my $enqueue = grep { $_->{key} eq 'stripe-enqueue' } @configs;
    $inst{$i} = [ start_nginx($i eq 'redis'
                              ? (redis => start_redis(), enqueue => $enqueue)
                              : $i eq 'njs' ? (njs => 1) : ()) ];
}

my %res;

for my $size (@sizes) {
    my $n = $count{$size} // 5;
    # plain proxy_pass of the same deliveries, headers and all
    for my $i (sort keys %inst) {
        for my $sign (qw(stripe github)) {
            my ($ir) = measure(@{ $inst{$i} }, { %{ $configs[0] },
                               sign => $sign }, $size, $n);
            $res{plain}{$i}{$sign}{$size} = $ir;
        }
    }
    for my $c (@configs[1 .. $#configs]) {
        my ($ir, $st) = measure(@{ $inst{ $c->{inst} } }, $c, $size, $n);
        $res{ $c->{key} }{$size} = { ir => $ir, stages => $st,
            beyond => defined $ir
                ? $ir - $res{plain}{ $c->{inst} }{ $c->{sign} }{$size}
                : undef };
    }
}


# the tables

sub fmt {
    my ($v) = @_;
    return '-' unless defined $v;
    my $s = sprintf '%.0f', $v;
    1 while $s =~ s/^(-?\d+)(\d{3})/$1,$2/;
    return $s;
}

sub label { my $s = shift; $s >= 1048576 ? ($s / 1048576) . ' MiB'
            : $s >= 1024 ? ($s / 1024) . ' KiB' : "$s B" }

print "\n## Instructions per request beyond plain proxy_pass, "
    . "and against the HMAC floor\n\n";
print '| configuration | '
    . join(' | ', map { label($_) } @sizes) . " |\n";
print '|---|' . ('---|' x @sizes) . "\n";

for my $i (sort keys %inst) {
    for my $sign (qw(stripe github)) {
        printf "| plain proxy_pass, absolute (%s nginx, %s request) | %s |\n",
            $i, $sign, join ' | ', map { fmt($res{plain}{$i}{$sign}{$_}) }
                                   @sizes;
    }
}
printf "| HMAC floor, Stripe payload | %s |\n",
    join ' | ', map { fmt($floor{stripe}{$_}) } @sizes;
printf "| HMAC floor, GitHub payload | %s |\n",
    join ' | ', map { fmt($floor{github}{$_}) } @sizes;

for my $c (@configs[1 .. $#configs]) {
    my @cells;
    for my $size (@sizes) {
        my $beyond = $res{ $c->{key} }{$size}{beyond};
        my $f = $floor{ $c->{sign} }{$size};
        if (!defined $beyond) {
            push @cells, 'refused';
            next;
        }
        push @cells, sprintf '+%s (floor %s%s, x%.3f)', fmt($beyond),
            $beyond >= $f ? '+' : '-', fmt(abs($beyond - $f)), $beyond / $f;
    }
    printf "| %s | %s |\n", $c->{name}, join ' | ', @cells;
}

# The sync timer runs every sync_interval whatever the traffic: under
# callgrind a request takes 50 times longer, so more rounds fall on each
# request than at real speed.  The per-request part is the difference
# without the timer's work; a round's cost is shared by every request of
# an interval.
if ($res{'stripe-sync'} && $res{'stripe-all'}) {
    print "\n## Redis sync on minus off (Stripe, all checks)\n\n";
    print "| | " . join(' | ', map { label($_) } @sizes) . " |\n";
    print '|---|' . ('---|' x @sizes) . "\n";
    my (@all, @req, @round);
    for my $size (@sizes) {
        my $r = $res{'stripe-sync'}{$size};
        if (!defined $r->{beyond} || !defined $res{'stripe-all'}{$size}{beyond})
        {
            push @all, '-'; push @req, '-'; push @round, '-';
            next;
        }
        my $diff = $r->{beyond} - $res{'stripe-all'}{$size}{beyond};
        my $timer = $r->{stages}{redis} // 0;
        my $rounds = ($r->{stages}{rounds} // 0) * ($count{$size} // 5);
        push @all, fmt($diff);
        push @req, fmt($diff - $timer);
        push @round, $rounds ? fmt($timer * ($count{$size} // 5) / $rounds)
                             : '-';
    }
    print "| measured, per request | " . join(' | ', @all) . " |\n";
    print "| per request, without the sync timer | "
        . join(' | ', @req) . " |\n";
    print "| one sync round (timer, Redis reply) | "
        . join(' | ', @round) . " |\n";
}

print "\n## Per stage: inclusive instructions per request of the module's "
    . "functions\n\n";

for my $size (@sizes) {
    print "### " . label($size) . "\n\n";
    my @cols = @configs[1 .. $#configs];
    print '| stage | ' . join(' | ', map { $_->{key} } @cols) . " |\n";
    print '|---|' . ('---|' x @cols) . "\n";
    for my $s (@stages) {
        printf "| %s | %s |\n", $s->[0], join ' | ',
            map { fmt($res{ $_->{key} }{$size}{stages}{ $s->[0] }) } @cols;
    }
    print "\n";
}
