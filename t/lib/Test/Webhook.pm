package Test::Webhook;

# Test harness for ngx_http_webhook_module, in the shape of nginx-tests'
# lib/Test/Nginx.pm: a temporary directory, a config written from a heredoc
# with placeholders, a real nginx (master + workers), a recording upstream,
# a raw HTTP/1.1 client and an h2c client (curl), and an error-log check
# that fails the test file on [alert], [crit], [emerg], crashes and
# sanitizer reports.  Perl core modules only.  See t/lib/README.md.

use strict;
use warnings;

use Cwd qw(abs_path);
use Digest::SHA qw(sha256_hex);
use Errno qw(EINTR EAGAIN EWOULDBLOCK EINPROGRESS);
use File::Basename qw(dirname);
use File::Temp qw(tempdir);
use IO::Select;
use IO::Socket::INET;
use IO::Socket::IP;
use JSON::PP ();
use POSIX qw(WNOHANG);
use Scalar::Util qw(weaken);
use Storable qw(nstore retrieve);
use Time::HiRes ();

use Test::More ();

use Test::Webhook::Upstream;

our $VERSION = '1.0';

our $BAD_LINES = qr/\[(?:alert|crit|emerg)\]|exited on signal|Sanitizer|runtime error:/;

my $ROOT = abs_path(dirname(__FILE__) . '/../../..');

my @INSTANCES;

sub now { Time::HiRes::time() }

###############################################################################
# setup

sub new {
    my ($class, %opt) = @_;

    my $no_module = $ENV{TEST_WEBHOOK_NO_MODULE} ? 1 : 0;

    my $module = $ENV{TEST_WEBHOOK_MODULE}
                 // "$ROOT/build/ngx_http_webhook_module.so";

    if (!$no_module && !-f $module) {
        Test::More->builder->BAIL_OUT(
            "module $module not found: run ./build.sh first");
    }

    my $binary = $ENV{TEST_NGINX_BINARY}
                 // (-x "$ROOT/build/nginx" ? "$ROOT/build/nginx"
                                            : '/usr/sbin/nginx');

    if (!-x $binary) {
        Test::More->builder->BAIL_OUT("nginx binary $binary not executable");
    }

    my $leave = $ENV{TEST_WEBHOOK_LEAVE} ? 1 : 0;
    my $dir = tempdir('webhook-test-XXXXXX', TMPDIR => 1, CLEANUP => !$leave);

    # workers run as "nobody" when the master is root: they need to reach
    # the temp paths inside the test directory
    chmod 0755, $dir;

    Test::More::diag("test directory: $dir") if $leave;

    my $self = bless {
        _owner     => $$,
        _testdir   => $dir,
        _binary    => $binary,
        _module    => $no_module ? undef : abs_path($module),
        _ports     => {},
        _port_list => [],
        _listen    => {},
        _bad       => [],
        _offsets   => {},
        _planned   => 0,
        _checked   => 0,
    }, $class;

    push @INSTANCES, $self;
    weaken($INSTANCES[-1]);

    return $self;
}

sub testdir { $_[0]{_testdir} }
sub binary  { $_[0]{_binary} }
sub module  { $_[0]{_module} }

# $t->plan(N): N tests of the file, plus one for the error-log check made
# at the end (as nginx-tests does).

sub plan {
    my ($self, $n) = @_;
    $self->{_planned} = 1;
    Test::More::plan(tests => $n + 1);
    return $self;
}

# $t->done_testing: stop everything, run the error-log check, done_testing.

sub done_testing {
    my ($self) = @_;
    $self->_final_check;
    Test::More::done_testing();
}

###############################################################################
# files and config

sub write_file {
    my ($self, $name, $content, $mode) = @_;

    my $path = "$self->{_testdir}/$name";
    open my $fh, '>:raw', $path or die "can't create $path: $!";
    print $fh $content;
    close $fh or die "can't write $path: $!";
    chmod(defined $mode ? $mode : 0644, $path) or die "chmod $path: $!";

    return $path;
}

sub read_file {
    my ($self, $name) = @_;

    my $path = $name =~ m{^/} ? $name : "$self->{_testdir}/$name";
    open my $fh, '<:raw', $path or return '';
    local $/;
    my $data = <$fh>;
    close $fh;

    return $data // '';
}

sub error_log { $_[0]->read_file('error.log') }

sub test_globals {
    my ($self) = @_;

    my $dir = $self->{_testdir};
    my $level = $ENV{TEST_WEBHOOK_DEBUG} ? 'debug' : 'info';

    my $s = '';
    $s .= "load_module $self->{_module};\n" if defined $self->{_module};
    $s .= "pid $dir/nginx.pid;\n";
    $s .= "error_log $dir/error.log $level;\n";

    return $s;
}

sub test_globals_http {
    my ($self) = @_;

    my $dir = $self->{_testdir};

    return "access_log $dir/access.log;\n"
         . "client_body_temp_path $dir/client_body_temp;\n"
         . "proxy_temp_path $dir/proxy_temp;\n"
         . "fastcgi_temp_path $dir/fastcgi_temp;\n"
         . "uwsgi_temp_path $dir/uwsgi_temp;\n"
         . "scgi_temp_path $dir/scgi_temp;\n";
}

# proxy_set_header lines passing every variable of the module to the
# upstream, for %%WEBHOOK_PROXY_HEADERS%%

sub webhook_proxy_headers {
    return join '', map { "proxy_set_header $_->[0] \$$_->[1];\n" } (
        ['X-Webhook-Provider',     'webhook_provider'],
        ['X-Webhook-Verified',     'webhook_verified'],
        ['X-Webhook-Id',           'webhook_id'],
        ['X-Webhook-Timestamp',    'webhook_timestamp'],
        ['X-Webhook-Event',        'webhook_event'],
        ['X-Webhook-Secret-Index', 'webhook_secret_index'],
        ['X-Webhook-Reason',       'webhook_reject_reason'],
    );
}

sub write_file_expand {
    my ($self, $name, $content, $mode) = @_;

    $content =~ s/%%TEST_GLOBALS%%/$self->test_globals/ge;
    $content =~ s/%%TEST_GLOBALS_HTTP%%/$self->test_globals_http/ge;
    $content =~ s/%%WEBHOOK_PROXY_HEADERS%%/webhook_proxy_headers()/ge;
    $content =~ s/%%TESTDIR%%/$self->{_testdir}/g;
    $content =~ s/%%UPSTREAM%%/'127.0.0.1:' . $self->upstream_port/ge;
    $content =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;

    if ($content =~ /(%%[A-Z0-9_]+%%)/) {
        die "write_file_expand: unknown placeholder $1 in $name\n";
    }

    # remember what nginx listens on, to wait for it in run()
    my @ports;
    while ($content =~ /^\s*listen\s+([^\s;]+)/mg) {
        my $addr = $1;
        next if $addr =~ /^unix:/;
        my ($host, $port);
        if ($addr =~ /^\[([^\]]+)\]:(\d+)$/) {
            ($host, $port) = ($1, $2);
        } elsif ($addr =~ /^(?:([^:]+):)?(\d+)$/) {
            ($host, $port) = ($1 // '127.0.0.1', $2);
        } else {
            next;
        }
        $host = '127.0.0.1' if $host eq '*' || $host eq '0.0.0.0';
        $host = '::1' if $host eq '::';
        push @ports, [$host, $port];
    }
    $self->{_listen}{$name} = \@ports;
    $self->{_no_master}{$name} = $content =~ /^\s*master_process\s+off/m;

    return $self->write_file($name, $content, $mode);
}

###############################################################################
# ports

sub _free_port {
    my ($self) = @_;

    my %used = map { $_ => 1 } values %{ $self->{_ports} };
    $used{ $self->{_upstream_port} } = 1 if $self->{_upstream_port};

    for (1 .. 50) {
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => 0,
            Proto     => 'tcp',
            Listen    => 1,
        ) or die "can't bind 127.0.0.1:0: $!";
        my $port = $s->sockport;
        close $s;
        return $port unless $used{$port};
    }

    die "no free port found\n";
}

# $t->port(8080): the free port that %%PORT_8080%% stands for

sub port {
    my ($self, $n) = @_;

    if (!exists $self->{_ports}{$n}) {
        $self->{_ports}{$n} = $self->_free_port;
        push @{ $self->{_port_list} }, $n;
    }

    return $self->{_ports}{$n};
}

sub _default_port {
    my ($self) = @_;

    return $self->{_ports}{8080} if exists $self->{_ports}{8080};
    return $self->{_ports}{ $self->{_port_list}[0] }
        if @{ $self->{_port_list} };
    die "no port mapped\n";
}

###############################################################################
# nginx

sub _nginx_args {
    my ($self, $conf, $log) = @_;

    my $dir = $self->{_testdir};

    # called in the child just before exec: a sanitized nginx (and each of
    # its workers) writes its reports to sanitizer.PID in the test
    # directory, which the error-log check reads
    if ($ENV{TEST_WEBHOOK_SANITIZER}) {
        for my $var ('ASAN_OPTIONS', 'UBSAN_OPTIONS') {
            $ENV{$var} = join ':', grep { length } $ENV{$var} // '',
                                   "log_path=$dir/sanitizer";
        }
    }

    return ($self->{_binary}, '-p', "$dir/", '-c', "$dir/$conf",
            '-e', "$dir/$log", '-g', 'daemon off;');
}

# ($exit_code, $output) = $t->try_config([$conf]): nginx -t on the config

# ($code, $output) = $t->try_location($lines): nginx -t of a configuration
# whose only location holds $lines (then proxy_pass); for the errors a
# location's directives can make

sub try_location {
    my ($self, $lines) = @_;

    my $file = sprintf 'err%02d.conf', ++$self->{_try_location};

    $self->write_file_expand($file, <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8081%%;

        location / {
            $lines
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }
    }
}

EOF

    return $self->try_config($file);
}

sub try_config {
    my ($self, $conf) = @_;

    $conf //= 'nginx.conf';
    my $dir = $self->{_testdir};
    my $out = "$dir/try_config.out";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDOUT, '>', $out or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec($self->_nginx_args($conf, 'try_config.log'), '-t')
            or POSIX::_exit(127);
    }

    my $deadline = now() + 20;
    while (waitpid($pid, WNOHANG) == 0) {
        if (now() > $deadline) {
            kill 'KILL', $pid;
            waitpid($pid, 0);
            return (-1, "nginx -t timed out\n" . $self->read_file($out));
        }
        Time::HiRes::sleep(0.02);
    }

    my $code = $? & 127 ? 128 + ($? & 127) : $? >> 8;

    return ($code, $self->read_file($out));
}

# $t->run: start nginx on nginx.conf (and the upstream, if the config uses
# %%UPSTREAM%%); returns once every listen port accepts.

sub run {
    my ($self, $conf) = @_;

    $conf //= 'nginx.conf';
    my $dir = $self->{_testdir};

    die "nginx already running\n" if $self->{_nginx_pid};

    $self->run_upstream
        if $self->{_upstream_sock} && !$self->{_upstream_pid};

    unlink "$dir/nginx.pid";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        open STDOUT, '>>', "$dir/nginx.stderr" or POSIX::_exit(126);
        open STDERR, '>&', \*STDOUT or POSIX::_exit(126);
        exec($self->_nginx_args($conf, 'error.log')) or POSIX::_exit(127);
    }

    $self->{_nginx_pid} = $pid;
    $self->{_nginx_conf} = $conf;

    my @wait = @{ $self->{_listen}{$conf} || [] };
    my $deadline = now() + 10;

    # every worker the configuration asks for (a test that counts them
    # must not see the first one alone)
    my ($workers) = $self->read_file($conf) =~ /^\s*worker_processes\s+(\d+);/m;
    $workers ||= 1;

    while (1) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{_nginx_pid};
            my $status = $?;
            $self->_scan_logs;
            die "nginx exited (status $status) instead of starting:\n"
                . $self->read_file('nginx.stderr')
                . $self->error_log;
        }

        my $pidfile = $self->read_file('nginx.pid');
        $pidfile =~ s/\s+//g;

        if ($pidfile eq $pid) {
            @wait = grep { !_can_connect(@$_) } @wait;
            last if !@wait && ($self->{_no_master}{$conf}
                               || $self->worker_pids >= $workers);
        }

        if (now() > $deadline) {
            my $what = @wait ? join(' ', map { "$_->[0]:$_->[1]" } @wait)
                             : 'pid file and workers';
            $self->stop;
            die "nginx did not start within 10 s (waiting for $what):\n"
                . $self->error_log;
        }

        Time::HiRes::sleep(0.02);
    }

    return $self;
}

sub _can_connect {
    my ($host, $port) = @_;

    my $s = IO::Socket::IP->new(
        PeerHost => $host,
        PeerPort => $port,
        Proto    => 'tcp',
        Timeout  => 1,
    );

    return 0 unless $s;
    close $s;
    return 1;
}

sub nginx_pid { $_[0]{_nginx_pid} }

# pids of the master's children (the workers)

sub worker_pids {
    my ($self) = @_;

    my $master = $self->{_nginx_pid} or return ();
    my @pids;

    opendir my $d, '/proc' or return ();
    for my $p (grep { /^\d+$/ } readdir $d) {
        open my $fh, '<', "/proc/$p/stat" or next;
        my $stat = <$fh> // '';
        close $fh;
        # pid (comm) state ppid ...
        my ($ppid) = $stat =~ /\)\s+\S+\s+(\d+)/ or next;
        push @pids, $p + 0 if $ppid == $master;
    }
    closedir $d;

    @pids = sort { $a <=> $b } @pids;

    return wantarray ? @pids : scalar @pids;
}

# $t->reload: SIGHUP, then wait until a new worker generation runs and the
# old one is gone (bounded).  True when the new workers came up.

sub reload {
    my ($self) = @_;

    my $master = $self->{_nginx_pid} or die "nginx not running\n";
    my %old = map { $_ => 1 } $self->worker_pids;

    kill 'HUP', $master or die "kill HUP $master: $!";

    my $deadline = now() + 10;
    my $up = 0;

    while (now() < $deadline) {
        my @now = $self->worker_pids;
        if (grep { !$old{$_} } @now) {
            $up = 1;
            last unless grep { $old{$_} } @now;
        }
        Time::HiRes::sleep(0.05);
    }

    Test::More::diag('reload: no new worker generation within 10 s')
        unless $up;

    return $up;
}

# $t->stop: QUIT, wait up to 10 s for the master to exit, then KILL the
# whole process group; also stops the upstream.  Scans the logs.

sub stop {
    my ($self) = @_;

    return $self if $self->{_owner} != $$;

    $self->_stop_nginx;
    $self->stop_upstream;
    $self->_scan_logs;

    return $self;
}

sub _stop_nginx {
    my ($self) = @_;

    my $pid = delete $self->{_nginx_pid} or return;

    kill 'QUIT', $pid;

    my $deadline = now() + 10;
    while (waitpid($pid, WNOHANG) == 0) {
        if (now() > $deadline) {
            Test::More::diag("nginx $pid did not exit within 10 s, killing");
            kill 'KILL', -$pid;
            waitpid($pid, 0);
            last;
        }
        Time::HiRes::sleep(0.02);
    }

    # workers left over when the master was killed: same process group
    kill 'KILL', -$pid if kill 0, -$pid;
}

###############################################################################
# error log check

sub bad_lines {
    my ($text) = @_;
    return grep { /$BAD_LINES/ } split /\n/, $text // '';
}

# $t->expect_alert(qr/.../): lines of the error log matching it are not
# counted by the check (for a test that provokes them on purpose, e.g.
# "worker process 1234 exited on signal 9" after killing a worker)

sub expect_alert {
    my ($self, $re) = @_;
    push @{ $self->{_expected} }, $re;
    return $self;
}

sub _scan_logs {
    my ($self) = @_;

    my @expected = @{ $self->{_expected} || [] };

    for my $name ('error.log', 'nginx.stderr') {
        my $data = $self->read_file($name);
        my $off = $self->{_offsets}{$name} // 0;
        $off = 0 if $off > length $data;
        my @bad = bad_lines(substr($data, $off));
        for my $re (@expected) {
            @bad = grep { !/$re/ } @bad;
        }
        push @{ $self->{_bad} }, map { "$name: $_" } @bad;
        $self->{_offsets}{$name} = length $data;
    }

    # a sanitizer report is a failure whatever it says (never expected)
    for my $path (sort glob "$self->{_testdir}/sanitizer.*") {
        (my $name = $path) =~ s{.*/}{};
        next if $self->{_sanitizer_seen}{$name}++;
        my @lines = split /\n/, $self->read_file($name);
        splice @lines, 40 if @lines > 40;
        push @{ $self->{_bad} }, "$name: " . join "\n", @lines;
    }
}

# lines found so far by the check (without emitting a test)

sub alerts {
    my ($self) = @_;
    $self->_scan_logs;
    return @{ $self->{_bad} };
}

sub _final_check {
    my ($self) = @_;

    return if $self->{_checked}++;

    $self->stop;

    my @bad = @{ $self->{_bad} };

    Test::More::ok(!@bad,
        'no alert, crit, emerg, crash or sanitizer report in the error log')
        or Test::More::diag(join "\n", @bad);
}

sub _finish {
    my ($self) = @_;

    return if $self->{_owner} != $$;
    return if $self->{_checked};

    $self->stop;

    my $tb = Test::More->builder;
    my $ctx = $tb->ctx;
    my $hub = $ctx->hub;
    my $ended = $hub->ended;
    my $plan = $hub->plan;
    $ctx->release;

    if (!$ended && ($self->{_planned}
                    || (!$plan && $tb->current_test)))
    {
        $self->_final_check;
        return;
    }

    $self->{_checked} = 1;

    if (my @bad = @{ $self->{_bad} }) {
        Test::More::diag("error log check failed:\n" . join "\n", @bad);
        $tb->is_passing(0);
    }
}

# A file-scoped "my $t" is freed when the main program's scope is left,
# before any END block: DESTROY makes the final check then (as nginx-tests
# does).  Objects still alive at END time (globals) are checked in END,
# which runs before Test::Builder's and File::Temp's END blocks (LIFO).

sub DESTROY {
    my ($self) = @_;
    local ($?, $@, $!);
    return if $self->{_owner} != $$;
    eval { $self->_finish; 1 } or warn $@;
}

END {
    my $status = $?;
    for my $t (grep { defined } @INSTANCES) {
        eval { $t->_finish; 1 } or warn $@;
    }
    $? = $status;
}

###############################################################################
# recording upstream

sub upstream_port {
    my ($self) = @_;

    if (!$self->{_upstream_sock}) {
        my $s = IO::Socket::INET->new(
            LocalAddr => '127.0.0.1',
            LocalPort => 0,
            Proto     => 'tcp',
            Listen    => 128,
            ReuseAddr => 1,
        ) or die "upstream: can't bind 127.0.0.1:0: $!";

        $self->{_upstream_sock} = $s;
        $self->{_upstream_port} = $s->sockport;
    }

    return $self->{_upstream_port};
}

sub upstream { '127.0.0.1:' . $_[0]->upstream_port }

# $t->run_upstream: fork the recording upstream (kept until stop)

sub run_upstream {
    my ($self) = @_;

    return $self if $self->{_upstream_pid};

    $self->upstream_port;
    mkdir "$self->{_testdir}/upstream";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        POSIX::setpgid(0, 0);
        eval {
            Test::Webhook::Upstream::serve($self->{_upstream_sock},
                                           $self->{_testdir});
        };
        POSIX::_exit(0);
    }

    POSIX::setpgid($pid, $pid);
    $self->{_upstream_pid} = $pid;

    return $self;
}

sub stop_upstream {
    my ($self) = @_;

    my $pid = delete $self->{_upstream_pid} or return;

    # the server and its per-connection children share a process group
    kill 'TERM', -$pid;
    kill 'TERM', $pid;

    my $deadline = now() + 5;
    while (waitpid($pid, WNOHANG) == 0) {
        if (now() > $deadline) {
            kill 'KILL', -$pid;
            kill 'KILL', $pid;
            waitpid($pid, 0);
            last;
        }
        Time::HiRes::sleep(0.01);
    }

    kill 'KILL', -$pid if kill 0, -$pid;
}

sub _upstream_files {
    my ($self) = @_;

    my $d = "$self->{_testdir}/upstream";
    opendir my $dh, $d or return ();
    my @n = sort { $a <=> $b } map { /^(\d+)\.head$/ ? $1 : () } readdir $dh;
    closedir $dh;

    return map { sprintf '%04d', $_ } @n;
}

# [ { seq, method, uri, proto, headers => {lc name => value}, head, body } ]

sub upstream_requests {
    my ($self) = @_;

    my @r;
    for my $n ($self->_upstream_files) {
        my $head = $self->read_file("upstream/$n.head");
        my $body = $self->read_file("upstream/$n.body");

        my ($line, @lines) = split /\r\n/, $head;
        my ($method, $uri, $proto) = split / /, $line // '', 3;

        my %h;
        for (@lines) {
            my ($k, $v) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
            $k = lc $k;
            $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
        }

        push @r, {
            seq     => $n + 0,
            method  => $method,
            uri     => $uri,
            proto   => $proto,
            headers => \%h,
            head    => $head,
            body    => $body,
        };
    }

    return \@r;
}

sub upstream_last {
    my ($self) = @_;
    my $r = $self->upstream_requests;
    return $r->[-1];
}

sub upstream_count {
    my ($self) = @_;
    return scalar(my @n = $self->_upstream_files);
}

sub upstream_reset {
    my ($self) = @_;

    my $d = "$self->{_testdir}/upstream";
    opendir my $dh, $d or return;
    unlink map { "$d/$_" } grep { /^\d+\.(?:head|body)(?:\.tmp)?$/ } readdir $dh;
    closedir $dh;
}

###############################################################################
# clients

sub _bytes {
    my ($s) = @_;
    return $s unless defined $s && utf8::is_utf8($s);
    my $c = $s;
    utf8::encode($c) unless utf8::downgrade($c, 1);
    return $c;
}

# the request http() and http_open() send, as [bytes, delay before] pieces

sub _request_pieces {
    my ($self, %a) = @_;

    my $method = $a{method} // 'POST';
    my $path   = $a{path} // '/';
    my @h      = @{ $a{headers} || [] };
    my $body   = _bytes($a{body});

    my %has = map { lc($_->[0]) => 1 } @h;

    my @pieces;    # [bytes, delay before]

    if (defined $a{request}) {
        push @pieces, [_bytes($a{request}), 0];
        return @pieces;
    }

    my $req = "$method $path HTTP/1.1\r\n";
    $req .= 'Host: ' . ($a{host} // 'localhost') . "\r\n"
        unless $has{host};
    $req .= "$_->[0]: $_->[1]\r\n" for @h;

    if ($a{chunked}) {
        $req .= "Transfer-Encoding: chunked\r\n"
            unless $has{'transfer-encoding'};
    } elsif (defined $body && !$has{'content-length'}) {
        $req .= 'Content-Length: ' . length($body) . "\r\n";
    }

    $req .= "Connection: close\r\n" unless $has{connection};
    $req .= "\r\n";

    if ($a{head_only}) {
        push @pieces, [$req, 0];

    } elsif ($a{chunked}) {
        my $size = $a{chunk_size} || 4096;
        my $delay = $a{chunk_delay} // 0;
        push @pieces, [$req, 0];
        $body //= '';
        for (my $off = 0; $off < length $body; $off += $size) {
            my $chunk = substr($body, $off, $size);
            push @pieces, [sprintf("%x\r\n", length $chunk)
                           . $chunk . "\r\n", $delay];
        }
        push @pieces, ["0\r\n\r\n", $delay];

    } else {
        push @pieces, [$req . ($body // ''), 0];
    }

    return @pieces;
}

sub _connect {
    my ($self, %a) = @_;

    my $addr    = $a{addr} // '127.0.0.1';
    my $port    = $a{port} // $self->_default_port;
    my $timeout = $a{timeout} // 10;

    my $s = $addr =~ /:/
        ? IO::Socket::IP->new(
              PeerHost => $addr,
              PeerPort => $port,
              Proto    => 'tcp',
              Timeout  => $timeout,
          )
        : IO::Socket::INET->new(
              PeerAddr => $addr,
              PeerPort => $port,
              Proto    => 'tcp',
              Timeout  => $timeout,
          );

    return (undef, "connect to $addr:$port: $!") unless $s;

    binmode $s;

    return ($s, undef);
}

# true when $raw holds a whole final response (head, and a body whose end
# is known: content-length, or the last chunk)

sub _response_complete {
    my ($raw) = @_;

    my $resp = { status => 0, headers => {}, body => '' };
    _parse_response($resp, $raw);

    return 0 unless $resp->{status};

    my $h = $resp->{headers};

    return 1 if $resp->{status} == 204 || $resp->{status} == 304;

    if (($h->{'transfer-encoding'} // '') =~ /chunked/i) {
        return $raw =~ /\r\n0\r\n(?:[^\r\n]+\r\n)*\r\n\z/ ? 1 : 0;
    }

    if (defined $h->{'content-length'}) {
        return length($resp->{body}) >= $h->{'content-length'} ? 1 : 0;
    }

    return 0;
}

# $t->http(%args) -> { status, headers => {lc => value}, body, raw, error,
#                      elapsed }
#   method (POST), path (/), host (localhost), headers [[name, value], ...],
#   body, chunked => 1, chunk_size (4096), chunk_delay (seconds),
#   addr (127.0.0.1; '::1' for IPv6), port (8080's, else the first mapped),
#   timeout (10), request => raw bytes, until_response => 1 (return once a
#   complete response arrived instead of waiting for EOF)

sub http {
    my ($self, %a) = @_;

    my $timeout = $a{timeout} // 10;
    my @pieces = $self->_request_pieces(%a);

    my $resp = { status => 0, headers => {}, body => '', raw => '' };
    my $start = now();

    my ($s, $err) = $self->_connect(%a, timeout => $timeout);

    if (!$s) {
        $resp->{error} = $err;
        $resp->{elapsed} = now() - $start;
        return $resp;
    }

    local $SIG{PIPE} = 'IGNORE';
    $s->blocking(0);

    my $sel = IO::Select->new($s);
    my $deadline = now() + $timeout;
    my $raw = '';
    my $out = '';
    my $next_at = now();
    my $eof = 0;

    while (!$eof) {
        my $t = now();

        if ($out eq '' && @pieces && $t >= $next_at) {
            my $p = shift @pieces;
            $out = $p->[0];
            $next_at = @pieces ? now() + $pieces[0][1] : 0;
        }

        my $left = $deadline - $t;
        if ($left <= 0) {
            $resp->{error} = 'timeout';
            last;
        }

        my $wait = $left;
        if ($out eq '' && @pieces) {
            my $d = $next_at - $t;
            $wait = $d if $d < $wait;
            $wait = 0 if $wait < 0;
        }

        my ($r, $w) = IO::Select->select($sel, $out ne '' ? $sel : undef,
                                         undef, $wait);

        if ($r && @$r) {
            my $n = sysread($s, $raw, 65536, length $raw);
            if (!defined $n) {
                next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
                $eof = 1;    # reset: keep what arrived
            } elsif ($n == 0) {
                $eof = 1;
            } elsif ($a{until_response} && _response_complete($raw)) {
                last;
            }
        }

        if ($w && @$w && $out ne '') {
            my $n = syswrite($s, $out);
            if (!defined $n) {
                next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
                # peer stopped reading (e.g. answered early): read the rest
                $resp->{write_error} = "$!";
                $out = '';
                @pieces = ();
            } else {
                substr($out, 0, $n, '');
            }
        }
    }

    close $s;

    $resp->{raw} = $raw;
    $resp->{elapsed} = now() - $start;
    _parse_response($resp, $raw);

    return $resp;
}

# $c = $t->http_open(%args): connect and send the request as http() builds
# it (same arguments; chunk delays are not honoured), and return at once,
# the connection held open: the request goes on inside nginx while the
# test does other things.  head_only => 1 sends only the request head
# (give a Content-Length header, or a body for its length), so nginx waits
# for a body that never comes.  Then http_read($c) and/or http_close($c).
# Returns { sock, start, error } (error set when the connection failed).

sub http_open {
    my ($self, %a) = @_;

    my $c = { start => now(), raw => '' };

    my ($s, $err) = $self->_connect(%a);

    if (!$s) {
        $c->{error} = $err;
        return $c;
    }

    local $SIG{PIPE} = 'IGNORE';

    my $out = join '', map { $_->[0] } $self->_request_pieces(%a);
    my $off = 0;

    while ($off < length $out) {
        my $n = syswrite($s, $out, length($out) - $off, $off);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            $c->{write_error} = "$!";
            last;
        }
        $off += $n;
    }

    $c->{sock} = $s;

    return $c;
}

# $r = $t->http_read($c, timeout => 10, eof => 0): waits for the response
# on an http_open connection; returns as soon as a complete response
# arrived (the connection stays open: nginx may still be discarding a
# body), or at EOF, or at the timeout (error 'timeout'); with eof => 1 it
# reads on to EOF (nginx closes after the request's log phase).  elapsed
# is counted from http_open.  Same response hash as http().

sub http_read {
    my ($self, $c, %o) = @_;

    my $timeout = $o{timeout} // 10;
    my $resp = { status => 0, headers => {}, body => '', raw => '' };

    if (!$c->{sock}) {
        $resp->{error} = $c->{error} // 'connection closed';
        $resp->{elapsed} = now() - $c->{start};
        return $resp;
    }

    my $s = $c->{sock};
    $s->blocking(0);

    my $sel = IO::Select->new($s);
    my $deadline = now() + $timeout;

    while ($o{eof} || !_response_complete($c->{raw})) {
        my $left = $deadline - now();
        if ($left <= 0) {
            $resp->{error} = 'timeout';
            last;
        }

        next unless $sel->can_read($left);

        my $n = sysread($s, $c->{raw}, 65536, length $c->{raw});
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN || $! == EWOULDBLOCK;
            $resp->{error} = "read: $!" unless length $c->{raw};
            $self->http_close($c);
            last;
        }
        if ($n == 0) {
            $resp->{error} = 'closed without a response'
                unless length $c->{raw};
            $self->http_close($c);
            last;
        }
    }

    $resp->{raw} = $c->{raw};
    $resp->{elapsed} = now() - $c->{start};
    _parse_response($resp, $c->{raw});

    return $resp;
}

# $t->http_close($c): close an http_open connection (from the client's
# side: mid-request, this is a client abort)

sub http_close {
    my ($self, $c) = @_;

    my $s = delete $c->{sock} or return;
    close $s;
}

sub _parse_response {
    my ($resp, $raw) = @_;

    my $rest = $raw;

    while (1) {
        my $end = index($rest, "\r\n\r\n");
        return if $end < 0;

        my $head = substr($rest, 0, $end);
        $rest = substr($rest, $end + 4);

        my ($line, @lines) = split /\r\n/, $head;
        my ($status) = ($line // '') =~ m{^HTTP/[\d.]+\s+(\d{3})};
        return unless defined $status;

        next if $status >= 100 && $status < 200 && $status != 101;

        my %h;
        for (@lines) {
            my ($k, $v) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
            $k = lc $k;
            $h{$k} = exists $h{$k} ? "$h{$k}, $v" : $v;
        }

        $resp->{status} = $status + 0;
        $resp->{headers} = \%h;
        $resp->{head} = $head;

        if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
            my $body = '';
            while ($rest =~ s/^([0-9a-fA-F]+)[^\r\n]*\r\n//) {
                my $size = hex $1;
                last if $size == 0;
                $body .= substr($rest, 0, $size);
                substr($rest, 0, $size + 2, '');
            }
            $resp->{body} = $body;

        } elsif (defined $h{'content-length'}) {
            $resp->{body} = substr($rest, 0, $h{'content-length'});

        } else {
            $resp->{body} = $rest;
        }

        return;
    }
}

# $t->h2(%args): the same over h2c with curl --http2-prior-knowledge;
# no_length => 1 sends the body from stdin with -T - (no content-length)

my $H2_SEQ = 0;

sub h2 {
    my ($self, %a) = @_;

    my $method  = $a{method} // 'POST';
    my $path    = $a{path} // '/';
    my $port    = $a{port} // $self->_default_port;
    my $timeout = $a{timeout} // 10;
    my @h       = @{ $a{headers} || [] };
    my $body    = _bytes($a{body});
    my $dir     = $self->{_testdir};

    my $n = ++$H2_SEQ;
    my $in = "$dir/h2-$n.in";
    my $out = "$dir/h2-$n.out";
    my $err = "$dir/h2-$n.err";

    my %has = map { lc($_->[0]) => 1 } @h;

    my @cmd = ('curl', '--http2-prior-knowledge', '-sS', '-i',
               '-m', $timeout, '-X', $method, '-o', $out, '--stderr', $err,
               '-H', 'Expect:');

    push @cmd, '-H', "Host: $a{host}" if defined $a{host};

    for (@h) {
        my ($k, $v) = @$_;
        push @cmd, '-H', ($v eq '' ? "$k;" : "$k: $v");
    }

    if (defined $body) {
        $self->write_file("h2-$n.in", $body);
        push @cmd, '-H', 'Content-Type:' unless $has{'content-type'};
        push @cmd, $a{no_length} ? ('-T', '-') : ('--data-binary', "\@$in");
    }

    push @cmd, "http://127.0.0.1:$port$path";

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        if (defined $body && $a{no_length}) {
            open STDIN, '<', $in or POSIX::_exit(126);
        } else {
            open STDIN, '<', '/dev/null';
        }
        open STDOUT, '>', '/dev/null';
        exec(@cmd) or POSIX::_exit(127);
    }

    waitpid($pid, 0);
    my $rc = $? >> 8;

    my $raw = $self->read_file($out);
    my $resp = { status => 0, headers => {}, body => '', raw => $raw };

    _parse_response($resp, $raw);

    $resp->{error} = "curl exit $rc: " . $self->read_file($err) if $rc;

    unlink $in, $out, $err;

    return $resp;
}

# $t->http_many(\%args1, \%args2, ...): the requests at once, each from its
# own process; returns the responses in the same order

sub http_many {
    my ($self, @reqs) = @_;

    my $dir = $self->{_testdir};
    my @pids;

    for my $i (0 .. $#reqs) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;

        if ($pid == 0) {
            my %a = %{ $reqs[$i] };
            my $h2 = delete $a{h2};
            my $r = eval { $h2 ? $self->h2(%a) : $self->http(%a) }
                    || { status => 0, error => "$@" };
            nstore($r, "$dir/many-$$-$i.sto");
            POSIX::_exit(0);
        }

        push @pids, $pid;
    }

    my @r;
    for my $i (0 .. $#pids) {
        waitpid($pids[$i], 0);
        my $f = "$dir/many-$pids[$i]-$i.sto";
        push @r, (-f $f ? retrieve($f) : { status => 0, error => 'lost' });
        unlink $f;
    }

    return \@r;
}

# $t->http_batch(\@reqs, concurrency => N, interval => s): the requests
# over N client processes at once, each sending its share one after
# another (request i goes to process i % N), with interval => s at most
# one request per s seconds in each process (a paced stream); returns the
# responses in the order of @reqs, each with done_at (when it was
# answered, Time::HiRes::time).  For hundreds of requests where
# http_many would fork one process each.

sub http_batch {
    my ($self, $reqs, %o) = @_;

    my $n = $o{concurrency} || 10;
    $n = @$reqs if $n > @$reqs;

    my $dir = $self->{_testdir};
    my @pids;

    for my $p (0 .. $n - 1) {
        my $pid = fork;
        die "fork: $!" unless defined $pid;

        if ($pid == 0) {
            my @out;
            my $next = now();
            for (my $i = $p; $i < @$reqs; $i += $n) {
                if ($o{interval}) {
                    my $wait = $next - now();
                    Time::HiRes::sleep($wait) if $wait > 0;
                    $next += $o{interval};
                }
                my %a = %{ $reqs->[$i] };
                my $r = eval { $self->request(%a) }
                        || { status => 0, error => "$@" };
                delete $r->{raw};
                $r->{done_at} = now();
                push @out, [$i, $r];
            }
            nstore(\@out, "$dir/batch-$$.sto");
            POSIX::_exit(0);
        }

        push @pids, $pid;
    }

    my @r;
    for my $pid (@pids) {
        waitpid($pid, 0);
        my $f = "$dir/batch-$pid.sto";
        next unless -f $f;
        $r[ $_->[0] ] = $_->[1] for @{ retrieve($f) };
        unlink $f;
    }

    return [ map { $r[$_] // { status => 0, headers => {}, body => '',
                               error => 'lost' } } 0 .. $#$reqs ];
}

# $t->wait_until(sub { ... }, timeout => 5, interval => 0.05): calls the
# sub until it returns true or the timeout passes; returns its last value.
# For bounded polling instead of fixed sleeps.

sub wait_until {
    my ($self, $cb, %o) = @_;

    my $deadline = now() + ($o{timeout} // 5);
    my $interval = $o{interval} // 0.05;

    while (1) {
        my $v = $cb->();
        return $v if $v;
        return $v if now() >= $deadline;
        Time::HiRes::sleep($interval);
    }
}

# $t->status_json($path = '/status', %http_args): GET the webhook_status
# location, decoded (undef unless 200 and JSON); ($json, $resp) in list
# context.  $t->status_prometheus($path): the same with ?format=prometheus,
# the text (undef unless 200); ($text, $resp) in list context.

sub status_json {
    my ($self, $path, %a) = @_;

    my $r = $self->http(method => 'GET', path => $path // '/status',
                        timeout => 5, %a);
    my $j = $r->{status} == 200 ? $self->json($r) : undef;

    return wantarray ? ($j, $r) : $j;
}

sub status_prometheus {
    my ($self, $path, %a) = @_;

    $path //= '/status';
    $path .= ($path =~ /\?/ ? '&' : '?') . 'format=prometheus';

    my $r = $self->http(method => 'GET', path => $path, timeout => 5, %a);
    my $text = $r->{status} == 200 ? $r->{body} : undef;

    return wantarray ? ($text, $r) : $text;
}

# $t->prometheus($text) -> { 'name{labels as written}' => value, ... } for
# every sample line (comments skipped)

sub prometheus {
    my ($self, $text) = @_;

    my %m;
    for (split /\n/, $text // '') {
        next if /^\s*(?:#|$)/;
        my ($k, $v) = /^(\S+(?:\{.*\})?)\s+(\S+)(?:\s+\d+)?\s*$/ or next;
        $m{$k} = $v;
    }

    return \%m;
}

sub json {
    my ($self, $r) = @_;

    my $body = ref $r ? $r->{body} : $r;
    return undef unless defined $body;

    return eval { JSON::PP->new->decode($body) };
}

###############################################################################
# assertions

sub request {
    my ($self, %a) = @_;
    return delete $a{h2} ? $self->h2(%a) : $self->http(%a);
}

# $u = $t->is_forwarded(\%req, $name): the request (http, or h2 with
# h2 => 1) is answered 200 by the upstream, which got exactly the body.
# Three tests.  Returns the upstream's record ({headers => {}} if none).

sub is_forwarded {
    my ($self, $req, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $body = _bytes($req->{body}) // '';
    my $n = $self->upstream_count;
    my $r = $self->request(%$req);

    Test::More::is($self->status($r), 200, "$name: 200")
        or Test::More::diag(($r->{error} // '') . ' ' . substr($r->{body}, 0, 300));

    my $reqs = $self->upstream_requests;
    my $u = @$reqs == $n + 1 ? $reqs->[-1] : undef;

    Test::More::ok($u && $u->{body} eq $body,
        "$name: upstream got the body byte-identical")
        or Test::More::diag('upstream requests: ' . scalar(@$reqs)
                            . ", before: $n");

    Test::More::is(($self->json($r) || {})->{sha256}, sha256_hex($body),
        "$name: upstream sha256 matches");

    return $u || { headers => {}, body => undef };
}

# $t->is_rejected(\%req, $status, $reason, $name): the request gets the
# module's JSON rejection and does not reach the upstream.  Two tests.

sub is_rejected {
    my ($self, $req, $status, $reason, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $n = $self->upstream_count;
    my $r = $self->request(%$req);

    Test::More::is($self->reject_summary($r),
        $self->reject_expected($status, $reason), "$name: $status $reason")
        or ($r->{error} && Test::More::diag($r->{error}));

    Test::More::is($self->upstream_count, $n, "$name: not forwarded");

    return $r;
}

# the module's variables as the upstream saw them, through the headers of
# %%WEBHOOK_PROXY_HEADERS%% (nginx drops a header whose value is empty, so
# a missing header reads as '')

sub vars {
    my ($self, $u) = @_;

    my $h = $u->{headers} || {};

    return {
        provider     => $h->{'x-webhook-provider'} // '',
        verified     => $h->{'x-webhook-verified'} // '',
        id           => $h->{'x-webhook-id'} // '',
        timestamp    => $h->{'x-webhook-timestamp'} // '',
        event        => $h->{'x-webhook-event'} // '',
        secret_index => $h->{'x-webhook-secret-index'} // '',
        reason       => $h->{'x-webhook-reason'} // '',
    };
}

# "STATUS CONTENT-TYPE BODY": compact form of a rejection for is()

sub reject_summary {
    my ($self, $r) = @_;

    return sprintf '%s %s %s', $self->status($r),
        $r->{headers}{'content-type'} // '-', $r->{body} // '';
}

# the status, with " [error]" appended when the exchange did not end
# cleanly (connect failure, or no EOF before the timeout: nginx answered
# but never finalized the request)

sub status {
    my ($self, $r) = @_;

    my $s = $r->{status} // 0;
    $s .= " [$r->{error}]" if $r->{error};

    return $s;
}

sub reject_expected {
    my ($self, $status, $reason) = @_;

    return qq($status application/json {"error":"$reason","status":$status});
}

1;
