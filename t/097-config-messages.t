#!/usr/bin/perl

# nginx -t messages an operator can act on: an undeclared zone names the
# file and line that use it, an unknown preset lists the valid ones.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

$t->write_file('gh.secret', 'config-messages-secret', 0600);

sub check {
    my ($name, $location) = @_;

    $t->write_file_expand("$name.conf", <<"EOF");
%%TEST_GLOBALS%%
events { }
http {
    %%TEST_GLOBALS_HTTP%%
    server {
        listen 127.0.0.1:%%PORT_8080%%;
        location /hook {
            webhook_secret file:%%TESTDIR%%/gh.secret;
$location
            proxy_pass http://127.0.0.1:%%PORT_8081%%;
        }
    }
}
EOF

    my ($directive) = $location =~ /(\w+ [^;\n]*;)\s*$/;
    my @lines = split /\n/, $t->read_file("$name.conf");
    my ($line) = grep { $lines[$_ - 1] =~ /\Q$directive\E/ } 1 .. @lines;

    return ($t->try_config("$name.conf"), $line);
}

my $dir = $t->testdir;

my ($rc, $out, $line) = check('limit', '            webhook_limit zone=nosuch;');
isnt($rc, 0, 'undeclared limit zone: refused');
like($out, qr/unknown webhook_limit_zone "nosuch" in \Q$dir\E\/limit\.conf:$line\b/,
     'names the zone, the file and the line') or diag($out);

($rc, $out, $line) = check('replay', "            webhook_verify github;\n"
                              . '            webhook_replay zone=gone;');
isnt($rc, 0, 'undeclared replay zone: refused');
like($out, qr/unknown webhook_replay_zone "gone" in \Q$dir\E\/replay\.conf:$line\b/,
     'names the zone, the file and the line') or diag($out);

($rc, $out, $line) = check('preset', '            webhook_verify githib;');
isnt($rc, 0, 'unknown preset: refused');
like($out, qr/unknown webhook_verify preset "githib"; valid: .*\bgithub\b/,
     'lists the valid presets') or diag($out);
like($out, qr/valid: [a-z, ]*\bstripe\b[a-z, ]*\bcustom\b[a-z, ]*, or off/,
     'all of them, custom and off included') or diag($out);
like($out, qr/in \Q$dir\E\/preset\.conf:$line\b/, 'and where') or diag($out);

$t->done_testing;
