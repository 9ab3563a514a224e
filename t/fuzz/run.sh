#!/usr/bin/env bash

# Builds every libFuzzer target t/fuzz/fuzz_*.c with ASan and UBSan and
# runs each for SECONDS (default 30), from its corpus in the repository,
# as many at once as there are CPUs (FUZZ_JOBS overrides).
#
#     t/fuzz/run.sh [SECONDS] [TARGET...]      (or ./build.sh fuzz [SECONDS])
#
# t/fuzz/corpus/TARGET/ is read; what a run finds goes to
# build/fuzz/new-TARGET/, and the corpus is then replaced by the smallest
# set of old and new inputs that keeps all the coverage (-merge=1), so the
# next run starts from it.  Commit the corpus changes.  A crash leaves build/fuzz/crash-TARGET-*
# to replay with build/fuzz/TARGET FILE; the run then fails.  Needs clang,
# libssl-dev, libpcre2-dev, libhiredis-dev and libjansson-dev.

set -euo pipefail

cd "$(dirname "$0")/../.."

seconds=${1:-30}
[ $# -gt 0 ] && shift

if [ $# -gt 0 ]; then
    targets=("$@")
else
    targets=($(ls t/fuzz/fuzz_*.c | sed 's|.*/||; s|\.c$||'))
fi

CC=${CC:-clang}
jobs=${FUZZ_JOBS:-$(nproc)}
out=build/fuzz

if ! command -v "$CC" >/dev/null 2>&1; then
    echo "$0: $CC not found: apt-get install -y clang" >&2
    exit 1
fi

mkdir -p "$out"


CFLAGS="-std=gnu99 -g -O1 -fno-omit-frame-pointer -fno-sanitize-recover=all
        -Wall -Wextra -Werror -Isrc/core"


# src/core once, instrumented for the fuzzer, then each target links it
core() {
    local c=$1 o
    o=$out/core/$(basename "$c" .c).o
    $CC $CFLAGS -fsanitize=fuzzer-no-link,address,undefined -c "$c" -o "$o" \
        >"$o.log" 2>&1 || { cat "$o.log" >&2; return 1; }
}


build() {
    local t=$1
    $CC $CFLAGS -fsanitize=fuzzer,address,undefined \
        "t/fuzz/$t.c" "$out"/core/*.o \
        -lcrypto -lpcre2-8 -lhiredis -ljansson -o "$out/$t" \
        >"$out/$t.build.log" 2>&1 || { cat "$out/$t.build.log" >&2; return 1; }
}


run() {
    local t=$1 corpus=t/fuzz/corpus/$1 new=$out/new-$1 min=$out/min-$1 execs

    mkdir -p "$corpus" "$new"

    # A small quarantine: hiredis's reply parser makes millions of small
    # allocations, and ASan's default 256 MB of freed chunks pushed a
    # 30 s run past the RSS limit.  hiredis 0.14 reserves an array of the
    # length a reply declares (no maxelements before 1.0): such a
    # reservation is virtual memory, not a finding of ours, so single
    # allocations may go up to 16 GB.
    if ! ASAN_OPTIONS=detect_leaks=1:quarantine_size_mb=16 \
         UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
         "$out/$t" -max_total_time="$seconds" -max_len=4096 -timeout=10 \
            -rss_limit_mb=2048 -malloc_limit_mb=16384 \
            -artifact_prefix="$out/crash-$t-" \
            -print_final_stats=1 "$new" "$corpus" >"$out/$t.log" 2>&1
    then
        echo "!! $t failed; see $out/$t.log and $out/crash-$t-*" >&2
        tail -40 "$out/$t.log" >&2
        return 1
    fi

    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$t.log")
    echo "   $t: $execs executions in ${seconds}s"

    # the corpus again, minimised: the fewest inputs (old or new) that
    # keep all the coverage, for the next run (named by their SHA-1, so
    # an input kept keeps its name)
    rm -rf "$min"
    mkdir -p "$min"

    if ! "$out/$t" -merge=1 "$min" "$corpus" "$new" \
             >"$out/$t.merge.log" 2>&1
    then
        echo "!! $t: merge failed, see $out/$t.merge.log" >&2
        return 1
    fi

    rm -rf "$corpus" "$new"
    mv "$min" "$corpus"
}


# at most $jobs of "STEP ITEM" at once; fails if any failed
pool() {
    local step=$1 t status=0 running=0
    shift

    for t in "$@"; do
        if [ $running -ge "$jobs" ]; then
            wait -n || status=1
            running=$((running - 1))
        fi
        "$step" "$t" &
        running=$((running + 1))
    done

    while [ $running -gt 0 ]; do
        wait -n || status=1
        running=$((running - 1))
    done

    return $status
}


echo "== building ${#targets[@]} fuzz targets"
rm -rf "$out/core"
mkdir -p "$out/core"
pool core src/core/*.c || exit 1
pool build "${targets[@]}" || exit 1

echo "== running each for ${seconds}s, $jobs at once"
pool run "${targets[@]}"
