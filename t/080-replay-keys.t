#!/usr/bin/perl

# Replay records keyed on what the signature covers.  An attacker who
# captured one delivery cannot get it forwarded twice by changing what the
# signature does not cover: a fresh unsigned delivery-id header (GitHub,
# Shopify, Razorpay, Bitbucket, Linear within its window), nothing at all
# (Twilio without I-Twilio-Idempotency-Token, form and JSON), or Mailgun's
# unsigned event data under a reused signature object.  Where the id is
# signed (Stripe in the body, Standard Webhooks in the signed payload) the
# record is keyed on it: a re-signed retry is a duplicate.  A provider's
# retry (same body, same MAC, same id) is caught everywhere.  GitLab's
# plaintext token: its delivery id catches GitLab's own retries only.
# Meta's $webhook_id may be the account's entry id, the same for every
# status update: its records go by the MAC, so distinct updates pass.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;
use Digest::SHA qw(hmac_sha256 hmac_sha256_hex sha256_hex);

use Test::Webhook;
use Test::Webhook::Sign qw(github_header stripe_header standard_headers
                           shopify_header twilio_sig form_encode b64);
use Test::Webhook::Ed25519 qw(ed25519_sign ed25519_public_pem);

###############################################################################

my $t = Test::Webhook->new;

my %s = (
    github    => 'gh_keys_secret_0b7e',
    shopify   => 'shpss_keys_9f21',
    razorpay  => 'rzp_keys_secret_44',
    bitbucket => 'bb_keys_secret_17',
    linear    => 'lin_wh_keys_secret_5c',
    stripe    => 'whsec_keys_stripe_3d',
    standard  => 'whsec_' . b64('keys-standard-key-0123456789abcd'),
    twilio    => 'keys_twilio_token_12345',
    mailgun   => 'key-keys-mailgun-8e1f',
    gitlab    => 'glpat-keys-token-31',
    meta      => 'meta_keys_app_secret_2',
);

# an RFC 8032 test seed: Discord's Ed25519 key
my $seed = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
my $pub = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';

for my $p (keys %s) {
    $t->write_file("$p.secret", $s{$p}, 0600);
}
$t->write_file('discord.pub', ed25519_public_pem($pub));

my $locations = '';

for my $p (qw(github shopify razorpay bitbucket linear stripe standard
              twilio mailgun gitlab meta))
{
    $locations .= <<"EOF";
        location /$p {
            webhook_verify $p;
            webhook_secret file:%%TESTDIR%%/$p.secret;
            webhook_replay zone=keys;
            %%WEBHOOK_PROXY_HEADERS%%
            proxy_pass http://%%UPSTREAM%%;
        }
EOF
}

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=keys:4m;
    webhook_timestamp_tolerance 5m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

$locations
        location /discord {
            webhook_verify discord;
            webhook_public_key file:%%TESTDIR%%/discord.pub;
            webhook_replay zone=keys;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

# 200 {"status":"duplicate"} as application/json, not forwarded (2 tests)

sub is_duplicate {
    my ($req, $name) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $n = $t->upstream_count;
    my $r = $t->http(%$req);

    is($t->reject_summary($r), '200 application/json {"status":"duplicate"}',
        "$name: 200 duplicate");
    is($t->upstream_count, $n, "$name: not forwarded");
}

# one captured delivery, sent again under three fresh unsigned ids: the
# first is forwarded, the others are duplicates; so is the provider's own
# retry (the same id again)

sub fresh_ids {
    my ($name, $make) = @_;

    local $Test::Builder::Level = $Test::Builder::Level + 1;

    my $n = $t->upstream_count;

    $t->is_forwarded($make->("$name-delivery-1"), "$name: first");

    for my $i (2 .. 4) {
        is_duplicate($make->("$name-delivery-$i"),
            "$name: same signed body, fresh delivery id $i");
    }

    is_duplicate($make->("$name-delivery-1"), "$name: the provider's retry");
    is($t->upstream_count, $n + 1, "$name: forwarded once");
}

my $seq = 0;

sub body {
    my ($p) = @_;
    $seq++;
    return qq({"provider":"$p","n":$seq,"action":"opened"});
}

my $gh = body('github');
fresh_ids('github', sub { {
    path => '/github', body => $gh, headers => [
        ['X-GitHub-Event', 'issues'], ['X-GitHub-Delivery', $_[0]],
        ['X-Hub-Signature-256', github_header($s{github}, $gh)]] } });

my $sh = body('shopify');
fresh_ids('shopify', sub { {
    path => '/shopify', body => $sh, headers => [
        ['X-Shopify-Topic', 'orders/create'],
        ['X-Shopify-Event-Id', $_[0]], ['X-Shopify-Webhook-Id', "w-$_[0]"],
        ['X-Shopify-Hmac-Sha256', shopify_header($s{shopify}, $sh)]] } });

my $rz = body('razorpay');
fresh_ids('razorpay', sub { {
    path => '/razorpay', body => $rz, headers => [
        ['X-Razorpay-Event-Id', $_[0]],
        ['X-Razorpay-Signature', hmac_sha256_hex($rz, $s{razorpay})]] } });

my $bb = body('bitbucket');
fresh_ids('bitbucket', sub { {
    path => '/bitbucket', body => $bb, headers => [
        ['X-Event-Key', 'repo:push'], ['X-Request-UUID', $_[0]],
        ['X-Hook-UUID', 'hook-1'],
        ['X-Hub-Signature', 'sha256=' . hmac_sha256_hex($bb, $s{bitbucket})]]
    } });

# Linear signs a timestamp (in the body): within its window the same
# body under fresh Linear-Delivery ids is one delivery

my $ms = int(time * 1000);
my $ln = '{"action":"create","type":"Issue","data":{"id":"keys-1"},'
       . qq("webhookTimestamp":$ms,"webhookId":"wh-1"});
fresh_ids('linear', sub { {
    path => '/linear', body => $ln, headers => [
        ['Linear-Event', 'Issue'], ['Linear-Delivery', $_[0]],
        ['Linear-Signature', hmac_sha256_hex($ln, $s{linear})]] } });

###############################################################################

# Twilio without I-Twilio-Idempotency-Token: the verified MAC is the key

my @params = (['AccountSid', 'AC0123'], ['Body', 'keys'],
              ['MessageSid', 'SM-keys-1'], ['From', '+4915112345678']);
my $form = form_encode(@params);
my $tw = {
    path => '/twilio?t=1', body => $form, headers => [
        ['Content-Type', 'application/x-www-form-urlencoded'],
        ['X-Twilio-Signature',
         twilio_sig($s{twilio}, 'http://localhost/twilio?t=1', @params)]] };

$t->is_forwarded($tw, 'twilio form, no idempotency token: first');
is_duplicate($tw, 'twilio form, no idempotency token: identical again');

my $json = '{"CallSid":"CA-keys","CallStatus":"completed"}';
my $jurl = '/twilio?bodySHA256=' . sha256_hex($json);
my $tj = {
    path => $jurl, body => $json, headers => [
        ['Content-Type', 'application/json'],
        ['X-Twilio-Signature',
         twilio_sig($s{twilio}, "http://localhost$jurl")]] };

$t->is_forwarded($tj, 'twilio JSON, no idempotency token: first');
is_duplicate($tj, 'twilio JSON, no idempotency token: identical again');

# with a token: the MAC still decides; a fresh token is no way around it
my $tw_tok = { %$tw, headers => [@{ $tw->{headers} },
                                 ['I-Twilio-Idempotency-Token', 'tok-new']] };
is_duplicate($tw_tok, 'twilio form, a fresh idempotency token');

# another message is another delivery
my @params2 = (@params[0 .. 1], ['MessageSid', 'SM-keys-2'], $params[3]);
$t->is_forwarded({ %$tw, body => form_encode(@params2), headers => [
    ['Content-Type', 'application/x-www-form-urlencoded'],
    ['X-Twilio-Signature',
     twilio_sig($s{twilio}, 'http://localhost/twilio?t=1', @params2)]] },
    'twilio form: another message');

###############################################################################

# Mailgun signs timestamp + token only: the token is the key, so one
# signature object cannot carry two payloads

my $mts = time;
my $token = 'keys0b5477167110d68991efc6b9f89f0a11066af27834600e1';
my $msig = hmac_sha256_hex("$mts$token", $s{mailgun});

sub mailgun {
    my ($event, $id) = @_;
    return { path => '/mailgun', headers => [['Content-Type',
        'application/json']], body => qq({"signature":{"token":"$token",)
        . qq("timestamp":"$mts","signature":"$msig"},"event-data":)
        . qq({"event":"$event","id":"$id","recipient":"a\@example.com"}}) };
}

$t->is_forwarded(mailgun('delivered', 'mg-1'), 'mailgun: first');
is_duplicate(mailgun('failed', 'mg-2'),
    'mailgun: the signature object reused with other event data');
is_duplicate(mailgun('delivered', 'mg-1'), "mailgun: the provider's retry");

###############################################################################

# Stripe signs the id in the body: the same event re-signed (a retry, a
# fresh timestamp, another valid signature) is a duplicate

my $sb = '{"id":"evt_keys_1","object":"event","type":"invoice.paid"}';
my $now = time;

$t->is_forwarded({ path => '/stripe', body => $sb, headers => [
    ['Stripe-Signature', stripe_header($s{stripe}, $now, $sb)]] },
    'stripe: first');
is_duplicate({ path => '/stripe', body => $sb, headers => [
    ['Stripe-Signature', stripe_header($s{stripe}, $now - 7, $sb)]] },
    'stripe: same id, another valid signature');
is_duplicate({ path => '/stripe', body => $sb, headers => [
    ['Stripe-Signature', stripe_header($s{stripe}, $now, $sb)]] },
    "stripe: the provider's retry, same MAC");

# Standard Webhooks signs webhook-id: the same id re-signed is a duplicate

my $wb = '{"type":"order.created","data":{"n":1}}';

$t->is_forwarded({ path => '/standard', body => $wb, headers => [
    standard_headers($s{standard}, 'msg_keys_1', $now, $wb)] },
    'standard: first');
is_duplicate({ path => '/standard', body => $wb, headers => [
    standard_headers($s{standard}, 'msg_keys_1', $now - 3, $wb)] },
    'standard: same id, another valid signature');
$t->is_forwarded({ path => '/standard', body => $wb, headers => [
    standard_headers($s{standard}, 'msg_keys_2', $now, $wb)] },
    'standard: the same body under another signed id is another message');

###############################################################################

# Discord: Ed25519 over timestamp + body, the body's id is signed; without
# an id the verified signature is the key

my $dts = time;
my $db = '{"type":1,"token":"keys-no-id"}';
my $dsig = unpack 'H*', ed25519_sign($seed, "$dts$db");
my $dreq = { path => '/discord', body => $db, headers => [
    ['X-Signature-Timestamp', $dts], ['X-Signature-Ed25519', $dsig]] };

$t->is_forwarded($dreq, 'discord, no id: first');
is_duplicate($dreq, 'discord, no id: identical again');

###############################################################################

# Meta: status updates carry no message id, $webhook_id is the account's
# entry id; distinct updates are distinct deliveries, a retry is not

sub meta {
    my ($status) = @_;
    my $b = '{"object":"whatsapp_business_account","entry":[{"id":"WABA1",'
          . '"changes":[{"value":{"statuses":[{"id":"wamid.K1","status":"'
          . $status . '"}]},"field":"messages"}]}]}';
    return { path => '/meta', body => $b, headers => [
        ['X-Hub-Signature-256', 'sha256=' . hmac_sha256_hex($b, $s{meta})]] };
}

my $u = $t->is_forwarded(meta('sent'), 'meta: status "sent"');
is($t->vars($u)->{id}, 'WABA1', 'meta: $webhook_id is the entry id');
$t->is_forwarded(meta('delivered'), 'meta: status "delivered", same entry');
is_duplicate(meta('sent'), "meta: Meta's retry of \"sent\"");

###############################################################################

# GitLab: the token authenticates nothing about the request; its delivery
# id catches GitLab's own retries, and nothing can stop an attacker who
# holds the token (documented)

my $gl = '{"object_kind":"push","ref":"refs/heads/main"}';

sub gitlab {
    my ($id, $body) = @_;
    my @h = (['X-Gitlab-Event', 'Push Hook'], ['X-Gitlab-Token', $s{gitlab}]);
    push @h, ['X-Gitlab-Event-UUID', $id] if defined $id;
    return { path => '/gitlab', body => $body // $gl, headers => \@h };
}

$t->is_forwarded(gitlab('gl-1'), 'gitlab: first');
is_duplicate(gitlab('gl-1'), "gitlab: GitLab's retry");
$t->is_forwarded(gitlab('gl-2'), 'gitlab: the same body under another id');
$t->is_forwarded(gitlab(undef, '{"object_kind":"push","n":1}'),
    'gitlab, no id: first');
is_duplicate(gitlab(undef, '{"object_kind":"push","n":1}'),
    'gitlab, no id: the same body again');

$t->done_testing;

###############################################################################
