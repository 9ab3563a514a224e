#!/usr/bin/perl

# A copied checkout builds its own sources: build.sh's configure stamp
# includes the checkout's path, so a copy of a built tree (build/
# included) configures again instead of reusing a Makefile that names
# the original checkout's files.

use strict;
use warnings;

use FindBin;
use File::Temp qw(tempdir);
use Test::More;

###############################################################################

my $root = "$FindBin::Bin/..";

plan(skip_all => 'needs a configured build/ (./build.sh first)')
    unless -f "$root/build/nginx-src/.webhook-configure";
plan(skip_all => 'builds against the system nginx only')
    if $ENV{NGINX_SRC};

my $dir = tempdir('webhook-moved-XXXXXX', TMPDIR => 1, CLEANUP => 1);

system("tar -C $root --exclude=./.git --exclude=node_modules "
       . "--exclude=./build/deb --exclude=./build/run -cf - . "
       . "| tar -C $dir -xf -") == 0 or die "copy failed";

my $out = `cd $dir && ./build.sh 2>&1`;
is($?, 0, 'the copy builds') or diag($out);
like($out, qr/configuring against/, 'the copy configures again');

my $makefile = do {
    local $/;
    open my $fh, '<', "$dir/build/nginx-src/objs/Makefile" or die $!;
    <$fh>;
};
like($makefile, qr{\Q$dir\E/src/ngx_http_webhook_handler\.c},
     "its Makefile compiles the copy's sources");
ok(-s "$dir/build/ngx_http_webhook_module.so", 'the copy has its module');

done_testing;
