#!/bin/sh
# tests/fuzz/seed.sh - makes the seed corpus for fuzz_parse
# (tests/fuzz/README.md) in one flat scratch directory: the shared corpus's
# feed files, the committed seeds (tests/fixtures/parse, tests/fuzz/seeds),
# and three hostile documents of several MB (issue 8: a title of 1,000,000
# "&lt;a", a title of 2,000,000 "&amp;", a 6 MB feed with three CDATA
# titles of 2,000,000 "&") that must parse in linear time.
#
#   tests/fuzz/seed.sh [CORPUS [DEST]]
#   tests/fuzz/seed.sh -H [DEST]      the hostile documents only
#
# CORPUS defaults to ../shared/corpus beside the checkout, DEST to
# /tmp/feedd-fuzz-seed. Names are flattened: feedparser/tests/x/y.xml
# becomes feedparser_tests_x_y.xml. DEST is emptied first and must lie
# outside the repository: the corpus is not ours to commit, and the
# hostile documents are 5 to 10 MB each.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
hostile_only=0
if [ "${1:-}" = "-H" ]; then
    hostile_only=1
    shift
    corpus=
    dest=${1:-/tmp/feedd-fuzz-seed}
else
    corpus=${1:-$top/../shared/corpus}
    dest=${2:-/tmp/feedd-fuzz-seed}
    if [ ! -d "$corpus" ]; then
        echo "seed.sh: $corpus: no such directory" >&2
        exit 1
    fi
    corpus=$(cd "$corpus" && pwd)
fi
dest=$(realpath -m "$dest")
case "$dest/" in
"$top"/*)
    echo "seed.sh: $dest is inside the repository; pick a scratch directory" >&2
    exit 1
    ;;
esac

mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 -type f -delete

# repeat TEXT N: TEXT N times, no newline.
repeat() {
    yes "$1" | head -n "$2" | tr -d '\n'
}

rss_open='<?xml version="1.0"?><rss version="2.0"><channel><title>h</title>'
{
    printf '%s<item><title>' "$rss_open"
    repeat '&lt;a' 1000000
    printf '</title></item></channel></rss>\n'
} >"$dest/hostile-title-lt-a.xml"
{
    printf '%s<item><title>' "$rss_open"
    repeat '&amp;' 2000000
    printf '</title></item></channel></rss>\n'
} >"$dest/hostile-title-amp.xml"
{
    printf '%s' "$rss_open"
    for i in 1 2 3; do
        printf '<item><guid>%s</guid><title><![CDATA[' "$i"
        repeat '&' 2000000
        printf ']]></title></item>'
    done
    printf '</channel></rss>\n'
} >"$dest/hostile-cdata-amp.xml"

if [ "$hostile_only" = 0 ]; then
    for d in "$top/tests/fixtures/parse" "$top/tests/fuzz/seeds"; do
        for f in "$d"/*; do
            case "$f" in *.expected) continue ;; esac
            cp "$f" "$dest/project_$(basename "$f")"
        done
    done
    cd "$corpus"
    find . -type f \( -name '*.xml' -o -name '*.rss' -o -name '*.atom' \
        -o -name '*.rdf' -o -name '*.json' \) | sed 's|^\./||' |
        while IFS= read -r f; do
            cp "$f" "$dest/$(printf '%s' "$f" | tr '/' '_')"
        done
fi
echo "seed.sh: $(find "$dest" -type f | wc -l) files in $dest"
