#!/usr/bin/perl

# webhook_verify twilio: X-Twilio-Signature = base64 HMAC-SHA1 over the URL
# Twilio requested (webhook_public_url) and the sorted, decoded form
# parameters; for JSON bodies over the URL alone, whose bodySHA256 query
# parameter must then be the SHA-256 of the body.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Digest::SHA qw(sha256_hex);

use Test::Webhook;
use Test::Webhook::Sign qw(twilio_sig form_encode);

###############################################################################

my $t = Test::Webhook->new;

my $token = '12345';

$t->write_file('twilio.secret', $token, 0600);
$t->write_file('other.secret', 'another-auth-token', 0600);

my $doc_url = 'https://mycompany.com/myapp.php?foo=1&bar=2';
my $json_hash = '3eba1eef2c41586ecae7c50465139b35c23686c5c5e52671c92d106b95c6b3db';

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        webhook_secret file:%%TESTDIR%%/twilio.secret;

        # the documentation's example, whatever the request line says
        location /doc {
            webhook_verify twilio;
            webhook_public_url "https://mycompany.com/myapp.php?foo=1&bar=2";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /doc-json {
            webhook_verify twilio;
            webhook_public_url "https://example.com/twilio/json?bodySHA256=3eba1eef2c41586ecae7c50465139b35c23686c5c5e52671c92d106b95c6b3db";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # the default: $scheme://$http_host$request_uri
        location /tw {
            webhook_verify twilio;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /rotate {
            webhook_verify twilio;
            webhook_secret file:%%TESTDIR%%/other.secret;
            webhook_secret file:%%TESTDIR%%/twilio.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # behind a TLS-terminating balancer
        location /lb {
            webhook_verify twilio;
            webhook_public_url "https://erp.example.com$request_uri";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # bodies spilled to a temp file
        location /small-buffer {
            webhook_verify twilio;
            client_body_buffer_size 128;
            webhook_public_url "https://erp.example.com$request_uri";
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

# the harness sends "Host: localhost"
sub form {
    my ($path, $body, $sig, @more) = @_;
    my @h = (['Content-Type', 'application/x-www-form-urlencoded'], @more);
    push @h, ['X-Twilio-Signature', $sig] if defined $sig;
    return { path => $path, body => $body, headers => \@h };
}

my @doc = (['CallSid', 'CA1234567890ABCDE'], ['Caller', '+12349013030'],
           ['Digits', '1234'], ['From', '+12349013030'],
           ['To', '+18005551212']);

my $doc_body = form_encode(@doc);
my $doc_sig = '0/KCTR6DLpKmkAf8muzZqo1nDgQ=';
my $u;

is($doc_body, 'CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234'
    . '&From=%2B12349013030&To=%2B18005551212', 'the vector body on the wire');

$u = $t->is_forwarded(form('/doc', $doc_body, $doc_sig,
    ['I-Twilio-Idempotency-Token', 'idem-0001']), 'vector');
is_deeply($t->vars($u), {
    provider => 'twilio', verified => 1, id => 'idem-0001', event => '',
    timestamp => '', secret_index => 1, reason => '',
}, 'vector: variables');

$t->is_forwarded(form('/doc', form_encode(reverse @doc), $doc_sig),
    'vector, parameters in another order');

$t->is_forwarded(form('/doc', 'CallSid=CA1234567890ABCDE&Caller=%2b123490130'
    . '30&Digits=1234&From=%2B12349013030&To=%2B18005551212&', $doc_sig),
    'vector, lower-case escape and a trailing "&"');

$t->is_rejected(form('/doc', form_encode(@doc[0 .. 3], ['To', '+18005551213']),
    $doc_sig), 401, 'signature_mismatch', 'vector, one value changed');

$t->is_rejected(form('/doc', form_encode(@doc, ['Extra', '']), $doc_sig),
    401, 'signature_mismatch', 'vector, a parameter added');

$t->is_rejected(form('/doc', form_encode(@doc[1 .. 4]), $doc_sig),
    401, 'signature_mismatch', 'vector, a parameter removed');

(my $plus = $doc_body) =~ s/%2B/+/g;
$t->is_rejected(form('/doc', $plus, $doc_sig), 401, 'signature_mismatch',
    'vector, "+" sent raw (a space once decoded)');

$t->is_rejected(form('/doc', $doc_body, $doc_sig =~ s/^0/1/r),
    401, 'signature_mismatch', 'vector, signature changed');

$t->is_rejected(form('/doc', $doc_body), 401, 'signature_missing',
    'no signature');

$t->is_rejected(form('/doc', $doc_body, 'not base64!'), 400,
    'signature_malformed', 'signature not base64');

$t->is_rejected(form('/doc', $doc_body, 'AAAA'), 400,
    'signature_malformed', 'signature of the wrong length');

# JSON: the URL carries bodySHA256, the signature covers the URL alone

my $json = '{"id":"evt_test_0001","type":"test.event","data":'
         . '{"amount":1000,"currency":"usd"}}';

sub jsonreq {
    my ($path, $body, $sig) = @_;
    my @h = (['Content-Type', 'application/json']);
    push @h, ['X-Twilio-Signature', $sig] if defined $sig;
    return { path => $path, body => $body, headers => \@h };
}

is(sha256_hex($json), $json_hash, 'the JSON vector hash');

$t->is_forwarded(jsonreq('/doc-json', $json, 'cgBQ0wO4ymBgWTcuSFc6XvgyyjI='),
    'JSON vector');

$t->is_rejected(jsonreq('/doc-json', $json . ' ', 'cgBQ0wO4ymBgWTcuSFc6XvgyyjI='),
    401, 'signature_mismatch', 'JSON vector, body does not match bodySHA256');

$t->is_rejected(jsonreq('/doc-json', $json, 'dgBQ0wO4ymBgWTcuSFc6XvgyyjI='),
    401, 'signature_mismatch', 'JSON vector, signature changed');

# fresh requests against the default public URL

my @params = (['AccountSid', 'AC0123'], ['Body', "Grüße & 100% + ✓"],
              ['From', '+4915112345678'], ['MessageSid', 'SM0001'],
              ['To', '+4930123456']);
my $body = form_encode(@params);
my $url = "http://localhost/tw/sms?tenant=erp1";

$u = $t->is_forwarded(form('/tw/sms?tenant=erp1', $body,
    twilio_sig($token, $url, @params)), 'fresh, default public URL');
is($t->vars($u)->{verified}, 1, 'fresh: verified');

$t->is_rejected(form('/tw/sms?tenant=erp2', $body,
    twilio_sig($token, $url, @params)), 401, 'signature_mismatch',
    'fresh, query differs');

$t->is_rejected(form('/tw/sms?tenant=erp1', $body,
    twilio_sig('54321', $url, @params)), 401, 'signature_mismatch',
    'fresh, wrong token');

$u = $t->is_forwarded(form('/rotate?x=1', $body,
    twilio_sig($token, "http://localhost/rotate?x=1", @params)),
    'second token');
is($t->vars($u)->{secret_index}, 2, 'second token: $webhook_secret_index 2');

# repeated keys: each value once, sorted

my @multi = (['Media', 'b'], ['Media', 'a'], ['Media', 'b'], ['N', '2']);
$t->is_forwarded(form('/tw/multi', form_encode(@multi),
    twilio_sig($token, "http://localhost/tw/multi", @multi)),
    'repeated keys, a duplicate value');

# an empty body: the URL alone

$t->is_forwarded(form('/tw/empty', '',
    twilio_sig($token, "http://localhost/tw/empty")), 'empty body');

# without bodySHA256 the body is always read as a form: a JSON body is
# covered too, a URL-only signature does not let one through

$t->is_rejected(jsonreq('/tw/json', $json,
    twilio_sig($token, "http://localhost/tw/json")),
    401, 'signature_mismatch', 'JSON body without bodySHA256');

# fresh JSON

my $jurl = "/tw/json?bodySHA256=" . sha256_hex($json);
$t->is_forwarded(jsonreq($jurl, $json,
    twilio_sig($token, "http://localhost$jurl")), 'fresh JSON');

$t->is_rejected(jsonreq($jurl, $json =~ s/1000/1001/r,
    twilio_sig($token, "http://localhost$jurl")),
    401, 'signature_mismatch', 'fresh JSON, body changed');

$jurl = "/tw/json?bodySHA256=nothex";
$t->is_rejected(jsonreq($jurl, $json,
    twilio_sig($token, "http://localhost$jurl")),
    401, 'signature_mismatch', 'bodySHA256 not hex');

# behind a TLS-terminating balancer: the public https URL is what counts

$t->is_forwarded(form('/lb/voice?a=1', $body,
    twilio_sig($token, 'https://erp.example.com/lb/voice?a=1', @params)),
    'balancer: https public URL');

$t->is_forwarded(form('/lb/voice?a=1', $body,
    twilio_sig($token, 'https://erp.example.com:443/lb/voice?a=1', @params)),
    'balancer: signed with the default port');

$t->is_rejected(form('/lb/voice?a=1', $body,
    twilio_sig($token, 'https://erp.example.com:8443/lb/voice?a=1',
               @params)),
    401, 'signature_mismatch', 'balancer: another port');

$t->is_rejected(form('/lb/voice?a=1', $body,
    twilio_sig($token, "http://localhost/lb/voice?a=1", @params)),
    401, 'signature_mismatch', 'balancer: the internal URL');

# a big form in a temp file

my @big = map { ["P$_", 'v' x 50 . $_] } 1 .. 200;
$t->is_forwarded(form('/small-buffer', form_encode(@big),
    twilio_sig($token, 'https://erp.example.com/small-buffer', @big)),
    'a form body in a temp file');

# more parameters than 1024: not verified

my @many = map { ["k$_", $_] } 1 .. 1025;
$t->is_rejected(form('/tw/many', form_encode(@many),
    twilio_sig($token, "http://localhost/tw/many", @many)),
    401, 'signature_mismatch', '1025 parameters');

my @max = @many[0 .. 1023];
$t->is_forwarded(form('/tw/many', form_encode(@max),
    twilio_sig($token, "http://localhost/tw/many", @max)),
    '1024 parameters');

is($t->upstream_count, 13, 'only the valid requests were forwarded');

$t->done_testing;

###############################################################################
