#!/bin/sh

# Builds every libFuzzer target t/fuzz/fuzz_*.c with ASan and UBSan and
# runs each for SECONDS (default 30), from its corpus in the repository.
#
#     t/fuzz/run.sh [SECONDS] [TARGET...]      (or ./build.sh fuzz [SECONDS])
#
# t/fuzz/corpus/TARGET/ is read; what a run finds goes to
# build/fuzz/new-TARGET/ and is merged back into the repository's corpus
# (-merge=1: only inputs that add coverage), so the next run starts from
# it.  Commit the corpus changes.  A crash leaves build/fuzz/crash-TARGET-*
# to replay with build/fuzz/TARGET FILE; the run then fails.  Needs clang,
# libssl-dev, libpcre2-dev and libhiredis-dev.

set -eu

cd "$(dirname "$0")/../.."

seconds=${1:-30}
[ $# -gt 0 ] && shift

if [ $# -gt 0 ]; then
    targets=$*
else
    targets=$(ls t/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||')
fi

CC=${CC:-clang}
out=build/fuzz

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "$0: $CC not found: apt-get install -y clang" >&2
    exit 1
fi

mkdir -p "$out"

for t in $targets; do
    echo "== building $t"
    $CC -std=gnu99 -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -Wall -Wextra -Werror -Isrc/core \
        "t/fuzz/$t.c" src/core/*.c \
        -lcrypto -lpcre2-8 -lhiredis -ljansson -o "$out/$t"
done

status=0

for t in $targets; do
    corpus=t/fuzz/corpus/$t
    new=$out/new-$t
    mkdir -p "$corpus" "$new"

    echo "== running $t for ${seconds}s"

    if ! ASAN_OPTIONS=detect_leaks=1 \
         UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
         "$out/$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
            -rss_limit_mb=1024 -artifact_prefix="$out/crash-$t-" \
            -print_final_stats=1 "$new" "$corpus" >"$out/$t.log" 2>&1
    then
        echo "!! $t failed; see $out/$t.log and $out/crash-$t-*" >&2
        tail -40 "$out/$t.log" >&2
        status=1
        continue
    fi

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    echo "   $t: $execs executions in ${seconds}s"

    # keep what added coverage, for the next run
    "$out/$t" -merge=1 "$corpus" "$new" >"$out/$t.merge.log" 2>&1 \
        || { echo "!! $t: merge failed, see $out/$t.merge.log" >&2; status=1; }
    rm -rf "$new"
done

exit $status
