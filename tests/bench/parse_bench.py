#!/usr/bin/env python3
"""tests/bench/parse_bench.py - how fast feedd parses, beside raw expat and
sfeed (tests/bench/README.md).

    parse_bench.py FEEDD BENCH_EXPAT_RAW CORPUS_DIR [--rounds N] [--sfeed PATH]
                   [--baseline FEEDD] [--no-each]

Six variants over every file in CORPUS_DIR:

  feedd          feedd parse FILES... > /dev/null               one process
  expat-raw      bench_expat_raw FILES...                       one process
  feedd-stream   feedd parse --chunk 16384 FILES... > /dev/null one process
  expat-stream   bench_expat_raw --chunk 16384 FILES...         one process
  sfeed          for f in FILES; do sfeed < f > /dev/null; done
  feedd-each     for f in FILES; do feedd parse f > /dev/null; done

feedd and expat-raw read each file whole and parse it in one call, as
`feedd parse` does; the -stream pair hands it over 16 KiB at a time, as
the daemon gets a body from curl.

One warm-up pass (not counted) fills the page cache and checks that every
variant succeeds on every file. Then N rounds (default 5); in each round
every variant runs once, in an order rotated from round to round, so that
noise from a shared machine falls on all of them alike. Per variant it
reports the median wall time (time.perf_counter) and the median CPU time
(user + sys of the children, from getrusage), each also as MB/s of input,
and the ratios feedd/expat-raw and feedd-stream/expat-stream (one process
each) and feedd-each/sfeed (one process per file each) as throughput
ratios: 0.5 means half as fast.

--baseline FEEDD adds the pair base and base-stream: another build of
feedd (say, of the main branch) measured in the same rounds, so that what
a change costs is read off one run. --no-each leaves out the variants
that start a process per file (the slowest to run).
"""

import argparse
import os
import resource
import shlex
import shutil
import statistics
import subprocess
import sys
import time

def per_file(argv_prefix, stdin_file):
    """A shell loop running argv_prefix once per file; the file on stdin
    when stdin_file, else as the last argument. Both per-file variants go
    through sh so that starting a process costs them the same. Fails when
    any run did."""
    cmd = " ".join(shlex.quote(a) for a in argv_prefix)
    if stdin_file:
        body = cmd + ' < "$f" > /dev/null || st=1'
    else:
        body = cmd + ' "$f" > /dev/null || st=1'
    return ["sh", "-c", "st=0; for f; do %s; done; exit $st" % body, "sh"]


def run(argv, files):
    """Runs argv + files with stdout to /dev/null; returns (wall, cpu,
    returncode, stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    p = subprocess.run(argv + files, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + \
          (after.ru_stime - before.ru_stime)
    return wall, cpu, p.returncode, p.stderr.decode(errors="replace")


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("feedd")
    ap.add_argument("expat_raw")
    ap.add_argument("corpus")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--sfeed", default=shutil.which("sfeed"),
                    help="the sfeed binary (default: sfeed on PATH)")
    ap.add_argument("--baseline", help="another feedd to measure beside")
    ap.add_argument("--no-each", action="store_true",
                    help="leave out sfeed and feedd-each")
    args = ap.parse_args()
    if args.rounds < 1:
        ap.error("--rounds must be at least 1")

    files = sorted(os.path.join(args.corpus, n)
                   for n in os.listdir(args.corpus)
                   if os.path.isfile(os.path.join(args.corpus, n)))
    if not files:
        ap.error("%s: no files" % args.corpus)
    total = sum(os.path.getsize(f) for f in files)
    feedd = os.path.abspath(args.feedd)
    expat = os.path.abspath(args.expat_raw)

    variants = [
        ("feedd", [feedd, "parse"]),
        ("expat-raw", [expat]),
        ("feedd-stream", [feedd, "parse", "--chunk", "16384"]),
        ("expat-stream", [expat, "--chunk", "16384"]),
        ("feedd-each", per_file([feedd, "parse"], False)),
    ]
    if args.baseline:
        base = os.path.abspath(args.baseline)
        variants[4:4] = [("base", [base, "parse"]),
                         ("base-stream", [base, "parse", "--chunk", "16384"])]
    if args.no_each:
        variants = [v for v in variants if v[0] != "feedd-each"]
        args.sfeed = None
    elif args.sfeed:
        variants.insert(4, ("sfeed", per_file([args.sfeed], True)))
    else:
        print("sfeed not found (apt-get install sfeed): skipped",
              file=sys.stderr)

    print("corpus: %d files, %.1f MB in %s" % (len(files), total / 1e6,
                                               args.corpus))
    print("load average before: %.2f %.2f %.2f" % os.getloadavg())

    # Warm-up: the page cache, and proof that each variant parses all.
    for name, argv in variants:
        _, _, rc, err = run(argv, files)
        if rc != 0:
            print("%s failed (exit %d) on the corpus; its time would mean "
                  "nothing:\n%s" % (name, rc, err[-2000:]), file=sys.stderr)
            return 1

    wall = {name: [] for name, _ in variants}
    cpu = {name: [] for name, _ in variants}
    for r in range(args.rounds):
        order = variants[r % len(variants):] + variants[:r % len(variants)]
        for name, argv in order:
            w, c, rc, err = run(argv, files)
            if rc != 0:
                print("%s failed (exit %d) in round %d:\n%s" % (
                    name, rc, r + 1, err[-2000:]), file=sys.stderr)
                return 1
            wall[name].append(w)
            cpu[name].append(c)
        print("round %d/%d: %s" % (r + 1, args.rounds, "  ".join(
            "%s %.2fs" % (n, wall[n][-1]) for n, _ in variants)),
            flush=True)
    print("load average after:  %.2f %.2f %.2f" % os.getloadavg())

    mb = total / 1e6
    med_w = {n: statistics.median(v) for n, v in wall.items()}
    med_c = {n: statistics.median(v) for n, v in cpu.items()}
    print()
    print("%-13s %9s %9s %9s %9s %9s  (median of %d; wall min..max)" % (
        "variant", "wall s", "wall MB/s", "cpu s", "cpu MB/s", "spread",
        args.rounds))
    for n, _ in variants:
        spread = (max(wall[n]) - min(wall[n])) / med_w[n] * 100
        print("%-13s %9.3f %9.1f %9.3f %9.1f %8.0f%%" % (
            n, med_w[n], mb / med_w[n], med_c[n], mb / med_c[n], spread))

    def ratio(a, b):
        if a not in med_w or b not in med_w:
            return
        print("%-26s wall %.2f   cpu %.2f" % (
            "%s/%s" % (a, b), med_w[b] / med_w[a], med_c[b] / med_c[a]))

    print()
    print("throughput ratios (1.00 = as fast; 0.50 = half as fast):")
    ratio("feedd", "expat-raw")
    ratio("feedd-stream", "expat-stream")
    ratio("base", "expat-raw")
    ratio("base-stream", "expat-stream")
    ratio("feedd-each", "sfeed")
    ratio("feedd", "sfeed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
