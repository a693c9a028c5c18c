#!/usr/bin/env python3
"""The corpus sweep: `feedd parse` over every feed of ../shared/corpus,
compared field by field with the feedparser reference, by the rules of
../shared/tools/compare-parse.py (its functions are loaded and used here, so
that both agree on what agreeing means).

usage: check.py --feedd BIN --shared DIR [--known TSV] [--update]

For every file the fields that disagree are found:
  count      feedd has another number of entries than the reference
  link, title, published
             a reference entry paired with one of feedd's (by guid, then in
             order) differs in that field
and each (file, field) must be listed in known-differences.tsv with the
reason. Fails (exit 1), one line per problem, when
  - a disagreement is not listed (NEW: file field: feedd VALUE, reference
    VALUE),
  - a listed disagreement no longer occurs (STALE: the entry must go),
  - a listed file is not in the reference,
  - feedd crashes, exits above 1, hangs, or a sanitizer reports.
Exits 77 (skipped) when the corpus is not there. --update prints the new
disagreements as TSV lines with the reason "TODO", to be written by hand.
"""
import argparse
import importlib.util
import json
import os
import subprocess
import sys

BATCH = 500    # files per feedd process
TIMEOUT = 300  # seconds per batch, generous for sanitizer builds
FIELDS = ("count", "link", "title", "published")
SHOW = 70      # characters of a value shown in a message


def load_compare(path):
    """compare-parse.py as a module (its name has a '-')."""
    spec = importlib.util.spec_from_file_location("compare_parse", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def load_known(path):
    """{(file, field): reason}; exits on a malformed line."""
    known = {}
    with open(path, encoding="utf-8") as f:
        for no, line in enumerate(f, 1):
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if (len(parts) != 3 or parts[1] not in FIELDS or
                    not parts[2].strip()):
                sys.exit("%s:%d: want FILE<TAB>FIELD<TAB>REASON, FIELD one "
                         "of %s" % (path, no, ", ".join(FIELDS)))
            key = (parts[0], parts[1])
            if key in known:
                sys.exit("%s:%d: %s %s listed twice" % (path, no, *key))
            known[key] = parts[2]
    return known


def run_feedd(feedd, corpus, files):
    """{file: [entry, ...]} as `feedd parse` gives them, with "id" set to
    the entry's own guid (the reference pairs entries by it), and the
    number of files with a parse error."""
    out = {f: [] for f in files}
    failed = 0
    for i in range(0, len(files), BATCH):
        batch = files[i:i + BATCH]
        try:
            p = subprocess.run([feedd, "parse"] + batch, cwd=corpus,
                               capture_output=True, timeout=TIMEOUT,
                               stdin=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            sys.exit("corpus: feedd parse hung on files %d..%d (%s ...)"
                     % (i, i + len(batch) - 1, batch[0]))
        err = p.stderr.decode(errors="replace")
        # A sanitizer report exits 1, as a parse error does: look for it.
        if (p.returncode < 0 or p.returncode > 1 or "Sanitizer" in err or
                "runtime error:" in err):
            sys.exit("corpus: feedd parse exited %d on files %d..%d:\n%s"
                     % (p.returncode, i, i + len(batch) - 1, err[-4000:]))
        for line in p.stdout.decode("utf-8").splitlines():
            o = json.loads(line)
            if "format" in o:
                failed += o["error"] is not None
            else:
                o["id"] = o["guid"]
                out.setdefault(o["file"], []).append(o)
    return out, failed


def short(v):
    s = json.dumps(v, ensure_ascii=False)
    return s if len(s) <= SHOW else s[:SHOW - 3] + "..."


def differences(cmp, ref_entries, ref_count, cand):
    """{field: "feedd X, reference Y"} for the fields of one file that
    disagree; the first disagreeing entry of each field is shown."""
    diff = {}
    if len(cand) != ref_count:
        diff["count"] = "feedd %d entries, reference %d" % (len(cand),
                                                            ref_count)
    rules = (("link", cmp.norm_link), ("title", cmp.norm_text),
             ("published", cmp.norm_date))
    for k, (r, c) in enumerate(cmp.pair_entries(ref_entries, cand, "auto")):
        if c is None:
            continue  # counted under "count"
        for field, norm in rules:
            if field not in diff and norm(r.get(field)) != norm(c.get(field)):
                diff[field] = ("entry %d: feedd %s, reference %s"
                               % (k + 1, short(c.get(field)),
                                  short(r.get(field))))
    return diff


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--feedd", required=True)
    ap.add_argument("--shared", required=True)
    ap.add_argument("--known", default=os.path.join(os.path.dirname(
        os.path.abspath(__file__)), "known-differences.tsv"))
    ap.add_argument("--update", action="store_true")
    args = ap.parse_args()

    corpus = os.path.join(args.shared, "corpus")
    reference = os.path.join(corpus, "reference-feedparser-6.0.10.jsonl")
    compare = os.path.join(args.shared, "tools", "compare-parse.py")
    if not (os.path.exists(reference) and os.path.exists(compare)):
        print("corpus: %s not found, skipped" % reference)
        sys.exit(77)

    cmp = load_compare(compare)
    ref = cmp.load(reference)
    known = load_known(args.known)
    files = [f for f, r in ref.items() if r["fileline"] is not None]
    cand, failed = run_feedd(os.path.abspath(args.feedd), corpus, files)

    found = {}
    for f in files:
        r = ref[f]
        count = r["fileline"].get("entries", len(r["entries"]))
        for field, why in differences(cmp, r["entries"], count,
                                      cand[f]).items():
            found[(f, field)] = why

    new = sorted(k for k in found if k not in known)
    stale = sorted(k for k in known if k not in found and k[0] in ref)
    missing = sorted({k[0] for k in known if k[0] not in ref})
    bad_files = {k[0] for k in found}
    print("corpus: %d files, %d with a parse error (kept what parsed); "
          "%d agree fully, %d differ in %d fields, %d listed"
          % (len(files), failed, len(files) - len(bad_files),
             len(bad_files), len(found), len(known)))
    for k in new:
        print("corpus: NEW %s %s: %s" % (k[0], k[1], found[k]))
    for k in stale:
        print("corpus: STALE %s %s: agrees now, remove it from %s"
              % (k[0], k[1], os.path.basename(args.known)))
    for f in missing:
        print("corpus: MISSING %s: listed but not in the reference" % f)
    if args.update:
        for k in new:
            print("%s\t%s\tTODO" % k)
    if new or stale or missing:
        print("corpus: FAILED: %d new, %d stale, %d missing (see %s)"
              % (len(new), len(stale), len(missing), args.known))
        sys.exit(1)
    print("corpus: every difference is listed and every listed one occurs")


if __name__ == "__main__":
    main()
