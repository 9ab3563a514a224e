#!/usr/bin/perl

# Operations under fire, each during a steady stream of valid deliveries:
#  - five "nginx -s reload": no request fails, each delivery reaches the
#    upstream exactly once;
#  - SIGKILL of a worker caught holding a zone's lock (stopped, the lock
#    word in shared memory read, killed only when it is the holder): the
#    master says so, frees the lock and starts a new worker; the zones
#    keep their state (a recorded delivery is still a duplicate, a spent
#    rate limit still refuses) and the stream goes on;
#  - Redis CLIENT KILL of nginx's connections and DEBUG SLEEP longer than
#    the timeout, under on_error=local: no request fails.

use strict;
use warnings;
no warnings 'portable';

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Storable qw(nstore retrieve);
use Test::More;
use Time::HiRes qw(sleep);

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

plan(skip_all => 'redis-server not installed')
    unless Test::Webhook::Redis->available;

my $secret = 'gh_fire_secret_40c9e1';

###############################################################################
# a stream of valid deliveries from a child process, until told to stop

sub deliver {
    my ($port, $id, %o) = @_;

    my $body = qq({"action":"created","delivery":"$id"});
    my @h = (['X-GitHub-Event', 'issues'], ['X-GitHub-Delivery', $id],
             ['X-Hub-Signature-256', github_header($secret, $body)],
             ['X-Tenant', $o{tenant} // $id]);
    push @h, ['X-Strict', 'one'] if $o{strict};

    my $req = "POST " . ($o{path} // '/github') . " HTTP/1.1\r\n"
            . "Host: localhost\r\nConnection: close\r\n"
            . join('', map { "$_->[0]: $_->[1]\r\n" } @h)
            . 'Content-Length: ' . length($body) . "\r\n\r\n$body";

    my $start = Time::HiRes::time;
    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                  Proto => 'tcp', Timeout => 5)
        or return { id => $id, status => 'connect', at => $start };

    local $SIG{PIPE} = 'IGNORE';
    syswrite($s, $req);

    my $sel = IO::Select->new($s);
    my $buf = '';
    while (Time::HiRes::time - $start < 10 && $sel->can_read(10)) {
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }
    close $s;

    my ($status) = $buf =~ m{^HTTP/1\.1 (\d{3})};
    my $dup = $buf =~ /"status":"duplicate"/ ? 1 : 0;

    return { id => $id, status => $status // 'none', dup => $dup,
             at => $start, took => Time::HiRes::time - $start };
}

sub stream_start {
    my ($t, $name, %o) = @_;

    my $dir = $t->testdir;
    my $port = $t->port(8080);
    unlink "$dir/$name.stop";

    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        my @out;
        my $i = 0;
        until (-e "$dir/$name.stop") {
            my $id = sprintf('%s-%05d', $name, ++$i);
            # a long key keeps the zone's lock a little longer
            push @out, deliver($port, $id,
                               tenant => $o{tenant_size}
                                         ? $id . ('k' x $o{tenant_size})
                                         : $id);
        }
        nstore(\@out, "$dir/$name.out");
        POSIX::_exit(0);
    }

    return { pid => $pid, name => $name, dir => $dir };
}

sub stream_stop {
    my ($s) = @_;
    open my $fh, '>', "$s->{dir}/$s->{name}.stop" or die;
    close $fh;
    waitpid($s->{pid}, 0);
    return retrieve("$s->{dir}/$s->{name}.out");
}

sub failures {
    my ($out) = @_;
    return grep { $_->{status} ne '200' } @$out;
}

sub show {
    my (@r) = @_;
    splice @r, 10 if @r > 10;
    return join "\n", map { "$_->{id}: $_->{status}" } @r;
}

sub forwarded_once {
    my ($t, $out, $name) = @_;
    my %n;
    for my $u (@{ $t->upstream_requests }) {
        $n{ $u->{headers}{'x-github-delivery'} // '' }++;
    }
    my @bad = grep { ($n{ $_->{id} } // 0) != ($_->{status} eq '200' ? 1 : 0) }
              @$out;
    is(scalar @bad, 0, "$name: every delivery answered 200 reached the "
                       . 'upstream exactly once, no other')
        or diag(join ' ', map { "$_->{id}=" . ($n{ $_->{id} } // 0) }
                          @bad[0 .. ($#bad < 9 ? $#bad : 9)]);
}

my $conf = <<'EOF';

%%TEST_GLOBALS%%

worker_processes 2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    large_client_header_buffers 4 32k;

    REDIS

    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_limit_zone zone=per_tenant:3m key=$http_x_tenant rate=5r/hSYNC;

    # only requests with X-Strict count here (an empty key is not counted):
    # the stream's long keys may evict entries of per_tenant, not of this
    webhook_limit_zone zone=strict:1m key=$http_x_strict rate=5r/hSYNC;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids REPLAY;
            webhook_limit zone=per_tenant;
            webhook_limit zone=strict;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

sub make {
    my (%o) = @_;

    my $t = Test::Webhook->new;
    $t->write_file('github.secret', $secret, 0600);

    (my $c = $conf) =~ s/REDIS/$o{redis} \/\/ ''/e;
    $c =~ s/SYNC/$o{redis} ? ' sync=on' : ''/ge;
    $c =~ s/ REPLAY/$o{redis} ? ' redis=on' : ''/e;

    $t->write_file_expand('nginx.conf', $c);
    $t->run;

    return $t;
}

###############################################################################
# five nginx -s reload during the stream

{
    my $t = make();
    my $dir = $t->testdir;

    my $s = stream_start($t, 'reload');
    sleep 0.5;

    my $reloaded = 0;

    for my $n (1 .. 5) {
        my %old = map { $_ => 1 } $t->worker_pids;

        local $ENV{ASAN_OPTIONS} = ($ENV{ASAN_OPTIONS} // '')
                                   . ":log_path=$dir/sanitizer"
            if $ENV{TEST_WEBHOOK_SANITIZER};
        local $ENV{UBSAN_OPTIONS} = ($ENV{UBSAN_OPTIONS} // '')
                                    . ":log_path=$dir/sanitizer"
            if $ENV{TEST_WEBHOOK_SANITIZER};

        system($t->binary, '-p', "$dir/", '-c', "$dir/nginx.conf",
               '-e', "$dir/error.log", '-s', 'reload') == 0
            or last;

        $reloaded++ if $t->wait_until(sub {
            my @now = $t->worker_pids;
            @now == 2 && !grep { $old{$_} } @now;
        }, timeout => 20);

        sleep 0.3;
    }

    my $out = stream_stop($s);

    is($reloaded, 5, 'five reloads, each with a new generation of workers');
    cmp_ok(scalar @$out, '>=', 20, 'reload: a stream of deliveries ('
           . scalar(@$out) . ')');
    is(scalar failures($out), 0, 'reload: no request failed')
        or diag(show(failures($out)));
    forwarded_once($t, $out, 'reload');

    $t->stop;
}

###############################################################################
# SIGKILL of a worker holding the limit zone's lock

# the shared mapping of a zone of this size, as the master maps it: its
# first word is the slab pool's mutex, the holder's pid while held

sub zone_address {
    my ($pid, $size) = @_;
    open my $maps, '<', "/proc/$pid/maps" or return;
    while (my $l = <$maps>) {
        my ($from, $to, $perm) = $l =~ /^([0-9a-f]+)-([0-9a-f]+) (\S+)/;
        next unless $perm eq 'rw-s';
        return hex $from if hex($to) - hex($from) == $size;
    }
    return;
}

sub lock_word {
    my ($pid, $addr) = @_;
    open my $mem, '<:raw', "/proc/$pid/mem" or return 0;
    sysseek($mem, $addr, 0) or return 0;
    sysread($mem, my $w, 8) == 8 or return 0;
    return unpack 'Q<', $w;
}

{
    my $t = make();
    my $port = $t->port(8080);
    my $master = $t->nginx_pid;

    my $addr = zone_address($master, 3 * 1024 * 1024);
    ok($addr, 'the limit zone\'s shared memory is found');

    # state to find again: a recorded delivery, a spent limit
    is(deliver($port, 'kept-1')->{status}, 200, 'before: delivered');
    my @spent = map { deliver($port, "strict-$_", strict => 1) } 1 .. 5;
    is(join(' ', map { $_->{status} } @spent), '200 200 200 200 200',
       'before: 5 of 5r/h spent');

    my @s = map { stream_start($t, "kill$_", tenant_size => 16000) } 1 .. 3;
    sleep 0.3;

    # watch the lock word; when a worker holds it, stop that worker and
    # look again: still the holder, it is killed there

    my ($victim, $tries, $seen) = (undef, 0, 0);
    my %workers = map { $_ => 1 } $t->worker_pids;
    my $deadline = Time::HiRes::time + 60;

    open my $mem, '<:raw', "/proc/$master/mem" or die "mem: $!";

    while (!$victim && $addr && Time::HiRes::time < $deadline) {
        sysseek($mem, $addr, 0) or last;
        sysread($mem, my $w, 8) == 8 or last;
        my $pid = unpack 'Q<', $w;
        next unless $pid && $workers{$pid};

        $seen++;
        kill 'STOP', $pid;

        # a stopped process's state is settled once it shows "T"
        for (1 .. 1000) {
            open my $st, '<', "/proc/$pid/stat" or last;
            last if <$st> =~ /^\d+ \(.*\) [Tt] /;
        }

        $tries++;

        if (lock_word($master, $addr) == $pid) {
            $t->expect_alert(qr/worker process $pid exited on signal 9/);
            # the location's limits are checked under both zones' locks
            my $zones = qr/"(?:per_tenant|strict)"/;
            $t->expect_alert(qr/shared memory zone $zones was locked by $pid/);
            kill 'KILL', $pid;
            kill 'CONT', $pid;
            $victim = $pid;
            last;
        }

        kill 'CONT', $pid;
    }

    ok($victim, "a worker was caught holding the zone's lock (seen holding "
       . "it $seen times, stopped $tries times)");
    my $killed_at = Time::HiRes::time;

    ok($t->wait_until(sub {
           my @w = $t->worker_pids;
           @w == 2 && !grep { $_ == ($victim // 0) } @w
       }, timeout => 20), 'the master started a new worker');

    ok($t->wait_until(sub {
           $t->error_log =~ /shared memory zone "per_tenant" was locked by/
       }, timeout => 10), 'the master freed the lock the worker held');

    sleep 1;
    my $out = [map { @{ stream_stop($_) } } @s];

    # requests the killed worker held fail with it; after, none may
    my @after = grep { $_->{at} > $killed_at + 0.5 } @$out;
    cmp_ok(scalar @after, '>=', 10, 'the stream went on after the kill ('
           . scalar(@after) . ' deliveries)');
    is(scalar failures(\@after), 0, 'after the kill: no request failed')
        or diag(show(failures(\@after)));

    my $r = deliver($port, 'kept-1');
    ok($r->{status} eq '200' && $r->{dup},
       'the replay zone kept its record: a duplicate');
    is(deliver($port, 'strict-6', strict => 1)->{status}, 429,
       'the limit zones kept their counts: the 6th of 5r/h is refused');
    is(deliver($port, 'kept-2')->{status}, 200, 'a new delivery is served');

    $t->stop;
}

###############################################################################
# Redis CLIENT KILL and DEBUG SLEEP under on_error=local

{
    my $t0 = Test::Webhook->new;
    my $redis = Test::Webhook::Redis->new(
        dir => $t0->testdir, args => ['--enable-debug-command', 'yes']);

    my $t = make(redis => 'webhook_redis redis://127.0.0.1:' . $redis->port
                          . ' timeout=200ms on_error=local prefix=t112:;');

    my $s = stream_start($t, 'redis');
    sleep 0.5;

    my $killed = 0;
    for (1 .. 3) {
        my $n = $redis->cli('CLIENT', 'KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        $killed += $n =~ /^\d+$/ ? $n : 0;
        sleep 0.5;
    }
    cmp_ok($killed, '>=', 1, "CLIENT KILL closed nginx's connections "
           . "($killed)");

    for (1 .. 2) {
        like($redis->cli('DEBUG', 'SLEEP', '1.5'), qr/OK/,
             'DEBUG SLEEP 1.5 s (the timeout is 200 ms)');
        sleep 0.5;
    }

    sleep 1;
    my $out = stream_stop($s);

    cmp_ok(scalar @$out, '>=', 20, 'redis: a stream of deliveries ('
           . scalar(@$out) . ')');
    is(scalar failures($out), 0, 'redis: no request failed')
        or diag(show(failures($out)));
    forwarded_once($t, $out, 'redis');

    my $slow = grep { ($_->{took} // 0) > 5 } @$out;
    is($slow, 0, 'no delivery waited for Redis beyond its timeout by much');

    $t->stop;
}

done_testing;
