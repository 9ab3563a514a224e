#!/usr/bin/perl

# Secrets never leak.  With error_log at debug level (Debian's nginx and
# the sanitized build both have --with-debug) and an access log of every
# module variable, valid, forged, replayed and wrongly keyed deliveries to
# HMAC presets, the custom scheme and a Redis-backed replay cache with a
# password leave in no log:
#  - any configured secret, in any form (as written; the key bytes it
#    becomes, in hex or base64: Standard Webhooks' and Airtable's base64,
#    Adyen's hex, Braintree's SHA-1 of the private key), or the Redis
#    password;
#  - the MAC the module computed for a forged request (it would be a valid
#    signature for the forger's body);
#  - from the module's own lines, the full signature a client sent.  (nginx
#    itself logs every request header at debug level, signatures included:
#    that is nginx's, and is why production logs are not at debug.)
# Then secrets are wiped when a configuration is freed: after a reload with
# new secret files, the master's memory (read through /proc/PID/mem) holds
# the new secrets and none of the old ones; the scan is shown to find a
# secret that is there before it is trusted to miss one that is not.

use strict;
use warnings;
no warnings 'portable';

use FindBin;
use lib "$FindBin::Bin/lib";

use JSON::PP ();
use MIME::Base64 qw(encode_base64 decode_base64);
use Digest::SHA qw(hmac_sha256_hex hmac_sha256 hmac_sha1_hex sha1 sha1_hex);
use POSIX qw(strftime);
use Test::More;

use Test::Webhook;
use Test::Webhook::Redis;
use Test::Webhook::Sign qw(stripe_header github_header standard_headers
                           slack_headers form_encode);

plan(skip_all => 'redis-server not installed')
    unless Test::Webhook::Redis->available;
plan(skip_all => '/proc/PID/mem is not readable here')
    unless -r "/proc/$$/mem";

$ENV{TEST_WEBHOOK_DEBUG} = 1;

my $t = Test::Webhook->new;

sub secrets {
    my ($gen) = @_;
    return {
        stripe   => "whsec_stripe_${gen}_a7c4e19b0d",
        github   => "github_${gen}_3f9d2c71e8b5",
        standard => 'whsec_' . encode_base64("std-key-$gen-5b81c0de7f42a9", ''),
        slack    => "slack_${gen}_8e2a60f4c1d3",
        custom   => "custom_${gen}_d04b7a93e65c",
        airtable => encode_base64("airtable-key-$gen-0123456789abcd", ''),
        adyen    => unpack('H*', "adyen-key-$gen-0123456789abcdef0"),
        braintree => "pk_${gen}_7f1c:priv_${gen}_9d3e7a1c5b",
        redis    => "redis_pass_${gen}_6c1f8e2a90",
    };
}

# the key bytes a secret becomes, where they are not the secret as written

sub derived {
    my ($k) = @_;
    my ($priv) = $k->{braintree} =~ /:(.*)/;
    return (decode_base64(substr($k->{standard}, 6)),
            decode_base64($k->{airtable}), pack('H*', $k->{adyen}),
            sha1($priv));
}

my %s = (old => secrets('old'), new => secrets('new'));

sub write_secrets {
    my ($gen) = @_;
    for my $name (keys %{ $s{$gen} }) {
        $t->write_file("$name.secret", "$s{$gen}{$name}\n", 0600);
    }
}

write_secrets('old');

my $redis = Test::Webhook::Redis->new(dir => $t->testdir,
                                      password => $s{old}{redis});

my $vars = join ' ', map { "$_=\"\$webhook_$_\"" }
    qw(provider verified id timestamp event secret_index reject_reason);

(my $conf = <<'EOF') =~ s/REDIS_PORT/$redis->port/e;

%%TEST_GLOBALS%%

worker_processes 1;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    log_format webhook '$request_uri $status VARS';
    access_log %%TESTDIR%%/webhook-access.log webhook;

    webhook_redis redis://127.0.0.1:REDIS_PORT
                  password_file=%%TESTDIR%%/redis.secret prefix=t110:;

    webhook_replay_zone zone=ids:1m ttl=10m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        %%WEBHOOK_PROXY_HEADERS%%

        location /stripe {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids redis=on;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /standard {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /slack {
            webhook_verify slack;
            webhook_secret file:%%TESTDIR%%/slack.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /airtable {
            webhook_verify airtable;
            webhook_secret file:%%TESTDIR%%/airtable.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /adyen {
            webhook_verify adyen;
            webhook_secret file:%%TESTDIR%%/adyen.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /braintree {
            webhook_verify braintree;
            webhook_secret file:%%TESTDIR%%/braintree.secret;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /custom {
            webhook_verify custom;
            webhook_secret file:%%TESTDIR%%/custom.secret;
            webhook_signature_header X-Custom-Signature;
            webhook_signature_pattern "sig=([0-9a-f]+)";
            webhook_signed_payload "{body}";
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$conf =~ s/VARS/$vars/;
$t->write_file_expand('nginx.conf', $conf);
$t->run;

###############################################################################
# traffic: each kind of delivery, valid and not

my (@sent_sigs, @computed);
my $n = 0;

sub body { $n++; qq({"id":"evt_$n","type":"test.event","n":$n}) }

sub send_all {
    my ($gen) = @_;
    my $k = $s{$gen};
    my $now = time;

    for my $forge (0, 1) {
        my $body = body();
        my $signed = $forge ? body() : $body;   # a forgery signs another body

        my @h = (['Stripe-Signature',
                  stripe_header($k->{stripe}, $now, $signed)]);
        push @sent_sigs, $h[0][1] =~ /v1=([0-9a-f]+)/;
        push @computed, hmac_sha256_hex("$now.$body", $k->{stripe})
            if $forge;
        $t->http(path => '/stripe', body => $body, headers => \@h);

        @h = (['X-GitHub-Event', 'push'], ['X-GitHub-Delivery', "d$n"],
              ['X-Hub-Signature-256', github_header($k->{github}, $signed)]);
        push @sent_sigs, substr($h[2][1], 7);
        push @computed, hmac_sha256_hex($body, $k->{github}) if $forge;
        $t->http(path => '/github', body => $body, headers => \@h) for 1, 2;

        my $std = decode_base64(substr($k->{standard}, 6));
        @h = standard_headers($k->{standard}, "msg_$n", $now, $signed);
        push @sent_sigs, substr($h[2][1], 3);
        push @computed,
            encode_base64(hmac_sha256("msg_$n.$now.$body", $std), '')
            if $forge;
        $t->http(path => '/standard', body => $body, headers => \@h);

        @h = slack_headers($k->{slack}, $now, $signed);
        push @sent_sigs, substr($h[1][1], 3);
        push @computed, hmac_sha256_hex("v0:$now:$body", $k->{slack})
            if $forge;
        $t->http(path => '/slack', body => $body, headers => \@h);

        my $sig = hmac_sha256_hex($signed, $k->{custom});
        push @sent_sigs, $sig;
        push @computed, hmac_sha256_hex($body, $k->{custom}) if $forge;
        $t->http(path => '/custom', body => $body,
                 headers => [['X-Custom-Signature', "t=1,sig=$sig"]]);

        # Airtable: the signed timestamp is the body's
        my $ts = strftime('%Y-%m-%dT%H:%M:%S.000Z', gmtime $now);
        my ($at, $at_signed) = map { qq({"base":{"id":"app$n"},"n":$_,)
                                     . qq("timestamp":"$ts"}) }
                               $n, $forge ? "$n.5" : $n;
        my $atkey = decode_base64($k->{airtable});
        $sig = hmac_sha256_hex($at_signed, $atkey);
        push @sent_sigs, $sig;
        push @computed, hmac_sha256_hex($at, $atkey) if $forge;
        $t->http(path => '/airtable', body => $at,
                 headers => [['X-Airtable-Content-MAC',
                              "hmac-sha256=$sig"]]);

        # Adyen: the item carries its signature; a forgery signs another
        # amount than the one sent
        my %item = (pspReference => "psp$n", merchantAccountCode => 'ERP',
                    merchantReference => "order-$n", eventCode => 'CAPTURE',
                    success => 'true',
                    amount => { value => 100 + $n, currency => 'EUR' });
        my $signing = sub {
            my ($value) = @_;
            join ':', $item{pspReference}, '', $item{merchantAccountCode},
                $item{merchantReference}, $value, 'EUR', $item{eventCode},
                $item{success};
        };
        my $adkey = pack 'H*', $k->{adyen};
        $sig = encode_base64(hmac_sha256($signing->(
                   $forge ? 999 : $item{amount}{value}), $adkey), '');
        push @sent_sigs, $sig;
        push @computed, encode_base64(hmac_sha256(
                   $signing->($item{amount}{value}), $adkey), '') if $forge;
        $item{additionalData} = { hmacSignature => $sig };
        $t->http(path => '/adyen',
                 body => JSON::PP->new->canonical->encode({ live => 'false',
                     notificationItems =>
                         [{ NotificationRequestItem => \%item }] }),
                 headers => [['Content-Type', 'application/json']]);

        # Braintree: "public_key|hex" over bt_payload, keyed with SHA-1 of
        # the private key
        my ($pub, $priv) = split /:/, $k->{braintree}, 2;
        my $payload = encode_base64("<notification><n>$n</n></notification>");
        my $payload_signed = $forge
            ? encode_base64("<notification><n>x$n</n></notification>")
            : $payload;
        $sig = hmac_sha1_hex($payload_signed, sha1($priv));
        push @sent_sigs, $sig;
        push @computed, hmac_sha1_hex($payload, sha1($priv)) if $forge;
        $t->http(path => '/braintree',
                 body => form_encode([bt_signature => "$pub|$sig"],
                                     [bt_payload => $payload]),
                 headers => [['Content-Type',
                              'application/x-www-form-urlencoded']]);
    }

    # signed with the other generation's secrets: each is a mismatch
    my $other = $s{$gen eq 'old' ? 'new' : 'old'};
    my $body = body();
    $t->http(path => '/github', body => $body,
             headers => [['X-GitHub-Event', 'push'],
                         ['X-GitHub-Delivery', "x$n"],
                         ['X-Hub-Signature-256',
                          github_header($other->{github}, $body)]]);
    push @computed, hmac_sha256_hex($body, $k->{github});
}

send_all('old');

my $up = $t->upstream_count;
is($up, 8, 'the eight valid deliveries were forwarded (one github twice: '
           . 'the replay refused)');
like($t->read_file('error.log'), qr/\[debug\]/,
     'the error log is at debug level');
like($t->read_file('error.log'), qr/webhook/,
     'the module wrote to the debug log');

###############################################################################
# no secret, password or computed MAC in any log; no full signature in the
# module's lines

sub forms {
    my ($k) = @_;
    my @f = (values %$k, substr($k->{standard}, 6), uc $k->{adyen},
             $k->{braintree} =~ /:(.*)/);
    push @f, $_, unpack('H*', $_), encode_base64($_, '') for derived($k);
    return @f;
}

sub check_logs {
    my ($what) = @_;

    my %logs = map { $_ => $t->read_file($_) }
               qw(error.log webhook-access.log nginx.stderr);

    # the module's own lines: "webhook: ...", "webhook rejected: ..."
    my @module = grep { /^\S+ \S+ \[\w+\] \d+#\d+: (?:\*\d+ )?webhook[: ]/ }
                 split /\n/, $logs{'error.log'};

    for my $log (sort keys %logs) {
        my @found = grep { index($logs{$log}, $_) >= 0 }
                    forms($s{old}), forms($s{new});
        is("@found", '', "$what: no secret or password in $log");

        @found = grep { index($logs{$log}, $_) >= 0 } @computed;
        is("@found", '', "$what: no MAC computed by the module in $log");
    }

    my @found = grep { my $sig = $_; grep { index($_, $sig) >= 0 } @module }
                @sent_sigs;
    ok(scalar(grep { /rejected: signature_mismatch/ } @module) >= 9,
       "$what: the module logged its rejections");
    is("@found", '', "$what: no full signature in the module's log lines");
}

check_logs('before reload');

###############################################################################
# wiped on free: the master's memory after a reload with new secrets

# every readable, writable private mapping of a process; ASan's shadow and
# other huge reservations are skipped (they hold no heap bytes)

sub memory_has {
    my ($pid, @needles) = @_;

    my %found;

    open my $maps, '<', "/proc/$pid/maps" or die "maps of $pid: $!";
    open my $mem, '<:raw', "/proc/$pid/mem" or die "mem of $pid: $!";

    while (my $line = <$maps>) {
        my ($from, $to, $perm) = $line =~ /^([0-9a-f]+)-([0-9a-f]+) (\S+)/
            or next;
        next unless $perm =~ /^rw/;

        my ($start, $end) = (hex $from, hex $to);
        next if $end - $start > 256 * 1024 * 1024;

        for (my $off = $start; $off < $end; $off += 1 << 20) {
            my $len = $end - $off < 1 << 20 ? $end - $off : 1 << 20;
            # overlap the chunks by 256 bytes, so no needle is cut
            $len += 256 if $off + $len + 256 <= $end;
            sysseek($mem, $off, 0) or next;
            my $got = sysread($mem, my $buf, $len);
            next unless $got;
            for my $needle (@needles) {
                $found{$needle} = 1 if index($buf, $needle) >= 0;
            }
        }
    }

    return grep { $found{$_} } @needles;
}

# as written, and the key bytes they become
my @old = ((map { $s{old}{$_} } sort keys %{ $s{old} }), derived($s{old}));
my @new = ((map { $s{new}{$_} } sort keys %{ $s{new} }), derived($s{new}));

my $master = $t->nginx_pid;
my @seen = memory_has($master, @old);
is(scalar @seen, scalar @old,
   'the scan finds the secrets in use in the master\'s memory');

write_secrets('new');
$redis->cli('CONFIG', 'SET', 'requirepass', $s{new}{redis});

my @workers = $t->worker_pids;
ok($t->reload, 'reloaded with new secret files');
ok($t->wait_until(sub {
       my %now = map { $_ => 1 } $t->worker_pids;
       !grep { $now{$_} } @workers
   }, timeout => 20), 'the old worker is gone');

@seen = memory_has($master, @new);
is(scalar @seen, scalar @new, 'the new secrets are in the master\'s memory');
@seen = memory_has($master, @old);
is("@seen", '', 'no old secret or password is left in the master\'s memory');

for my $pid ($t->worker_pids) {
    @seen = memory_has($pid, @old);
    is("@seen", '', "no old secret in the new worker $pid");
}

# the new secrets work, and leak no more than the old ones did

@computed = ();
@sent_sigs = ();
send_all('new');
is($t->upstream_count - $up, 8, 'the new secrets verify');

check_logs('after reload');

$t->done_testing;
