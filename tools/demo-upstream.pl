#!/usr/bin/perl
#
# The demo "ERP" for ./build.sh run: answers 200 to every request and
# prints what it received (request line, the X-Webhook-* headers nginx
# added, and the body).  Perl core only.

use strict;
use warnings;

use IO::Socket::INET;

my $listen = shift // '127.0.0.1:9090';
my $server = IO::Socket::INET->new(LocalAddr => $listen, Listen => 16,
                                   ReuseAddr => 1)
    or die "demo upstream: cannot listen on $listen: $!\n";

$| = 1;
$SIG{TERM} = $SIG{INT} = sub { exit 0 };

while (my $c = $server->accept) {
    local $/ = "\r\n";
    my $line = <$c> // next;
    $line =~ s/\r\n$//;
    my (%h, @shown);

    while (my $hl = <$c>) {
        last if $hl eq "\r\n";
        $hl =~ s/\r\n$//;
        my ($k, $v) = split /:\s*/, $hl, 2;
        $h{lc $k} = $v;
        push @shown, $hl if $k =~ /^x-webhook-/i;
    }

    my $body = '';
    read($c, $body, $h{'content-length'}) if $h{'content-length'};

    print "\n[erp] $line\n";
    print "[erp] $_\n" for @shown;
    print "[erp] body (", length $body, " bytes): $body\n";

    my $reply = qq({"erp":"accepted"}\n);
    print $c "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
           . "Content-Length: " . length($reply) . "\r\n"
           . "Connection: close\r\n\r\n$reply";
    close $c;
}
