#!/usr/bin/perl

# webhook_limit_zone / webhook_limit: the sliding-window limiter.  429
# rate_limited with Retry-After; RateLimit-Limit / -Remaining / -Reset on
# every response of a limited location (passed, refused, upstream errors);
# $webhook_ratelimit_remaining; keys ($remote_addr, a header, an empty key
# not limited); two limits composing; dry_run; monitor mode; counting
# before the body is read.  Without webhook_verify except where noted.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_limit_secret_0c7d2e';

$t->write_file('github.secret', $secret, 0600);

# a port bound and never listened on, held for the whole test: connecting
# to it is refused (a merely unused port might be taken by anyone)

my $closed = IO::Socket::INET->new(
    LocalAddr => '127.0.0.1',
    LocalPort => 0,
    Proto     => 'tcp',
) or die "bind: $!";

my $conf = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_limit_zone zone=ten:1m     key=$remote_addr  rate=10r/s;
    webhook_limit_zone zone=hourly:1m  key=$http_x_tenant rate=5r/h;
    webhook_limit_zone zone=tenant:1m  key=$http_x_tenant rate=2r/m;
    webhook_limit_zone zone=burst:1m   key=$http_x_tenant rate=5r/s;
    webhook_limit_zone zone=minute:1m  key=$http_x_tenant rate=8r/m;
    webhook_limit_zone zone=dry:1m     key=$http_x_tenant rate=2r/m;
    webhook_limit_zone zone=early:1m   key=$http_x_tenant rate=1r/m sync=off;
    webhook_limit_zone zone=errors:1m  key=$http_x_tenant rate=100r/m;
    webhook_limit_zone zone=mon:1m     key=$http_x_tenant rate=1r/m;

    proxy_set_header X-Remaining $webhook_ratelimit_remaining;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /ten {
            webhook_limit zone=ten;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /hourly {
            webhook_limit zone=hourly;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /tenant {
            webhook_limit zone=tenant;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /compose {
            webhook_limit zone=burst;
            webhook_limit zone=minute;
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }

        location /dry {
            webhook_limit zone=dry dry_run;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_set_header X-Remaining $webhook_ratelimit_remaining;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /early {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_limit zone=early;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /errors {
            webhook_limit zone=errors;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /dead {
            webhook_limit zone=errors;
            proxy_pass http://127.0.0.1:CLOSED_PORT;
        }

        location /monitor {
            webhook_mode monitor;
            webhook_limit zone=mon;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }

    # a fast upstream: no process per request
    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        access_log off;

        location / {
            return 200 "fast";
        }
    }
}

EOF

$conf =~ s/CLOSED_PORT/$closed->sockport/e;
$t->write_file_expand('nginx.conf', $conf);

$t->run;

###############################################################################

sub get {
    my ($path, $tenant, %a) = @_;
    my @h;
    push @h, ['X-Tenant', $tenant] if defined $tenant;
    push @h, @{ delete $a{headers} || [] };
    return $t->http(method => 'GET', path => $path, headers => \@h,
                    timeout => 5, %a);
}

sub hdr {
    my ($r, $name) = @_;
    return $r->{headers}{lc $name} // '-';
}

# "Limit Remaining Reset" of a response

sub rl {
    my ($r) = @_;
    return join ' ', map { hdr($r, "RateLimit-$_") } qw(Limit Remaining Reset);
}

# wait until just after a wall-clock second boundary, so that a short
# burst stays in one window

sub align_second {
    my $f = time - int(time);
    sleep(1.02 - $f) if $f > 0.3;
}

my ($r, @r, $n);

# 10r/s, key $remote_addr: 30 quick requests

align_second();
my $start = time;
@r = map { get('/ten') } 1 .. 30;
my $took = time - $start;

my @passed = grep { $_->{status} == 200 } @r;
my @limited = grep { $_->{status} == 429 } @r;

is(@passed + @limited, 30, '10r/s: every answer is 200 or 429')
    or diag(join ' ', map { $t->status($_) } @r);

# a burst within one window admits 10; if it crossed a window boundary,
# the weighted previous window lets at most 10 x (time past it) more in
cmp_ok(scalar @passed, '>=', 10, '10r/s: at least 10 passed');
cmp_ok(scalar @passed, '<=', 11 + int(10 * $took),
    sprintf('10r/s: at most %d passed (burst took %.2f s)',
            11 + int(10 * $took), $took));

ok(!grep({ $_->{body} ne 'fast' } @passed), '10r/s: passed ones proxied');

$r = $limited[0] || { status => 0, headers => {}, body => '' };
is($t->reject_summary($r), $t->reject_expected(429, 'rate_limited'),
    '10r/s: 429 rate_limited');
like(hdr($r, 'Retry-After'), qr/^[12]$/, '10r/s: Retry-After 1 or 2');
is(hdr($r, 'RateLimit-Limit'), 10, '10r/s: 429 RateLimit-Limit');
is(hdr($r, 'RateLimit-Remaining'), 0, '10r/s: 429 RateLimit-Remaining 0');
is(hdr($r, 'RateLimit-Reset'), hdr($r, 'Retry-After'),
    '10r/s: 429 RateLimit-Reset = Retry-After');

ok(!grep({ hdr($_, 'RateLimit-Limit') ne '10'
           || hdr($_, 'RateLimit-Remaining') !~ /^\d+$/
           || hdr($_, 'RateLimit-Reset') !~ /^\d+$/ } @r),
    '10r/s: every answer has the RateLimit headers, plain integers')
    or diag(join "\n", map { rl($_) } @r);

is(hdr($passed[0] || {}, 'RateLimit-Remaining'), 9,
    '10r/s: first: Remaining 9');
is(hdr($passed[0] || {}, 'RateLimit-Reset'), 0, '10r/s: first: Reset 0');

# both windows behind: admitted again

sleep(2.5);

@r = map { get('/ten') } 1 .. 5;
is(join(' ', map { $_->{status} } @r), '200 200 200 200 200',
    '10r/s: 2.5 s later, admitted again');

# 5r/h, key X-Tenant: Remaining counts down, as does the variable

@r = map { get('/hourly', 'h1') } 1 .. 7;

is(join(' ', map { $t->status($_) } @r), '200 200 200 200 200 429 429',
    '5r/h: 5 passed, then 429');
is(join(' ', map { hdr($_, 'RateLimit-Remaining') } @r), '4 3 2 1 0 0 0',
    '5r/h: RateLimit-Remaining counts down to 0');
is(join(' ', map { hdr($_, 'RateLimit-Limit') } @r), '5 5 5 5 5 5 5',
    '5r/h: RateLimit-Limit');
is(join(' ', map { hdr($_, 'RateLimit-Reset') } @r[0 .. 3]), '0 0 0 0',
    '5r/h: RateLimit-Reset 0 while requests remain');
cmp_ok(hdr($r[4], 'RateLimit-Reset'), '>=', 1,
    '5r/h: RateLimit-Reset once none remains');

my @u = @{ $t->upstream_requests };
is(join(' ', map { $_->{headers}{'x-remaining'} // '-' } @u[-5 .. -1]),
    '4 3 2 1 0', '5r/h: $webhook_ratelimit_remaining');

like(hdr($r[5], 'Retry-After'), qr/^\d+$/, '5r/h: Retry-After integer');
cmp_ok(hdr($r[5], 'Retry-After'), '>=', 1, '5r/h: Retry-After >= 1');
cmp_ok(hdr($r[5], 'Retry-After'), '<=', 7200, '5r/h: Retry-After <= 2 h');

# keys: per tenant; an empty key is not limited

@r = map { get('/tenant', 'acme') } 1 .. 3;
is(join(' ', map { $t->status($_) } @r), '200 200 429', '2r/m: tenant acme');

@r = map { get('/tenant', 'globex') } 1 .. 3;
is(join(' ', map { $t->status($_) } @r), '200 200 429',
    '2r/m: tenant globex counted apart');

@r = map { get('/tenant') } 1 .. 5;
is(join(' ', map { $t->status($_) } @r), '200 200 200 200 200',
    '2r/m: no X-Tenant (empty key): not limited');

# two limits on one key: 5r/s and 8r/m

align_second();
@r = map { get('/compose', 'initech') } 1 .. 7;
is(join(' ', map { $t->status($_) } @r), '200 200 200 200 200 429 429',
    'compose: 5r/s refuses the 6th and 7th');
is(hdr($r[5], 'RateLimit-Limit'), 5,
    'compose: the 429 reports the 5r/s limit');
like(hdr($r[5], 'Retry-After'), qr/^[12]$/, 'compose: Retry-After 1 or 2');

sleep(2.5);

# 8r/m counted 5 (not the two refused by 5r/s): 3 more, then the minute
@r = map { get('/compose', 'initech') } 1 .. 5;
is(join(' ', map { $t->status($_) } @r), '200 200 200 429 429',
    'compose: 8r/m admits 3 more, not counting the refused ones');
is(hdr($r[3], 'RateLimit-Limit'), 8,
    'compose: the 429 reports the 8r/m limit');
is(hdr($r[3], 'RateLimit-Remaining'), 0, 'compose: Remaining 0');
cmp_ok(hdr($r[3], 'Retry-After'), '>', 2,
    'compose: Retry-After from the minute window');
is($t->reject_summary($r[3]), $t->reject_expected(429, 'rate_limited'),
    'compose: 429 body');

# dry_run: nothing refused, the verdict told

$n = $t->upstream_count;
@r = map { get('/dry', 'umbrella') } 1 .. 4;
is(join(' ', map { $t->status($_) } @r), '200 200 200 200',
    'dry_run: nothing refused');
is($t->upstream_count, $n + 4, 'dry_run: all forwarded');
is(join(' ', map { hdr($_, 'RateLimit-Remaining') } @r), '1 0 0 0',
    'dry_run: RateLimit-Remaining');
is(join(' ', map { hdr($_, 'RateLimit-Limit') } @r), '2 2 2 2',
    'dry_run: RateLimit-Limit');

@u = @{ $t->upstream_requests }[-4 .. -1];
is(join(' ', map { $t->vars($_)->{reason} || '-' } @u),
    '- - rate_limited rate_limited', 'dry_run: $webhook_reject_reason');
is(join(' ', map { $_->{headers}{'x-remaining'} // '-' } @u), '1 0 0 0',
    'dry_run: $webhook_ratelimit_remaining');

# monitor mode covers limits

$n = $t->upstream_count;
@r = map { get('/monitor', 'hooli') } 1 .. 2;
is(join(' ', map { $t->status($_) } @r), '200 200', 'monitor: not refused');
@u = @{ $t->upstream_requests }[-2 .. -1];
is(join(' ', map { $t->vars($_)->{reason} || '-' } @u),
    '- rate_limited', 'monitor: $webhook_reject_reason');

# upstream errors carry the headers too

$r = get('/errors', 'soylent', headers => [['X-Upstream-Status', 500]]);
is($r->{status}, 500, 'upstream 500');
is(rl($r), '100 99 0', 'upstream 500: RateLimit headers');

$r = get('/dead', 'soylent');
is($r->{status}, 502, 'upstream down: 502');
is(rl($r), '100 98 0', 'upstream down: RateLimit headers');

# counted before the body is read: with webhook_verify, the request over
# the limit is refused without its body

my $body = '{"zen":"Keep it logically awesome."}';
$t->is_forwarded({ path => '/early', body => $body, headers => [
    ['X-Tenant', 'wonka'], ['X-GitHub-Delivery', 'early-1'],
    ['X-Hub-Signature-256', github_header($secret, $body)]] },
    'early: first, with its body');

my $c = $t->http_open(path => '/early', head_only => 1, headers => [
    ['X-Tenant', 'wonka'], ['Content-Length', 1000000],
    ['X-Hub-Signature-256', github_header($secret, $body)]]);
$r = $t->http_read($c, timeout => 10);
$t->http_close($c);
is($t->reject_summary($r), $t->reject_expected(429, 'rate_limited'),
    'early: over the limit, body not sent: 429');
cmp_ok($r->{elapsed}, '<', 5, 'early: 429 without waiting for the body')
    or diag("took $r->{elapsed} s");
cmp_ok(hdr($r, 'Retry-After'), '>=', 1, 'early: Retry-After');

$t->done_testing;

###############################################################################
