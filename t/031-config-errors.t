#!/usr/bin/perl

# Configuration errors: nginx -t fails and names the problem.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file('good.secret', 'a_good_secret_0123', 0600);
$t->write_file('world.secret', 'a_readable_secret_0123', 0644);
$t->write_file('group.secret', 'a_group_secret_0123', 0640);

# every config is this one with the location's directives replaced

my $template = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

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

my $all = '';
my $n = 0;

sub try {
    my ($name, $location) = @_;

    # file names that do not contain what the messages must name
    my $file = sprintf 'conf%02d.conf', ++$n;

    (my $conf = $template) =~ s/%%LOCATION%%/$location/;
    $t->write_file_expand($file, $conf);

    my ($rc, $out) = $t->try_config($file);
    $all .= $out;

    return ($rc, $out);
}

my ($rc, $out);

# the control: the same config with a valid location passes

($rc, $out) = try('good', <<'EOF');
webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/good.secret;
            webhook_mode monitor;
            webhook_timestamp_tolerance 30s;
EOF
is($rc, 0, 'valid config passes') or diag($out);

($rc, $out) = try('nosuch', <<'EOF');
webhook_verify nosuch;
            webhook_secret file:%%TESTDIR%%/good.secret;
EOF
isnt($rc, 0, 'unknown preset: nginx -t fails');
like($out, qr/\[emerg\].*nosuch/, 'unknown preset: named');

($rc, $out) = try('missing', <<'EOF');
webhook_verify github;
            webhook_secret file:%%TESTDIR%%/missing.secret;
EOF
isnt($rc, 0, 'missing secret file: nginx -t fails');
like($out, qr/\[emerg\].*missing\.secret/, 'missing secret file: named');

($rc, $out) = try('world', <<'EOF');
webhook_verify github;
            webhook_secret file:%%TESTDIR%%/world.secret;
EOF
isnt($rc, 0, 'secret file readable by others: nginx -t fails');
like($out, qr/\[emerg\].*world\.secret/, 'secret file 0644: named');

($rc, $out) = try('group', <<'EOF');
webhook_verify github;
            webhook_secret file:%%TESTDIR%%/group.secret;
EOF
isnt($rc, 0, 'secret file readable by group: nginx -t fails');
like($out, qr/\[emerg\].*group\.secret/, 'secret file 0640: named');

($rc, $out) = try('nosecret', <<'EOF');
webhook_verify stripe;
EOF
isnt($rc, 0, 'no webhook_secret: nginx -t fails');
like($out, qr/\[emerg\].*webhook_secret/, 'no webhook_secret: named');

($rc, $out) = try('mode', <<'EOF');
webhook_verify github;
            webhook_secret file:%%TESTDIR%%/good.secret;
            webhook_mode bogus;
EOF
isnt($rc, 0, 'webhook_mode bogus: nginx -t fails');
like($out, qr/\[emerg\].*(?:bogus|webhook_mode)/, 'webhook_mode bogus: named');

($rc, $out) = try('tolerance', <<'EOF');
webhook_verify github;
            webhook_secret file:%%TESTDIR%%/good.secret;
            webhook_timestamp_tolerance abc;
EOF
isnt($rc, 0, 'webhook_timestamp_tolerance abc: nginx -t fails');
like($out, qr/\[emerg\].*(?:"abc"|webhook_timestamp_tolerance)/,
    'webhook_timestamp_tolerance abc: named');

# none of this may crash nginx -t

unlike($all . $t->read_file('try_config.log'),
    qr/exited on signal|Sanitizer|runtime error:|\[alert\]/,
    'no crash or alert in nginx -t');

$t->done_testing;

###############################################################################
