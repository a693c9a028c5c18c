#!/usr/bin/env python3
"""The corpus sweep: `feedd parse` over every feed of ../shared/corpus,
compared with the feedparser reference by ../shared/tools/compare-parse.py.

usage: check.py --feedd BIN --shared DIR [--known TSV] [--min PCT]

Fails when feedd crashes or hangs on any file (a signal, or a batch over
its time limit), when full-file agreement with the listed known
differences counted as agreeing falls below --min, or when a listed file
agrees again (its entry is stale). Exits 77 (skipped) when the corpus is
not there. Prints both the raw agreement and the adjusted one.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

BATCH = 200
TIMEOUT = 120  # seconds per batch of 200 files


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--feedd", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--known", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "known-differences.tsv"))
    ap.add_argument("--min", type=float, default=97.0)
    args = ap.parse_args()

    corpus = os.path.join(args.shared, "corpus")
    reference = os.path.join(corpus, "reference-feedparser-6.0.10.jsonl")
    compare = os.path.join(args.shared, "tools", "compare-parse.py")
    if not (os.path.exists(reference) and os.path.exists(compare)):
        print("corpus: %s not found, skipped" % reference)
        sys.exit(77)

    files = []
    with open(reference, encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            if "n" not in o and "entries" in o:
                files.append(o["file"])

    known = {}
    with open(args.known, encoding="utf-8") as f:
        for line in f:
            if line.startswith("#") or not line.strip():
                continue
            name, reason = line.rstrip("\n").split("\t", 1)
            known[name] = reason

    tmp = tempfile.mkdtemp(prefix="feedd-corpus-")
    cand = os.path.join(tmp, "candidate.jsonl")
    failed_files = 0
    with open(cand, "w", encoding="utf-8") as out:
        for i in range(0, len(files), BATCH):
            batch = files[i:i + BATCH]
            try:
                p = subprocess.run([args.feedd, "parse"] + batch, cwd=corpus,
                                   capture_output=True, timeout=TIMEOUT,
                                   stdin=subprocess.DEVNULL)
            except subprocess.TimeoutExpired:
                sys.exit("corpus: feedd parse hung on files %d..%d"
                         % (i, i + len(batch) - 1))
            if p.returncode < 0 or p.returncode > 1:
                sys.exit("corpus: feedd parse exited %d on files %d..%d:\n%s"
                         % (p.returncode, i, i + len(batch) - 1,
                            p.stderr.decode(errors="replace")[-2000:]))
            for line in p.stdout.decode("utf-8").splitlines():
                o = json.loads(line)
                if "format" in o:
                    failed_files += o["error"] is not None
                else:
                    o["id"] = o["guid"]  # the tool pairs entries by own guid
                out.write(json.dumps(o) + "\n")

    per_file = os.path.join(tmp, "per-file.tsv")
    p = subprocess.run([sys.executable, compare, reference, cand,
                        "--per-file", per_file], capture_output=True,
                       text=True)
    if p.returncode != 0:
        sys.exit("corpus: compare-parse.py failed:\n" + p.stderr)
    rows = [l.rstrip("\n").split("\t") for l in open(per_file)][1:]
    agree = {r[0]: r[-1] == "1" for r in rows}
    n = len(agree)
    raw = sum(agree.values())
    stale = sorted(f for f in known if agree.get(f))
    missing = sorted(f for f in known if f not in agree)
    adjusted = sum(1 for f, ok in agree.items() if ok or f in known)
    disagree = sorted(f for f, ok in agree.items() if not ok and f not in known)

    print("corpus: %d files, %d with a parse error (kept what parsed)"
          % (n, failed_files))
    print("corpus: full agreement %.2f%% raw (%d files); %.2f%% counting the "
          "%d listed known differences" % (100.0 * raw / n, raw,
                                           100.0 * adjusted / n, len(known)))
    for f in disagree:
        print("corpus: disagrees: " + f)
    ok = True
    if stale:
        ok = False
        for f in stale:
            print("corpus: listed as a known difference but agrees now: " + f)
    if missing:
        ok = False
        for f in missing:
            print("corpus: listed file not in the reference: " + f)
    if 100.0 * adjusted / n < args.min:
        ok = False
        print("corpus: agreement below %.1f%%" % args.min)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
