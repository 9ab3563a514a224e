#!/usr/bin/perl

# webhook_replay_zone / webhook_replay: the duplicate cache.  A delivery id
# seen before is answered 409 duplicate_in_flight while the first is still
# with the upstream, 200 {"status":"duplicate"} (not forwarded) once the
# first got a 2xx; a first that failed (upstream 5xx, client gone) leaves
# no record.  Only verified requests are recorded.  Ids from the presets
# (github header, stripe body, standard header) and from webhook_id; ttl,
# and its default: twice the http-level timestamp tolerance where the
# timestamp is signed (stripe), the preset's redelivery horizon (github:
# 72 h) where it is not; monitor mode.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Time::HiRes ();

use Test::Webhook;
use Test::Webhook::Sign qw(github_header stripe_header standard_headers b64);

###############################################################################

my $t = Test::Webhook->new;

my $github = 'gh_replay_secret_5a1c9d';
my $stripe = 'whsec_replay_stripe_3e8f0a';
my $standard = 'whsec_' . b64('replay-standard-key-0123456789ab');

$t->write_file('github.secret', $github, 0600);
$t->write_file('stripe.secret', $stripe, 0600);
$t->write_file('standard.secret', $standard, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    # the default ttl of a zone is twice this where the timestamp is
    # signed: 2 s for stripe in "deflt"; github signs none: 72 h
    webhook_timestamp_tolerance 1s;

    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_replay_zone zone=short:1m ttl=1s;
    webhook_replay_zone zone=deflt:1m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /stripe {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_timestamp_tolerance 5m;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /standard {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/standard.secret;
            webhook_timestamp_tolerance 5m;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /byheader {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_id $http_x_request_id;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }

        location /short {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=short;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /deflt {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=deflt;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /deflt-stripe {
            webhook_verify stripe;
            webhook_secret file:%%TESTDIR%%/stripe.secret;
            webhook_replay zone=deflt;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /monitor {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_mode monitor;
            webhook_replay zone=ids;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $seq = 0;

# gh($path, $id, %opt): a GitHub delivery; a new body each call unless
# body => given; secret => signs with another secret; delay / status =>
# upstream knobs; any other key goes to the client (timeout, ...)

sub gh {
    my ($path, $id, %o) = @_;

    $seq++;
    my $body = delete $o{body}
               // qq({"action":"opened","delivery":"$id","n":$seq});
    my @h = (
        ['Content-Type', 'application/json'],
        ['X-GitHub-Event', 'issues'],
        ['X-Hub-Signature-256',
         github_header(delete $o{secret} // $github, $body)],
    );
    push @h, ['X-GitHub-Delivery', $id] if defined $id;
    push @h, ['X-Upstream-Delay', delete $o{delay}] if $o{delay};
    push @h, ['X-Upstream-Status', delete $o{status}] if $o{status};
    push @h, @{ delete $o{headers} || [] };

    return { path => $path, body => $body, headers => \@h, %o };
}

# 200 {"status":"duplicate"} as application/json, not forwarded (2 tests)

sub is_duplicate {
    my ($req, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $n = $t->upstream_count;
    my $r = $t->http(%$req);

    is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
        "$name: 200 duplicate");
    is($t->upstream_count, $n, "$name: not forwarded");

    return $r;
}

# sends $req and waits until the upstream holds it (X-Upstream-Delay keeps
# it there); returns the open connection

sub in_flight {
    my ($req, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $n = $t->upstream_count;
    my $c = $t->http_open(%$req);

    ok($t->wait_until(sub { $t->upstream_count > $n }, timeout => 5),
        "$name: first delivery reached the upstream");

    return $c;
}

my ($u, $r, $c);

# github: first forwarded, the same id again answered, not forwarded

$u = $t->is_forwarded(gh('/github', 'gh-A'), 'first delivery');
is($t->vars($u)->{id}, 'gh-A', 'first delivery: $webhook_id');

is_duplicate(gh('/github', 'gh-A'), 'same id again');
is_duplicate(gh('/github', 'gh-A', body => '{"other":"payload"}'),
    'same id, another payload');
is_duplicate(gh('/github', 'gh-A'), 'same id a third time');

$t->is_forwarded(gh('/github', 'gh-A2'), 'another id is independent');

# a request that fails verification is never recorded, and is refused as
# such even when its id was seen

$t->is_rejected(gh('/github', 'gh-B', secret => 'forged'),
    401, 'signature_mismatch', 'forged, new id');
$t->is_forwarded(gh('/github', 'gh-B'), 'genuine after a forged one');
$t->is_rejected(gh('/github', 'gh-B', secret => 'forged'),
    401, 'signature_mismatch', 'forged, recorded id: still a mismatch');
$t->is_rejected({ %{ gh('/github', 'gh-B') },
    headers => [['X-GitHub-Delivery', 'gh-B']] },
    401, 'signature_missing', 'unsigned, recorded id');

# still in flight: 409; afterwards a duplicate

$c = in_flight(gh('/github', 'gh-C', delay => 3), 'in flight');

$t->is_rejected(gh('/github', 'gh-C'), 409, 'duplicate_in_flight',
    'same id while the first is with the upstream');
$t->is_rejected(gh('/github', 'gh-C', secret => 'forged'),
    401, 'signature_mismatch', 'forged, same id, while in flight');

$r = $t->http_read($c, timeout => 10, eof => 1);
$t->http_close($c);
is($t->status($r), 200, 'in flight: the first got its 200');

is_duplicate(gh('/github', 'gh-C'), 'in flight: same id after the 2xx');

# the first got a 5xx: no record, the retry goes through

$r = $t->http(%{ gh('/github', 'gh-D', status => 500) });
is($t->status($r), 500, 'upstream 500 passed to the client');

$t->is_forwarded(gh('/github', 'gh-D'), 'retry after an upstream 500');
is_duplicate(gh('/github', 'gh-D'), 'after the retry succeeded');

# the client of the first went away while the upstream was working on it:
# once nginx has finalized that request the retry goes through (bounded
# polling: nginx notices the close on its own event loop)

$c = in_flight(gh('/github', 'gh-E', delay => 3), 'client abort');
$t->http_close($c);

my $n = $t->upstream_count;
my @seen;

$r = $t->wait_until(sub {
    my $r = $t->http(%{ gh('/github', 'gh-E') }, timeout => 5);
    push @seen, $t->status($r);
    return $r->{status} == 200 ? $r : undef;
}, timeout => 10, interval => 0.2);

ok($r, 'client abort: the retry was eventually forwarded')
    or diag("answers: @seen");
note("client abort: answers to the retries: @seen");
ok(!grep({ !/^(?:200|409)$/ } @seen),
    'client abort: nothing but 409 before that') or diag("answers: @seen");
is($t->upstream_count, $n + 1, 'client abort: the retry reached the upstream');
is(($t->json($r) || {})->{upstream}, 'ok', 'client abort: upstream answered');

is_duplicate(gh('/github', 'gh-E'), 'client abort: after the retry');

# stripe: the id is the event's "id" in the body; a retry is signed anew

my $sbody = '{"id":"evt_replay_0001","object":"event",'
          . '"type":"invoice.paid","data":{"object":{}}}';
my $now = time;

$u = $t->is_forwarded({ path => '/stripe', body => $sbody, headers => [
    ['Stripe-Signature', stripe_header($stripe, $now, $sbody)]] },
    'stripe: first');
is($t->vars($u)->{id}, 'evt_replay_0001', 'stripe: $webhook_id');

is_duplicate({ path => '/stripe', body => $sbody, headers => [
    ['Stripe-Signature', stripe_header($stripe, $now + 1, $sbody)]] },
    'stripe: the retry, signed again');

(my $sbody2 = $sbody) =~ s/evt_replay_0001/evt_replay_0002/;
$t->is_forwarded({ path => '/stripe', body => $sbody2, headers => [
    ['Stripe-Signature', stripe_header($stripe, $now, $sbody2)]] },
    'stripe: another event');

# standard webhooks: webhook-id, in either header family

my $wbody = '{"type":"order.created","data":{"n":1}}';

$t->is_forwarded({ path => '/standard', body => $wbody, headers => [
    standard_headers($standard, 'msg_replay_1', $now, $wbody)] },
    'standard: first');
is_duplicate({ path => '/standard', body => $wbody, headers => [
    standard_headers($standard, 'msg_replay_1', $now + 2, $wbody)] },
    'standard: retry');
is_duplicate({ path => '/standard', body => $wbody, headers => [
    standard_headers($standard, 'msg_replay_1', $now + 3, $wbody,
                     prefix => 'svix')] },
    'standard: retry with svix- headers');
$t->is_forwarded({ path => '/standard', body => $wbody, headers => [
    standard_headers($standard, 'msg_replay_2', $now, $wbody)] },
    'standard: another message id');

# webhook_id overrides the preset's id

$u = $t->is_forwarded(gh('/byheader', 'gh-F1',
    headers => [['X-Request-Id', 'req-77']]), 'webhook_id: first');
is($t->vars($u)->{id}, 'req-77', 'webhook_id: $webhook_id');
is_duplicate(gh('/byheader', 'gh-F2', headers => [['X-Request-Id', 'req-77']]),
    'webhook_id: another delivery header, same X-Request-Id');
$t->is_forwarded(gh('/byheader', 'gh-F1',
    headers => [['X-Request-Id', 'req-78']]),
    'webhook_id: the delivery header is not the id');

# monitor: a duplicate in flight goes on, with the would-be reason

$c = in_flight(gh('/monitor', 'gh-M', delay => 3), 'monitor');

$u = $t->is_forwarded(gh('/monitor', 'gh-M'),
    'monitor: same id while in flight');
is_deeply([@{ $t->vars($u) }{qw(verified reason)}],
    [1, 'duplicate_in_flight'], 'monitor: would-be reason');

$r = $t->http_read($c, timeout => 10, eof => 1);
$t->http_close($c);
is($t->status($r), 200, 'monitor: the first got its 200');

$t->is_forwarded(gh('/monitor', 'gh-M'), 'monitor: same id after the 2xx');

# ttl: ttl=1s, and the default (twice the tolerance of 1s with a signed
# timestamp, 72 h for github)

my $dbody = '{"id":"evt_deflt_1","object":"event","type":"x"}';

sub deflt_stripe {
    return { path => '/deflt-stripe', body => $dbody, headers => [
        ['Stripe-Signature', stripe_header($stripe, time, $dbody)]] };
}

$t->is_forwarded(deflt_stripe(), 'default ttl, stripe: first');
is_duplicate(deflt_stripe(), 'default ttl, stripe: within the ttl');

$t->is_forwarded(gh('/short', 'gh-T'), 'ttl=1s: first');
is_duplicate(gh('/short', 'gh-T'), 'ttl=1s: within the ttl');
$t->is_forwarded(gh('/deflt', 'gh-T'), 'default ttl: first');
is_duplicate(gh('/deflt', 'gh-T'), 'default ttl: within the ttl');

# zones are separate: the same id in "ids" was never seen
$t->is_forwarded(gh('/github', 'gh-T'), 'another zone: not a duplicate');

Time::HiRes::sleep(3.5);

$t->is_forwarded(gh('/short', 'gh-T'), 'ttl=1s: after 3.5 s');
is_duplicate(gh('/deflt', 'gh-T'),
    'default ttl, github: after 3.5 s still recorded');
$t->is_forwarded(deflt_stripe(), 'default ttl, stripe: after 3.5 s');
is_duplicate(gh('/github', 'gh-T'), 'ttl 10m: after 3.5 s still recorded');

$t->done_testing;

###############################################################################
