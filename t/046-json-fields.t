#!/usr/bin/perl

# Fields of a JSON body ($webhook_id, $webhook_event, the replay key)
# read without parsing the whole body: the first member of a name wins
# for the variables and the replay record alike; a body spilled to a temp
# file is read in place; a syntax error before a member hides it; what
# follows the members asked for is not read.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(stripe_header);

###############################################################################

my $t = Test::Webhook->new;

my $stripe = 'whsec_json_fields_tests_9e1d';

$t->write_file('stripe.secret', $stripe, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:1m ttl=1h;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        client_max_body_size 4m;

        location /stripe {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /replay {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        # bodies past 1 KiB go to a temp file
        location /spilled {
            client_body_buffer_size 1k;
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

sub signed {
    my ($path, $body) = @_;
    return { path => $path, body => $body, headers => [
        ['Stripe-Signature', stripe_header($stripe, time, $body)],
    ] };
}

sub fields {
    my ($body, $name) = @_;
    local $Test::Builder::Level = $Test::Builder::Level + 1;
    my $u = $t->is_forwarded(signed('/stripe', $body), $name);
    my $v = $t->vars($u);
    return [$v->{id}, $v->{event}];
}

is_deeply(fields('{"id":"evt_a","type":"t.a"}', 'plain'), ['evt_a', 't.a'],
    'id and event from the body');

is_deeply(fields('{"type":"t.b","data":{"id":"inner","type":"x"},'
                 . '"id":"evt_b"}', 'nested'),
    ['evt_b', 't.b'], 'members of the same name deeper do not count');

is_deeply(fields('{"id":"evt_c","type":"t.c","id":"evt_c2","type":"t.c2"}',
                 'duplicates'),
    ['evt_c', 't.c'], 'duplicate members: the first wins');

is_deeply(fields('{"\u0069d":"evt_\u00e9\ud83d\ude00","type":"t\"q"}',
                 'escapes'),
    ["evt_\xc3\xa9\xf0\x9f\x98\x80", 't"q'],
    'escaped keys match, values are decoded');

is_deeply(fields('{"id":12345,"type":-7}', 'integers'), ['12345', '-7'],
    'integers are taken as their decimal text');

is_deeply(fields('{"id":1.5,"type":{"a":"b"},"x":"y"}', 'not strings'),
    ['', ''], 'a number with a fraction or an object is no value');

is_deeply(fields('{"x":[1,2,,3],"id":"evt_d","type":"t.d"}',
                 'broken before'),
    ['', ''], 'a syntax error before the members hides them');

is_deeply(fields('{"id":"evt_e","type":"t.e"} and then not JSON',
                 'broken after'),
    ['evt_e', 't.e'], 'what follows the members is not read');

is_deeply(fields('{"type":"t.f","id":"evt_f","x":tru', 'broken after id'),
    ['evt_f', 't.f'], 'a body cut after the members still has them');

is_deeply(fields("{\"x\":\"\xc0\xaf\",\"id\":\"evt_g\",\"type\":\"t\"}",
                 'bad utf-8 before'),
    ['', ''], 'invalid UTF-8 before the members hides them');

is_deeply(fields('{"id":"' . ('i' x 1100) . '","type":"t.h"}', 'long id'),
    ['', 't.h'], 'an id longer than 1 KiB as sent is no value');

# the replay record is keyed on the same member the variables report

my $first = '{"id":"evt_dup_1","type":"t","id":"evt_dup_2"}';
$t->is_forwarded(signed('/replay', $first), 'replay: first delivery');

my $r = $t->http(%{ signed('/replay',
                           '{"id":"evt_dup_1","type":"t","n":2}') });
is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'replay: keyed on the first id, a resend under it is a duplicate');

my $u = $t->is_forwarded(signed('/replay', '{"id":"evt_dup_2","type":"t"}'),
    'replay: the later duplicate member was not the key');
is($t->vars($u)->{id}, 'evt_dup_2', 'replay: its own id');

# a large body in a temp file: the members after 512 KiB of data

my $pad = join ',', map { sprintf '{"k%d":"%s"}', $_, 'v' x 50 } 1 .. 9000;
my $big = '{"data":[' . $pad . '],"id":"evt_big","type":"t.big"}';
ok(length($big) > 512 * 1024, 'the large body is larger than 512 KiB');

$u = $t->is_forwarded(signed('/spilled', $big), 'temp file');
is_deeply([@{ $t->vars($u) }{qw(id event)}], ['evt_big', 't.big'],
    'temp file: the members found past the data');

$r = $t->http(%{ signed('/spilled', $big) });
is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
    'temp file: the same delivery again is a duplicate');

$t->done_testing;

###############################################################################
