#!/bin/sh

# Builds the libFuzzer targets of src/core/ with ASan and UBSan and runs
# each for SECONDS (default 30).  Not part of prove: too slow.
#
#     t/fuzz/run.sh [SECONDS] [TARGET...]
#
# Corpora are kept in build/fuzz/corpus-TARGET and grow from run to run;
# a crash leaves build/fuzz/crash-TARGET-* to replay with
# build/fuzz/TARGET FILE.  Needs clang (apt-get install -y clang).

set -eu

cd "$(dirname "$0")/../.."

seconds=${1:-30}
[ $# -gt 0 ] && shift
targets=${*:-"fuzz_sigheader fuzz_timestamp fuzz_form fuzz_cidr fuzz_json"}

CC=${CC:-clang}
out=build/fuzz

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "$0: $CC not found: apt-get install -y clang" >&2
    exit 1
fi

mkdir -p "$out"


seed() {
    dir=$out/corpus-$1
    mkdir -p "$dir"
    shift

    i=0
    for s in "$@"; do
        i=$((i + 1))
        printf '%s' "$s" > "$dir/seed-$i"
    done
}


seed fuzz_sigheader \
    't=1700000000,v1=55f0f458f245af15f56277f48aae5282d05c382dfd280605ce8a3fffe3368913,v0=00' \
    'ts=1700000000;h1=41c7f56572a2c5b11621d61a67f43954e1fc2d044915c7623942780f3ec69ab4' \
    'v1,KE++Vv9JMXWVuGOxU6hAYtFxYnOP977+jdk7MQ7+mQg= v1a,AAAA v2,zz' \
    'sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17' \
    'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' \
    '0PXR9rHuGqBGAZag1teiKwLGgXGPBVzQTsc53yIkjM0=' \
    'Zm9vYmE' \
    '-_-_'

seed fuzz_timestamp \
    '1700000000' \
    '1700000000000' \
    '9223372036854775807' \
    '2023-11-14T22:13:20.123456789Z' \
    '2024-02-29T23:59:60+05:30' \
    '0000-01-01t00:00:00-23:59' \
    '1900-02-28T12:00:00Z' \
    '2100-02-29 00:00:00.5z' \
    'AAAAAAAABBBBBBBBCCCCCCCC'

seed fuzz_cidr \
    '10.0.0.0/8' \
    '192.0.2.7' \
    '2001:db8::/32' \
    '::ffff:10.1.2.3/104' \
    '10.1.2.3/33' \
    'AAAABBBBCCCCDDDDEEEE'

seed fuzz_form \
    'CallSid=CA1234567890ABCDE&Caller=%2B12349013030&Digits=1234&From=%2B12349013030&To=%2B18005551212' \
    'a=1&a=1&b=%zz&&c&=d&e=%4' \
    'https://example.com/twilio/json?bodySHA256=3eba1eef2c41586ecae7c50465139b35c23686c5c5e52671c92d106b95c6b3db' \
    'https://[::1]:443/p?x#y' \
    'http://u:p@h:80' \
    'whpk_11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=' \
    'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a' \
    '-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEA11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=
-----END PUBLIC KEY-----'

# fuzz_json: every provider's body from the vectors, and a few shapes

dir=$out/corpus-fuzz_json
mkdir -p "$dir"
perl -MJSON::PP -e '
    my ($dir, $file) = @ARGV;
    local $/;
    open my $fh, "<", $file or die "$file: $!";
    my $i = 0;
    for my $v (@{ JSON::PP->new->decode(<$fh>) }) {
        my $body = $v->{inputs}{body} // next;
        open my $out, ">:raw", sprintf("%s/vector-%02d", $dir, $i++) or die;
        utf8::encode($body);
        print $out $body;
    }' "$dir" t/vectors/vectors.json

seed fuzz_json \
    '{"signature":{"timestamp":"1700000000","token":"t0k","signature":"ab"},"event-data":{"id":"E1","event":"delivered"}}' \
    '[{"eventId":"a","subscriptionType":"contact.creation"},{"eventId":2}]' \
    '{"entry":[{"id":"1","changes":[{"field":"messages","value":{"messages":[{"id":"wamid.X"}]}}]}],"object":"whatsapp_business_account"}' \
    '{"\u0069d":"\ud83d\ude00","type":-0,"event":{"type":1.5e3},"id":"dup"}' \
    '{"id":"a\"b\\c\/\b\f\n\r\t\u00e9","type":12345678901234567890}'

for t in $targets; do
    echo "== building $t"
    $CC -std=gnu99 -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -Wall -Wextra -Werror -Isrc/core \
        t/fuzz/$t.c src/core/*.c -lcrypto -ljansson -o "$out/$t"
done

status=0

for t in $targets; do
    echo "== running $t for ${seconds}s"

    max_len=512
    [ "$t" = fuzz_json ] && max_len=4096

    if ! ASAN_OPTIONS=detect_leaks=1 \
         UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
         "$out/$t" -max_total_time="$seconds" -max_len=$max_len \
            -artifact_prefix="$out/crash-$t-" -print_final_stats=1 \
            "$out/corpus-$t" 2>"$out/$t.log"
    then
        echo "!! $t failed; see $out/$t.log and $out/crash-$t-*" >&2
        tail -40 "$out/$t.log" >&2
        status=1
    else
        grep -E '^(stat::number_of_executed_units|Done)' "$out/$t.log" || :
    fi
done

exit $status
