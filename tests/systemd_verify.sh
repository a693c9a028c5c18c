#!/bin/sh
# usage: systemd_verify.sh CMAKE BUILD_DIR
# `systemd-analyze verify` on feedd.service and feedd.socket as
# `cmake --install` writes them, installed under a temporary prefix (and
# without /etc/feedd/feedd.conf) so that ExecStart= names a binary that is
# there and the man pages of Documentation= are found. Fails on any message,
# not only on the exit status: verify reports a bad setting and goes on.
# Exits 77 (skipped) when systemd-analyze is not installed.
set -u
cmake=$1
build=$2
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "systemd-analyze is not installed: skipped"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! "$cmake" -DCMAKE_INSTALL_PREFIX="$tmp/usr" -DFEEDD_INSTALL_CONFIG=OFF \
        -P "$build/cmake_install.cmake" >"$tmp/install.log" 2>&1; then
    cat "$tmp/install.log"
    exit 1
fi
units="$tmp/usr/lib/systemd/system"
man=yes
command -v man >/dev/null 2>&1 || man=no
MANPATH="$tmp/usr/share/man" systemd-analyze verify --man="$man" \
    "$units/feedd.service" "$units/feedd.socket" >"$tmp/out" 2>&1
rc=$?
cat "$tmp/out"
if [ "$rc" -ne 0 ] || [ -s "$tmp/out" ]; then
    echo "systemd-analyze verify: status $rc"
    exit 1
fi
echo "systemd-analyze verify: feedd.service and feedd.socket pass"
