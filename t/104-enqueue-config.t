#!/usr/bin/perl

# webhook_enqueue and webhook_enqueue_header at configuration time: what
# nginx -t accepts, and what it refuses with which message.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;

###############################################################################

my $t = Test::Webhook->new;

my $template = <<'EOF';

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    HTTP_LINES

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /hook {
            LOCATION_LINES
        }
    }
}

EOF

my $n = 0;

sub try {
    my ($http, $location) = @_;

    my $conf = $template;
    $conf =~ s/HTTP_LINES/$http/;
    $conf =~ s/LOCATION_LINES/$location/;

    my $file = sprintf 'conf%02d.conf', ++$n;
    $t->write_file_expand($file, $conf);

    return $t->try_config($file);
}

my $redis = 'webhook_redis redis://127.0.0.1:6379;';

for my $ok (
    'webhook_enqueue stream=erp:events;',
    'webhook_enqueue stream=erp:$webhook_provider maxlen=1000 '
        . 'wait_replicas=1;',
    'webhook_enqueue "stream={erp}:github"; webhook_enqueue_header X-A;'
        . ' webhook_enqueue_header X-B;',
) {
    my ($rc, $out) = try($redis, $ok);
    is($rc, 0, "accepted: $ok") or diag($out);
}

for my $bad (
    [ '', 'webhook_enqueue stream=a;',
      qr/"webhook_enqueue" in \S+ needs "webhook_redis"/ ],
    [ $redis, 'webhook_enqueue maxlen=5;',
      qr/"webhook_enqueue" needs stream=/ ],
    [ $redis, 'webhook_enqueue stream=;', qr/empty stream name/ ],
    [ $redis, 'webhook_enqueue stream=a maxlen=0;',
      qr/invalid maxlen "maxlen=0"/ ],
    [ $redis, 'webhook_enqueue stream=a wait_replicas=x;',
      qr/invalid wait_replicas "wait_replicas=x"/ ],
    [ $redis, 'webhook_enqueue stream=a foo=1;',
      qr/invalid parameter "foo=1"/ ],
    [ $redis, 'webhook_enqueue stream=a; webhook_enqueue stream=b;',
      qr/"webhook_enqueue" directive is duplicate/ ],
    [ $redis, 'webhook_enqueue stream=a; webhook_enqueue_header "X:Y";',
      qr/invalid header name "X:Y"/ ],
) {
    my ($http, $location, $re) = @$bad;
    my ($rc, $out) = try($http, $location);
    isnt($rc, 0, "refused: $location");
    like($out, $re, "message for: $location");
}

$t->done_testing;
