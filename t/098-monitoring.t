#!/usr/bin/perl

# The monitoring examples stay true: conf-examples/prometheus/alerts.yml
# passes its promtool unit tests (each alert fires and resolves on
# synthetic series), scrape.yml is a valid Prometheus configuration, and
# conf-examples/grafana/dashboard.json parses.  Every metric the alerts
# and the dashboard name is in the status output of a running nginx with
# verification, a limit, a replay zone, Redis and a queue.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use Test::More;

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $root = "$FindBin::Bin/..";
my $prom = "$root/conf-examples/prometheus";

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

plan(skip_all => 'promtool (Debian package prometheus) is needed')
    unless `sh -c 'command -v promtool'`;
plan(skip_all => 'redis-server and redis-cli are needed')
    unless Test::Webhook::Redis::available();

my $out = `cd $prom && promtool test rules alerts.test.yml 2>&1`;
is($?, 0, 'promtool test rules alerts.test.yml') or diag($out);

$out = `cd $prom && promtool check config scrape.yml 2>&1`;
is($?, 0, 'promtool check config scrape.yml') or diag($out);

my $alerts = slurp("$prom/alerts.yml");
my @alert_names = $alerts =~ /^\s*- alert: (\w+)$/mg;
is_deeply([ sort @alert_names ],
          [ sort qw(WebhookIntegrationDown WebhookHighErrorRate
                    WebhookRateLimitExceeded WebhookSlowResponseTime
                    WebhookDelay WebhookRedisDisconnected
                    WebhookSignatureMismatchSpike) ],
          'the seven alerts');

my $tests = slurp("$prom/alerts.test.yml");
for my $name (@alert_names) {
    like($tests, qr/alertname: $name\n\s*exp_alerts:\n\s*- exp_labels/,
         "$name is tested firing");
    like($tests, qr/alertname: $name\n\s*exp_alerts: \[\]/,
         "$name is tested quiet");
}

my $dash = eval { JSON::PP->new->decode(slurp("$root/conf-examples/grafana/dashboard.json")) };
ok($dash, 'dashboard.json parses') or diag($@);
$dash ||= {};

my @exprs = map { $_->{expr} } map { @{ $_->{targets} || [] } }
            @{ $dash->{panels} || [] };
ok(@exprs >= 10, 'dashboard panels have queries');

my %named;
$named{$_}{'alerts.yml'} = 1 for $alerts =~ /\b(nginx_webhook_\w+)/g;
$named{$_}{'dashboard.json'} = 1 for map { /\b(nginx_webhook_\w+)/g } @exprs;

for my $m (qw(nginx_webhook_verified_total nginx_webhook_rejected_total
              nginx_webhook_duplicates_total
              nginx_webhook_request_duration_seconds_bucket
              nginx_webhook_redis_up nginx_webhook_queue_length)) {
    ok($named{$m}{'dashboard.json'}, "the dashboard shows $m");
}

# a running nginx with everything that has metrics

my $t = Test::Webhook->new;
my $redis = Test::Webhook::Redis->new(dir => $t->testdir);

my $secret = 'gh_monitoring_secret_07d2';
$t->write_file('github.secret', $secret, 0600);

my $conf = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_redis redis://127.0.0.1:REDIS_PORT timeout=1s prefix=t098:;

    webhook_limit_zone zone=per_ip:1m key=$binary_remote_addr rate=100r/m;
    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        webhook_secret file:%%TESTDIR%%/github.secret;

        location /github {
            webhook_verify github;
            webhook_limit zone=per_ip;
            webhook_replay zone=ids;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /queued {
            webhook_verify github;
            webhook_enqueue stream=erp:github;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$conf =~ s/REDIS_PORT/$redis->port/e;
$t->write_file_expand('nginx.conf', $conf);
$t->run;

my $n = 0;
for my $path ('/github', '/queued') {
    $n++;
    my $body = qq({"zen":"Practicality beats purity.","n":$n});
    my $r = $t->http(path => $path, body => $body, headers => [
        ['X-GitHub-Delivery', "monitoring-$n"], ['X-GitHub-Event', 'push'],
        ['X-Hub-Signature-256', github_header($secret, $body)]]);
    is($t->status($r), 200, "$path answers 200");
}

# the queue length is polled every second

my $text;
ok($t->wait_until(sub {
    $text = $t->status_prometheus;
    return ($text // '') =~ /^nginx_webhook_queue_length\{/m;
}, timeout => 10), 'the queue length is polled');

my %samples = map { $_ => 1 } ($text // '') =~ /^(nginx_webhook_\w+)/mg;

for my $m (sort keys %named) {
    ok($samples{$m}, "$m (named in " . join(', ', sort keys %{ $named{$m} })
                     . ') is in the status output');
}

$t->done_testing;
