#!/usr/bin/env bash
#
# The one entry point of ngx_http_webhook_module.
#
#   ./build.sh            build build/ngx_http_webhook_module.so
#   ./build.sh run        build, then start the quickstart demo on 127.0.0.1:8080
#   ./build.sh test       build, then run the whole test suite (prove -r t/)
#   ./build.sh bench      build, then run the benchmarks in bench/ (callgrind
#                         instruction counts, then wrk ratios)
#   ./build.sh test-asan  build nginx 1.22.1 and the module with AddressSanitizer
#                         and UndefinedBehaviorSanitizer (build/asan/), then run
#                         the whole suite against them
#   ./build.sh fuzz [SECONDS]
#                         build every libFuzzer target in t/fuzz/ and run each
#                         for SECONDS (default 30) from its corpus
#   ./build.sh deb        build the Debian package libnginx-mod-http-webhook
#                         with debhelper and dh_nginx (build/deb/*.deb)
#
#   NGINX_SRC=/path/to/nginx-x.y.z ./build.sh
#                         build nginx from that tree plus the module
#                         (binary at build/nginx, module beside it)
#
# As root, missing Debian packages are installed with apt; otherwise the
# missing ones are named and the script stops.

set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BUILD="$ROOT/build"
MODULE=ngx_http_webhook_module
SYSTEM_NGINX_SRC=/usr/share/nginx/src

BUILD_PACKAGES=(nginx nginx-dev libssl-dev libpcre2-dev zlib1g-dev openssl
                libjansson-dev libhiredis-dev gcc make)
# redis-server and redis-cli (redis-tools) for the cluster tests (t/07*)
# python3-redis for the queue consumer example's test (t/103)
TEST_PACKAGES=(redis-server redis-sentinel redis-tools curl perl valgrind python3
               python3-redis)

# Debian's own compiler flags for nginx 1.22.1 (nginx -V), so the module
# is built the way the binary that loads it was.
CC_OPT="-g -O2 -fstack-protector-strong -Wformat -Werror=format-security"
CC_OPT="$CC_OPT -fPIC -Wdate-time -D_FORTIFY_SOURCE=2"
LD_OPT="-Wl,-z,relro -Wl,-z,now -fPIC"

# The nginx release the module is built and tested against (Debian 12's).
NGINX_VERSION=1.22.1

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'build.sh: %s\n' "$*" >&2; exit 1; }


ensure_packages() {
    local missing=() pkg
    for pkg in "$@"; do
        if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null \
             | grep -q 'install ok installed'
        then
            missing+=("$pkg")
        fi
    done
    [ ${#missing[@]} -eq 0 ] && return 0

    if [ "$(id -u)" -ne 0 ]; then
        die "missing packages: ${missing[*]}
run as root, or: sudo apt-get install ${missing[*]}"
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}


# Configure only when something configure reads changed: the module's
# `config` (it lists the sources), the flags, the nginx tree, or where
# this checkout is (the Makefile names its sources by absolute path, so a
# copied checkout must configure again or it would compile the original).
configure_stamp() {
    {
        cat "$ROOT/config"
        echo "$ROOT" "$1" "$CC_OPT" "$LD_OPT"
        cat "$1/conf_flags" 2>/dev/null || true
    } | sha256sum | cut -d' ' -f1
}


build_against_system_nginx() {
    local src="$BUILD/nginx-src" stamp
    stamp=$(configure_stamp "$SYSTEM_NGINX_SRC")

    if [ ! -f "$src/objs/Makefile" ] \
       || [ "$(cat "$src/.webhook-configure" 2>/dev/null)" != "$stamp" ]
    then
        log "configuring against $SYSTEM_NGINX_SRC (copied to build/)"
        rm -rf "$src"
        mkdir -p "$BUILD"
        cp -a "$SYSTEM_NGINX_SRC" "$src"
        (
            cd "$src"
            # shellcheck disable=SC1091
            . ./conf_flags
            ./configure "${NGX_CONF_FLAGS[@]}" \
                --with-cc-opt="$CC_OPT" --with-ld-opt="$LD_OPT" \
                --add-dynamic-module="$ROOT" > "$BUILD/configure.log" 2>&1 \
                || { tail -30 "$BUILD/configure.log" >&2; exit 1; }
        )
        echo "$stamp" > "$src/.webhook-configure"
    fi

    log "compiling $MODULE.so"
    make -s -C "$src" -f objs/Makefile modules -j"$(nproc)" \
        >"$BUILD/make.log" 2>&1 || { cat "$BUILD/make.log" >&2; exit 1; }
    install_module "$src"
}


# A new file, renamed over the old one: overwriting a loaded .so in place
# crashes the nginx workers that have it mapped.
install_module() {
    cp "$1/objs/$MODULE.so" "$BUILD/.$MODULE.so.new"
    mv -f "$BUILD/.$MODULE.so.new" "$BUILD/$MODULE.so"
}


build_with_nginx_source() {
    local tree src stamp
    tree=$(cd "$NGINX_SRC" && pwd)
    [ -x "$tree/configure" ] || [ -x "$tree/auto/configure" ] \
        || die "NGINX_SRC=$NGINX_SRC is not an nginx source tree"
    src="$BUILD/nginx-custom"
    stamp=$(configure_stamp "$tree")

    if [ ! -f "$src/objs/Makefile" ] \
       || [ "$(cat "$src/.webhook-configure" 2>/dev/null)" != "$stamp" ]
    then
        log "configuring nginx from $tree (copied to build/)"
        rm -rf "$src"
        mkdir -p "$BUILD"
        cp -a "$tree" "$src"
        (
            cd "$src"
            [ -x configure ] || cp auto/configure configure
            ./configure --prefix="$BUILD/nginx-prefix" --with-compat \
                --with-threads --with-http_ssl_module --with-http_v2_module \
                --with-http_realip_module --with-http_auth_request_module \
                --with-cc-opt="$CC_OPT" --with-ld-opt="$LD_OPT" \
                --add-dynamic-module="$ROOT" > "$BUILD/configure.log" 2>&1 \
                || { tail -30 "$BUILD/configure.log" >&2; exit 1; }
        )
        echo "$stamp" > "$src/.webhook-configure"
    fi

    log "compiling nginx and $MODULE.so"
    make -s -C "$src" -f objs/Makefile binary modules -j"$(nproc)" \
        >"$BUILD/make.log" 2>&1 || { cat "$BUILD/make.log" >&2; exit 1; }
    cp "$src/objs/nginx" "$BUILD/.nginx.new"
    mv -f "$BUILD/.nginx.new" "$BUILD/nginx"
    install_module "$src"
}


do_build() {
    ensure_packages "${BUILD_PACKAGES[@]}"
    if [ -n "${NGINX_SRC:-}" ]; then
        build_with_nginx_source
    else
        build_against_system_nginx
    fi
    log "built build/$MODULE.so"
}


# Debian's sources for nginx: a deb-src entry for the suite the machine
# runs, unless apt knows one already.
ensure_deb_src() {
    if apt-get source --print-uris -qq nginx >/dev/null 2>&1; then
        return 0
    fi
    [ "$(id -u)" -eq 0 ] \
        || die "apt has no deb-src entry for nginx; run as root to add one"

    local suite
    suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
    log "adding a deb-src entry for $suite"
    cat > /etc/apt/sources.list.d/webhook-deb-src.sources <<EOF
Types: deb-src
URIs: http://deb.debian.org/debian
Suites: $suite $suite-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb-src
URIs: http://deb.debian.org/debian-security
Suites: $suite-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    apt-get update -qq
}


# The pristine nginx source of Debian's orig tarball (apt checks it against
# the signed Sources index), unpacked once into build/nginx-VERSION; prints
# the tree's path.  Debian's patches are not applied.
fetch_nginx_source() {
    local tree="$BUILD/nginx-$NGINX_VERSION" dl="$BUILD/nginx-orig"
    local orig="nginx_$NGINX_VERSION.orig.tar.gz"

    if [ -x "$tree/configure" ]; then
        echo "$tree"
        return 0
    fi

    if [ ! -f "$dl/$orig" ]; then
        ensure_deb_src >&2
        log "downloading Debian's nginx source ($orig)"
        mkdir -p "$dl"
        fetch_orig "$orig" "$dl" \
            || die "could not download $orig from any nginx source in apt"
    fi

    rm -rf "$tree.tmp"
    mkdir -p "$tree.tmp"
    tar -xzf "$dl/$orig" -C "$tree.tmp" --strip-components=1
    rm -rf "$tree"
    mv "$tree.tmp" "$tree"
    echo "$tree"
}


# apt-get source --download-only, for each nginx source version apt knows,
# newest first, until the orig tarball is there (apt checks it against the
# signed Sources index): the versions share it, and a mirror may lack one
# version's files (a security update's, say).
fetch_orig() {
    local orig=$1 dl=$2 v

    for v in $(apt-cache showsrc nginx | sed -n 's/^Version: //p' \
               | sort -r -V -u)
    do
        if ( cd "$dl" && apt-get source --download-only -qq "nginx=$v" ) \
               >&2 2>/dev/null && [ -f "$dl/$orig" ]
        then
            return 0
        fi
        log "apt-get source nginx=$v failed, trying another version"
    done

    return 1
}


# nginx and the module with AddressSanitizer and UndefinedBehaviorSanitizer
# in build/asan/ (nginx is configured once; make rebuilds what changed).
#  - NGX_DEBUG_PALLOC: every pool allocation is its own malloc, so ASan sees
#    overflows inside nginx pools, not only past a whole pool block;
#  - no UBSan alignment check: nginx reads request bytes through unaligned
#    integer loads on purpose (NGX_HAVE_NONALIGNED on x86);
#  - no UBSan nonnull-attribute check: nginx copies empty strings as
#    memcpy(p, NULL, 0) (ngx_pstrdup of an unset -g in ngx_init_cycle).
ASAN_CC_OPT="-g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined"
ASAN_CC_OPT="$ASAN_CC_OPT -fno-sanitize=alignment,nonnull-attribute"
ASAN_CC_OPT="$ASAN_CC_OPT -DNGX_DEBUG_PALLOC=1"
ASAN_LD_OPT="-fsanitize=address,undefined"

build_asan() {
    local tree src="$BUILD/asan/nginx-src" stamp
    ensure_packages "${BUILD_PACKAGES[@]}"
    tree=$(fetch_nginx_source)
    stamp=$( { cat "$ROOT/config"; echo "$tree $ASAN_CC_OPT $ASAN_LD_OPT"; } \
             | sha256sum | cut -d' ' -f1)

    if [ ! -f "$src/objs/Makefile" ] \
       || [ "$(cat "$src/.webhook-configure" 2>/dev/null)" != "$stamp" ]
    then
        log "configuring nginx $NGINX_VERSION with ASan and UBSan"
        rm -rf "$src"
        mkdir -p "$BUILD/asan"
        cp -a "$tree" "$src"
        (
            cd "$src"
            ./configure --prefix="$BUILD/asan/prefix" --with-compat \
                --with-debug --with-threads --with-pcre-jit \
                --with-http_ssl_module --with-http_v2_module \
                --with-http_realip_module --with-http_auth_request_module \
                --with-http_stub_status_module --with-http_slice_module \
                --with-http_dav_module \
                --with-cc-opt="$ASAN_CC_OPT" --with-ld-opt="$ASAN_LD_OPT" \
                --add-dynamic-module="$ROOT" \
                > "$BUILD/asan/configure.log" 2>&1 \
                || { tail -30 "$BUILD/asan/configure.log" >&2; exit 1; }
        )
        echo "$stamp" > "$src/.webhook-configure"
    fi

    log "compiling nginx and $MODULE.so with ASan and UBSan"
    make -s -C "$src" -f objs/Makefile binary modules -j"$(nproc)" \
        >"$BUILD/asan/make.log" 2>&1 \
        || { cat "$BUILD/asan/make.log" >&2; exit 1; }
    cp "$src/objs/nginx" "$BUILD/asan/.nginx.new"
    mv -f "$BUILD/asan/.nginx.new" "$BUILD/asan/nginx"
    cp "$src/objs/$MODULE.so" "$BUILD/asan/.$MODULE.so.new"
    mv -f "$BUILD/asan/.$MODULE.so.new" "$BUILD/asan/$MODULE.so"
}


nginx_binary() {
    if [ -n "${NGINX_SRC:-}" ] && [ -x "$BUILD/nginx" ]; then
        echo "$BUILD/nginx"
    else
        echo /usr/sbin/nginx
    fi
}


# The providers' own SDKs sign requests in t/056-sdk.t: npm packages
# pinned by t/sdk/package-lock.json, installed into t/sdk/node_modules.
# Without node or a reachable registry those tests skip (and say why);
# nothing else depends on them.
install_sdks() {
    local dir="$ROOT/t/sdk" stamp

    if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1
    then
        if [ "$(id -u)" -eq 0 ]; then
            ( ensure_packages nodejs npm ) \
                || log "could not install nodejs and npm with apt"
        fi
    fi

    if ! command -v npm >/dev/null 2>&1; then
        log "no npm: the provider SDK tests (t/056-sdk.t) will be skipped"
        return 0
    fi

    stamp=$(cat "$dir/package.json" "$dir/package-lock.json" | sha256sum \
            | cut -d' ' -f1)

    if [ "$(cat "$dir/node_modules/.webhook-stamp" 2>/dev/null)" = "$stamp" ]
    then
        return 0
    fi

    log "installing the provider SDKs for the tests (npm ci in t/sdk)"
    mkdir -p "$BUILD"

    if ( cd "$dir" && npm ci --no-audit --no-fund --loglevel=error \
             --fetch-retries=1 --fetch-timeout=30000 ) \
           >"$BUILD/npm.log" 2>&1
    then
        echo "$stamp" > "$dir/node_modules/.webhook-stamp"
    else
        rm -rf "$dir/node_modules"
        log "npm could not install the provider SDKs (see build/npm.log):"
        log "the provider SDK tests (t/056-sdk.t) will be skipped"
    fi
}


do_test() {
    ensure_packages "${TEST_PACKAGES[@]}"
    do_build
    install_sdks
    cd "$ROOT"
    TEST_NGINX_BINARY=$(nginx_binary) \
    TEST_WEBHOOK_MODULE="$BUILD/$MODULE.so" \
        prove -r ${PROVE_ARGS:--j2} t/
}


# The whole suite against the sanitized nginx and module.  Every process
# (nginx, nginx -t, its workers) writes its sanitizer reports into the
# test's directory, where the harness's error-log check finds them (see
# t/lib/Test/Webhook.pm): one report fails the test file.  Leak checking is
# off: workers and a master end with exit() while nginx's cycle, OpenSSL
# and PCRE hold process-lifetime allocations, so every file would report.
# detect_odr_violation=0: a dynamic module defines its own ngx_modules[]
# and ngx_module_names[] by design (nginx dlsym()s them from the .so).
# A 64 MB quarantine (instead of 256 MB) per process: two test files at
# once, each with several nginx processes, on a small machine.
ASAN_TEST_OPTIONS=detect_leaks=0:detect_odr_violation=0:abort_on_error=1
ASAN_TEST_OPTIONS=$ASAN_TEST_OPTIONS:quarantine_size_mb=64

do_test_asan() {
    ensure_packages "${TEST_PACKAGES[@]}"
    build_asan
    install_sdks
    cd "$ROOT"
    TEST_NGINX_BINARY="$BUILD/asan/nginx" \
    TEST_WEBHOOK_MODULE="$BUILD/asan/$MODULE.so" \
    TEST_WEBHOOK_SANITIZER=1 \
    ASAN_OPTIONS=$ASAN_TEST_OPTIONS \
    UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
        prove -r ${PROVE_ARGS:--j2} t/
}


# Instruction counts under callgrind first (bench/callgrind.pl: steady
# on a busy machine), then wrk's wall-clock ratios (bench/run.pl, OPTIONS
# go there); njs (libnginx-mod-http-js) is the peer in both.
do_bench() {
    ensure_packages "${TEST_PACKAGES[@]}" wrk valgrind libnginx-mod-http-js
    do_build
    cd "$ROOT"
    NGINX_BINARY=$(nginx_binary) perl bench/callgrind.pl
    echo
    NGINX_BINARY=$(nginx_binary) perl bench/run.pl "$@"
}


# The Debian package, built by Debian's own tooling: nginx-dev's nginx_mod
# build system and dh_nginx (debian/rules is plain "dh $@").  The sources
# are copied to build/deb/ so the checkout stays clean.  nginx_mod runs
# configure inside /usr/share/nginx/src, which writes a Makefile there:
# building needs root (or write access to that directory), as on a buildd.
DEB_PACKAGES=(debhelper dpkg-dev nginx-dev libssl-dev libjansson-dev
              libhiredis-dev)

do_deb() {
    local out="$BUILD/deb" version src

    ensure_packages "${DEB_PACKAGES[@]}"
    version=$(dpkg-parsechangelog -l "$ROOT/debian/changelog" -S Version)
    src="$out/libnginx-mod-http-webhook-$version"

    rm -rf "$out"
    mkdir -p "$src"
    tar -C "$ROOT" --exclude=./build --exclude=./.git \
        --exclude=node_modules -cf - . | tar -C "$src" -xf -

    log "building libnginx-mod-http-webhook $version (build/deb/deb.log)"
    ( cd "$src" && dpkg-buildpackage -b -us -uc ) >"$out/deb.log" 2>&1 \
        || { tail -40 "$out/deb.log" >&2; exit 1; }
    rm -rf "$src"
    ls "$out"/*.deb >&2
}


# The demo's state is global: the EXIT trap may run after do_run returned.
DEMO_RUN="$BUILD/run"
DEMO_NGINX=
DEMO_UPSTREAM=
DEMO_STOPPED=

stop_demo() {
    trap - INT TERM EXIT
    [ -z "$DEMO_STOPPED" ] || return 0
    DEMO_STOPPED=1
    if [ -n "$DEMO_NGINX" ]; then
        "$DEMO_NGINX" -p "$DEMO_RUN/" -c "$DEMO_RUN/nginx.conf" \
            -e "$DEMO_RUN/logs/error.log" -s quit 2>/dev/null || true
    fi
    if [ -n "$DEMO_UPSTREAM" ]; then
        kill "$DEMO_UPSTREAM" 2>/dev/null || true
    fi
    wait 2>/dev/null || true
    log "stopped"
}


do_run() {
    local run="$DEMO_RUN" nginx
    do_build
    nginx=$(nginx_binary)

    rm -rf "$run"
    mkdir -p "$run/modules" "$run/logs" "$run/temp"
    ln -s "$BUILD/$MODULE.so" "$run/modules/$MODULE.so"
    cp "$ROOT/conf-examples/quickstart.conf" "$run/nginx.conf"
    # a demo secret, in a file only its owner can read, as in production
    (umask 077; printf 'demo-secret-change-me\n' > "$run/github.secret")

    trap stop_demo INT TERM EXIT

    perl "$ROOT/tools/demo-upstream.pl" 127.0.0.1:9090 &
    DEMO_UPSTREAM=$!

    "$nginx" -p "$run/" -c "$run/nginx.conf" -e "$run/logs/error.log" \
        || die "nginx did not start (see $run/logs/error.log)"
    DEMO_NGINX=$nginx

    local body='{"zen":"Design for failure.","hook_id":1}'
    local sig
    sig=$(printf '%s' "$body" \
          | openssl dgst -sha256 -hmac demo-secret-change-me -r | cut -d' ' -f1)

    cat <<EOF

nginx with ngx_http_webhook_module is listening on http://127.0.0.1:8080
in front of a demo upstream on 127.0.0.1:9090 that prints what it receives.
Config: $run/nginx.conf   Log: $run/logs/error.log

A correctly signed GitHub webhook (forwarded, 200):

  curl -i http://127.0.0.1:8080/webhooks/github \\
       -H 'X-GitHub-Event: push' \\
       -H 'X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958' \\
       -H 'X-Hub-Signature-256: sha256=$sig' \\
       --data-binary '$body'

The same request with a tampered body (rejected, 401 signature_mismatch):

  curl -i http://127.0.0.1:8080/webhooks/github \\
       -H 'X-GitHub-Event: push' \\
       -H 'X-GitHub-Delivery: 72d3162e-cc78-11e3-81ab-4c9367dc0958' \\
       -H 'X-Hub-Signature-256: sha256=$sig' \\
       --data-binary '${body/failure/success}'

Press Ctrl-C to stop.
EOF
    # Ctrl-C reaches the demo upstream too; either way, stop everything
    wait "$DEMO_UPSTREAM" || true
    stop_demo
}


case "${1:-build}" in
    build) do_build ;;
    run)   do_run ;;
    test)  do_test ;;
    test-asan) do_test_asan ;;
    fuzz)  shift
           ensure_packages clang libssl-dev libpcre2-dev libhiredis-dev \
               libjansson-dev
           "$ROOT/t/fuzz/run.sh" "$@" ;;
    bench) shift; do_bench "$@" ;;
    deb)   do_deb ;;
    -h|--help|help)
        sed -n '2,24p' "$0" | sed 's/^# \{0,1\}//' ;;
    *) die "unknown command '$1' (build, run, test, test-asan, fuzz, bench, deb)" ;;
esac
