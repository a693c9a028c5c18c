#!/bin/sh
# tests/fuzz/seed.sh - copies the shared corpus's feed files into one flat
# scratch directory, the seed corpus for fuzz_parse (tests/fuzz/README.md).
#
#   tests/fuzz/seed.sh [CORPUS [DEST]]
#
# CORPUS defaults to ../shared/corpus beside the checkout, DEST to
# /tmp/feedd-fuzz-seed. Names are flattened: feedparser/tests/x/y.xml
# becomes feedparser_tests_x_y.xml. DEST is emptied first and must lie
# outside the repository: the corpus is not ours to commit.
set -eu

top=$(cd "$(dirname "$0")/../.." && pwd)
corpus=${1:-$top/../shared/corpus}
dest=${2:-/tmp/feedd-fuzz-seed}

if [ ! -d "$corpus" ]; then
    echo "seed.sh: $corpus: no such directory" >&2
    exit 1
fi
corpus=$(cd "$corpus" && pwd)
dest=$(realpath -m "$dest")
case "$dest/" in
"$top"/*)
    echo "seed.sh: $dest is inside the repository; pick a scratch directory" >&2
    exit 1
    ;;
esac

mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 -type f -delete
cd "$corpus"
find . -type f \( -name '*.xml' -o -name '*.rss' -o -name '*.atom' \
    -o -name '*.rdf' -o -name '*.json' \) | sed 's|^\./||' |
    while IFS= read -r f; do
        cp "$f" "$dest/$(printf '%s' "$f" | tr '/' '_')"
    done
echo "seed.sh: $(find "$dest" -type f | wc -l) files in $dest"
