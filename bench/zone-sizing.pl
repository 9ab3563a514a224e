#!/usr/bin/perl
#
# How many entries a zone of a given size holds, measured: fill a 1 MiB
# limit zone (and a sync=on one) with distinct IPv4-like keys, the same
# with 4-byte keys (as $binary_remote_addr), and a 1 MiB replay zone with
# distinct GitHub deliveries until the first eviction, and print the bytes
# per entry.  docs/status.md quotes the
# result.  The sync=on zone needs webhook_redis, not a running Redis: it
# counts node-locally meanwhile.
#
#   perl bench/zone-sizing.pl        (after ./build.sh)

use strict;
use warnings;

use FindBin;
use lib "$FindBin::RealBin/../t/lib";

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

my $t = Test::Webhook->new;
my $size = 1024 * 1024;
my $secret = 'sizing-secret';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    # nothing listens there: sync=on zones count node-locally
    webhook_redis redis://127.0.0.1:%%PORT_8081%%;

    # an hour-long window: entries outlive the measurement
    webhook_limit_zone zone=keys:1m key=$http_x_key rate=1000r/h;
    webhook_limit_zone zone=synced:1m key=$http_x_key rate=1000r/h sync=on;
    webhook_limit_zone zone=keys4:1m key=$http_x_key rate=1000r/h;
    webhook_limit_zone zone=synced4:1m key=$http_x_key rate=1000r/h sync=on;
    webhook_replay_zone zone=ids:1m ttl=1h;

    server {
        listen 127.0.0.1:%%PORT_8080%%;

        # proxied: "return" would answer before the preaccess phase
        location /limit {
            webhook_limit zone=keys;
            proxy_pass http://127.0.0.1:%%PORT_8080%%/ok;
        }

        location /synced {
            webhook_limit zone=synced;
            proxy_pass http://127.0.0.1:%%PORT_8080%%/ok;
        }

        location /limit4 {
            webhook_limit zone=keys4;
            proxy_pass http://127.0.0.1:%%PORT_8080%%/ok;
        }

        location /synced4 {
            webhook_limit zone=synced4;
            proxy_pass http://127.0.0.1:%%PORT_8080%%/ok;
        }

        location /replay {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            proxy_pass http://127.0.0.1:%%PORT_8080%%/ok;
        }

        location = /ok {
            return 204;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$t->run;

sub zone {
    my ($name) = @_;
    return $t->status_json->{zones}{$name};
}

sub fill {
    my ($name, $make) = @_;
    my $batch = 500;

    for (my $n = 0; $n < 100000; $n += $batch) {
        $t->http_batch([ map { $make->($n + $_) } 0 .. $batch - 1 ],
                       concurrency => 8);
        my $z = zone($name);
        return $z if $z->{evictions} > 0;
    }

    die "$name: no eviction after 100000 entries\n";
}

sub ip_keys {
    my ($path) = @_;
    return sub {
        my $i = shift;
        my $ip = join '.', 10, ($i >> 16) & 255, ($i >> 8) & 255, $i & 255;
        return { method => 'GET', path => $path, headers => [['X-Key', $ip]] };
    };
}

# four bytes, as $binary_remote_addr
sub short_keys {
    my ($path) = @_;
    return sub {
        my $i = shift;
        return { method => 'GET', path => $path,
                 headers => [['X-Key', sprintf '%04x', $i]] };
    };
}

my $limit = fill('keys', ip_keys('/limit'));
my $synced = fill('synced', ip_keys('/synced'));
my $limit4 = fill('keys4', short_keys('/limit4'));
my $synced4 = fill('synced4', short_keys('/synced4'));

my $replay = fill('ids', sub {
    my $i = shift;
    my $id = sprintf '%08x-cc78-11e3-81ab-4c9367dc%04x', $i, $i & 0xffff;
    my $body = qq({"n":$i});
    return { path => '/replay', body => $body, headers => [
        ['X-Hub-Signature-256', github_header($secret, $body)],
        ['X-GitHub-Delivery', $id],
    ] };
});

# A zone's entries scale with its size (the slab allocator's own pages
# take the same share): 64 MiB holds 64 times what 1 MiB holds.
printf "zone size %d bytes (entries when the first eviction happened)\n",
    $size;
printf "%-34s %8s %8s %12s\n", '', 'entries', 'bytes', 'in 64 MiB';
for ([ 'limit zone, 10.x.y.z keys', $limit ],
     [ 'the same, sync=on', $synced ],
     [ 'limit zone, 4-byte keys', $limit4 ],
     [ 'the same, sync=on', $synced4 ],
     [ 'replay zone, GitHub deliveries', $replay ])
{
    my ($name, $z) = @$_;
    printf "  %-32s %8d %8.0f %11s\n", $name, $z->{entries},
        $size / $z->{entries}, sprintf('~%d', 64 * $z->{entries});
}

$t->stop;
