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
    # Airtable's macSecretBase64
    'airtable.secret' => 'AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=',
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
    $snippet =~ s{/etc/nginx/webhook-allow/}{$dir/allow-}g;

    like($snippet, qr/^\s*webhook_allow_ip_file \Q$dir\E\/allow-\Q$name\E\.conf;/m,
         "conf-examples/providers/$name.conf has an allowlist");
    like($snippet, qr/^\s*webhook_limit\s+zone=webhooks;/m,
         "conf-examples/providers/$name.conf has a limit");
    like($snippet, qr/^\s*webhook_replay\s+zone=deliveries;/m,
         "conf-examples/providers/$name.conf has replay protection");

    $t->write_file("allow-$name.conf", "# ${name}'s ranges\n192.0.2.0/24\n");

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

    # what the snippets' header says to declare at http level
    webhook_limit_zone  zone=webhooks:10m key=\$binary_remote_addr rate=600r/m;
    webhook_replay_zone zone=deliveries:32m ttl=24h;

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

# the ERP ingress example, a whole nginx.conf with production paths, as
# the cluster example

my $erp = slurp("$root/conf-examples/erp-ingress.conf");

for my $d (qw(webhook_allow_ip webhook_limit webhook_replay
              webhook_verify)) {
    my @uses = $erp =~ /^\s*\Q$d\E(?:_file)?\s/mg;
    cmp_ok(scalar @uses, '>=', 3, "erp-ingress.conf: $d in each location");
}
like($erp, qr/^\s*map\s+"\$webhook_provider:\$webhook_event"/m,
     'erp-ingress.conf routes events with map');
like($erp, qr/log_format\s+webhook\b[^;]*\$webhook_reject_reason/s,
     'erp-ingress.conf logs $webhook_reject_reason');
like($erp, qr/^\s*set_real_ip_from\s/m, 'erp-ingress.conf uses realip');
like($erp, qr/^\s*proxy_set_header\s+X-Webhook-Verified\s+\$webhook_verified;/m,
     'erp-ingress.conf passes the verified variables');

mkdir "$dir/erp";
mkdir "$dir/erp/allow";
$t->write_file("erp/$_.secret", "example-$_", 0600) for qw(stripe github shopify);
$t->write_file("erp/allow/$_.conf", "192.0.2.0/24\n") for qw(stripe github);

$erp =~ s{^load_module \S+;}{load_module $module;}m;
$erp =~ s{/etc/nginx/secrets/}{$dir/erp/}g;
$erp =~ s{/etc/nginx/webhook-allow/}{$dir/erp/allow/}g;
$erp =~ s{/var/log/nginx/}{$dir/erp/}g;
$erp =~ s{/run/nginx\.pid}{$dir/erp/nginx.pid}g;
$erp =~ s/^http \{/http {$temps/m;

$t->write_file('erp/nginx.conf', $erp);

$out = `$nginx -p $dir/erp/ -c $dir/erp/nginx.conf -e $dir/erp/error.log -t 2>&1`;
is($?, 0, 'conf-examples/erp-ingress.conf passes nginx -t') or diag($out);

# every ```nginx block of README.md and docs/*.md passes nginx -t as
# written.  A block is a whole nginx.conf or a piece of one: it is placed
# where it can stand (main, http, server or location level; the first
# placement nginx accepts wins), inside a frame that only adds what a
# piece refers to and does not define (the upstreams it proxies to, the
# zones it names).  Paths under /etc/nginx, /etc/ssl and /var/log/nginx
# are moved into the test directory, with files where the piece reads one.

mkdir "$dir/docs";

# an nginx built with another --prefix (the ASan build) opens its
# compiled-in logs/access.log under -p: let that path exist
mkdir "$dir/docs/logs";

my $keyfile = "$dir/docs/snakeoil.key";
my $certfile = "$dir/docs/snakeoil.pem";
system("openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=docs "
       . "-keyout $keyfile -out $certfile >/dev/null 2>&1") == 0
    or die "openssl req failed";

sub doc_files {
    my ($conf) = @_;

    $conf =~ s{/etc/ssl/certs/ssl-cert-snakeoil\.pem}{$certfile}g;
    $conf =~ s{/etc/ssl/private/ssl-cert-snakeoil\.key}{$keyfile}g;
    $conf =~ s{/var/log/nginx/}{$dir/docs/}g;
    $conf =~ s{/run/nginx\.pid}{$dir/docs/nginx.pid}g;

    for my $path ($conf =~ m{(/etc/nginx/\S+?)[;\s]}g) {
        next if $path =~ /modules-enabled/;
        (my $local = $path) =~ s{^/etc/nginx/}{$dir/docs/etc/};
        my $content = $path =~ /ip|allow/ ? "192.0.2.0/24\n"
                    : $path =~ /\.pub$/
                      ? $secret{'discord.pub'} . "\n"
                    : "example-secret-for-docs\n";
        (my $d = $local) =~ s{/[^/]+$}{};
        system('mkdir', '-p', $d);
        unless (-e $local) {
            open my $fh, '>', $local or die "$local: $!";
            print $fh $content;
            close $fh;
            chmod 0600, $local;
        }
    }

    $conf =~ s{/etc/nginx/(?!modules-enabled)}{$dir/docs/etc/}g;
    $conf =~ s{^\s*load_module\s+\S+;\s*$}{}mg;

    return $conf;
}

# what a piece refers to without defining it

sub doc_frame {
    my ($conf) = @_;
    my $frame = '';

    for my $up ($conf =~ m{proxy_pass\s+http://([A-Za-z_][\w-]*)[/;]}g) {
        next if $conf =~ /upstream\s+\Q$up\E\s*\{/ || $frame =~ /upstream $up /;
        $frame .= "upstream $up { server 127.0.0.1:1; }\n";
    }

    for my $z ($conf =~ /webhook_limit\s+zone=(\w+)/g) {
        next if $conf =~ /webhook_limit_zone\s+zone=\Q$z\E:/
                || $frame =~ /zone=$z:/;
        $frame .= "webhook_limit_zone zone=$z:1m key=\$binary_remote_addr rate=10r/s;\n";
    }

    for my $z ($conf =~ /webhook_replay\s+zone=(\w+)/g) {
        next if $conf =~ /webhook_replay_zone\s+zone=\Q$z\E:/
                || $frame =~ /zone=$z:/;
        $frame .= "webhook_replay_zone zone=$z:1m;\n";
    }

    return $frame;
}

# the top-level statements of a piece: "location ... { ... }" blocks and
# everything else

sub doc_split {
    my ($conf) = @_;
    my ($outer, $locations, $depth, $cur) = ('', '', 0, '');

    for my $line (split /\n/, $conf) {
        if ($depth == 0 && $line =~ /^\s*location\b/) {
            $cur = 'loc';
        }

        if ($cur eq 'loc') {
            $locations .= "$line\n";
        } else {
            $outer .= "$line\n";
        }

        $depth += () = $line =~ /\{/g;
        $depth -= () = $line =~ /\}/g;
        $cur = '' if $depth == 0;
    }

    return ($outer, $locations);
}

my $globals = "pid $dir/docs/nginx.pid;\nerror_log $dir/docs/error.log;\n";
my $doc_temps = join '', map { "${_}_temp_path $dir/docs/$_;\n" }
                 qw(client_body proxy fastcgi uwsgi scgi);

sub doc_try {
    my ($name, $conf) = @_;

    $t->write_file("docs/$name.conf", "load_module $module;\n$conf");
    my $out = `$nginx -p $dir/docs/ -c $dir/docs/$name.conf -e $dir/docs/error.log -t 2>&1`;
    return ($? == 0, $out);
}

my @docs = ("$root/README.md", sort glob "$root/docs/*.md");
my $nblocks = 0;

for my $doc (@docs) {
    my ($short) = $doc =~ m{([^/]+/[^/]+)$};
    $short =~ s{^[^/]+/README}{README};
    my $n = 0;

    for my $block (slurp($doc) =~ /^```nginx\n(.*?)^```/msg) {
        $n++;
        $nblocks++;

        my $conf = doc_files($block);
        my $frame = doc_frame($conf);
        my (@tries, $ok, $out);

        if ($conf =~ /^\s*http\s*\{/m) {
            $conf = "events { }\n$conf" unless $conf =~ /^\s*events\s*\{/m;
            $conf =~ s/^(\s*http\s*\{)/$1\n$doc_temps$frame/m;
            @tries = ("$globals$conf");

        } else {
            my ($outer, $locations) = doc_split($conf);
            my $main = $conf =~ /^\s*(?:worker_|user\b|pid\b)/m;

            @tries = (
                # main level
                "$globals$conf\nevents { }\n",
                # http level, locations in a server
                "${globals}events { }\nhttp {\n$doc_temps$frame$outer\n"
                . "server {\nlisten 127.0.0.1:" . $t->port(8090) . ";\n"
                . "$locations}\n}\n",
                # server level
                "${globals}events { }\nhttp {\n$doc_temps$frame"
                . "server {\nlisten 127.0.0.1:" . $t->port(8090) . ";\n"
                . "$conf}\n}\n",
                # location level
                "${globals}events { }\nhttp {\n$doc_temps$frame"
                . "server {\nlisten 127.0.0.1:" . $t->port(8090) . ";\n"
                . "location /doc-example {\n$conf}\n}\n}\n",
            );
        }

        my @outs;
        for my $i (0 .. $#tries) {
            ($ok, $out) = doc_try("doc$nblocks-$i", $tries[$i]);
            push @outs, $out;
            last if $ok;
        }

        ok($ok, "$short, nginx example $n passes nginx -t")
            or diag(join "\n", $block, @outs);
    }
}

ok($nblocks >= 15, "nginx examples found in README.md and docs/ ($nblocks)");

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
