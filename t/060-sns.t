#!/usr/bin/perl

# sns: Amazon SNS messages, SHA1withRSA (SignatureVersion 1) or
# SHA256withRSA (2) of SNS's canonical string, by the certificate
# SigningCertURL names, pinned with webhook_public_key file:cert.pem
# url=...  No AWS SDK verifies offline (they fetch the certificate):
# messages are signed as AWS documents it, with a certificate made by the
# openssl CLI.  Notification with and without Subject, escapes in the
# Message; SubscriptionConfirmation and UnsubscribeConfirmation passed on
# verified; tampered, wrong certificate, URL not pinned, rotation,
# missing, malformed (types, versions, duplicate keys), stale, future.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use JSON::PP;
use MIME::Base64 qw(encode_base64);
use POSIX qw(strftime);

use Test::Webhook;
use Test::Webhook::Sign qw(openssl_sign);

###############################################################################

my $t = Test::Webhook->new;
my $dir = $t->testdir;

for my $c (qw(c1 c2)) {
    my $out = `openssl req -x509 -newkey rsa:2048 -nodes -keyout $dir/$c.key -out $dir/$c.pem -days 2 -subj /CN=sns.us-east-1.amazonaws.com 2>&1`;
    die "openssl: $out" if $?;
}

my $url1 = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-9c6465fa7f48f5cacd23014631ec1136.pem';
my $url2 = 'https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-01d088a6f77103d0fe307c0069e40ed6.pem';

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /sns {
            webhook_verify sns;
            webhook_public_key file:%%TESTDIR%%/c1.pem url=$url1;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /sns-rotation {
            webhook_verify sns;
            webhook_public_key file:%%TESTDIR%%/c2.pem url=$url2;
            webhook_public_key file:%%TESTDIR%%/c1.pem url=$url1;
            client_body_buffer_size 256;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub iso { strftime('%Y-%m-%dT%H:%M:%S.123Z', gmtime $_[0]) }

my @notification = qw(Message MessageId Subject Timestamp TopicArn Type);
my @confirmation = qw(Message MessageId SubscribeURL Timestamp Token
                      TopicArn Type);

sub canonical {
    my ($m) = @_;
    my $fields = $m->{Type} eq 'Notification' ? \@notification
                                              : \@confirmation;
    my $s = '';
    for my $f (@$fields) {
        next unless defined $m->{$f};
        $s .= "$f\n$m->{$f}\n";
    }
    utf8::encode($s);
    return $s;
}

sub rsa_sign {
    my ($key, $digest, $msg) = @_;
    return encode_base64(openssl_sign("$dir/$key.key", $digest, $msg), '');
}

# a message: %o overrides fields (undef deletes), key, and "signed" (the
# fields as signed, when they differ from those sent)

sub message {
    my (%o) = @_;
    my $key = delete $o{key} // 'c1';
    my $signed = delete $o{signed} // {};
    my %m = (
        Type => 'Notification',
        MessageId => '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324',
        TopicArn => 'arn:aws:sns:eu-west-1:123456789012:erp-invoices',
        Subject => 'Invoice posted',
        Message => '{"invoice":"INV-2026-0042","amount":"1234.50",'
                 . '"note":"line\nbreak \"quoted\" caf' . "\x{e9}" . '"}',
        Timestamp => iso(time),
        SignatureVersion => '1',
        SigningCertURL => $url1,
        UnsubscribeURL => 'https://sns.eu-west-1.amazonaws.com/?Action=Unsubscribe',
    );
    if (($o{Type} // '') =~ /Confirmation$/) {
        delete $m{Subject};
        delete $m{UnsubscribeURL};
        $m{Message} = 'You have chosen to subscribe to the topic.';
        $m{Token} = '2336412f37fb687f5d51e6e2425c464de12884ab';
        $m{SubscribeURL} = 'https://sns.eu-west-1.amazonaws.com/'
            . '?Action=ConfirmSubscription&Token=2336412f37fb';
    }
    for (keys %o) {
        if (defined $o{$_}) { $m{$_} = $o{$_} } else { delete $m{$_} }
    }
    my $digest = ($m{SignatureVersion} // '') eq '2' ? 'sha256' : 'sha1';
    $m{Signature} //= rsa_sign($key, $digest, canonical({ %m, %$signed }));
    delete $m{Signature} if exists $o{Signature} && !defined $o{Signature};
    return \%m;
}

sub sns {
    my ($path, $m, $raw) = @_;
    my $body = $raw // JSON::PP->new->canonical->ascii->encode($m);
    return { path => $path, body => $body,
             headers => [['Content-Type', 'text/plain; charset=UTF-8'],
                         ['x-amz-sns-message-type', $m->{Type} // '']] };
}

my $u = $t->is_forwarded(sns('/sns', message()),
    'sns: notification, SignatureVersion 1');
my $v = $t->vars($u);
is_deeply([ @$v{qw(provider verified id event secret_index reason)} ],
    [ 'sns', 1, '22b80b92-fdea-4c2c-8f9d-bdfb0c7bf324', 'Notification', 1,
      '' ], 'sns: variables');
ok($v->{timestamp} && abs($v->{timestamp} - time) < 60,
    'sns: the Timestamp is the timestamp');

$t->is_forwarded(sns('/sns', message(SignatureVersion => '2')),
    'sns: notification, SignatureVersion 2');
$t->is_forwarded(sns('/sns', message(Message => "{\"rows\":\"" . ('a"\\' x 40000) . '"}')),
    'sns: a 160 KB Message full of escapes');
$t->is_forwarded(sns('/sns', message(Subject => undef)),
    'sns: notification without a Subject');
$t->is_forwarded(sns('/sns', message(Type => 'SubscriptionConfirmation')),
    'sns: SubscriptionConfirmation passed on verified');
$t->is_forwarded(sns('/sns', message(Type => 'UnsubscribeConfirmation',
    SignatureVersion => '2')), 'sns: UnsubscribeConfirmation');

# tampered, wrong certificate, URL not pinned, rotation

$t->is_rejected(sns('/sns', message(Message => 'changed',
    signed => { Message => 'original' })),
    401, 'signature_mismatch', 'sns: Message changed');
$t->is_rejected(sns('/sns', message(TopicArn => 'arn:aws:sns:eu-west-1:1:x',
    signed => { TopicArn => 'arn:aws:sns:eu-west-1:123456789012:erp' })),
    401, 'signature_mismatch', 'sns: TopicArn changed');
$t->is_rejected(sns('/sns', message(Subject => undef,
    signed => { Subject => 'Invoice posted' })),
    401, 'signature_mismatch', 'sns: Subject dropped');
$t->is_rejected(sns('/sns', message(Type => 'SubscriptionConfirmation',
    SubscribeURL => 'https://evil.example/confirm',
    signed => { SubscribeURL => 'https://sns.eu-west-1.amazonaws.com/' })),
    401, 'signature_mismatch', 'sns: SubscribeURL redirected');
$t->is_rejected(sns('/sns', message(SignatureVersion => '2',
    Signature => message()->{Signature})),
    401, 'signature_mismatch', 'sns: a version 1 signature as version 2');
$t->is_rejected(sns('/sns', message(key => 'c2')),
    401, 'signature_mismatch', 'sns: signed by another certificate');
$t->is_rejected(sns('/sns', message(key => 'c2', SigningCertURL => $url2)),
    401, 'signature_mismatch', 'sns: a certificate URL not pinned');

$u = $t->is_forwarded(sns('/sns-rotation', message()),
    'sns: rotation, first certificate, body in a temp file');
is($t->vars($u)->{secret_index}, 2, 'sns: rotation: key 2');
$u = $t->is_forwarded(sns('/sns-rotation', message(key => 'c2',
    SigningCertURL => $url2)), 'sns: rotation, new certificate');
is($t->vars($u)->{secret_index}, 1, 'sns: rotation: key 1');

# missing, malformed, stale, future

$t->is_rejected(sns('/sns', message(Signature => undef)),
    401, 'signature_missing', 'sns: no Signature');
$t->is_rejected(sns('/sns', {}, 'not json'),
    401, 'signature_missing', 'sns: not JSON');
$t->is_rejected(sns('/sns', {}, '["Signature"]'),
    401, 'signature_missing', 'sns: a JSON array');
$t->is_rejected(sns('/sns', message(Signature => '!!')),
    400, 'signature_malformed', 'sns: Signature not base64');
$t->is_rejected(sns('/sns', message(SignatureVersion => '3')),
    400, 'signature_malformed', 'sns: SignatureVersion 3');
$t->is_rejected(sns('/sns', message(SignatureVersion => undef)),
    400, 'signature_malformed', 'sns: no SignatureVersion');
$t->is_rejected(sns('/sns', message(Type => 'Other')),
    400, 'signature_malformed', 'sns: unknown Type');
$t->is_rejected(sns('/sns', message(SigningCertURL => undef)),
    400, 'signature_malformed', 'sns: no SigningCertURL');
$t->is_rejected(sns('/sns', message(Type => 'SubscriptionConfirmation',
    Token => undef)),
    400, 'signature_malformed', 'sns: confirmation without Token');

my $dup = JSON::PP->new->canonical->ascii->encode(message());
$dup =~ s/^\{/{"Message":"forged",/;
$t->is_rejected(sns('/sns', {}, $dup),
    401, 'signature_missing', 'sns: a duplicate key makes no message');

my $num = JSON::PP->new->canonical->ascii->encode(message());
$num =~ s/"SignatureVersion":"1"/"SignatureVersion":1/;
$t->is_rejected(sns('/sns', {}, $num),
    400, 'signature_malformed', 'sns: SignatureVersion as a number');

$t->is_rejected(sns('/sns', message(Timestamp => undef)),
    400, 'timestamp_missing', 'sns: no Timestamp');
$t->is_rejected(sns('/sns', message(Timestamp => iso(time - 3600))),
    401, 'timestamp_expired', 'sns: stale');
$t->is_rejected(sns('/sns', message(Timestamp => iso(time + 3600))),
    401, 'timestamp_future', 'sns: future');
$t->is_rejected(sns('/sns', message(Timestamp => iso(time - 3600),
    key => 'c2')),
    401, 'signature_mismatch', 'sns: stale and forged: the signature first');

# configuration

$t->write_file_expand('bad.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8081%%;

        location / {
            webhook_verify sns;
            webhook_public_key file:%%TESTDIR%%/c1.pem;
            proxy_pass http://127.0.0.1:%%PORT_8082%%;
        }
    }
}

EOF

my ($rc, $out) = $t->try_config('bad.conf');
isnt($rc, 0, 'sns without url=: nginx -t fails');
like($out, qr/\[emerg\].*c1\.pem has no "url="/, 'sns without url=: named');

$t->done_testing;

###############################################################################
