#!/usr/bin/perl

# Bounded work for any header.  Ed25519 "v1a" candidates are
# de-duplicated and at most two different ones are accepted, so sixteen
# forged candidates over a 1 MB body cost what one does: counted by the
# module's debug line for each verification, not by the clock.  HMAC work
# is bounded by at most 16 candidates (more is malformed) and 8 secrets
# per location.  GitLab's token is compared as fixed-size digests: under
# callgrind the comparison costs the same instructions whatever the
# secret's length.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(:all);
use Test::Webhook::Ed25519 qw(ed25519_sign);

###############################################################################

# RFC 8032 section 7.1, tests 1 and 2
my $seed1 = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';
my $pub1 = 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a';
my $seed2 = '4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb';
my $pub2 = '3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c';

my $whsec = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';

my $t = Test::Webhook->new;

$t->write_file('whsec', $whsec, 0600);
$t->write_file('gitlab', 'gitlab-secret-token', 0600);

$t->write_file_expand('nginx.conf', <<"EOF");

%%TEST_GLOBALS%%

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    client_max_body_size 8m;
    client_body_buffer_size 2m;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /one-key {
            webhook_verify standard;
            webhook_public_key $pub1;
            error_log %%TESTDIR%%/verify.log debug;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /two-keys {
            webhook_verify standard;
            webhook_public_key $pub1;
            webhook_public_key $pub2;
            error_log %%TESTDIR%%/verify.log debug;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /hmac {
            webhook_verify standard;
            webhook_secret file:%%TESTDIR%%/whsec;
            proxy_pass http://%%UPSTREAM%%;
        }

        location /gitlab {
            webhook_verify gitlab;
            webhook_secret file:%%TESTDIR%%/gitlab;
            proxy_pass http://%%UPSTREAM%%;
        }
    }
}

EOF

$t->run;

###############################################################################

my $body = '{"type":"invoice.paid","data":"' . ('x' x (1024 * 1024)) . '"}';
my $id = 'msg_bounded_1';

sub v1a {
    my ($seed, $ts, $b) = @_;
    return 'v1a,' . b64(ed25519_sign($seed, "$id.$ts.$b"));
}

# a forged candidate: a genuine signature over other bytes
sub forged {
    my ($n) = @_;
    return v1a($seed1, 1700000000, "forged $n");
}

sub std {
    my ($path, @sigs) = @_;
    return { path => $path, body => $body, headers => [
        ['Content-Type', 'application/json'],
        ['webhook-id', $id], ['webhook-timestamp', time],
        ['webhook-signature', join(' ', @sigs)]] };
}

# how many Ed25519 verifications the request cost
sub verifications {
    my ($req) = @_;
    my $before = () = ($t->read_file('verify.log') // '')
                      =~ /Ed25519 verify, key/g;
    my $r = $t->http(%$req);
    my $after = () = $t->read_file('verify.log') =~ /Ed25519 verify, key/g;
    return ($r, $after - $before);
}

my ($r, $n);

($r, $n) = verifications(std('/one-key', forged(1)));
is($r->{status}, 401, 'one forged candidate: 401');
is($n, 1, 'one forged candidate: one verification');

($r, $n) = verifications(std('/one-key', (forged(1)) x 16));
is($r->{status}, 401, 'the same forged candidate 16 times: 401');
is($n, 1, 'the same forged candidate 16 times: one verification');

$t->upstream_reset;
($r, $n) = verifications(std('/one-key', map { forged($_) } 1 .. 16));
is($r->{status}, 400, '16 different forged candidates: 400');
like($r->{body}, qr/"signature_malformed"/,
     '16 different forged candidates: signature_malformed');
is($n, 0, '16 different forged candidates: no verification at all');
is($t->upstream_count, 0, '16 different forged candidates: not forwarded');

($r, $n) = verifications(std('/one-key', map { forged($_) } 1 .. 3));
is($r->{status}, 400, 'three different candidates: malformed');
is($n, 0, 'three different candidates: no verification');

($r, $n) = verifications(std('/one-key', forged(1), forged(2), forged(1)));
is($r->{status}, 401, 'two different candidates, one repeated: 401');
is($n, 2, 'two different candidates, one repeated: two verifications');

my $now = time;
my $good = v1a($seed1, $now, $body);
my $req = std('/one-key', forged(1), $good, forged(1), $good);
$req->{headers}[2][1] = $now;
($r, $n) = verifications($req);
is($r->{status}, 200, 'a forged and a genuine candidate, repeated: passes')
    or diag($r->{body});
ok($n >= 1 && $n <= 2, "... after at most two verifications ($n)");

$req = std('/one-key', ($good) x 16);
$req->{headers}[2][1] = $now;
($r, $n) = verifications($req);
is($r->{status}, 200, 'the genuine candidate 16 times: passes');
is($n, 1, 'the genuine candidate 16 times: one verification');

($r, $n) = verifications(std('/two-keys', (forged(1)) x 16));
is($r->{status}, 401, 'two keys, one forged candidate 16 times: 401');
is($n, 2, 'two keys, one forged candidate 16 times: one verification '
    . 'per key');

$req = std('/two-keys', forged(1), v1a($seed2, $now, $body));
$req->{headers}[2][1] = $now;
($r, $n) = verifications($req);
is($r->{status}, 200, 'two keys: the second key verifies');

# HMAC: at most 16 candidates; a 17th makes the header malformed

my $v1 = standard_sig($whsec, $id, $now, $body);
$req = std('/hmac', ('v1,' . b64('x' x 32)) x 15, $v1);
$req->{headers}[2][1] = $now;
is($t->http(%$req)->{status}, 200, 'hmac: 16 candidates, the last genuine');
$req = std('/hmac', ('v1,' . b64('x' x 32)) x 16, $v1);
$req->{headers}[2][1] = $now;
$r = $t->http(%$req);
is($r->{status}, 400, 'hmac: 17 candidates: 400');
like($r->{body}, qr/"signature_malformed"/, 'hmac: 17 candidates: malformed');

# GitLab: the token is right or not, whatever its length

for my $tok ('gitlab-secret-token', 'gitlab-secret-toke',
             'gitlab-secret-tokenX', 'gitlab', 'x' x 4000,
             'Gitlab-secret-token')
{
    my $want = $tok eq 'gitlab-secret-token' ? 200 : 401;
    is($t->http(path => '/gitlab', body => '{}',
                headers => [['X-Gitlab-Token', $tok]])->{status},
       $want, 'gitlab: a token of ' . length($tok) . " bytes: $want");
}

# GitLab under callgrind: the instructions spent comparing a 20-byte token
# do not depend on the secret's length, nor on whether it matched

SKIP: {
    my $valgrind = `sh -c 'command -v valgrind' 2>/dev/null`;
    chomp $valgrind;
    skip 'valgrind is not installed', 2 unless $valgrind;

    my $root = "$FindBin::Bin/..";
    my $bin = $t->testdir . '/token_cost';

    system('cc', '-std=gnu99', '-O1', '-Wall', '-Werror', "-I$root/src/core",
           "$root/src/core/webhook_hmac.c", "$root/t/cost/token_cost.c",
           '-lcrypto', '-o', $bin) == 0
        or BAIL_OUT('cannot build t/cost/token_cost.c');

    my %ir;

    for my $slen (1, 20, 64, 4096) {
        my $out = $t->testdir . "/callgrind.$slen";
        system("$valgrind --tool=callgrind --toggle-collect=measured "
               . "--callgrind-out-file=$out $bin $slen 20 >/dev/null 2>&1");
        my ($ir) = ($t->read_file("callgrind.$slen") // '')
                   =~ /^totals: (\d+)/m;
        $ir{$slen} = $ir;
    }

    ok($ir{1} && $ir{1} > 1000, "callgrind counted the comparison ($ir{1})");
    is_deeply([map { $ir{$_} } 20, 64, 4096], [($ir{1}) x 3],
              'gitlab: the same instructions for secrets of 1, 20 (equal), '
              . '64 and 4096 bytes');
}

$t->done_testing;

###############################################################################
