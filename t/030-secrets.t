#!/usr/bin/perl

# webhook_secret: file:, env: and literal values; several secrets at once
# (rotation) and $webhook_secret_index; secrets and signatures never logged.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my %secret = (
    old     => 'rotation_old_secret_4f1c',
    new     => 'rotation_new_secret_9a2e',
    nl      => 'newline_secret_77d0',
    ro      => 'readonly_secret_0400_b3',
    env     => 'environment_secret_5e8a',
    literal => 'literal_secret_value_c6f2',
);

$t->write_file('old.secret', $secret{old}, 0600);
$t->write_file('new.secret', $secret{new}, 0600);
$t->write_file('nl.secret', "$secret{nl}\n", 0600);
$t->write_file('ro.secret', $secret{ro}, 0400);

$ENV{WEBHOOK_TEST_SECRET} = $secret{env};

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

env WEBHOOK_TEST_SECRET;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        %%WEBHOOK_PROXY_HEADERS%%

        location /rotate {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/old.secret;
            webhook_secret file:%%TESTDIR%%/new.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /newline {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/nl.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /readonly {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/ro.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /env {
            webhook_verify github;
            webhook_secret env:WEBHOOK_TEST_SECRET;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /literal {
            webhook_verify github;
            webhook_secret literal_secret_value_c6f2;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /mixed {
            webhook_verify github;
            webhook_secret env:WEBHOOK_TEST_SECRET;
            webhook_secret file:%%TESTDIR%%/ro.secret;
            webhook_secret file:%%TESTDIR%%/new.secret;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $seq = 0;

sub body {
    $seq++;
    return qq({"action":"opened","number":$seq});
}

sub req {
    my ($path, $secret, $body) = @_;
    return { path => $path, body => $body, headers => [
        ['X-GitHub-Delivery', "delivery-$seq"],
        ['X-GitHub-Event', 'pull_request'],
        ['X-Hub-Signature-256', github_header($secret, $body)],
    ] };
}

my ($body, $u);
my @sigs;

# rotation

$body = body();
$u = $t->is_forwarded(req('/rotate', $secret{new}, $body),
    'rotation: signed with the second secret');
is($t->vars($u)->{secret_index}, 2, 'rotation: $webhook_secret_index 2');

$body = body();
$u = $t->is_forwarded(req('/rotate', $secret{old}, $body),
    'rotation: signed with the first secret');
is($t->vars($u)->{secret_index}, 1, 'rotation: $webhook_secret_index 1');

$body = body();
push @sigs, github_header($secret{nl}, $body);
$t->is_rejected(req('/rotate', $secret{nl}, $body),
    401, 'signature_mismatch', 'rotation: signed with neither');

$body = body();
$u = $t->is_forwarded(req('/mixed', $secret{new}, $body),
    'env, file, file: signed with the third');
is($t->vars($u)->{secret_index}, 3, 'env, file, file: index 3');

$body = body();
$u = $t->is_forwarded(req('/mixed', $secret{env}, $body),
    'env, file, file: signed with the first');
is($t->vars($u)->{secret_index}, 1, 'env, file, file: index 1');

# file: one trailing newline stripped

$body = body();
$t->is_forwarded(req('/newline', $secret{nl}, $body),
    'file with a trailing newline');

$body = body();
push @sigs, github_header("$secret{nl}\n", $body);
$t->is_rejected(req('/newline', "$secret{nl}\n", $body),
    401, 'signature_mismatch', 'the newline is not part of the secret');

$body = body();
$t->is_forwarded(req('/readonly', $secret{ro}, $body), 'file of mode 0400');

# env:

$body = body();
$u = $t->is_forwarded(req('/env', $secret{env}, $body), 'env: secret');
is($t->vars($u)->{secret_index}, 1, 'env: index');

$body = body();
push @sigs, github_header('WEBHOOK_TEST_SECRET', $body);
$t->is_rejected(req('/env', 'WEBHOOK_TEST_SECRET', $body),
    401, 'signature_mismatch', 'env: the name is not the secret');

# literal

$body = body();
$t->is_forwarded(req('/literal', $secret{literal}, $body), 'literal secret');

my $log = $t->error_log;

ok((grep { /\[warn\]/ && /secret/i && /file/i } split /\n/, $log),
    'literal secret: config-time warning that secrets belong in files');

# rejections are logged, secrets and signatures never

like($log, qr/\[info\].*signature_mismatch/, 'rejection logged at info');

my @leaks = grep { index($log, $secret{$_}) >= 0 } sort keys %secret;
is("@leaks", '', 'no secret in the error log');

my @sig_leaks = grep { index($log, substr($_, 7)) >= 0 } @sigs;
is("@sig_leaks", '', 'no full signature in the error log');

$t->done_testing;

###############################################################################
