#!/usr/bin/perl

# Unit tests of the pure C verification core (src/core/): builds
# t/core/*.c with AddressSanitizer and UBSan, runs the binary against the
# providers' signed bytes, and passes its TAP through, one assertion each.
#
#     prove -v t/000-core.t
#
# WEBHOOK_VECTORS overrides the vectors directory (default t/vectors, the
# providers' documented examples); CC overrides the compiler.

use strict;
use warnings;

use Cwd qw(abs_path);
use File::Basename qw(dirname);
use File::Path qw(make_path);
use File::Spec;
use File::Temp qw(tempfile);
use Test::More;

my $root = abs_path(File::Spec->catdir(dirname(__FILE__), '..'));
chdir $root or BAIL_OUT("chdir $root: $!");

my $cc = $ENV{CC} || 'cc';
my $build = 'build/core-tests';
my $bin = "$build/test_core";

make_path($build);

my @warn = qw(-std=gnu99 -O1 -g -Wall -Wextra -Werror);
my @san = ('-fsanitize=address,undefined', '-fno-omit-frame-pointer');
my @src = (glob('src/core/*.c'), glob('t/core/*.c'));

# Sanitizers need the compiler's runtime libraries and a kernel that lets
# ASan map its shadow memory: probe both before relying on them.

my $sanitized = probe_sanitizers();

if (!$sanitized) {
    diag('sanitizers unavailable here: plain build, no ASan/UBSan checks');
    @san = ();
}

my ($ok, $out) = run_capture($cc, @warn, @san, '-Isrc/core', @src,
    '-lcrypto', '-o', $bin);

if (!ok($ok, 'core unit tests compile warning-free'
        . ($sanitized ? ' with ASan and UBSan' : '')))
{
    diag($out);
    done_testing();
    exit;
}

my $vectors = $ENV{WEBHOOK_VECTORS}
    || File::Spec->catdir($root, 't', 'vectors');

# the provider vectors are the point of these tests: missing is a failure
if (!ok(-f "$vectors/vectors.json", "provider vectors in $vectors")) {
    done_testing();
    exit;
}

my @args = (abs_path($vectors));

local $ENV{ASAN_OPTIONS} = 'detect_leaks=1:abort_on_error=0';
local $ENV{UBSAN_OPTIONS} = 'halt_on_error=1:print_stacktrace=1';

my ($errfh, $errfile) = tempfile(UNLINK => 1);

open(my $saved, '>&', \*STDERR) or die "dup stderr: $!";
open(STDERR, '>&', $errfh) or die "redirect stderr: $!";
my $pid = open(my $child, '-|', "./$bin", @args);
open(STDERR, '>&', $saved) or die "restore stderr: $!";

die "cannot run $bin: $!" unless $pid;

my ($plan, $seen) = (undef, 0);

while (my $line = <$child>) {
    chomp $line;

    if ($line =~ /^(not )?ok (\d+)(?: - (.*))?$/) {
        my ($failed, $n, $name) = ($1, $2, defined $3 ? $3 : '');
        $seen++;

        if ($n != $seen) {
            fail("child test numbering: got $n, expected $seen");
        }

        if ($name =~ s/ # skip (.*)$//i) {
            SKIP: { skip("$name: $1", 1); }
            next;
        }

        ok(!$failed, $name);

    } elsif ($line =~ /^1\.\.(\d+)$/) {
        $plan = $1;

    } elsif ($line =~ /^# ?(.*)$/) {
        diag($1);

    } else {
        diag("unexpected child output: $line");
    }
}

close($child);
my $status = $?;

seek($errfh, 0, 0);
my $stderr = do { local $/; <$errfh> };

is($status, 0, 'child exited 0')
    or diag(sprintf('exit %d, signal %d', $status >> 8, $status & 127));
ok(defined $plan && $plan == $seen, 'child ran its whole plan')
    or diag('plan ' . (defined $plan ? $plan : 'missing') . ", ran $seen");
ok($stderr !~ /Sanitizer|runtime error:/,
    'no sanitizer report (leaks, overflows, undefined behaviour)')
    or diag($stderr);
is($stderr, '', 'child wrote nothing to stderr')
    or diag($stderr);

done_testing();


sub run_capture {
    my @cmd = @_;

    my $pid = open(my $fh, '-|');
    die "fork: $!" unless defined $pid;

    if ($pid == 0) {
        open(STDERR, '>&', \*STDOUT);
        exec { $cmd[0] } @cmd or die "exec $cmd[0]: $!\n";
    }

    my $out = do { local $/; <$fh> };
    close($fh);

    return ($? == 0, defined $out ? $out : '');
}


sub probe_sanitizers {
    my ($fh, $src) = tempfile(SUFFIX => '.c', UNLINK => 1);
    print $fh "int main(void) { return 0; }\n";
    close($fh);

    my $probe = "$build/sanitizer-probe";
    my ($ok) = run_capture($cc, @san, $src, '-o', $probe);
    ($ok) = run_capture("./$probe") if $ok;
    unlink $probe;

    return $ok;
}
