#!/usr/bin/perl

# Documentation stays true: every directive in the module's command table
# has a section with a Syntax line in docs/directives.md, every embedded
# variable is documented, the README shows the two commands, and every
# file in conf-examples/ passes "nginx -t" with the built module (the
# cluster example without any Redis running: none is needed to load).

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $root = "$FindBin::Bin/..";

sub slurp {
    my ($path) = @_;
    open my $fh, '<', $path or die "$path: $!";
    local $/;
    return scalar <$fh>;
}

my $docs = slurp("$root/docs/directives.md");
my $readme = slurp("$root/README.md");
my $src = join '', map { slurp($_) } glob "$root/src/ngx_http_webhook_*.c";

# variables are declared as { ngx_string("webhook_x"), NULL, handler, ... }
my @variables = $src =~ /\{ ngx_string\("(webhook_[a-z0-9_]+)"\), NULL,/g;
my %directives = map { $_ => 1 }
    $src =~ /\{ ngx_string\("(webhook_[a-z0-9_]+)"\),\s*$/mg;

ok(keys %directives >= 6, 'directives found in the command table');

my ($toc) = $docs =~ /^- \[Directives\]\(#directives\)\n((?:  - .*\n)+)/m;
ok($toc, 'docs/directives.md has a table of contents');

for my $d (sort keys %directives) {
    like($toc // '', qr/^  - \[\Q$d\E\]\(#\Q$d\E\)$/m,
         "directive $d is in the table of contents");
    like($docs, qr/^### \Q$d\E$/m, "directive $d has a section");
    like($docs, qr/Syntax:\s*\|\s*`\Q$d\E[ ;]/,
         "directive $d has a Syntax line");
}

ok(@variables >= 7, 'variables found in the variable table');

for my $v (@variables) {
    like($docs, qr/`\$\Q$v\E`/, "variable \$$v is documented");
}

like($readme, qr/\.\/build\.sh run/, 'README shows ./build.sh run');
like($readme, qr/\.\/build\.sh test/, 'README shows ./build.sh test');

# provider snippets: each must load with the module and its secrets

my $t = Test::Webhook->new;
my $dir = $t->testdir;

# key material a preset needs in a particular form, by file name
my %secret = (
    'standard.secret' => 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    # the RFC 8032 test 1 public key, as Discord's portal shows one
    'discord.pub' =>
        'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a',
    # a P-256 public key, base64 DER, as SendGrid's console shows one
    'sendgrid.pub' =>
        'MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEXFISr5c2Kx23v7p2Cs3/MULl'
      . 'Bhst99l+8qIcJI+bj9X4kREYvV2I5+zypeh/Li/2Ut0Fa1qiB27m3Z/0BM7spg==',
    # Adyen's HMAC key is hex
    'adyen.secret' =>
        '44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056',
);

# RSA presets pin a certificate: one made here, so none can expire
system("openssl req -x509 -newkey rsa:2048 -nodes -keyout $dir/cert.key "
       . "-out $dir/cert.pem -days 2 -subj /CN=webhook.test "
       . ">/dev/null 2>&1") == 0
    or die "openssl could not make a test certificate\n";
$secret{'paypal-cert.pem'} = $t->read_file('cert.pem');
$secret{'sns-eu-west-1.pem'} = $t->read_file('cert.pem');
$secret{'braintree.secret'} = 'erp0public0key:erp0private0key0000000000';

my @examples = sort glob "$root/conf-examples/providers/*.conf";
ok(@examples >= 23, 'provider examples exist');

# every preset has one

my ($table) = $src =~ /ngx_http_webhook_presets\[\] = \{(.*?)\n\};/s;
my @presets = grep { $_ ne 'custom' } $table =~ /ngx_string\("([a-z]+)"\)/g;
ok(@presets >= 22, 'presets found in the preset table');

my $providers = slurp("$root/docs/providers.md");

for my $preset (@presets) {
    ok(-f "$root/conf-examples/providers/$preset.conf",
       "conf-examples/providers/$preset.conf exists");
    like($providers, qr/^## .*`\Q$preset\E`/m,
         "docs/providers.md has a section for $preset");
    like($readme, qr/`\Q$preset\E`/, "README names the preset $preset");
}

for my $example (@examples) {
    my ($name) = $example =~ m{([^/]+)\.conf$};
    my $snippet = slurp($example);
    $snippet =~ s{/etc/nginx/secrets/}{$dir/}g;

    for my $file ($snippet =~ m{file:\Q$dir\E/([^\s;]+)}g) {
        $t->write_file($file, $secret{$file} // "example-secret-$name",
                       0600);
    }

    $t->write_file("$name.snippet", $snippet);
    $t->write_file_expand("$name.conf", <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    upstream erp {
        server 127.0.0.1:%%PORT_8081%%;
    }

    server {
        listen 127.0.0.1:%%PORT_8080%%;
        include $dir/$name.snippet;
    }
}

EOF

    my ($rc, $out) = $t->try_config("$name.conf");
    is($rc, 0, "conf-examples/providers/$name.conf passes nginx -t")
        or diag($out);
}

# the quickstart, laid out as ./build.sh run lays it out

my $module = $ENV{TEST_WEBHOOK_MODULE}
    // "$root/build/ngx_http_webhook_module.so";

mkdir "$dir/quick";
mkdir "$dir/quick/$_" for qw(modules logs temp);
symlink $module, "$dir/quick/modules/ngx_http_webhook_module.so"
    or die "symlink: $!";
$t->write_file('quick/github.secret', "demo-secret\n", 0600);
$t->write_file('quick/nginx.conf', slurp("$root/conf-examples/quickstart.conf"));

my $nginx = $t->binary;
my $out = `$nginx -p $dir/quick/ -c $dir/quick/nginx.conf -e $dir/quick/logs/error.log -t 2>&1`;
is($?, 0, 'conf-examples/quickstart.conf passes nginx -t') or diag($out);

# the cluster example, a whole nginx.conf with production paths: those
# moved into the test directory, the listen port to a free one

my $cluster = slurp("$root/conf-examples/cluster.conf");

like($cluster, qr/^\s*webhook_redis\s/m, 'cluster.conf has webhook_redis');
like($cluster, qr/sync=on/, 'cluster.conf syncs limits');
like($cluster, qr/redis=on/, 'cluster.conf shares replay records');

mkdir "$dir/cluster";
$t->write_file("cluster/$_", "example-$_", 0600)
    for qw(redis.pass stripe.secret github.secret);

$cluster =~ s{^load_module \S+;}{load_module $module;}m;
$cluster =~ s{/etc/nginx/secrets/}{$dir/cluster/}g;
$cluster =~ s{/var/log/nginx/}{$dir/cluster/}g;
$cluster =~ s{/run/nginx\.pid}{$dir/cluster/nginx.pid}g;
$cluster =~ s{^(\s*)listen\s+8080;}{$1listen 127.0.0.1:${\ $t->port(8082)};}m;

# Debian's nginx has its temp paths compiled in under /var/lib/nginx
my $temps = join '', map { "\n    ${_}_temp_path $dir/cluster/$_;" }
                   qw(client_body proxy fastcgi uwsgi scgi);
$cluster =~ s/^http \{/http {$temps/m;

$t->write_file('cluster/nginx.conf', $cluster);

$out = `$nginx -p $dir/cluster/ -c $dir/cluster/nginx.conf -e $dir/cluster/error.log -t 2>&1`;
is($?, 0, 'conf-examples/cluster.conf passes nginx -t') or diag($out);

# and the cluster documentation is linked

my $cluster_md = slurp("$root/docs/cluster.md");
like($cluster_md, qr/conf-examples\/cluster\.conf/,
    'docs/cluster.md points to the example');
like(slurp("$root/docs/directives.md"), qr/\(cluster\.md\)/,
    'docs/directives.md points to docs/cluster.md');

# the queue example, the same way

my $queue = slurp("$root/conf-examples/queue.conf");

like($queue, qr/^\s*webhook_enqueue\s/m, 'queue.conf has webhook_enqueue');

mkdir "$dir/queue";
$t->write_file("queue/$_", "example-$_", 0600)
    for qw(redis.pass stripe.secret shopify.secret github.secret);

$queue =~ s{^load_module \S+;}{load_module $module;}m;
$queue =~ s{/etc/nginx/secrets/}{$dir/queue/}g;
$queue =~ s{/var/log/nginx/}{$dir/queue/}g;
$queue =~ s{/run/nginx\.pid}{$dir/queue/nginx.pid}g;
$queue =~ s{^(\s*)listen\s+8080;}{$1listen 127.0.0.1:${\ $t->port(8083)};}m;
$queue =~ s/^http \{/http {$temps/m;

$t->write_file('queue/nginx.conf', $queue);

$out = `$nginx -p $dir/queue/ -c $dir/queue/nginx.conf -e $dir/queue/error.log -t 2>&1`;
is($?, 0, 'conf-examples/queue.conf passes nginx -t') or diag($out);

like(slurp("$root/docs/queue.md"), qr/conf-examples\/queue\.conf/,
    'docs/queue.md points to the example');

# every relative link of README.md and docs/*.md names a file that exists
# and, with "#anchor", a heading or <a id> of that file

sub anchors {
    my ($text) = @_;
    my %a = map { $_ => 1 } $text =~ /<a (?:id|name)="([^"]+)">/g;

    for my $h ($text =~ /^#+ +(.+?) *$/mg) {
        (my $slug = lc $h) =~ s/[^a-z0-9 _-]//g;
        $slug =~ tr/ /-/;
        $a{$slug} = 1;
    }

    return \%a;
}

for my $file ('README.md', map { "docs/$_" } map { s{.*/}{}r }
              glob("$root/docs/*.md"))
{
    my $text = slurp("$root/$file");
    (my $base = $file) =~ s{[^/]*$}{};

    # code spans and blocks are not links
    $text =~ s/```.*?```//gs;

    while ($text =~ /\]\(([^)\s]+)\)/g) {
        my $link = $1;
        next if $link =~ m{^[a-z]+:};

        my ($path, $anchor) = $link =~ /^([^#]*)(?:#(.*))?$/;
        my $target = $path eq '' ? $file : "$base$path";

        if (!ok(-e "$root/$target", "$file: $link: the file exists")) {
            next;
        }

        next unless defined $anchor && $target =~ /\.md$/;

        ok(anchors(slurp("$root/$target"))->{$anchor},
           "$file: $link: the anchor exists");
    }
}

$t->done_testing;

###############################################################################
