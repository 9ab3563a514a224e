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

# bounded work: at most 8 secrets and 8 public keys in a location

my $secrets = join "\n",
    map { "            webhook_secret file:%%TESTDIR%%/good.secret;" } 1 .. 8;

($rc, $out) = try('secrets8', "webhook_verify github;\n$secrets\n");
is($rc, 0, '8 webhook_secret lines pass') or diag($out);

($rc, $out) = try('secrets9', "webhook_verify github;\n$secrets\n"
    . "            webhook_secret file:%%TESTDIR%%/good.secret;\n");
isnt($rc, 0, '9 webhook_secret lines: nginx -t fails');
like($out, qr/\[emerg\].*"webhook_secret" directive is given more than 8 times/,
    '9 webhook_secret lines: named');

my $key = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
($rc, $out) = try('keys9', "webhook_verify discord;\n"
    . join('', map { "            webhook_public_key $key;\n" } 1 .. 9));
isnt($rc, 0, '9 webhook_public_key lines: nginx -t fails');
like($out,
    qr/\[emerg\].*"webhook_public_key" directive is given more than 8 times/,
    '9 webhook_public_key lines: named');

# a custom scheme's timestamp must be signed, or the tolerance checks a
# value anybody may change

my @unsigned = (
    ['a timestamp outside the default {body}', '',
     'webhook_timestamp $http_x_ts;'],
    ['a timestamp that is not in the template',
     'webhook_signed_payload "$http_x_other.{body}";',
     'webhook_timestamp $http_x_ts;'],
    ['one of two timestamp variables not in the template',
     'webhook_signed_payload "$http_x_ts.{body}";',
     'webhook_timestamp "$http_x_ts$http_x_ms";'],
    ['a constant timestamp',
     'webhook_signed_payload "$http_x_ts.{body}";',
     'webhook_timestamp 1700000000;'],
);

for my $u (@unsigned) {
    my ($name, $payload, $ts) = @$u;
    ($rc, $out) = try('unsigned', "webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/good.secret;
            webhook_signature_header X-Sig;
            $payload
            $ts
");
    isnt($rc, 0, "custom, $name: nginx -t fails");
    my $re = '\[emerg\].*"webhook_timestamp [^"]*" of "webhook_verify '
           . 'custom" in \S+:\d+ is not part of "webhook_signed_payload"';
    like($out, qr/$re/, "custom, $name: named");
}

($rc, $out) = try('signed', 'webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/good.secret;
            webhook_signature_header X-Sig;
            webhook_signed_payload "v0:${http_x_ts}:$http_x_ms:{body}";
            webhook_timestamp "$http_x_ts$http_x_ms";
');
is($rc, 0, 'custom, every timestamp variable in the template: passes')
    or diag($out);

# none of this may crash nginx -t

unlike($all . $t->read_file('try_config.log'),
    qr/exited on signal|Sanitizer|runtime error:|\[alert\]/,
    'no crash or alert in nginx -t');

$t->done_testing;

###############################################################################
