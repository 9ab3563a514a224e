#!/usr/bin/perl

# webhook_redis at configuration time: what nginx -t accepts (without any
# Redis running: nothing connects at load), and what it refuses, naming
# the problem: sync=on / redis=on without webhook_redis, bad URLs, bad
# parameters, a password file that is missing, empty or readable by
# others, the directive twice or outside http.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file('good.secret', 'a_good_secret_0123', 0600);
$t->write_file('redis.pass', "redis-password\n", 0600);
$t->write_file('world.pass', "redis-password\n", 0644);
$t->write_file('empty.pass', '', 0600);

my $template = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    %%HTTP%%

    webhook_replay_zone zone=ids:1m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        %%SERVER%%

        location /hook {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/good.secret;
            %%LOCATION%%
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }
}

EOF

# a port nothing listens on: Redis is not needed to load
my $port = $t->port(6379);

my $n = 0;

sub try {
    my ($http, $location, $server) = @_;

    my $file = sprintf 'conf%02d.conf', ++$n;

    (my $conf = $template) =~ s/%%HTTP%%/$http/;
    $conf =~ s/%%LOCATION%%/$location \/\/ ''/e;
    $conf =~ s/%%SERVER%%/$server \/\/ ''/e;
    $conf =~ s/REDIS_PORT/$port/g;

    $t->write_file_expand($file, $conf);

    return $t->try_config($file);
}

my ($rc, $out);

# accepted, Redis or not

for my $http (
    'webhook_redis redis://127.0.0.1:REDIS_PORT;',
    'webhook_redis redis://127.0.0.1:REDIS_PORT/3 timeout=1s '
        . 'sync_interval=250ms prefix=erp: on_error=closed '
        . 'password_file=%%TESTDIR%%/redis.pass;',
    'webhook_redis redis://localhost:REDIS_PORT/ on_error=open;',
    'webhook_redis redis://[::1]:REDIS_PORT/0 prefix=;',
    'webhook_redis redis://127.0.0.1 on_error=local;',
    'webhook_redis unix:%%TESTDIR%%/no-redis-here.sock;',
    'webhook_redis sentinel://127.0.0.1/mymaster;',
    'webhook_redis sentinel://127.0.0.1:26379,localhost:26380,[::1]/m-1.x '
        . 'timeout=1s;',
    'webhook_redis redis://127.0.0.1:REDIS_PORT;
    webhook_limit_zone zone=rl:1m key=$remote_addr rate=10r/s sync=on;',
    'webhook_redis redis://127.0.0.1:REDIS_PORT;
    webhook_limit_zone zone=rl:1m key=$remote_addr rate=10r/s sync=async;',
)
{
    (my $name = $http) =~ s/\s*\n\s*/ /g;

    ($rc, $out) = try($http, 'webhook_replay zone=ids redis=on;');
    is($rc, 0, "accepted: $name") or diag($out);
}

($rc, $out) = try('', 'webhook_replay zone=ids redis=off;');
is($rc, 0, 'accepted: redis=off without webhook_redis') or diag($out);

($rc, $out) = try('webhook_redis redis://127.0.0.1;',
                  'webhook_replay zone=ids redis=on lease=10s;');
is($rc, 0, 'accepted: lease=10s') or diag($out);

for my $lease (qw(500ms 0 soon)) {
    ($rc, $out) = try('webhook_redis redis://127.0.0.1;',
                      "webhook_replay zone=ids redis=on lease=$lease;");
    isnt($rc, 0, "lease=$lease: refused");
    like($out, qr/invalid "lease=\Q$lease\E", expected a time of at least 1s/,
        "lease=$lease: why");
}

# needs webhook_redis

($rc, $out) = try('', 'webhook_replay zone=ids redis=on;');
isnt($rc, 0, 'redis=on without webhook_redis: refused');
like($out, qr/"webhook_replay \.\.\. redis=on" in \S+conf\d+\.conf:\d+ needs "webhook_redis"/,
    'redis=on without webhook_redis: named');

($rc, $out) = try('webhook_limit_zone zone=rl:1m key=$remote_addr '
                  . 'rate=10r/s sync=on;');
isnt($rc, 0, 'sync=on without webhook_redis: refused');
like($out, qr/"webhook_limit_zone \.\.\. sync=on" in \S+:\d+ needs "webhook_redis"/,
    'sync=on without webhook_redis: named');

# refused, and why

for (
    ['webhook_redis http://127.0.0.1:REDIS_PORT;',
     qr/invalid redis URL "http:\/\/127\.0\.0\.1:\d+", expected/],
    ['webhook_redis redis://;', qr/invalid redis URL "redis:\/\/"/],
    ['webhook_redis sentinel://127.0.0.1:26379;',
     qr/invalid redis URL "sentinel:.*", expected "sentinel:\/\/host:port/],
    ['webhook_redis sentinel://127.0.0.1:26379/;',
     qr/invalid redis URL "sentinel:.*", expected "sentinel:\/\/host:port/],
    ['webhook_redis sentinel:///mymaster;',
     qr/invalid redis URL "sentinel:.*", expected "sentinel:\/\/host:port/],
    ['webhook_redis sentinel://127.0.0.1,,127.0.0.2/mymaster;',
     qr/an empty sentinel in redis URL/],
    ['webhook_redis sentinel://no-such-host.invalid/mymaster;',
     qr/host not found in .*no-such-host\.invalid|no address for sentinel/],
    ["webhook_redis sentinel://127.0.0.1/my\x01master;",
     qr/bad master name/],
    ['webhook_redis unix:relative.sock;',
     qr/invalid redis URL "unix:relative\.sock": the socket path must be absolute/],
    ['webhook_redis redis://127.0.0.1:REDIS_PORT/db1;',
     qr/invalid redis URL .*: bad database number/],
    ['webhook_redis redis://no-such-host.invalid:6379;',
     qr/host not found in redis URL "redis:\/\/no-such-host\.invalid:6379"/],
    ['webhook_redis redis://127.0.0.1:99999;',
     qr/invalid port in redis URL/],
    ['webhook_redis redis://127.0.0.1 timeout=0;',
     qr/invalid parameter "timeout=0"/],
    ['webhook_redis redis://127.0.0.1 timeout=soon;',
     qr/invalid parameter "timeout=soon"/],
    ['webhook_redis redis://127.0.0.1 sync_interval=5ms;',
     qr/invalid "sync_interval=5ms": at least 10ms/],
    ['webhook_redis redis://127.0.0.1 on_error=maybe;',
     qr/invalid "on_error=maybe", expected on_error=local, open or closed/],
    ['webhook_redis redis://127.0.0.1 db=2;', qr/invalid parameter "db=2"/],
    ['webhook_redis redis://127.0.0.1 password_file=;',
     qr/invalid parameter "password_file="/],
    ['webhook_redis redis://127.0.0.1 password_file=%%TESTDIR%%/none.pass;',
     qr/webhook_redis: cannot open file ".*none\.pass"/],
    ['webhook_redis redis://127.0.0.1 password_file=%%TESTDIR%%/world.pass;',
     qr/webhook_redis: secret file ".*world\.pass" is accessible by group or others \(mode 0644\)/],
    ['webhook_redis redis://127.0.0.1 password_file=%%TESTDIR%%/empty.pass;',
     qr/webhook_redis: file ".*empty\.pass" is empty/],
    ["webhook_redis redis://127.0.0.1;\n    webhook_redis redis://127.0.0.1;",
     qr/"webhook_redis" directive is duplicate/],
    ['webhook_redis;', qr/invalid number of arguments in "webhook_redis"/],
)
{
    my ($http, $re) = @$_;
    (my $name = $http) =~ s/\s*\n\s*/ /g;

    ($rc, $out) = try($http);
    isnt($rc, 0, "refused: $name");
    like($out, $re, "refused, and why: $name");
    unlike($out, qr/redis-password/, "refused, no password shown: $name");
}

($rc, $out) = try('', '', 'webhook_redis redis://127.0.0.1;');
isnt($rc, 0, 'webhook_redis in server: refused');
like($out, qr/"webhook_redis" directive is not allowed here/,
    'webhook_redis in server: why');

$t->done_testing;

###############################################################################
