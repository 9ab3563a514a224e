#!/usr/bin/perl

# The Debian package, tried as an operator would: "./build.sh deb" builds
# libnginx-mod-http-webhook with debhelper and dh_nginx; it is installed
# with apt, the stock /etc/nginx/nginx.conf loads it through
# modules-enabled, "nginx -t" accepts a server that uses the module, and
# "apt-get purge" leaves nothing behind.  It changes the machine, so it
# runs only as root (as CI does) and only when the package is not
# installed already; a lock keeps two checkouts' runs apart.

use strict;
use warnings;

use FindBin;
use Fcntl qw(:flock);
use File::Temp qw(tempdir);
use Test::More;

###############################################################################

plan(skip_all => 'installs a package: runs as root (CI does)') if $> != 0;

my $root = "$FindBin::Bin/..";
my $pkg = 'libnginx-mod-http-webhook';
my $so = '/usr/lib/nginx/modules/ngx_http_webhook_module.so';
my $avail = '/usr/share/nginx/modules-available/mod-http-webhook.conf';
my $enabled = '/etc/nginx/modules-enabled/50-mod-http-webhook.conf';

open my $lock, '>', '/run/lock/libnginx-mod-http-webhook-test.lock'
    or die "lock: $!";
flock($lock, LOCK_EX) or die "flock: $!";

sub installed {
    my $s = `dpkg-query -W -f='\${Status}' $pkg 2>/dev/null`;
    return $s =~ /install ok installed/ ? 1 : 0;
}

sub apt {
    my $out = `DEBIAN_FRONTEND=noninteractive apt-get -y -o DPkg::Lock::Timeout=300 @_ 2>&1`;
    return ($? >> 8, $out);
}

plan(skip_all => "$pkg is installed on this machine; not touching it")
    if installed() || -e $so || -e $enabled;

my $out = `cd $root && ./build.sh deb 2>&1`;
is($?, 0, './build.sh deb builds the package') or diag($out);

my ($deb) = glob "$root/build/deb/${pkg}_*.deb";
ok($deb, 'the .deb is in build/deb/') or BAIL_OUT('no package');

# what dpkg-buildpackage put in it

my $depends = `dpkg-deb -f $deb Depends`;
my $abi = `grep -h '^nginx:abi=' /usr/share/nginx/src/debian/libnginx-mod.abisubstvars`;
$abi =~ s/^nginx:abi=//;
chomp $abi;
like($depends, qr/^\Q$abi\E(,|$)/,
     "depends on the ABI of the nginx it was built against ($abi)");
like($depends, qr/libjansson4/, 'shlibs: libjansson');
like($depends, qr/libhiredis/, 'shlibs: libhiredis');
like($depends, qr/libssl3/, 'shlibs: libssl');

my $contents = `dpkg-deb -c $deb`;
like($contents, qr{ \./usr/lib/nginx/modules/ngx_http_webhook_module\.so$}m,
     'the module in /usr/lib/nginx/modules');
like($contents,
     qr{ \./usr/share/nginx/modules-available/mod-http-webhook\.conf$}m,
     'the load snippet in /usr/share/nginx/modules-available');

# installed as a user would

my ($rc, $apt) = apt('install', $deb);
is($rc, 0, 'apt-get install ./libnginx-mod-http-webhook_*.deb') or diag($apt);
ok(installed(), 'installed');
ok(-f $so, 'module installed');
is(readlink($enabled), $avail, 'enabled through /etc/nginx/modules-enabled');
like(`cat $avail`, qr{^load_module modules/ngx_http_webhook_module\.so;$}m,
     'the snippet loads the module');

$out = `nginx -t 2>&1`;
is($?, 0, 'the stock nginx.conf loads the module') or diag($out);

# a server that uses the module; the module comes only from modules-enabled

my $dir = tempdir('webhook-package-XXXXXX', TMPDIR => 1, CLEANUP => 1);

open my $fh, '>', "$dir/github.secret" or die $!;
print $fh "package-test-secret\n";
close $fh;
chmod 0600, "$dir/github.secret";

open $fh, '>', "$dir/nginx.conf" or die $!;
print $fh <<"EOF";
include /etc/nginx/modules-enabled/*.conf;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { }
http {
    client_body_temp_path $dir/body;
    proxy_temp_path $dir/proxy;
    fastcgi_temp_path $dir/fastcgi;
    uwsgi_temp_path $dir/uwsgi;
    scgi_temp_path $dir/scgi;
    access_log off;
    webhook_limit_zone zone=per_ip:1m key=\$binary_remote_addr rate=60r/m;
    webhook_replay_zone zone=deliveries:1m ttl=10m;
    server {
        listen 127.0.0.1:8080;
        location /webhooks/github {
            webhook_verify github;
            webhook_secret file:$dir/github.secret;
            webhook_limit zone=per_ip;
            webhook_replay zone=deliveries;
            proxy_pass http://127.0.0.1:9090;
        }
        location = /webhook_status {
            webhook_status;
        }
    }
}
EOF
close $fh;

$out = `nginx -t -c $dir/nginx.conf -e $dir/error.log 2>&1`;
is($?, 0, 'nginx -t with a server that uses the module') or diag($out);

# removed cleanly

($rc, $apt) = apt('purge', $pkg);
is($rc, 0, 'apt-get purge') or diag($apt);
ok(!installed(), 'not installed');
ok(!-e $so, 'module gone');
ok(!-e $avail, 'snippet gone');
ok(!-l $enabled && !-l "$enabled.removed", 'modules-enabled link gone');
ok(!-e "/usr/share/doc/$pkg", 'documentation gone');

$out = `nginx -t 2>&1`;
is($?, 0, 'the stock nginx.conf still passes without it') or diag($out);

$out = `nginx -t -c $dir/nginx.conf -e $dir/error.log 2>&1`;
like($out, qr/unknown directive "webhook_limit_zone"/,
     'and the module is really gone');

done_testing;
