#!/usr/bin/perl

# Configuration errors of the allowlist, limit, replay and status
# directives: nginx -t fails and names the problem.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file('good.secret', 'a_good_secret_0123', 0600);

$t->write_file('allow.txt', <<'EOF');
# comment

10.0.0.0/8
2001:db8::/32
EOF

$t->write_file('badallow.txt', <<'EOF');
10.0.0.0/8
bogus-cidr
EOF

# every config is this one with the http-level and location-level
# directives replaced

my $template = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    %%HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /hook {
            %%LOCATION%%
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }
}

EOF

my $n = 0;

sub try {
    my ($http, $location) = @_;

    # file names that do not contain what the messages must name
    my $file = sprintf 'conf%02d.conf', ++$n;

    (my $conf = $template) =~ s/%%HTTP%%/$http/;
    $conf =~ s/%%LOCATION%%/$location/;
    $t->write_file_expand($file, $conf);

    return $t->try_config($file);
}

# fails($name, $http, $location, $re): nginx -t fails, its [emerg] line
# matches $re (2 tests)

sub fails {
    my ($name, $http, $location, $re) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my ($rc, $out) = try($http, $location);

    isnt($rc, 0, "$name: nginx -t fails") or diag($out);
    like($out, qr/\[emerg\].*$re/, "$name: named") or diag($out);
}

my $zones = 'webhook_limit_zone zone=lim:1m key=$remote_addr rate=10r/s;
    webhook_replay_zone zone=ids:1m;';

my ($rc, $out);

# the control: every directive, valid

($rc, $out) = try(<<'EOF', <<'EOF');
webhook_limit_zone zone=lim:1m key=$remote_addr rate=10r/s;
    webhook_limit_zone zone=min:64k key=$http_x_tenant rate=100r/m sync=off;
    webhook_limit_zone zone=hour:32k key="$remote_addr:$http_x_tenant" rate=5r/h;
    webhook_replay_zone zone=ids:1m;
    webhook_replay_zone zone=short:32k ttl=90s;
    webhook_allow_ip 127.0.0.1;
EOF
webhook_verify github;
            webhook_secret file:%%TESTDIR%%/good.secret;
            webhook_allow_ip 10.0.0.0/8;
            webhook_allow_ip 2001:db8::/32;
            webhook_allow_ip ::1;
            webhook_allow_ip all;
            webhook_allow_ip_file %%TESTDIR%%/allow.txt;
            webhook_limit zone=lim;
            webhook_limit zone=min dry_run;
            webhook_limit zone=hour;
            webhook_replay zone=ids;
EOF
is($rc, 0, 'valid config passes') or diag($out);

($rc, $out) = try($zones, <<'EOF');
webhook_limit zone=lim;
        }

        location = /status {
            webhook_status;
EOF
is($rc, 0, 'webhook_status passes') or diag($out);

# webhook_allow_ip

fails('/33', '', 'webhook_allow_ip 10.0.0.0/33;', qr/10\.0\.0\.0\/33/);
fails('nonsense', '', 'webhook_allow_ip nonsense;', qr/nonsense/);
fails('/129', '', 'webhook_allow_ip 2001:db8::/129;', qr/2001:db8::\/129/);
fails('bad IPv4', '', 'webhook_allow_ip 10.0.0.256;', qr/10\.0\.0\.256/);
fails('allow_ip without argument', '', 'webhook_allow_ip;',
    qr/webhook_allow_ip/);

# webhook_allow_ip_file

fails('missing allow file', '',
    'webhook_allow_ip_file %%TESTDIR%%/missing-allow.txt;',
    qr/missing-allow\.txt/);
fails('bad line in allow file', '',
    'webhook_allow_ip_file %%TESTDIR%%/badallow.txt;', qr/bogus-cidr/);

# webhook_limit_zone

fails('rate=abc', 'webhook_limit_zone zone=a:1m key=$remote_addr rate=abc;',
    '', qr/abc|rate/);
fails('rate=10r/d', 'webhook_limit_zone zone=a:1m key=$remote_addr rate=10r/d;',
    '', qr/10r\/d|rate/);
fails('limit zone without zone=',
    'webhook_limit_zone key=$remote_addr rate=10r/s;', '', qr/zone/);
fails('limit zone without key=',
    'webhook_limit_zone zone=a:1m rate=10r/s;', '', qr/key/);
fails('limit zone without rate=',
    'webhook_limit_zone zone=a:1m key=$remote_addr;', '', qr/rate/);
fails('limit zone without size',
    'webhook_limit_zone zone=a key=$remote_addr rate=10r/s;', '',
    qr/zone|size|"a"/);
fails('limit zone too small',
    'webhook_limit_zone zone=smallz:4k key=$remote_addr rate=10r/s;', '',
    qr/smallz|small/);
fails('limit zone foo=bar',
    'webhook_limit_zone zone=a:1m key=$remote_addr rate=10r/s foo=bar;', '',
    qr/invalid parameter/);
fails('limit zone sync=maybe',
    'webhook_limit_zone zone=a:1m key=$remote_addr rate=10r/s sync=maybe;', '',
    qr/sync|maybe/);
fails('limit zone declared twice',
    'webhook_limit_zone zone=twice:1m key=$remote_addr rate=10r/s;
    webhook_limit_zone zone=twice:1m key=$remote_addr rate=20r/s;', '',
    qr/twice/);
fails('limit zone in a location', '',
    'webhook_limit_zone zone=a:1m key=$remote_addr rate=10r/s;',
    qr/not allowed here/);

# webhook_limit

fails('unknown limit zone', $zones, 'webhook_limit zone=nosuch;',
    qr/nosuch/);
fails('limit without zone=', $zones, 'webhook_limit lim;',
    qr/lim|zone|invalid parameter/);
fails('limit foo', $zones, 'webhook_limit zone=lim bogus;',
    qr/bogus|invalid parameter/);
fails('limit on a replay zone', $zones, 'webhook_limit zone=ids;',
    qr/ids/);

# webhook_replay_zone

fails('replay zone without zone=', 'webhook_replay_zone ttl=10m;', '',
    qr/zone/);
fails('replay zone ttl=abc', 'webhook_replay_zone zone=r:1m ttl=abc;', '',
    qr/ttl|abc/);
fails('replay zone too small', 'webhook_replay_zone zone=smallr:4k;', '',
    qr/smallr|small/);
fails('replay zone foo=bar', 'webhook_replay_zone zone=r:1m foo=bar;', '',
    qr/invalid parameter/);
fails('replay zone in a location', '', 'webhook_replay_zone zone=r:1m;',
    qr/not allowed here/);
fails('replay and limit zone with one name',
    'webhook_replay_zone zone=same:1m;
    webhook_limit_zone zone=same:1m key=$remote_addr rate=10r/s;', '',
    qr/same/);

# webhook_replay

fails('unknown replay zone', $zones, 'webhook_replay zone=nosuch;',
    qr/nosuch/);
fails('replay on a limit zone', $zones, 'webhook_replay zone=lim;',
    qr/lim/);
fails('replay foo=bar', $zones, 'webhook_replay zone=ids foo=bar;',
    qr/foo|invalid parameter/);

# webhook_status

fails('status with an argument', '', 'webhook_status on;',
    qr/webhook_status/);

$t->done_testing;

###############################################################################
