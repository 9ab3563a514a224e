package Test::Webhook::Redis;

# A real redis-server for the tests, on a free loopback port, in its own
# directory, nothing persisted:
#
#   my $redis = Test::Webhook::Redis->new(dir => $t->testdir,
#                                         password => 'secret',
#                                         unixsocket => 1);
#   $redis->port;                  # where it listens
#   $redis->socket;                # and its unix socket (unixsocket => 1)
#   $redis->cli('GET', 'key');     # redis-cli's output, chomped
#   $redis->stop;                  # SHUTDOWN NOSAVE (or TERM), waited for
#   $redis->kill;                  # SIGKILL: the crash
#   $redis->start;                 # again, on the same port
#   $redis->pause(2000);           # CLIENT PAUSE 2000 ALL: slow, not down
#   $redis->command('XRANGE', 'stream', '-', '+');
#                                  # the reply decoded, bytes exact
#
# args => ['--appendonly', 'yes', ...] passes more options to redis-server.
#
# Stopped (killed) when the object goes away.  stop and kill work from the
# process that made the object only; a child may send the signal itself
# (kill 'KILL', $redis->pid) and the parent reap it with $redis->kill.
# Perl core only.

use strict;
use warnings;

use File::Path qw(make_path);
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes ();

sub available {
    for my $bin (qw(redis-server redis-cli)) {
        return 0 unless grep { -x "$_/$bin" } split /:/, $ENV{PATH} // '';
    }
    return 1;
}

sub new {
    my ($class, %o) = @_;

    my $dir = $o{dir} or die "Test::Webhook::Redis->new: dir is needed\n";
    $dir .= '/redis' . ($o{name} ? "-$o{name}" : '');
    make_path($dir);

    my $self = bless {
        dir      => $dir,
        password => $o{password},
        port     => $o{port} // _free_port(),
        socket   => $o{unixsocket} ? "$dir/redis.sock" : undef,
        args     => $o{args} // [],
        owner    => $$,
    }, $class;

    $self->start;

    return $self;
}

sub port   { $_[0]{port} }
sub socket { $_[0]{socket} }
sub pid  { $_[0]{pid} }
sub dir  { $_[0]{dir} }

sub _free_port {
    my $s = IO::Socket::INET->new(
        LocalAddr => '127.0.0.1',
        LocalPort => 0,
        Proto     => 'tcp',
        Listen    => 1,
    ) or die "can't bind 127.0.0.1:0: $!";
    my $port = $s->sockport;
    close $s;
    return $port;
}

# start (or start again, on the same port); returns once it answers PING

sub start {
    my ($self) = @_;

    die "redis already running\n" if $self->{pid};

    my @cmd = ('redis-server', '--port', $self->{port},
               '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
               '--dir', $self->{dir}, '--logfile', "$self->{dir}/redis.log",
               '--daemonize', 'no');
    push @cmd, '--requirepass', $self->{password} if defined $self->{password};

    # nginx's workers run as nobody when the tests run as root
    push @cmd, '--unixsocket', $self->{socket}, '--unixsocketperm', '777'
        if defined $self->{socket};

    # more redis-server options; a later one overrides an earlier one
    push @cmd, @{$self->{args}};

    my $pid = fork;
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDIN, '<', '/dev/null';
        open STDOUT, '>>', "$self->{dir}/redis.out";
        open STDERR, '>&', \*STDOUT;
        exec(@cmd) or POSIX::_exit(127);
    }

    $self->{pid} = $pid;

    my $deadline = Time::HiRes::time() + 10;

    while (Time::HiRes::time() < $deadline) {
        if (waitpid($pid, WNOHANG) == $pid) {
            delete $self->{pid};
            die "redis-server exited instead of starting:\n"
                . _slurp("$self->{dir}/redis.log")
                . _slurp("$self->{dir}/redis.out");
        }
        return $self if $self->cli('PING') eq 'PONG';
        Time::HiRes::sleep(0.05);
    }

    $self->kill;
    die "redis-server did not answer within 10 s\n";
}

# One command over RESP: the reply as Perl data, bulk strings byte-exact
# (redis-cli cannot show a body with newlines unambiguously).  An error
# reply is returned as { error => 'text' }; nil as undef.

sub command {
    my ($self, @args) = @_;

    my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
                                  PeerPort => $self->{port},
                                  Timeout => 10)
        or die "connect to redis: $!\n";

    my @all = defined $self->{password} ? (['AUTH', $self->{password}]) : ();
    push @all, \@args;

    for my $cmd (@all) {
        my $req = '*' . @$cmd . "\r\n";
        $req .= '$' . length($_) . "\r\n$_\r\n" for @$cmd;
        print $s $req;
    }

    my $reply;
    $reply = _read_reply($s) for @all;
    close $s;

    return $reply;
}

sub _read_reply {
    my ($s) = @_;

    my $line = <$s>;
    die "redis closed the connection\n" unless defined $line;
    $line =~ s/\r\n\z//;

    my ($type, $rest) = (substr($line, 0, 1), substr($line, 1));

    return $rest if $type eq '+';
    return { error => $rest } if $type eq '-';
    return 0 + $rest if $type eq ':';

    if ($type eq '$') {
        return undef if $rest < 0;
        my $buf = '';
        while (length($buf) < $rest + 2) {
            my $n = read($s, $buf, $rest + 2 - length($buf), length($buf));
            die "short read from redis\n" unless $n;
        }
        return substr($buf, 0, $rest);
    }

    if ($type eq '*') {
        return undef if $rest < 0;
        return [ map { _read_reply($s) } 1 .. $rest ];
    }

    die "unexpected reply from redis: $line\n";
}

# redis-cli against it; the output, chomped (one line per reply element)

sub cli {
    my ($self, @args) = @_;

    my @cmd = ('redis-cli', '-h', '127.0.0.1', '-p', $self->{port});
    push @cmd, '--no-auth-warning', '-a', $self->{password}
        if defined $self->{password};

    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open STDERR, '>', '/dev/null';
        exec(@cmd, @args) or POSIX::_exit(127);
    }

    my $out = do { local $/; <$fh> } // '';
    close $fh;
    $out =~ s/\n\z//;

    return $out;
}

# the keys matching a pattern, sorted

sub scan {
    my ($self, $pattern) = @_;
    return sort grep { length } split /\n/, $self->cli('--scan', '--pattern',
                                                      $pattern // '*');
}

sub stop {
    my ($self) = @_;

    my $pid = delete $self->{pid} or return;
    return if $self->{owner} != $$;

    CORE::kill('TERM', $pid);
    _reap($pid, 10) or do { CORE::kill('KILL', $pid); waitpid($pid, 0) };
}

sub kill {
    my ($self) = @_;

    my $pid = delete $self->{pid} or return;
    return if $self->{owner} != $$;

    CORE::kill('KILL', $pid);
    waitpid($pid, 0);
}

sub restart {
    my ($self) = @_;
    $self->stop;
    return $self->start;
}

# Redis stays up but answers no command for ms milliseconds

sub pause {
    my ($self, $ms) = @_;
    return $self->cli('CLIENT', 'PAUSE', $ms, 'ALL');
}

sub _reap {
    my ($pid, $timeout) = @_;

    my $deadline = Time::HiRes::time() + $timeout;
    while (Time::HiRes::time() < $deadline) {
        return 1 if waitpid($pid, WNOHANG) == $pid;
        Time::HiRes::sleep(0.02);
    }
    return 0;
}

sub _slurp {
    my ($path) = @_;
    open my $fh, '<', $path or return '';
    local $/;
    return scalar <$fh> // '';
}

sub DESTROY {
    my ($self) = @_;
    local ($?, $!, $@);
    $self->kill if $self->{pid} && $self->{owner} == $$;
}

1;
