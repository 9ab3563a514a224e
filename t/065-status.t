#!/usr/bin/perl

# webhook_status: JSON by default, Prometheus text with ?format=prometheus.
# Counters per location (verified, rejected by reason, duplicates, monitor
# would-rejects, last success / failure), per zone (entries, evictions),
# Redis (not configured here).  Two workers: the counters are shared.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes ();

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_status_secret_64d0aa';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

worker_processes  2;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_replay_zone zone=ids2:1m ttl=10m;
    webhook_limit_zone zone=rl:1m key=$http_x_tenant rate=2r/m;
    webhook_limit_zone zone=one:1m key=$http_x_tenant rate=1r/m;

    log_format pid $pid;

    server {
        listen       127.0.0.1:%%PORT_8080%% reuseport;
        server_name  localhost;

        access_log %%TESTDIR%%/pid.log pid;

        webhook_secret file:%%TESTDIR%%/github.secret;

        location = /github {
            webhook_verify github;
            webhook_replay zone=ids;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /limited {
            webhook_verify github;
            webhook_limit zone=rl;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /bulk {
            webhook_verify github;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /mon-ip {
            webhook_verify github;
            webhook_mode monitor;
            webhook_allow_ip 192.0.2.0/24;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /mon-sig {
            webhook_verify github;
            webhook_mode monitor;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /mon-lim {
            webhook_verify github;
            webhook_mode monitor;
            webhook_limit zone=one;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /mon-dup {
            webhook_verify github;
            webhook_mode monitor;
            webhook_replay zone=ids2;
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

my $seq = 0;

# gh($path, %o): a GitHub delivery with a new id; id => the id,
# tampered => 1 (body changed after signing), unsigned => 1, tenant =>
# X-Tenant, delay => X-Upstream-Delay

sub gh {
    my ($path, %o) = @_;

    $seq++;
    my $id = $o{id} // "status-$seq";
    my $body = qq({"zen":"Design for failure.","hook_id":"$id"});
    my @h = (['X-GitHub-Delivery', $id], ['X-GitHub-Event', 'ping']);

    push @h, ['X-Hub-Signature-256', github_header($secret, $body)]
        unless $o{unsigned};
    push @h, ['X-Tenant', $o{tenant}] if $o{tenant};
    push @h, ['X-Upstream-Delay', $o{delay}] if $o{delay};

    $body .= ' ' if $o{tampered};

    return { path => $path, body => $body, headers => \@h, timeout => 10 };
}

sub send_all {
    return map { $t->http(%$_) } @_;
}

sub statuses {
    return join ' ', map { $t->status($_) } @_;
}

# the non-zero entries of a {reason => count} object

sub nz {
    my ($h) = @_;
    return {} unless ref $h eq 'HASH';
    return { map { $_ => $h->{$_} } grep { $h->{$_} } keys %$h };
}

my $start = time;

# /github: 3 valid, 1 duplicate, 2 tampered, 1 unsigned

is(statuses(send_all(gh('/github', id => 'g1'), gh('/github', id => 'g2'),
                     gh('/github', id => 'g3'), gh('/github', id => 'g1'),
                     gh('/github', tampered => 1), gh('/github', tampered => 1),
                     gh('/github', unsigned => 1))),
    '200 200 200 200 401 401 401', '/github traffic');

# /limited: 2r/m on X-Tenant

is(statuses(send_all(map { gh('/limited', tenant => 'acme') } 1 .. 3)),
    '200 200 429', '/limited traffic');

# /bulk: 40 valid, 20 tampered, at once

my $bulk = $t->http_batch([ (map { gh('/bulk') } 1 .. 40),
                            (map { gh('/bulk', tampered => 1) } 1 .. 20) ],
                          concurrency => 8);
my %by;
$by{ $t->status($_) }++ for @$bulk;
is_deeply(\%by, { 200 => 40, 401 => 20 }, '/bulk traffic');

# monitor: allowlist, signature, limit, duplicate in flight

is(statuses(send_all(gh('/mon-ip'), gh('/mon-ip'))), '200 200',
    '/mon-ip traffic');
is(statuses(send_all(gh('/mon-sig'), gh('/mon-sig', tampered => 1),
                     gh('/mon-sig', unsigned => 1))),
    '200 200 200', '/mon-sig traffic');
is(statuses(send_all(map { gh('/mon-lim', tenant => 'hooli') } 1 .. 2)),
    '200 200', '/mon-lim traffic');

my $n = $t->upstream_count;
my $c = $t->http_open(%{ gh('/mon-dup', id => 'd1', delay => 2) });
ok($t->wait_until(sub { $t->upstream_count > $n }, timeout => 5),
    '/mon-dup: first in flight');
is(statuses(send_all(gh('/mon-dup', id => 'd1'))), '200',
    '/mon-dup: the duplicate goes on');
is($t->status($t->http_read($c, timeout => 10, eof => 1)), 200,
    '/mon-dup: the first done');
$t->http_close($c);

my %pids = map { $_ => 1 } split /\n/, $t->read_file('pid.log');
is(scalar keys %pids, 2, 'both workers served requests');

# JSON (counters are written in the log phase: poll briefly)

my ($j, $r);

$t->wait_until(sub {
    ($j, $r) = $t->status_json;
    my $l = $j && $j->{locations} || {};
    return ($l->{'/bulk'}{verified} // 0) == 40
        && ($l->{'/mon-dup'}{verified} // 0) == 2;
}, timeout => 5);

is($r->{status}, 200, 'status: 200');
like($r->{headers}{'content-type'} // '', qr{^application/json\b},
    'status: application/json');
ok($j, 'status: JSON') or diag($r->{body});
$j ||= {};

is($j->{version}, 1, 'version 1');

my $l = $j->{locations} || {};

my $g = $l->{'/github'} || {};
ok($l->{'/github'}, '"location = /github" is "/github"')
    or diag(explain [ keys %$l ]);
is($g->{preset}, 'github', '/github: preset');
is($g->{verified}, 4, '/github: verified (the duplicate too)');
is($g->{duplicates}, 1, '/github: duplicates');
is_deeply(nz($g->{rejected}),
    { signature_mismatch => 2, signature_missing => 1 }, '/github: rejected');
is_deeply(nz($g->{monitor_would_reject}), {}, '/github: no monitor counts');
cmp_ok($g->{last_success} // 0, '>=', $start - 1, '/github: last_success');
cmp_ok($g->{last_success} // 0, '<=', time + 1, '/github: last_success, now');
cmp_ok($g->{last_failure} // 0, '>=', $start - 1, '/github: last_failure');
cmp_ok($g->{last_failure} // 0, '<=', time + 1, '/github: last_failure, now');

my $lim = $l->{'/limited'} || {};
is($lim->{verified}, 2, '/limited: verified');
is_deeply(nz($lim->{rejected}), { rate_limited => 1 }, '/limited: rejected');

my $b = $l->{'/bulk'} || {};
is($b->{verified}, 40, '/bulk: verified, over two workers');
is_deeply(nz($b->{rejected}), { signature_mismatch => 20 },
    '/bulk: rejected, over two workers');

my $m = $l->{'/mon-ip'} || {};
is($m->{verified}, 2, '/mon-ip: verified');
is_deeply(nz($m->{rejected}), {}, '/mon-ip: nothing rejected');
is_deeply(nz($m->{monitor_would_reject}), { ip_not_allowed => 2 },
    '/mon-ip: monitor_would_reject');

$m = $l->{'/mon-sig'} || {};
is($m->{verified}, 1, '/mon-sig: verified');
is_deeply(nz($m->{rejected}), {}, '/mon-sig: nothing rejected');
is_deeply(nz($m->{monitor_would_reject}),
    { signature_mismatch => 1, signature_missing => 1 },
    '/mon-sig: monitor_would_reject');

$m = $l->{'/mon-lim'} || {};
is($m->{verified}, 2, '/mon-lim: verified');
is_deeply(nz($m->{rejected}), {}, '/mon-lim: nothing rejected');
is_deeply(nz($m->{monitor_would_reject}), { rate_limited => 1 },
    '/mon-lim: monitor_would_reject');

$m = $l->{'/mon-dup'} || {};
is($m->{verified}, 2, '/mon-dup: verified');
is_deeply(nz($m->{rejected}), {}, '/mon-dup: nothing rejected');
is_deeply(nz($m->{monitor_would_reject}), { duplicate_in_flight => 1 },
    '/mon-dup: monitor_would_reject');

my $z = $j->{zones} || {};
# a GitHub delivery has two records: its MAC and its delivery id
is_deeply([ map { $z->{ids}{$_} } qw(type entries evictions evicted_unexpired) ],
    [ 'replay', 6, 0, 0 ],
    'zone ids: replay, 3 deliveries, 6 entries, no evictions');
is_deeply([ map { $z->{ids2}{$_} } qw(type entries) ], [ 'replay', 2 ],
    'zone ids2: replay, 1 delivery, 2 entries');
is_deeply([ map { $z->{rl}{$_} } qw(type entries) ], [ 'limit', 1 ],
    'zone rl: limit, 1 key');
is_deeply([ map { $z->{one}{$_} } qw(type entries) ], [ 'limit', 1 ],
    'zone one: limit, 1 key');

my $redis = $j->{redis} || {};
ok(exists $redis->{configured} && ref $redis->{configured}
   && !$redis->{configured}, 'redis: configured false');

# Prometheus

my ($text, $pr) = $t->status_prometheus;

is($pr->{status}, 200, 'prometheus: 200');
like($pr->{headers}{'content-type'} // '', qr{^text/plain; version=0\.0\.4},
    'prometheus: text/plain; version=0.0.4');
$text //= '';

my %lines = map { $_ => 1 } split /\n/, $text;

for my $line (
    'nginx_webhook_verified_total{location="/github",preset="github"} 4',
    'nginx_webhook_duplicates_total{location="/github",preset="github"} 1',
    'nginx_webhook_rejected_total{location="/github",preset="github",'
        . 'reason="signature_mismatch"} 2',
    'nginx_webhook_rejected_total{location="/github",preset="github",'
        . 'reason="signature_missing"} 1',
    'nginx_webhook_rejected_total{location="/limited",preset="github",'
        . 'reason="rate_limited"} 1',
    'nginx_webhook_verified_total{location="/bulk",preset="github"} 40',
    'nginx_webhook_rejected_total{location="/bulk",preset="github",'
        . 'reason="signature_mismatch"} 20',
    'nginx_webhook_monitor_would_reject_total{location="/mon-ip",'
        . 'preset="github",reason="ip_not_allowed"} 2',
    'nginx_webhook_monitor_would_reject_total{location="/mon-dup",'
        . 'preset="github",reason="duplicate_in_flight"} 1',
    'nginx_webhook_zone_entries{zone="ids"} 6',
    'nginx_webhook_zone_evictions_total{zone="ids"} 0',
    'nginx_webhook_zone_evicted_unexpired_total{zone="ids"} 0',
    'nginx_webhook_zone_entries{zone="rl"} 1',
    'nginx_webhook_redis_up 0',
    'nginx_webhook_redis_connected_workers 0',
    'nginx_webhook_redis_workers 0',
) {
    ok($lines{$line}, "prometheus: $line");
}

my $p = $t->prometheus($text);

for my $k ('nginx_webhook_last_success_timestamp_seconds{location="/github"}',
           'nginx_webhook_last_failure_timestamp_seconds{location="/github"}')
{
    my $v = $p->{$k} // 0;
    ok($v >= $start - 1 && $v <= time + 1, "prometheus: $k is now")
        or diag("$k = $v");
}

for (qw(verified_total rejected_total duplicates_total
        monitor_would_reject_total zone_evictions_total
        zone_evicted_unexpired_total redis_syncs_total
        redis_failures_total))
{
    like($text, qr/^# HELP nginx_webhook_$_ \S/m, "prometheus: HELP $_");
    like($text, qr/^# TYPE nginx_webhook_$_ counter$/m,
        "prometheus: TYPE $_ counter");
}

for (qw(last_success_timestamp_seconds last_failure_timestamp_seconds
        zone_entries redis_up redis_connected_workers redis_workers))
{
    like($text, qr/^# HELP nginx_webhook_$_ \S/m, "prometheus: HELP $_");
    like($text, qr/^# TYPE nginx_webhook_$_ gauge$/m,
        "prometheus: TYPE $_ gauge");
}

# JSON and Prometheus agree on every location

my @disagree;
for my $loc (sort keys %$l) {
    my $e = $l->{$loc};
    next unless defined $e->{preset} && $e->{preset} ne '';
    my $lab = qq(location="$loc",preset="$e->{preset}");
    push @disagree, "$loc verified"
        if ($p->{"nginx_webhook_verified_total{$lab}"} // -1)
           != ($e->{verified} // -2);
    for my $reason (keys %{ nz($e->{rejected}) }) {
        push @disagree, "$loc rejected $reason"
            if ($p->{qq(nginx_webhook_rejected_total{$lab,reason="$reason"})}
                // -1) != $e->{rejected}{$reason};
    }
}
is_deeply(\@disagree, [], 'JSON and Prometheus agree');

$t->done_testing;

###############################################################################
