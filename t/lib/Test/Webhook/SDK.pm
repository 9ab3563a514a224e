package Test::Webhook::SDK;

# The providers' own SDKs as signers, through t/sdk/sign.mjs (one node
# process for a whole list of jobs).  ./build.sh test installs them into
# t/sdk/node_modules with npm; without node or without that directory
# (npm could not reach its registry) the tests that need them skip, and
# unavailable() says why.

use strict;
use warnings;

use Cwd qw(abs_path);
use Encode qw(decode);
use File::Basename qw(dirname);
use File::Spec;
use File::Temp qw(tempfile);
use JSON::PP ();

my $DIR = abs_path(dirname(__FILE__) . '/../../../sdk');

sub node {
    for my $d (File::Spec->path) {
        return "$d/node" if -x "$d/node";
    }
    return undef;
}

# the reason the SDKs cannot be used here, or undef

sub unavailable {
    return 'node is not installed (./build.sh test installs it)'
        unless node();

    return "the provider SDKs are not installed in $DIR/node_modules "
         . '(./build.sh test runs npm there; the registry was unreachable?)'
        unless -d "$DIR/node_modules";

    return undef;
}

# byte strings in, as UTF-8 text for JSON (the SDKs sign UTF-8 strings)

sub _text {
    my ($v) = @_;

    return { map { $_ => _text($v->{$_}) } keys %$v } if ref $v eq 'HASH';
    return [ map { _text($_) } @$v ] if ref $v eq 'ARRAY';
    return $v if !defined $v || $v =~ /^-?\d+$/;
    return decode('UTF-8', $v, Encode::FB_CROAK);
}

# sign(\@jobs) -> [value, ...]: each job {sdk => NAME, ...}; dies with the
# SDK's error if one fails

sub sign {
    my ($jobs) = @_;

    my $results = run($jobs);
    my @values;

    for my $i (0 .. $#$results) {
        die "$jobs->[$i]{sdk}: $results->[$i]{error}\n"
            if exists $results->[$i]{error};
        push @values, $results->[$i]{ok};
    }

    return \@values;
}

# run(\@jobs) -> [{ok => value} or {error => text}, ...]: for the SDKs that
# only verify, where a refusal is an expected answer
sub run {
    my ($jobs) = @_;

    my $json = JSON::PP->new->utf8->canonical;

    my ($fh, $file) = tempfile(UNLINK => 1);
    binmode $fh;
    print $fh $json->encode(_text($jobs));
    close $fh;

    my $node = node() or die "node not found\n";

    open my $out, '-|', "'$node' '$DIR/sign.mjs' < '$file'"
        or die "cannot run node: $!\n";
    local $/;
    my $text = <$out>;
    close $out;

    die "node $DIR/sign.mjs failed (exit " . ($? >> 8) . ")\n" if $?;

    my $results = $json->decode($text);

    die "node returned " . scalar(@$results) . " results for "
        . scalar(@$jobs) . " jobs\n" unless @$results == @$jobs;

    return $results;
}

1;
