#!/usr/bin/perl

# webhook_redis on_error=closed and on_error=open, with Redis down from the
# start (nginx starts and loads without it) and then started:
#   closed: 503 redis_unavailable for requests that need Redis (a sync=on
#           limit, a redis=on replay check), the rest served as usual; a
#           dry_run limit or monitor mode only records it;
#   open:   sync=on limits are not applied; other limits are; replay
#           checks are node-local.
# Once Redis is there, both behave as usual.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my %t = map { $_ => Test::Webhook->new } qw(closed open);
my $redis = Test::Webhook::Redis->new(dir => $t{closed}->testdir);

# down from the start: its port stays free until it is started again
$redis->stop;

my $secret = 'gh_on_error_secret_93d2c4';

my $conf = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT on_error=ON_ERROR
                  prefix=t074-ON_ERROR:;

    webhook_limit_zone zone=synced:1m key=$http_x_tenant rate=2r/m sync=on;
    webhook_limit_zone zone=dry:1m key=$http_x_tenant rate=1r/m sync=on;
    webhook_limit_zone zone=node:1m key=$http_x_tenant rate=2r/m;
    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_replay_zone zone=own:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /synced {
            webhook_limit zone=synced;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /dry {
            webhook_limit zone=dry dry_run;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /node {
            webhook_limit zone=node;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /monitor {
            webhook_mode monitor;
            webhook_limit zone=synced;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids redis=on;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github-local {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=own;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

for my $mode (qw(closed open)) {
    (my $c = $conf) =~ s/REDIS_PORT/$redis->port/e;
    $c =~ s/ON_ERROR/$mode/g;

    $t{$mode}->write_file('github.secret', $secret, 0600);
    $t{$mode}->write_file_expand('nginx.conf', $c);
    $t{$mode}->run;
}

###############################################################################

my $seq = 0;

sub gh {
    my ($path, $id) = @_;

    $seq++;
    my $body = qq({"action":"created","delivery":"$id","n":$seq});

    return { path => $path, body => $body, timeout => 10, headers => [
        ['X-GitHub-Event', 'issues'],
        ['X-GitHub-Delivery', $id],
        ['X-Hub-Signature-256', github_header($secret, $body)],
    ] };
}

sub get {
    my ($t, $path, $tenant) = @_;
    return $t->http(method => 'GET', path => $path, timeout => 10,
                    headers => [['X-Tenant', $tenant]]);
}

sub statuses {
    my ($t, $path, $tenant, $n) = @_;
    return join ' ', map { get($t, $path, $tenant)->{status} } 1 .. $n;
}

sub redis_status {
    my ($t) = @_;
    my $j = $t->status_json;
    return $j ? $j->{redis} : {};
}

my ($t, $r, $j, $u);

for my $mode (qw(closed open)) {
    ok($t{$mode}->wait_until(sub { redis_status($t{$mode})->{failures} },
                             timeout => 5),
       "$mode: Redis is down, and known to be");
    is(redis_status($t{$mode})->{connected_workers}, 0,
        "$mode: not connected");
}

# closed

$t = $t{closed};

$t->is_rejected({ method => 'GET', path => '/synced',
                  headers => [['X-Tenant', 'c1']] },
    503, 'redis_unavailable', 'closed: a sync=on limit');

$t->is_rejected(gh('/github', 'c-1'), 503, 'redis_unavailable',
    'closed: a redis=on replay check');

is(statuses($t, '/node', 'c1', 3), '200 200 429',
    'closed: a node-local limit is enforced as usual');

$t->is_forwarded(gh('/github-local', 'c-2'),
    'closed: a node-local replay check');

is(statuses($t, '/dry', 'c1', 2), '200 200', 'closed: dry_run refuses not');

$r = get($t, '/monitor', 'c1');
is($r->{status}, 200, 'closed: monitor mode refuses not');
is($t->vars($t->upstream_last)->{reason}, 'redis_unavailable',
    'closed: monitor mode: $webhook_reject_reason');

$j = $t->status_json;
is($j->{locations}{'/synced'}{rejected}{redis_unavailable}, 1,
    'closed: status: rejected redis_unavailable');
is($j->{locations}{'/monitor'}{monitor_would_reject}{redis_unavailable}, 1,
    'closed: status: monitor_would_reject redis_unavailable');

my ($text) = $t->status_prometheus;
like($text, qr/^nginx_webhook_rejected_total\{location="\/github",preset="github",reason="redis_unavailable"\} 1$/m,
    'closed: prometheus: rejected redis_unavailable');
like($text, qr/^nginx_webhook_redis_up 0$/m, 'closed: prometheus: redis_up 0');
like($text, qr/^nginx_webhook_redis_connected_workers 0$/m,
    'closed: prometheus: redis_connected_workers 0');
like($text, qr/^nginx_webhook_redis_workers 1$/m,
    'closed: prometheus: redis_workers 1');

# open

$t = $t{open};

is(statuses($t, '/synced', 'o1', 5), '200 200 200 200 200',
    'open: a sync=on limit is not applied');
ok(!exists get($t, '/synced', 'o1')->{headers}{'ratelimit-limit'},
    'open: nor reported');

is(statuses($t, '/node', 'o1', 3), '200 200 429',
    'open: a node-local limit is enforced as usual');

$t->is_forwarded(gh('/github', 'o-1'), 'open: a redis=on replay check');
$r = $t->http(%{ gh('/github', 'o-1') });
is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'open: duplicates caught node-locally');

# one warning each, for the whole outage

for my $mode (qw(closed open)) {
    is(scalar(grep { /\[warn\].*webhook: redis .* is unavailable/ }
              split /\n/, $t{$mode}->error_log), 1,
       "$mode: one warning");
}

like($t{closed}->error_log, qr/is unavailable .*: requests that need it are answered 503/,
    'closed: the warning says what happens');
like($t{open}->error_log, qr/is unavailable .*: sync=on rate limits are not enforced/,
    'open: the warning says what happens');

# Redis starts: business as usual

$redis->start;

for my $mode (qw(closed open)) {
    ok($t{$mode}->wait_until(
           sub { redis_status($t{$mode})->{connected_workers} == 1 },
           timeout => 8),
       "$mode: connected once Redis is there");
}

$t = $t{closed};

($text) = $t->status_prometheus;
like($text, qr/^nginx_webhook_redis_up 1$/m,
    'closed, Redis back: prometheus: redis_up 1, every worker connected');

is(statuses($t, '/synced', 'c2', 3), '200 200 429',
    'closed, Redis back: the sync=on limit');
$t->is_forwarded(gh('/github', 'c-3'), 'closed, Redis back: replay');

$t = $t{open};

is(statuses($t, '/synced', 'o2', 3), '200 200 429',
    'open, Redis back: the sync=on limit is applied again');

$_->stop for values %t;

$t{open}->_final_check;
$t{closed}->done_testing;

###############################################################################
