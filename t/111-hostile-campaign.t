#!/usr/bin/perl

# A hostile-traffic campaign against one nginx with two workers: a seeded,
# deterministic generator sends at least 10,000 requests to every location
# type (each preset, the Svix senders clerk and resend, a custom scheme,
# allowlist, limit, replay, enqueue into a real redis-server's stream,
# status; the deliveries are made as t/lib/Test/Webhook/Presets.pm says),
# mixing
# valid deliveries with every malformation the parsers can meet: 16 KiB
# and 64 KiB header values, repeated and 1,000-candidate signature
# headers, NUL bytes, invalid UTF-8, timestamps that overflow, are
# negative or not numbers, Content-Length with Transfer-Encoding, bodies
# over client_max_body_size, chunked bodies, Expect: 100-continue, clients
# that stall mid-body or abort mid-body, HTTP/2 with a mismatched length.
#
# It asserts: no 5xx; no crash or [alert] (the harness's log check); every
# response within a bound; no connection left open once the clients are
# done (stub_status); the upstream and the stream received only
# deliveries whose signature was valid, each byte-identical and at most
# once, and every valid delivery answered 2xx as forwarded (or queued)
# was received; the workers are the same processes at the end, and their
# RSS grew within a bound.
#
# TEST_WEBHOOK_CAMPAIGN_SEED and TEST_WEBHOOK_CAMPAIGN_REQUESTS change the
# seed (default 12) and the count (default 10,000).

use strict;
use warnings;
no warnings 'portable';

use FindBin;
use lib "$FindBin::Bin/lib";

use IO::Select;
use IO::Socket::INET;
use POSIX ();
use Storable qw(nstore retrieve);
use Test::More;
use Time::HiRes ();

use Test::Webhook;
use Test::Webhook::Presets qw(presets);
use Test::Webhook::Redis;

my $SEED = $ENV{TEST_WEBHOOK_CAMPAIGN_SEED} // 12;
my $TOTAL = $ENV{TEST_WEBHOOK_CAMPAIGN_REQUESTS} // 10000;
my $CLIENTS = 4;
my $BOUND = 15;          # seconds any answer may take (stalls: after it)
my $BODY_MAX = 65536;    # client_max_body_size

my $t = Test::Webhook->new;

# build.sh installs redis-server with the test packages: the enqueue
# location is part of the campaign, not an option of it
die "redis-server and redis-cli are needed\n"
    unless Test::Webhook::Redis::available();
my $redis = Test::Webhook::Redis->new(dir => $t->testdir);
my $redis_port = $redis->port;

###############################################################################
# the presets: location lines, secrets and how a valid delivery is made

my %P = presets($t);
my @presets = sort keys %P;

# the other location types, each a github location with one more step
my @extra = qw(allow limit replay enqueue);
my @locations = (@presets, @extra, 'status');

my $locs = '';

for my $name (@presets) {
    my $conf = $P{$name}{conf} =~ s/^/            /gmr;
    $locs .= "        location /$name {\n$conf"
           . "            proxy_pass http://%%UPSTREAM%%;\n"
           . "        }\n\n";
}

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

worker_processes 2;

events {
    worker_connections 1024;
}

http {
    %%TEST_GLOBALS_HTTP%%

    access_log off;

    client_max_body_size $BODY_MAX;
    client_body_timeout 2s;
    client_header_timeout 5s;
    large_client_header_buffers 4 80k;
    http2_max_field_size 80k;
    http2_max_header_size 160k;

    webhook_replay_zone zone=ids:4m ttl=10m;

    webhook_redis redis://127.0.0.1:$redis_port timeout=5s prefix=t111:;
    webhook_limit_zone zone=per_ip:1m key=\$binary_remote_addr rate=600r/m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       127.0.0.1:%%PORT_8081%% http2;
        server_name  localhost;

$locs
        location /allow {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_allow_ip 127.0.0.2;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /limit {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_limit zone=per_ip;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /replay {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /enqueue {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_enqueue stream=campaign;
        }

        location = /status {
            webhook_status;
        }

        location = /nginx_status {
            stub_status;
        }
    }
}

EOF

$t->run;

###############################################################################
# a deterministic generator (xorshift64*, not Perl's rand: the same
# sequence on every machine)

sub rng {
    my ($s) = @_;
    my $x = ($s * 2654435761 + 1) % 4294967291 || 1;
    $x = ($x << 20) ^ 0x5DEECE66D;
    use integer;
    return sub {
        $x ^= ($x << 13);
        $x ^= (($x >> 7) & 0x01ffffffffffffff);
        $x ^= ($x << 17);
        no integer;
        my $v = $x < 0 ? -$x : $x;
        return $v % ($_[0] || 1);
    };
}

sub preset_of { my ($loc) = @_; $P{$loc} ? $loc : 'github' }

# one request of the campaign: what to send, and what may come of it
#   kind:    http (raw bytes), stall, abort, h2
#   valid:   the signature is valid: the upstream may receive it
#   must:    and nothing else is wrong: a 2xx answer means it was forwarded

my @kinds = (
    [valid      => 30], [tampered   => 6], [wrong_key  => 4],
    [big16k     => 3],  [big64k     => 2], [repeated   => 3],
    [many       => 3],  [nul        => 3], [bad_utf8   => 3],
    [ts_overflow => 2], [ts_negative => 2], [ts_nan    => 2],
    [cl_te      => 3],  [too_big    => 2], [chunked    => 5],
    [expect     => 4],  [abort      => 2], [h2_short   => 2],
    [h2_long    => 2],  [h2_valid   => 3], [status     => 2],
    [duplicate  => 3],  [junk       => 3],
);

my $weights = 0;
$weights += $_->[1] for @kinds;

sub pick_kind {
    my ($r) = @_;
    my $n = $r->($weights);
    for (@kinds) {
        return $_->[0] if ($n -= $_->[1]) < 0;
    }
}

sub generate {
    my ($r, $tag, $kind) = @_;

    my $loc = $kind eq 'status' ? 'status'
            : $kind eq 'duplicate' ? 'replay'
            : $locations[$r->(@locations - 1)];
    $loc = 'github' if $loc eq 'status';

    my $preset = preset_of($loc);
    my $p = $P{$preset};
    my $pad = 'x' x $r->(200);
    my $now = time;
    my $body = $p->{body}->($p->{secret}, $tag, $pad, $now);
    my @h = $p->{sign}->($p->{secret}, $body, $now, $tag);
    my $sighdr = $p->{header};

    my %q = (loc => $loc, tag => $tag, kind => $kind, body => $body,
             headers => \@h, valid => 1, must => 1, from => '127.0.0.1');

    # the allowlist admits 127.0.0.2 only: a third from elsewhere
    $q{from} = '127.0.0.2' if $loc eq 'allow' && $r->(3);

    my $set = sub {
        my ($name, $value) = @_;
        my $done = 0;
        for (@h) {
            if (lc $_->[0] eq lc $name) { $_->[1] = $value; $done = 1 }
        }
        push @h, [$name, $value] unless $done;
    };

    my ($sigval) = map { $_->[1] } grep { lc $_->[0] eq lc $sighdr } @h;
    $sigval //= '';

    if ($kind eq 'valid' || $kind eq 'chunked' || $kind eq 'expect'
        || $kind eq 'h2_valid' || $kind eq 'duplicate')
    {
        $q{chunked} = 1 if $kind eq 'chunked';
        $q{expect} = 1 if $kind eq 'expect';
        $q{kind} = 'h2' if $kind eq 'h2_valid';
        $q{repeat} = 2 if $kind eq 'duplicate';

    } elsif ($kind eq 'tampered') {
        my $i = $r->(length $body);
        substr($q{body}, $i, 1) = chr(ord(substr($body, $i, 1)) ^ 1);
        @q{qw(valid must)} = (0, 0);
        # GitLab's token does not cover the body, and Mailgun's, Adyen's,
        # Braintree's and SNS's signatures cover only part of it
        # (documented): the change may pass, unaltered, and that is all
        $q{valid} = 1 if $p->{partial};

    } elsif ($kind eq 'wrong_key') {
        # signed with another secret or private key of the same form
        $q{body} = $p->{body}->($p->{other}, $tag, $pad, $now);
        @h = $p->{sign}->($p->{other}, $q{body}, $now, $tag);
        $q{headers} = \@h;
        @q{qw(valid must)} = (0, 0);

    } elsif ($kind eq 'big16k' || $kind eq 'big64k') {
        my $n = $kind eq 'big16k' ? 16384 : 65536;
        my @c = ('a' .. 'z', 0 .. 9, '=', ',', ';', ' ');
        $set->($sighdr, join '', map { $c[$r->(scalar @c)] } 1 .. $n);
        @q{qw(valid must)} = (0, 0);
        # a signature in the body: the header is only noise
        $q{valid} = 1 if $p->{in_body};

    } elsif ($kind eq 'repeated') {
        # the signature header 20 times, the valid one among them
        my @junk = map { [$sighdr, "v1=" . ('0' x 64)] } 1 .. 19;
        splice @junk, $r->(20), 0, [$sighdr, $sigval];
        @h = ((grep { lc $_->[0] ne lc $sighdr } @h), @junk);
        $q{headers} = \@h;
        $q{must} = 0;

    } elsif ($kind eq 'many') {
        # 1,000 candidates in one header (with the valid one last)
        my $one = $sigval;
        my $item = $preset eq 'custom' ? 'sig=' : 'v1=';
        $set->($sighdr, join(',', map { $item . sprintf('%064x', $_) }
                                  1 .. 1000) . ",$one");
        $q{must} = 0;
        $q{valid} = 0 unless $p->{in_body};

    } elsif ($kind eq 'nul') {
        if ($r->(2)) {
            $set->($sighdr, "$sigval\0x");
            $q{valid} = 0 unless $p->{in_body};
        } else {
            # a NUL inside a signed body is fine
            $q{body} =~ s/"pad":"/"pad":"\\u0000/ or $q{body} .= '';
            @h = $p->{sign}->($p->{secret}, $q{body}, $now, $tag);
            $q{headers} = \@h;
        }
        $q{must} = 0;

    } elsif ($kind eq 'bad_utf8') {
        $set->('X-GitHub-Event', "\xff\xfe\xc3\x28 \xed\xa0\x80");
        $set->('X-GitHub-Delivery', "\xc0\xaf$tag");
        my $changed = $q{body} =~ s/"pad":"/"pad":"\xff\xc3\x28\xe2\x82/;
        @q{qw(valid must)} = (0, 0);
        # the id and event headers are not signed; the body may not be
        $q{valid} = 1 if !$changed || $p->{partial};

    } elsif ($kind =~ /^ts_(\w+)/) {
        my $ts = { overflow => '99999999999999999999999',
                   negative => '-1700000000',
                   nan      => 'abc' }->{$1};
        my $changed = 0;
        for (@h) {
            $changed += $_->[1] =~ s/\b$now\b/$ts/g;
            $changed += $_->[1] =~ s/^\d{4}-\d\d-\d\dT[\d:.]+Z$/$ts/;
        }
        $changed += $q{body} =~ s/"webhookTimestamp":\d+/"webhookTimestamp":$ts/;
        $changed += $q{body} =~ s/"timestamp":"$now"/"timestamp":"$ts"/;
        # a preset that signs no timestamp: still a valid delivery
        @q{qw(valid must)} = (0, 0) if $changed;

    } elsif ($kind eq 'cl_te') {
        $q{cl_te} = 1;
        $q{must} = 0;

    } elsif ($kind eq 'too_big') {
        $q{body} .= ' ' x ($BODY_MAX + 1);
        @q{qw(valid must)} = (0, 0);

    } elsif ($kind eq 'abort') {
        $q{kind} = 'abort';
        @q{qw(valid must)} = (0, 0);

    } elsif ($kind eq 'h2_short' || $kind eq 'h2_long') {
        $q{kind} = 'h2';
        $q{declared} = length($body) + ($kind eq 'h2_short' ? 100 : -10);
        @q{qw(valid must)} = (0, 0);

    } elsif ($kind eq 'status') {
        $q{method} = 'GET';
        $q{body} = '';
        $q{headers} = [];
        @q{qw(valid must)} = (0, 0);

    } elsif ($kind eq 'junk') {
        # bytes of the body in a header, a header line without a colon
        $set->($sighdr, substr($body, 0, 200) =~ s/[\r\n]//gr);
        push @h, ['X-Junk', "a\tb\x01c"];
        @q{qw(valid must)} = (0, 0);
        # a signature in the body: that header is only noise
        $q{valid} = 1 if $p->{in_body};
    }

    $q{must} = 0 if $loc eq 'allow' && $q{from} ne '127.0.0.2';
    $q{valid} = 0 if $loc eq 'allow' && $q{from} ne '127.0.0.2';
    $q{must} = 0 if $loc eq 'limit';

    return \%q;
}

###############################################################################
# the wire

sub raw_request {
    my ($q) = @_;

    my $method = $q->{method} // 'POST';
    my $body = $q->{body};
    my $head = "$method /$q->{loc} HTTP/1.1\r\nHost: localhost\r\n"
             . "Connection: close\r\n";
    $head .= "$_->[0]: $_->[1]\r\n" for @{ $q->{headers} };

    if ($q->{chunked}) {
        $head .= "Transfer-Encoding: chunked\r\n";
        my $c = '';
        for (my $i = 0; $i < length $body; $i += 97) {
            my $part = substr($body, $i, 97);
            $c .= sprintf("%x\r\n%s\r\n", length $part, $part);
        }
        $body = "${c}0\r\n\r\n";

    } elsif ($q->{cl_te}) {
        $head .= "Content-Length: " . length($body) . "\r\n"
               . "Transfer-Encoding: chunked\r\n";
        $body = sprintf("%x\r\n%s\r\n0\r\n\r\n", length $body, $body);

    } elsif ($method eq 'POST') {
        $head .= "Content-Length: " . length($body) . "\r\n";
    }

    $head .= "Expect: 100-continue\r\n" if $q->{expect};

    return ("$head\r\n", $body);
}

sub connect_to {
    my ($port, $from) = @_;
    return IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port,
                                 LocalAddr => $from // '127.0.0.1',
                                 Proto => 'tcp', Timeout => 5);
}

# read until the peer closes or the deadline; returns the bytes

sub read_all {
    my ($s, $deadline, $until) = @_;
    my $sel = IO::Select->new($s);
    my $buf = '';

    while (Time::HiRes::time < $deadline) {
        last if $until && $buf =~ $until;
        next unless $sel->can_read(0.2);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }

    return $buf;
}

sub send_bytes {
    my ($s, $data) = @_;
    local $SIG{PIPE} = 'IGNORE';
    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($s, $data, 65536, $off);
        return 0 unless $n;
        $off += $n;
    }
    return 1;
}

sub do_http {
    my ($q, $port) = @_;

    my $start = Time::HiRes::time;
    my $s = connect_to($port, $q->{from}) or return { status => 'connect' };
    my ($head, $body) = raw_request($q);

    if ($q->{kind} eq 'abort') {
        send_bytes($s, $head . substr($body, 0, length($body) / 2));
        close $s;
        return { status => 'aborted', took => Time::HiRes::time - $start };
    }

    if ($q->{kind} eq 'stall') {
        send_bytes($s, $head . substr($body, 0, length($body) / 2));
        my $resp = read_all($s, Time::HiRes::time + $BOUND + 5);
        close $s;
        my ($st) = $resp =~ m{^HTTP/1\.1 (\d{3})};
        return { status => $st // 'closed', took => Time::HiRes::time - $start };
    }

    if ($q->{expect}) {
        send_bytes($s, $head);
        my $cont = read_all($s, Time::HiRes::time + $BOUND, qr/\r\n\r\n/);
        if ($cont !~ m{^HTTP/1\.1 100 }) {
            # a final answer instead of 100 (refused before the body)
            my ($st) = $cont =~ m{^HTTP/1\.1 (\d{3})};
            close $s;
            return { status => $st // 'no-100',
                     took => Time::HiRes::time - $start };
        }
        send_bytes($s, $body);

    } else {
        send_bytes($s, $head . $body);
    }

    my $resp = read_all($s, Time::HiRes::time + $BOUND);
    close $s;

    my ($st) = $resp =~ m{^HTTP/1\.1 (\d{3})};
    my $json = $resp =~ /\r\n\r\n(.*)\z/s ? $1 : '';

    return { status => $st // 'none', took => Time::HiRes::time - $start,
             duplicate => $json =~ /"status":"duplicate"/ ? 1 : 0 };
}

# HTTP/2 with prior knowledge, frames by hand: the body's length may
# differ from the declared content-length

sub h2_int {
    my ($n, $bits, $flags) = @_;
    my $max = (1 << $bits) - 1;
    return chr($flags | $n) if $n < $max;
    my $out = chr($flags | $max);
    $n -= $max;
    while ($n >= 128) { $out .= chr(($n & 127) | 128); $n >>= 7 }
    return $out . chr($n);
}

sub h2_frame {
    my ($type, $flags, $stream, $payload) = @_;
    my $len = length $payload;
    return pack('CnCCN', $len >> 16, $len & 0xffff, $type, $flags, $stream)
         . $payload;
}

sub do_h2 {
    my ($q, $port) = @_;

    my $start = Time::HiRes::time;
    my $s = connect_to($port) or return { status => 'connect' };

    my $declared = $q->{declared} // length $q->{body};
    my @h = ([':method', 'POST'], [':scheme', 'http'],
             [':path', "/$q->{loc}"], [':authority', 'localhost'],
             ['content-length', $declared],
             map { [lc $_->[0], $_->[1]] } @{ $q->{headers} });

    # literal header fields without indexing, no Huffman
    my $block = join '', map {
        "\x00" . h2_int(length $_->[0], 7, 0) . $_->[0]
               . h2_int(length $_->[1], 7, 0) . $_->[1]
    } @h;

    my $out = "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n" . h2_frame(4, 0, 0, '');

    # HEADERS (with CONTINUATION past 16 KiB), then DATA
    my @parts = unpack '(a16384)*', $block;
    for my $i (0 .. $#parts) {
        $out .= h2_frame($i == 0 ? 1 : 9, $i == $#parts ? 4 : 0, 1,
                         $parts[$i]);
    }

    my @data = unpack '(a16384)*', $q->{body};
    @data = ('') unless @data;
    for my $i (0 .. $#data) {
        $out .= h2_frame(0, $i == $#data ? 1 : 0, 1, $data[$i]);
    }

    send_bytes($s, $out);

    my $sel = IO::Select->new($s);
    my $buf = '';
    my $deadline = Time::HiRes::time + $BOUND;
    my $status;

    while (!defined $status && Time::HiRes::time < $deadline) {
        while (length $buf >= 9) {
            my ($l1, $l2, $type, $flags, $stream) = unpack 'CnCCN', $buf;
            my $len = ($l1 << 16) | $l2;
            last if length $buf < 9 + $len;
            my $payload = substr($buf, 9, $len);
            substr($buf, 0, 9 + $len) = '';
            $stream &= 0x7fffffff;

            if ($type == 1 && $stream == 1) {
                my $b = ord $payload;
                $payload = substr($payload, 5) if $flags & 0x20;
                $b = ord $payload;
                if ($b & 0x80) {
                    $status = { 8 => 200, 9 => 204, 10 => 206, 11 => 304,
                                12 => 400, 13 => 404, 14 => 500 }->{$b & 0x7f}
                              // "index$b";
                } elsif (($b & 0xc0) == 0x40 && ($b & 0x3f) == 8) {
                    $status = substr($payload, 2, 3);
                } else {
                    $status = 'unparsed';
                }
            } elsif ($type == 3 && $stream == 1) {
                $status = 'rst';
            } elsif ($type == 7) {
                $status = 'goaway';
            }
            last if defined $status;
        }

        last if defined $status;
        next unless $sel->can_read(0.2);
        my $n = sysread($s, $buf, 65536, length $buf);
        last unless $n;
    }

    close $s;

    return { status => $status // 'none', took => Time::HiRes::time - $start };
}

###############################################################################
# the workers before

sub rss_kb {
    my ($pid) = @_;
    open my $fh, '<', "/proc/$pid/status" or return 0;
    while (my $l = <$fh>) { return $1 if $l =~ /^VmRSS:\s+(\d+)/ }
    return 0;
}

my $port = $t->port(8080);
my $h2port = $t->port(8081);

ok($t->wait_until(sub {
    my $j = $t->status_json;
    return $j && ($j->{redis}{connected_workers} // 0) == 2;
}, timeout => 10), 'both workers connected to Redis');

# warm up (the zones, OpenSSL, every location once), then measure

{
    my $r = rng($SEED + 1000);
    for my $i (1 .. 2) {
        for my $loc (@locations) {
            next if $loc eq 'status';
            my $q = generate($r, "w$i$loc", 'valid');
            $q->{loc} = $loc;
            do_http($q, $port);
        }
    }
}

my @workers = sort { $a <=> $b } $t->worker_pids;
is(scalar @workers, 2, 'two workers');
my %rss_before = map { $_ => rss_kb($_) } @workers;
$t->upstream_reset;
$redis->command('DEL', 'campaign');

###############################################################################
# the campaign: clients in parallel, each its own seeded stream, and one
# client that stalls mid-body (each stall waits out client_body_timeout)

my $dir = $t->testdir;
my $per = int(($TOTAL + $CLIENTS - 1) / $CLIENTS);
my $begin = Time::HiRes::time;
my @pids;

for my $c (1 .. $CLIENTS) {
    my $pid = fork // die "fork: $!";

    if ($pid == 0) {
        my $r = rng($SEED * 100 + $c);
        my @out;

        for my $i (1 .. $per) {
            my $kind = pick_kind($r);
            my $q = generate($r, "c${c}n$i", $kind);
            my $repeat = $q->{repeat} // 1;

            for my $rep (1 .. $repeat) {
                my $res = $q->{kind} eq 'h2' ? do_h2($q, $h2port)
                                             : do_http($q, $port);
                delete $q->{headers};
                push @out, { %$q, %$res, rep => $rep,
                             body_len => length $q->{body} };
                $out[-1]{body} = $q->{valid} ? $q->{body} : undef;
            }
        }

        nstore(\@out, "$dir/campaign-$c.out");
        POSIX::_exit(0);
    }

    push @pids, $pid;
}

my @stalled;

{
    my $r = rng($SEED * 100);
    for my $i (1 .. 8) {
        my $q = generate($r, "s$i", 'valid');
        $q->{kind} = 'stall';
        @$q{qw(valid must)} = (0, 0);
        push @stalled, { %$q, %{ do_http($q, $port) } };
        delete $stalled[-1]{headers};
    }
}

waitpid($_, 0) for @pids;

my @results = @stalled;
push @results, @{ retrieve("$dir/campaign-$_.out") } for 1 .. $CLIENTS;

my $took = Time::HiRes::time - $begin;
diag(sprintf 'campaign: %d requests in %.1f s (seed %d)', scalar @results,
     $took, $SEED);

###############################################################################
# the verdicts

cmp_ok(scalar @results, '>=', $TOTAL, "at least $TOTAL requests sent");

my (%by_status, @fivexx, @slow, @odd);

for my $res (@results) {
    $by_status{$res->{status}}++;
    push @fivexx, $res if $res->{status} =~ /^5/;
    push @slow, $res if ($res->{took} // 0) > $BOUND
                        + ($res->{kind} eq 'stall' ? 5 : 0);
    push @odd, $res if $res->{status} =~ /^(?:connect|none|no-100|unparsed)$/
                       || $res->{status} =~ /^index/;
}

diag('statuses: ' . join ', ',
     map { "$_ x$by_status{$_}" } sort keys %by_status);

is(scalar @fivexx, 0, 'no 5xx')
    or diag(join "\n", map { "$_->{status} $_->{kind} /$_->{loc} $_->{tag}" }
                       @fivexx[0 .. ($#fivexx < 9 ? $#fivexx : 9)]);
is(scalar @slow, 0, "every answer within ${BOUND} s")
    or diag(join "\n", map { sprintf "%.1f s %s /%s %s", $_->{took},
                             $_->{kind}, $_->{loc}, $_->{status} }
                       @slow[0 .. ($#slow < 9 ? $#slow : 9)]);
is(scalar @odd, 0, 'every request was answered (or refused) properly')
    or diag(join "\n", map { "$_->{status} $_->{kind} /$_->{loc} $_->{tag}" }
                       @odd[0 .. ($#odd < 9 ? $#odd : 9)]);

# 408 once client_body_timeout passes, or a refusal the module could give
# before the body (a stale timestamp), or nginx closing
my @stall_bad = grep { $_->{status} !~ /^(?:4\d\d|closed)$/ } @stalled;
is(scalar @stall_bad, 0, 'clients stalling mid-body: refused or closed')
    or diag(join ' ', map { $_->{status} } @stall_bad);

# what the upstream received: only valid deliveries, byte-identical, once

my %sent;
for my $res (@results) {
    next unless $res->{tag};
    push @{ $sent{$res->{tag}} }, $res;
}

my (%got, @unsigned, @altered);

# a body names its tag in several places, so a changed byte inside one of
# them cannot lose it: the request is the one whose recorded (valid) body
# is exactly this one, among every tag the body names

# the stream's entries: what webhook_enqueue queued, as the upstream's
# requests are what proxy_pass forwarded
my $entries = $redis->command('XRANGE', 'campaign', '-', '+');
my @queued;
for my $e (@{ ref $entries eq 'ARRAY' ? $entries : [] }) {
    my %f = @{ $e->[1] };
    push @queued, { uri => '/enqueue (stream)', body => $f{body} };
}
diag(sprintf 'stream: %d entries', scalar @queued);

for my $u (@{ $t->upstream_requests }, @queued) {
    my %cand = map { $_ => 1 } $u->{body} =~ /\b([cs]\d+n\d+|s\d+)\b/g;
    my @s = map { @{ $sent{$_} || [] } } sort keys %cand;
    my ($match) = grep { $_->{valid} && defined $_->{body}
                         && $_->{body} eq $u->{body} } @s;

    if ($match) {
        $got{$match->{tag}}++;
    } elsif (grep { $_->{valid} } @s) {
        push @altered, join '/', sort keys %cand;
    } else {
        push @unsigned, join('/', sort keys %cand) . " ($u->{uri} "
                        . join(',', map { $_->{kind} } @s) . ')';
    }
}

is(scalar @unsigned, 0,
   'the upstream and the stream received only validly signed requests')
    or diag("@unsigned[0 .. ($#unsigned < 9 ? $#unsigned : 9)]");
is(scalar @altered, 0, 'byte-identical to what was signed')
    or diag("@altered[0 .. ($#altered < 9 ? $#altered : 9)]");

my @twice = grep { $got{$_} > 1 } sort keys %got;
is(scalar @twice, 0, 'no delivery reached the upstream twice')
    or diag("@twice");

my @lost;
for my $res (@results) {
    next unless $res->{must} && $res->{status} =~ /^2/ && !$res->{duplicate};
    push @lost, "$res->{tag} /$res->{loc} $res->{kind}"
        unless $got{$res->{tag}};
}
is(scalar @lost, 0,
   'every valid delivery answered 2xx reached the upstream or the stream')
    or diag(join "\n", @lost[0 .. ($#lost < 9 ? $#lost : 9)]);

my @valid_ok = grep { $_->{must} && $_->{status} =~ /^2/ } @results;
my %valid_locs;
$valid_locs{$_->{loc}}++ for @valid_ok;
my ($fewest) = sort { $valid_locs{$a} <=> $valid_locs{$b} } keys %valid_locs;
diag(sprintf 'valid deliveries forwarded: %d at %d locations, fewest %d '
     . '(/%s)', scalar @valid_ok, scalar keys %valid_locs,
     $valid_locs{$fewest}, $fewest) if $fewest;
my @missing = grep { !$valid_locs{$_} } @presets, qw(allow replay enqueue);
is("@missing", '', 'valid deliveries passed at every preset location');

my @dups = grep { $_->{loc} eq 'replay' && ($_->{rep} // 1) == 2 } @results;
ok(@dups && !grep({ $_->{status} =~ /^2/ && !$_->{duplicate} } @dups),
   'a repeated delivery is answered as a duplicate, never forwarded again');

# no connection left waiting

my $idle = $t->wait_until(sub {
    my $resp = IO::Socket::INET->new("127.0.0.1:$port") or return 0;
    print $resp "GET /nginx_status HTTP/1.0\r\nHost: localhost\r\n\r\n";
    local $/;
    my $text = <$resp> // '';
    $text =~ /Active connections: 1\s/ && $text =~ /Reading: 0 Writing: 1 /
        && $text =~ /Waiting: 0/;
}, timeout => 20, interval => 0.5);
ok($idle, 'no connection left open or waiting after the campaign');

# the same workers, and memory

my @after = sort { $a <=> $b } $t->worker_pids;
is("@after", "@workers", 'the same two workers (none crashed)');

# under ASan, freed memory waits in its quarantine (64 MB with
# ./build.sh test-asan) before it is reused: that much growth is expected
my $limit_kb = $ENV{TEST_WEBHOOK_SANITIZER} ? 128 * 1024 : 24 * 1024;

for my $pid (@workers) {
    my $grew = rss_kb($pid) - $rss_before{$pid};
    diag("worker $pid RSS: $rss_before{$pid} kB before, grew $grew kB");
    cmp_ok($grew, '<', $limit_kb, "worker $pid RSS grew less than "
           . ($limit_kb / 1024) . ' MB');
}

$t->done_testing;
