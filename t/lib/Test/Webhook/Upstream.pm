package Test::Webhook::Upstream;

# A recording HTTP/1.1 upstream for the webhook module's tests.
#
# serve($listen_socket, $testdir) never returns: it accepts connections on
# an already bound socket and forks one process per connection.  Each
# request is recorded under $testdir/upstream/ as NNNN.head (request line
# and header lines, verbatim) and NNNN.body (the exact body bytes, chunked
# transfer coding removed), then answered with
#
#     {"upstream":"ok","length":N,"sha256":"<hex>"}
#
# Knobs, as request headers: "X-Upstream-Status: 500" answers that status,
# "X-Upstream-Delay: 2.5" waits that long (after recording) before answering.

use strict;
use warnings;

use Digest::SHA qw(sha256_hex);
use Errno qw(EINTR EAGAIN);
use Fcntl qw(:flock O_RDWR O_CREAT);
use IO::Select;
use POSIX ();

my $IDLE_TIMEOUT = 60;

my %REASON = (
    200 => 'OK', 201 => 'Created', 202 => 'Accepted', 204 => 'No Content',
    301 => 'Moved Permanently', 302 => 'Found', 400 => 'Bad Request',
    401 => 'Unauthorized', 403 => 'Forbidden', 404 => 'Not Found',
    409 => 'Conflict', 413 => 'Payload Too Large',
    429 => 'Too Many Requests', 500 => 'Internal Server Error',
    502 => 'Bad Gateway', 503 => 'Service Unavailable',
    504 => 'Gateway Timeout',
);

sub serve {
    my ($listen, $dir) = @_;

    my $rec = "$dir/upstream";
    mkdir $rec unless -d $rec;

    $SIG{CHLD} = 'IGNORE';
    $SIG{PIPE} = 'IGNORE';
    $SIG{TERM} = sub { POSIX::_exit(0) };

    while (1) {
        my $c = $listen->accept;

        if (!$c) {
            next if $! == EINTR || $! == EAGAIN;
            select(undef, undef, undef, 0.01);
            next;
        }

        my $pid = fork;

        if (!defined $pid) {
            # out of processes: serve inline rather than drop it
            _connection($c, $rec);
            close $c;
            next;
        }

        if ($pid == 0) {
            close $listen;
            $SIG{TERM} = 'DEFAULT';
            eval { _connection($c, $rec) };
            POSIX::_exit(0);
        }

        close $c;
    }
}

sub _connection {
    my ($c, $rec) = @_;

    binmode $c;
    my $buf = '';

    while (1) {
        my $head_end;

        until (($head_end = index($buf, "\r\n\r\n")) >= 0) {
            return unless _fill($c, \$buf);
        }

        my $head = substr($buf, 0, $head_end + 4, '');
        my ($line, @lines) = split /\r\n/, $head;
        my ($method, $uri, $proto) = split / /, $line, 3;
        $proto //= 'HTTP/1.0';

        my %h;
        for (@lines) {
            my ($n, $v) = /^([^:]+):[ \t]*(.*?)[ \t]*$/ or next;
            $n = lc $n;
            $h{$n} = exists $h{$n} ? "$h{$n}, $v" : $v;
        }

        if (($h{expect} // '') =~ /100-continue/i) {
            _write($c, "HTTP/1.1 100 Continue\r\n\r\n");
        }

        my $body = '';

        if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
            while (1) {
                my $eol;
                until (($eol = index($buf, "\r\n")) >= 0) {
                    return unless _fill($c, \$buf);
                }
                my $size_line = substr($buf, 0, $eol + 2, '');
                my ($size) = $size_line =~ /^([0-9a-fA-F]+)/;
                return unless defined $size;
                $size = hex $size;

                if ($size == 0) {
                    # trailers up to the empty line
                    while (1) {
                        until (($eol = index($buf, "\r\n")) >= 0) {
                            return unless _fill($c, \$buf);
                        }
                        my $t = substr($buf, 0, $eol + 2, '');
                        last if $t eq "\r\n";
                    }
                    last;
                }

                while (length($buf) < $size + 2) {
                    return unless _fill($c, \$buf);
                }
                $body .= substr($buf, 0, $size);
                substr($buf, 0, $size + 2, '');
            }

        } elsif (defined $h{'content-length'}) {
            my $len = $h{'content-length'} + 0;
            while (length($buf) < $len) {
                return unless _fill($c, \$buf);
            }
            $body = substr($buf, 0, $len, '');
        }

        _record($rec, $head, $body);

        if (defined $h{'x-upstream-delay'}
            && $h{'x-upstream-delay'} =~ /^\d+(?:\.\d+)?$/)
        {
            select(undef, undef, undef, $h{'x-upstream-delay'});
        }

        my $status = 200;
        if (defined $h{'x-upstream-status'}
            && $h{'x-upstream-status'} =~ /^([1-5]\d\d)$/)
        {
            $status = $1;
        }

        my $sha = sha256_hex($body);
        my $out = '{"upstream":"ok","length":' . length($body)
                  . ',"sha256":"' . $sha . '"}';

        my $close = lc($h{connection} // '') eq 'close'
                    || ($proto eq 'HTTP/1.0'
                        && lc($h{connection} // '') ne 'keep-alive');

        my $resp = "HTTP/1.1 $status " . ($REASON{$status} // 'Status') . "\r\n"
                   . "Content-Type: application/json\r\n"
                   . "Content-Length: " . length($out) . "\r\n"
                   . "X-Upstream-Sha256: $sha\r\n"
                   . ($close ? "Connection: close\r\n"
                             : "Connection: keep-alive\r\n")
                   . "\r\n"
                   . ($method eq 'HEAD' ? '' : $out);

        return unless _write($c, $resp);
        return if $close;
    }
}

sub _fill {
    my ($c, $bufref) = @_;

    my $sel = IO::Select->new($c);

    while (1) {
        return 0 unless $sel->can_read($IDLE_TIMEOUT);
        my $n = sysread($c, $$bufref, 65536, length $$bufref);
        next if !defined $n && ($! == EINTR || $! == EAGAIN);
        return $n ? 1 : 0;
    }
}

sub _write {
    my ($c, $data) = @_;

    my $off = 0;
    while ($off < length $data) {
        my $n = syswrite($c, $data, length($data) - $off, $off);
        if (!defined $n) {
            next if $! == EINTR || $! == EAGAIN;
            return 0;
        }
        $off += $n;
    }
    return 1;
}

sub _record {
    my ($rec, $head, $body) = @_;

    sysopen(my $lock, "$rec/.seq", O_RDWR | O_CREAT) or return;
    flock($lock, LOCK_EX) or return;

    my $n = <$lock>;
    $n = ($n // 0) + 1;
    seek($lock, 0, 0);
    truncate($lock, 0);
    syswrite($lock, "$n\n");

    my $name = sprintf '%04d', $n;

    for ([body => $body], [head => $head]) {
        my ($ext, $data) = @$_;
        open my $fh, '>:raw', "$rec/$name.$ext.tmp" or next;
        print $fh $data;
        close $fh;
        rename "$rec/$name.$ext.tmp", "$rec/$name.$ext";
    }

    close $lock;
}

1;
