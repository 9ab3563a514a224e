package Test::Webhook::Ed25519;

# Ed25519 for the tests: Perl core has none, so signatures are made with
# the openssl CLI (a build dependency of the module) from an RFC 8032
# seed wrapped in a PKCS#8 PEM.  Keys and messages are byte strings.

use strict;
use warnings;

use Exporter qw(import);
use File::Temp qw(tempdir);
use MIME::Base64 qw(encode_base64);

our @EXPORT_OK = qw(ed25519_sign ed25519_public_pem ed25519_private_pem);

# DER prefixes of an Ed25519 PKCS#8 private key and SubjectPublicKeyInfo
my $PRIVATE_PREFIX = '302e020100300506032b657004220420';
my $PUBLIC_PREFIX = '302a300506032b6570032100';

sub _pem {
    my ($label, $der) = @_;
    return "-----BEGIN $label-----\n" . encode_base64($der)
         . "-----END $label-----\n";
}

sub ed25519_private_pem {
    my ($seed_hex) = @_;
    return _pem('PRIVATE KEY', pack 'H*', $PRIVATE_PREFIX . $seed_hex);
}

sub ed25519_public_pem {
    my ($public_hex) = @_;
    return _pem('PUBLIC KEY', pack 'H*', $PUBLIC_PREFIX . $public_hex);
}

# ed25519_sign($seed_hex, $message) -> 64 raw bytes (dies on failure)

sub ed25519_sign {
    my ($seed_hex, $message) = @_;

    my $dir = tempdir(CLEANUP => 1);

    for ([key => ed25519_private_pem($seed_hex)], [msg => $message]) {
        open my $fh, '>:raw', "$dir/$_->[0]" or die "$dir/$_->[0]: $!";
        print $fh $_->[1];
        close $fh;
    }

    system('openssl', 'pkeyutl', '-sign', '-inkey', "$dir/key", '-rawin',
           '-in', "$dir/msg", '-out', "$dir/sig") == 0
        or die "openssl pkeyutl -sign failed\n";

    open my $fh, '<:raw', "$dir/sig" or die "$dir/sig: $!";
    local $/;
    my $sig = <$fh>;
    close $fh;

    die "openssl made a signature of " . length($sig) . " bytes\n"
        unless length $sig == 64;

    return $sig;
}

1;
