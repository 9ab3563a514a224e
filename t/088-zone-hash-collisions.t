#!/usr/bin/perl

# Zone entries are filed under the MurmurHash2 of their key, which an
# attacker can collide at will (an id, a limit key are the sender's
# choice).  Two keys with the same hash are two entries: a limit key's
# budget is not another's, and a delivery id colliding with a recorded
# one is not a duplicate of it, while each is a duplicate of itself.  The
# colliding pairs were found by brute force; the test first proves, with
# its own MurmurHash2, that they collide.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

# nginx's ngx_murmur_hash2

sub murmur2 {
    my ($s) = @_;
    my $m = 0x5bd1e995;
    my $mul = sub {                 # 32-bit product, without overflow
        my ($a, $b) = @_;
        return ((($a * ($b >> 16)) % 4294967296 * 65536)
                + $a * ($b & 0xffff)) % 4294967296;
    };
    my $n = length $s;
    my $h = $n % 4294967296;
    my @b = unpack 'C*', $s;
    my $i = 0;

    while ($n >= 4) {
        my $k = $b[$i] | $b[$i + 1] << 8 | $b[$i + 2] << 16
                | $b[$i + 3] << 24;
        $k = $mul->($k, $m);
        $k ^= $k >> 24;
        $k = $mul->($k, $m);
        $h = $mul->($h, $m) ^ $k;
        $i += 4;
        $n -= 4;
    }

    $h ^= $b[$i + 2] << 16 if $n == 3;
    $h ^= $b[$i + 1] << 8 if $n >= 2;
    $h = $mul->($h ^ $b[$i], $m) if $n >= 1;

    $h ^= $h >> 13;
    $h = $mul->($h, $m);
    $h ^= $h >> 15;

    return $h;
}

# limit keys (the key as it is), and GitHub delivery ids (recorded under
# "github:id:" and the id)
my @tenants = ('collide-0370989', 'collide-1065262');
my @ids = ('collide-0175056', 'collide-0234350');

is(murmur2('collide-0370989'), 2378758573,
   'the test computes MurmurHash2 as nginx does');
is(murmur2($tenants[0]), murmur2($tenants[1]), 'the limit keys collide');
is(murmur2("github:id:$ids[0]"), murmur2("github:id:$ids[1]"),
   'the replay keys of the ids collide');

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'collide-github-secret-0123';
$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_limit_zone zone=tenant:1m key=$http_x_tenant rate=1r/m;
    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /limit {
            webhook_limit zone=tenant;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

# a limit of 1 per minute each: the second tenant's first request is not
# counted against the first's

sub tenant {
    my ($tenant) = @_;
    return $t->http(method => 'GET', path => '/limit',
                    headers => [['X-Tenant', $tenant]])->{status};
}

is(tenant($tenants[0]), 200, 'limit: the first key is admitted');
is(tenant($tenants[1]), 200, 'limit: the colliding key has its own budget');
is(tenant($tenants[0]), 429, 'limit: the first key is then limited');
is(tenant($tenants[1]), 429, 'limit: and so is the colliding one');

# replay: two deliveries under colliding ids are two deliveries

sub delivery {
    my ($id, $body) = @_;
    return { path => '/github', body => $body,
             headers => [['X-GitHub-Event', 'push'],
                         ['X-GitHub-Delivery', $id],
                         ['X-Hub-Signature-256',
                          github_header($secret, $body)]] };
}

my @body = ('{"delivery":"first"}', '{"delivery":"second"}');

$t->is_forwarded(delivery($ids[0], $body[0]), 'replay: the first id');
$t->is_forwarded(delivery($ids[1], $body[1]),
                 'replay: the colliding id is a delivery of its own');

for my $i (0, 1) {
    my $n = $t->upstream_count;
    my $r = $t->http(%{ delivery($ids[$i], $body[$i]) });
    is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
       "replay: id $i again is a duplicate");
    is($t->upstream_count, $n, "replay: id $i again is not forwarded");
}

$t->done_testing;
