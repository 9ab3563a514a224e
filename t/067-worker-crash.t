#!/usr/bin/perl

# A worker killed (SIGKILL) while a delivery sits in the upstream leaves
# nothing behind: the master respawns it, requests are served at once (no
# lock held, no hang), and the killed delivery's id is not stuck "in
# flight": its retry is forwarded.

use strict;
use warnings;

use FindBin;
use lib "$FindBin::Bin/lib";

use Test::More;

use Test::Webhook;
use Test::Webhook::Sign qw(github_header);

###############################################################################

my $t = Test::Webhook->new;

my $secret = 'gh_crash_secret_8a4b7c';

$t->write_file('github.secret', $secret, 0600);

$t->write_file_expand('nginx.conf', <<'EOF');

%%TEST_GLOBALS%%

worker_processes  1;

events {
}

http {
    %%TEST_GLOBALS_HTTP%%

    webhook_replay_zone zone=ids:1m ttl=10m;
    webhook_limit_zone zone=rl:1m key=$remote_addr rate=1000r/s;

    server {
        listen       127.0.0.1:%%PORT_8080%%;
        server_name  localhost;

        location /github {
            webhook_verify github;
            webhook_secret file:%%TESTDIR%%/github.secret;
            webhook_replay zone=ids;
            webhook_limit zone=rl;
            proxy_pass http://%%UPSTREAM%%;
        }

        location = /status {
            webhook_status;
        }
    }
}

EOF

$t->run;

###############################################################################

sub gh {
    my ($id, %o) = @_;
    my $body = qq({"action":"created","comment":{"id":"$id"}});
    my @h = (['X-GitHub-Delivery', $id], ['X-GitHub-Event', 'issue_comment'],
             ['X-Hub-Signature-256', github_header($secret, $body)]);
    push @h, ['X-Upstream-Delay', $o{delay}] if $o{delay};
    return { path => '/github', body => $body, headers => \@h, timeout => 5 };
}

$t->is_forwarded(gh('crash-0'), 'before: forwarded');

my ($old) = $t->worker_pids;
ok($old, 'one worker') or BAIL_OUT('no worker');

# the master reports the kill at alert level: expected here
$t->expect_alert(qr/worker process $old exited on signal 9/);

# a delivery held by the upstream for 5 s

my $n = $t->upstream_count;
my $c = $t->http_open(%{ gh('crash-1', delay => 5) });
ok($t->wait_until(sub { $t->upstream_count > $n }, timeout => 5),
    'the delivery reached the upstream');

kill 'KILL', $old;

my $new = $t->wait_until(sub {
    my @w = $t->worker_pids;
    return @w == 1 && $w[0] != $old ? $w[0] : 0;
}, timeout => 10);

ok($new, 'the master respawned the worker');

my $r = $t->http_read($c, timeout => 5);
$t->http_close($c);
isnt($r->{status}, 200, 'the killed request got no answer');

# served normally, no lock left behind (short client timeouts)

$t->is_forwarded(gh('crash-2'), 'after: a new delivery');

my $dup = $t->http(%{ gh('crash-2') });
is($t->reject_summary($dup), '200 application/json {"status":"duplicate"}',
    'after: the replay zone works');

my $j = $t->status_json;
ok($j, 'after: status answers');

# the killed delivery's record belonged to a dead worker

$t->is_forwarded(gh('crash-1'), 'after: retry of the killed delivery');

$dup = $t->http(%{ gh('crash-1') });
is($t->reject_summary($dup), '200 application/json {"status":"duplicate"}',
    'after: and now it is recorded');

$t->done_testing;

###############################################################################
