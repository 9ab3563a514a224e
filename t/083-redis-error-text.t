#!/usr/bin/perl

# Whatever answers on the Redis port is hostile input: an error reply with
# terminal escapes, control and non-ASCII bytes reaches neither the error
# log nor the status page as sent.  Both show the same bounded text with
# every byte outside printable ASCII replaced by "?".

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use POSIX ();

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

# a fake "Redis": every command is answered with this error line

my $evil = "ERR \x1b[2J\x1b]0;owned\x07 bell\x7f del \xc3\xa9 "
         . ('x' x 400);

my $listen = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1', LocalPort => 0, Proto => 'tcp',
    Listen => 16, ReuseAddr => 1) or die "listen: $!";
my $port = $listen->sockport;

my $pid = fork // die "fork: $!";

if ($pid == 0) {
    $SIG{CHLD} = 'IGNORE';

    while (my $c = $listen->accept) {
        next if fork;
        while (sysread($c, my $buf, 4096)) {
            syswrite($c, "-$evil\r\n");
        }
        POSIX::_exit(0);
    }

    POSIX::_exit(0);
}

close $listen;

$t->write_file('github.secret', 'gh_evil_redis', 0600);
$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:$port;
    webhook_replay_zone zone=ids:1m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids redis=on;
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

my $err = $t->wait_until(sub {
    my $j = $t->status_json;
    return $j && $j->{redis}{last_error};
}, timeout => 10);

ok($err, 'status: last_error set') or diag(explain $t->status_json);
like($err // '', qr/ERR \?\[2J\?\]0;owned\? bell\? del \?\? x+$/,
    'status: the reply, each byte outside printable ASCII a "?"');
unlike($err // '', qr/[^\x20-\x7e]/, 'status: printable ASCII only');
cmp_ok(length($err // ''), '<=', 200, 'status: bounded');

my ($line) = grep { /redis .* is unavailable/ } split /\n/, $t->error_log;

ok($line, 'error log: the outage warned') or diag($t->error_log);
like($line // '', qr/\([\w ]+: ERR \?\[2J\?\]0;owned\? bell\? del \?\? x+\)/,
    'error log: the same text as the status page');
unlike($line // '', qr/[^\x20-\x7e]/, 'error log: printable ASCII only');

$t->stop;

kill 'TERM', $pid;
waitpid($pid, 0);

$t->done_testing;

###############################################################################
