#!/usr/bin/perl

# webhook_allow_ip and webhook_allow_ip_file: IPv4, IPv6 and IPv4-mapped
# clients, inheritance, realip deciding $remote_addr, the 403 sent before
# the body is read, the file re-read on reload, monitor mode, and the
# allowlist in front of the signature check.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_allowlist_secret_7f3e21';

$t->write_file('github.secret', $secret, 0600);

$t->write_file('allow.txt', <<'EOF');
# partners' egress ranges

10.0.0.0/8
2001:db8::/32

# end
EOF

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    proxy_set_header X-Remote-Addr $remote_addr;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        listen       [::1]:%%PORT_8080%%;
        listen       127.0.0.1:%%PORT_8084%% http2;
        server_name  localhost;

        location /v4 {
            webhook_allow_ip 127.0.0.1;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /v4net {
            webhook_allow_ip 127.0.0.0/8;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /others {
            webhook_allow_ip 10.0.0.0/8;
            webhook_allow_ip 192.168.0.0/16;
            webhook_allow_ip 2001:db8::/32;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /v6 {
            webhook_allow_ip ::1;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /v6net {
            webhook_allow_ip 10.0.0.0/8;
            webhook_allow_ip ::/127;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /all {
            webhook_allow_ip all;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /file {
            webhook_allow_ip_file %%TESTDIR%%/allow.txt;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github {
            webhook_allow_ip 127.0.0.1/32;
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github-closed {
            webhook_allow_ip 192.0.2.0/24;
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /monitor {
            webhook_allow_ip 192.0.2.0/24;
            webhook_mode monitor;
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }

    # inheritance: the server level's list applies to a location without
    # its own; a location with its own list replaces it

    server {
        listen       127.0.0.1:%%PORT_8081%%;
        server_name  localhost;

        webhook_allow_ip 192.0.2.0/24;

        location /inherit {
            proxy_pass http://%%UPSTREAM%%;
        }

        location /override {
            webhook_allow_ip 127.0.0.0/8;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /open {
            webhook_allow_ip all;
            proxy_pass http://%%UPSTREAM%%;
        }
    }

    # realip at the server level: $remote_addr is X-Forwarded-For's

    server {
        listen       127.0.0.1:%%PORT_8082%%;
        server_name  localhost;

        set_real_ip_from  127.0.0.1;
        real_ip_header    X-Forwarded-For;

        location /partner {
            webhook_allow_ip 203.0.113.0/24;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /elsewhere {
            webhook_allow_ip 198.51.100.0/24;
            proxy_pass http://%%UPSTREAM%%;
        }
    }

    # a dual-stack socket: an IPv4 client is ::ffff:127.0.0.1, and the
    # IPv4 rules apply to it (as in nginx's access module)

    server {
        listen       [::]:%%PORT_8083%% ipv6only=off;
        server_name  localhost;

        location /v4 {
            webhook_allow_ip 127.0.0.1/32;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /others {
            webhook_allow_ip 10.0.0.0/8;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $p8081 = $t->port(8081);
my $p8082 = $t->port(8082);
my $p8083 = $t->port(8083);

my $seq = 0;

sub req {
    my ($path, %extra) = @_;
    $seq++;
    return { path => $path, body => qq({"n":$seq}),
             headers => [['Content-Type', 'application/json'],
                         @{ delete $extra{headers} || [] }],
             %extra };
}

sub gh {
    my ($path, %extra) = @_;
    $seq++;
    my $body = qq({"zen":"allowlist $seq"});
    return { path => $path, body => $body, headers => [
        ['X-GitHub-Delivery', "allow-$seq"],
        ['X-GitHub-Event', 'ping'],
        ['X-Hub-Signature-256', github_header($extra{secret} // $secret,
                                              $extra{signed} // $body)],
    ] };
}

my ($u, $r, $c);

# IPv4

$u = $t->is_forwarded(req('/v4'), 'v4: 127.0.0.1 listed');
is($u->{headers}{'x-remote-addr'}, '127.0.0.1', 'v4: $remote_addr');

$t->is_forwarded(req('/v4net'), 'v4net: 127.0.0.0/8 listed');

$t->is_rejected(req('/others'), 403, 'ip_not_allowed', 'v4: not listed');

$t->is_rejected(req('/v6'), 403, 'ip_not_allowed',
    'v4 client, only ::1 listed');

$t->is_forwarded(req('/all'), 'all');

# IPv6

$u = $t->is_forwarded(req('/v6', addr => '::1'), 'v6: ::1 listed');
is($u->{headers}{'x-remote-addr'}, '::1', 'v6: $remote_addr');

$t->is_forwarded(req('/v6net', addr => '::1'), 'v6: ::/127 listed');

$t->is_rejected(req('/others', addr => '::1'), 403, 'ip_not_allowed',
    'v6: ::1 not in 2001:db8::/32');

$t->is_rejected(req('/v4', addr => '::1'), 403, 'ip_not_allowed',
    'v6 client, only 127.0.0.1 listed');

$t->is_forwarded(req('/all', addr => '::1'), 'v6: all');

# IPv4-mapped

$u = $t->is_forwarded(req('/v4', port => $p8083),
    'mapped: ::ffff:127.0.0.1 matches 127.0.0.1/32');
is($u->{headers}{'x-remote-addr'}, '::ffff:127.0.0.1',
    'mapped: $remote_addr is the mapped address');

$t->is_rejected(req('/others', port => $p8083), 403, 'ip_not_allowed',
    'mapped: not listed');

# inheritance

$t->is_rejected(req('/inherit', port => $p8081), 403, 'ip_not_allowed',
    'server-level list inherited');
$t->is_forwarded(req('/override', port => $p8081),
    'location list replaces the server-level one');
$t->is_forwarded(req('/open', port => $p8081), 'location "all"');

# realip decides

$u = $t->is_forwarded(req('/partner', port => $p8082,
    headers => [['X-Forwarded-For', '203.0.113.7']]),
    'realip: 203.0.113.7 listed');
is($u->{headers}{'x-remote-addr'}, '203.0.113.7', 'realip: $remote_addr');

$t->is_rejected(req('/elsewhere', port => $p8082,
    headers => [['X-Forwarded-For', '203.0.113.7']]),
    403, 'ip_not_allowed', 'realip: 203.0.113.7 not listed');

$t->is_rejected(req('/partner', port => $p8082), 403, 'ip_not_allowed',
    'realip: no X-Forwarded-For, 127.0.0.1 not listed');

# the 403 comes before the body: headers only, a body of 1 MB announced

$c = $t->http_open(path => '/others', head_only => 1,
    headers => [['Content-Length', 1000000]]);
$r = $t->http_read($c, timeout => 10);
$t->http_close($c);
is($t->reject_summary($r), $t->reject_expected(403, 'ip_not_allowed'),
    'no body sent: 403 all the same');
cmp_ok($r->{elapsed}, '<', 5, 'no body sent: 403 without waiting for it')
    or diag("took $r->{elapsed} s");

# HTTP/2 gets the same (a GET: curl may report a stream error when nginx
# answers early while it still sends a body)

$r = $t->h2(method => 'GET', path => '/others', port => $t->port(8084),
            timeout => 5);
is($t->reject_summary($r), $t->reject_expected(403, 'ip_not_allowed'),
    'h2: not listed');

# the allowlist is checked before the signature

$t->is_forwarded(gh('/github'), 'github: listed, valid');
$t->is_rejected(gh('/github', secret => 'wrong'), 401, 'signature_mismatch',
    'github: listed, bad signature');
$t->is_rejected(gh('/github-closed'), 403, 'ip_not_allowed',
    'github: valid signature, not listed');
$t->is_rejected(gh('/github-closed', secret => 'wrong'), 403,
    'ip_not_allowed', 'github: bad signature, not listed: the address first');

# monitor: the request goes on, the reason is told

$u = $t->is_forwarded(gh('/monitor'), 'monitor: not listed');
is_deeply([@{ $t->vars($u) }{qw(verified reason)}], [1, 'ip_not_allowed'],
    'monitor: verified, would-be reason ip_not_allowed');

# the file: comments and blank lines, re-read on reload

$t->is_rejected(req('/file'), 403, 'ip_not_allowed',
    'file: 127.0.0.1 not listed');
$t->is_rejected(req('/file', addr => '::1'), 403, 'ip_not_allowed',
    'file: ::1 not listed');

$t->write_file('allow.txt', <<'EOF');
# partners' egress ranges, and the local relay

10.0.0.0/8
127.0.0.0/8
2001:db8::/32
::1/128
EOF

ok($t->reload, 'reload');

$t->is_forwarded(req('/file'), 'file after reload: 127.0.0.1 listed');
$t->is_forwarded(req('/file', addr => '::1'),
    'file after reload: ::1 listed');
$t->is_rejected(req('/others'), 403, 'ip_not_allowed',
    'after reload: others still refused');

$t->done_testing;

###############################################################################
