#!/bin/sh
# usage: man_check.sh PAGE
# Renders a man page as `man -l` does, with groff's warnings on, and fails
# on anything written to standard error. Exits 77 (skipped) without man.
set -u
if ! command -v man >/dev/null 2>&1; then
    echo "man is not installed: skipped"
    exit 77
fi
err=$(MANWIDTH=80 man --warnings -E UTF-8 -l "$1" 2>&1 >/dev/null)
rc=$?
if [ "$rc" -ne 0 ] || [ -n "$err" ]; then
    printf '%s\n' "$err"
    echo "$1: man -l: status $rc"
    exit 1
fi
echo "$1: renders without warnings"
