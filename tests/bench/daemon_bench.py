#!/usr/bin/env python3
"""tests/bench/daemon_bench.py - what a whole poll costs feedd, beside a
minimal libuv + curl multi + expat program (tests/bench/README.md).

    daemon_bench.py FEEDD BENCH_FETCH_RAW [--corpus DIR] [--rounds N]
                    [--tiny DIR] [--scale N,...] [--startup-feeds N]
                    [--no-pairs] [--no-strace] [--keep]

Serves CORPUS with nginx on a loopback port of its own (a temporary
prefix, stopped by pid at the end). The default CORPUS,
/tmp/feedd-daemon-corpus2, is issue 10's: gen_corpus.py --daemon (2,000
feeds, 60% RSS 2.0, 30% Atom 1.0, 10% RSS 1.0, 20-100 entries each, about
360 MB), made when missing and made again when its stamp names other
arguments or another gen_corpus.py; a CORPUS of feeds with no stamp is
used as it is. It measures, in N rounds (default 5) whose order rotates:

  feedd-cold   feedd poll --once with an empty store (parallel 50,
               per_host 50)
  raw-cold     bench_fetch_raw --parallel 50 --per-host 50 on the same
               URLs, saving each URL's ETag and Last-Modified to a file
               (--save-validators)
  feedd-304    feedd poll --once again on the store just filled: every
               feed answers 304
  raw-304      bench_fetch_raw --parallel 50 --per-host 50 --validators
               FILE, a process of its own: one round, conditional, with
               the validators raw-cold saved; every feed answers 304

All four are whole processes: wall is time.perf_counter around the
process, cpu user + sys from wait4(), rss the peak RSS (GNU time's when
installed, else wait4()'s). Each also times its round alone: feedd's
from poll --once's last line, raw's from the program's round line.
It prints the medians, the ratios feedd/raw of the whole processes, then
those of the rounds alone and, for the unchanged poll, feedd's whole
process over raw's round alone: the ratio judged before raw-304 was a
process of its own, except that the round then reused the connections
of the round before it and now opens its own. Then the count of fsync
and fdatasync calls of one cold poll (strace -c -f, a run of its own).

--scale N,... (default 10000,100000; "" for none) then polls N tiny feeds
(10 entries each, written under --tiny, default /tmp/feedd-daemon-tiny,
deleted at the end unless --keep) on the one host, cold and then
unchanged, and checks that every feed was polled once, that no warning
was logged and that feedd exited 0. For the largest N up to
--startup-feeds (default 100000) it also times `feedd run` from its start
to its "serving" line with the state of that poll present, and reads its
RSS idle (interval 1h), against the same with 10 feeds.

Last comes a markdown table of issue 10's targets: each with its limit,
what was measured and whether it is met ("not run" for what the options
left out).
"""

import argparse
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "gen_corpus.py")
CORPUS = "/tmp/feedd-daemon-corpus2"
TIME = shutil.which("time", path="/usr/bin:/bin")  # GNU time, for peak RSS
ENV = dict(os.environ)
ENV.pop("FEEDD_DEBUG", None)
ENV.pop("JOURNAL_STREAM", None)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Nginx:
    """nginx serving root on 127.0.0.1:port, in a prefix of its own."""

    def __init__(self, root, prefix):
        self.port = free_port()
        self.prefix = prefix
        conf = os.path.join(prefix, "nginx.conf")
        user = "user root;\n" if os.geteuid() == 0 else ""
        with open(conf, "w") as f:
            f.write(
                "%sworker_processes 1;\ndaemon off;\npid %s/nginx.pid;\n"
                "error_log %s/error.log;\n"
                "events { worker_connections 4096; }\n"
                "http {\n access_log off;\n"
                " client_body_temp_path %s/body;\n"
                " proxy_temp_path %s/proxy;\n"
                " fastcgi_temp_path %s/fastcgi;\n"
                " uwsgi_temp_path %s/uwsgi;\n"
                " scgi_temp_path %s/scgi;\n"
                " keepalive_requests 1000000;\n"
                " types { application/xml xml; }\n"
                " server {\n  listen 127.0.0.1:%d;\n  root %s;\n }\n}\n"
                % ((user, prefix, prefix) + (prefix,) * 5 +
                   (self.port, root)))
        self.proc = subprocess.Popen(
            [shutil.which("nginx") or "/usr/sbin/nginx", "-p", prefix,
             "-c", conf], stdin=subprocess.DEVNULL)
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.05)
        self.stop()
        sys.exit("nginx did not start: see %s/error.log" % prefix)

    def stop(self):
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGQUIT)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()


class PyServer:
    """Python's own static file server on 127.0.0.1 (Last-Modified and
    304 on If-Modified-Since), for the smoke run where nginx is not
    installed."""

    def __init__(self, root):
        import functools
        import http.server

        class Quiet(http.server.SimpleHTTPRequestHandler):
            def log_message(self, *a):
                pass

        handler = functools.partial(Quiet, directory=root)
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0),
                                                     handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def measure(argv, log=None):
    """Runs argv; returns dict(wall, cpu, rss MiB, rc, out). cpu is from
    wait4(), the peak RSS from GNU time when it is installed: a child
    keeps the peak of the memory it had before its exec, and a child of
    this process, a copy of it, would show at least this process's RSS
    (about 17 MiB), hiding any smaller peak."""
    err = open(log, "w") if log else subprocess.DEVNULL
    env = ENV
    if log:
        # feedd prefixes each line with its priority when stderr is the
        # stream JOURNAL_STREAM names, as under systemd: the log file.
        st = os.fstat(err.fileno())
        env = dict(ENV, JOURNAL_STREAM="%d:%d" % (st.st_dev, st.st_ino))
    rss_file = None
    if TIME:
        fd, rss_file = tempfile.mkstemp(prefix="feedd-bench-rss-")
        os.close(fd)
        argv = [TIME, "-f", "%M", "-o", rss_file] + list(argv)
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err,
                         stdin=subprocess.DEVNULL, env=env)
    out = p.stdout.read().decode(errors="replace")
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if log:
        err.close()
    rss = ru.ru_maxrss / 1024.0
    if rss_file:
        # Its last line: "Command exited with non-zero status N" may
        # come before.
        with open(rss_file) as f:
            last = (f.read().split() or ["0"])[-1]
        os.unlink(rss_file)
        rss = int(last) / 1024.0 if last.isdigit() else rss
    return {"wall": wall, "cpu": ru.ru_utime + ru.ru_stime, "rss": rss,
            "rc": p.returncode, "out": out}


def write_config(path, state_dir, feeds, interval=None):
    with open(path, "w") as f:
        f.write("state_dir %s\nlisten 127.0.0.1:%d\nparallel 50\n"
                "per_host 50\n" % (state_dir, free_port()))
        if interval:
            f.write("interval %s\n" % interval)
        for name, url in feeds:
            f.write("feed %s %s\n" % (name, url))


def read_log(path):
    """(warning lines, names of feeds that logged new entries, the round's
    seconds from poll --once's last line or None)."""
    warnings, polled, rnd = [], set(), None
    with open(path, errors="replace") as f:
        for line in f:
            if line.startswith(("<0>", "<1>", "<2>", "<3>", "<4>")):
                warnings.append(line.rstrip())
            m = re.match(r"<\d>(\S+): \d+ new, ", line)
            if m:
                polled.add(m.group(1))
            m = re.match(r"<\d>poll: \d+ feeds in (\S+) s:", line)
            if m:
                rnd = float(m.group(1))
    return warnings, polled, rnd


def feedd_poll(feedd, conf, log, check_new=None):
    r = measure([feedd, "poll", "-c", conf, "--once"], log)
    warnings, polled, r["round"] = read_log(log)
    if r["rc"] != 0 or warnings or \
            (check_new is not None and len(polled) != check_new):
        print("feedd poll failed: exit %d, %d warnings, %s feeds with new "
              "entries; first warnings:\n  %s" % (
                  r["rc"], len(warnings), len(polled),
                  "\n  ".join(warnings[:5])), file=sys.stderr)
        r["bad"] = True
    r["warnings"], r["polled"] = len(warnings), len(polled)
    return r


def raw_round(out, n):
    m = re.search(r"round %d wall (\S+) cpu (\S+) ok (\d+) failed (\d+) "
                  r"not_modified (\d+) entries (\d+)" % n, out)
    return {"wall": float(m.group(1)), "cpu": float(m.group(2)),
            "ok": int(m.group(3)), "failed": int(m.group(4)),
            "not_modified": int(m.group(5)), "entries": int(m.group(6))}


def pairs(args, feedd, raw, nginx, tmp):
    names = sorted(n for n in os.listdir(args.corpus) if n.endswith(".xml"))
    base = "http://127.0.0.1:%d/" % nginx.port
    urls = os.path.join(tmp, "urls")
    with open(urls, "w") as f:
        f.write("".join(base + n + "\n" for n in names))
    state = os.path.join(tmp, "state")
    conf = os.path.join(tmp, "feedd.conf")
    write_config(conf, state, [("f%04d" % i, base + n)
                               for i, n in enumerate(names)])
    rawargv = [raw, "--parallel", "50", "--per-host", "50"]
    validators = os.path.join(tmp, "validators")
    log = os.path.join(tmp, "feedd.log")

    def feedd_pair():
        shutil.rmtree(state, ignore_errors=True)
        cold = feedd_poll(feedd, conf, log, check_new=len(names))
        warm = feedd_poll(feedd, conf, log)
        if warm["polled"]:
            print("unchanged poll stored new entries for %d feeds" %
                  warm["polled"], file=sys.stderr)
        return {"feedd-cold": cold, "feedd-304": warm}

    def raw_pair():
        cold = measure(rawargv + ["--save-validators", validators, urls])
        warm = measure(rawargv + ["--validators", validators, urls])
        r1 = raw_round(cold["out"], 1)
        r2 = raw_round(warm["out"], 1)
        if cold["rc"] or warm["rc"] or r1["failed"] or r2["failed"] or \
                r2["not_modified"] != len(names):
            # A yardstick that fetched less, or not conditionally, makes
            # the ratio meaningless.
            print("raw failed: exit %d / %d, %s / %s" % (
                cold["rc"], warm["rc"], r1, r2), file=sys.stderr)
            warm["bad"] = True
        cold["entries"] = r1["entries"]
        cold["round"] = r1["wall"]
        warm["round"] = r2["wall"]
        return {"raw-cold": cold, "raw-304": warm}

    res = {k: [] for k in ("feedd-cold", "raw-cold", "feedd-304", "raw-304")}
    # One warm-up pair fills the page cache and checks both.
    feedd_pair()
    entries = raw_pair()["raw-cold"]["entries"]
    print("corpus: %d feeds, %.1f MB, %d entries in %s" % (
        len(names), sum(os.path.getsize(os.path.join(args.corpus, n))
                        for n in names) / 1e6, entries, args.corpus))
    for rnd in range(args.rounds):
        order = [feedd_pair, raw_pair]
        if rnd % 2:
            order.reverse()
        for fn in order:
            for k, v in fn().items():
                res[k].append(v)
        print("round %d done" % (rnd + 1), file=sys.stderr)

    med = {k: {m: statistics.median(r[m] for r in v)
               for m in ("wall", "cpu", "rss")} for k, v in res.items()}
    med["bad"] = any(r.get("bad") for v in res.values() for r in v)
    med["feeds"] = len(names)
    print("\n| run | wall s | cpu s | peak RSS MiB (min-max) | spread |")
    print("|---|---|---|---|---|")
    for k, v in res.items():
        walls = [r["wall"] for r in v]
        rss = [r["rss"] for r in v]
        print("| %s | %.3f | %.3f | %.1f (%.1f-%.1f) | %.0f%% |" % (
            k, med[k]["wall"], med[k]["cpu"], med[k]["rss"], min(rss),
            max(rss), 100 * (max(walls) - min(walls)) /
            max(med[k]["wall"], 1e-9)))
    print("\n| ratio feedd/raw | wall | cpu | peak RSS |")
    print("|---|---|---|---|")
    for a, b in (("feedd-cold", "raw-cold"), ("feedd-304", "raw-304")):
        print("| %s / %s | %s | %s | %s |" % ((a, b) + tuple(
            "%.2f" % (med[a][m] / med[b][m]) if med[b][m] > 0 else "-"
            for m in ("wall", "cpu", "rss"))))
    print("(whole processes, each: exec, start-up, the round, exit)")
    rounds = {k: [r["round"] for r in v if r.get("round") is not None]
              for k, v in res.items()}
    if all(rounds.values()):
        print("\nRound alone (feedd: poll --once's own line, from its first "
              "poll's start to its last commit; raw: the program's round "
              "line; both without exec, start-up and exit):\n")
        print("| round | feedd s | raw s | ratio |")
        print("|---|---|---|---|")
        for a, b in (("feedd-cold", "raw-cold"), ("feedd-304", "raw-304")):
            fa = statistics.median(rounds[a])
            fb = statistics.median(rounds[b])
            med[a]["round"] = fa
            med[b]["round"] = fb
            print("| %s / %s | %.3f | %.3f | %.2f |" % (a, b, fa, fb,
                                                         fa / fb))
        a, b = med["feedd-304"], med["raw-304"]
        print("\nfeedd-304 whole / raw-304 round alone (as judged before "
              "raw-304 was a process of its own, but on new connections): "
              "%.2f (%.3f s / %.3f s)" %
              (a["wall"] / b["round"], a["wall"], b["round"]))
    if not args.no_strace and shutil.which("strace"):
        shutil.rmtree(state, ignore_errors=True)
        out = os.path.join(tmp, "strace")
        subprocess.run(["strace", "-c", "-f", "-o", out, "-e",
                        "trace=fsync,fdatasync", feedd, "poll", "-c", conf,
                        "--once"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, env=ENV)
        calls = {}
        with open(out) as f:
            for line in f:
                w = line.split()
                if w and w[-1] in ("fsync", "fdatasync"):
                    calls[w[-1]] = int(w[3])
        print("\ncold poll of %d feeds: %d fdatasync, %d fsync" % (
            len(names), calls.get("fdatasync", 0), calls.get("fsync", 0)))
    shutil.rmtree(state, ignore_errors=True)
    return med


TINY = (
    '<?xml version="1.0" encoding="UTF-8"?>\n<rss version="2.0"><channel>'
    "<title>Tiny %(n)d</title><link>https://t%(n)d.example/</link>"
    "<description>tiny feed %(n)d</description>\n%(items)s"
    "</channel></rss>\n")
TINY_ITEM = (
    "<item><title>Entry %(k)d of feed %(n)d</title>"
    "<link>https://t%(n)d.example/%(k)d</link>"
    "<guid>https://t%(n)d.example/%(k)d</guid>"
    "<pubDate>Mon, %(d)02d Nov 2026 10:%(k)02d:00 GMT</pubDate>"
    "<description>Entry %(k)d of a tiny feed, number %(n)d.</description>"
    "</item>\n")


def make_tiny(root, n):
    """Tiny feeds 0..n-1 as root/NNN/tNNNNNN.xml (kept when there)."""
    for i in range(n):
        d = os.path.join(root, "%03d" % (i // 1000))
        path = os.path.join(d, "t%06d.xml" % i)
        if os.path.exists(path):
            continue
        os.makedirs(d, exist_ok=True)
        items = "".join(TINY_ITEM % {"k": k, "n": i, "d": 1 + k}
                        for k in range(10))
        with open(path, "w") as f:
            f.write(TINY % {"n": i, "items": items})


def tiny_feeds(port, n):
    return [("t%06d" % i, "http://127.0.0.1:%d/tiny/%03d/t%06d.xml" % (
        port, i // 1000, i)) for i in range(n)]


def cpu_of(pid):
    """user + sys seconds of a running process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        w = f.read().rsplit(")", 1)[1].split()
    return (int(w[11]) + int(w[12])) / os.sysconf("SC_CLK_TCK")


def run_until_serving(feedd, conf, log):
    """Starts feedd run; returns (process, seconds to its serving line)."""
    f = open(log, "w")
    t0 = time.perf_counter()
    p = subprocess.Popen([feedd, "run", "-c", conf], stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                         env=ENV)
    for line in p.stderr:
        f.write(line.decode(errors="replace"))
        if b"serving http" in line:
            break
    took = time.perf_counter() - t0
    p.cpu_at_serving = cpu_of(p.pid)
    f.close()
    # Keep reading so that feedd never blocks on a full pipe.
    p.log = open(log, "a", buffering=1)  # line by line: callers read it
    t = threading.Thread(target=lambda: [p.log.write(l.decode(
        errors="replace")) for l in p.stderr], daemon=True)
    t.start()
    return p, took


def idle_rss(p, settle):
    """VmRSS of p in MiB once its CPU time has stood still for settle s."""
    last, since = cpu_of(p.pid), time.monotonic()
    while time.monotonic() - since < settle:
        time.sleep(0.5)
        now = cpu_of(p.pid)
        if now != last:
            last, since = now, time.monotonic()
    with open("/proc/%d/status" % p.pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return 0.0


def stop(p):
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(60)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()


def scale(args, feedd, tmp, sizes, warm2000):
    os.makedirs(args.tiny, exist_ok=True)
    t0 = time.perf_counter()
    make_tiny(args.tiny, max(sizes))
    print("\ntiny corpus: %d feeds in %s (%.0f s)" % (
        max(sizes), args.tiny, time.perf_counter() - t0), file=sys.stderr)
    link = os.path.join(tmp, "root")
    os.makedirs(link, exist_ok=True)
    os.symlink(args.tiny, os.path.join(link, "tiny"))
    nginx = Nginx(link, tempfile.mkdtemp(prefix="nginx-", dir=tmp))
    try:
        print("\n| feeds | cold wall s | cold cpu s | cold RSS MiB | "
              "polled | warnings | exit | 304 wall s | 304 cpu s |")
        print("|---|---|---|---|---|---|---|---|---|")
        startup = None
        res = {"polls": {}}
        for n in sizes:
            state = os.path.join(tmp, "state-%d" % n)
            conf = os.path.join(tmp, "tiny-%d.conf" % n)
            log = os.path.join(tmp, "tiny-%d.log" % n)
            feeds = tiny_feeds(nginx.port, n)
            write_config(conf, state, feeds, "1h")
            cold = feedd_poll(feedd, conf, log, check_new=n)
            warm = feedd_poll(feedd, conf, log + ".304")
            res["polls"][n] = (cold, warm)
            print("| %d | %.2f | %.2f | %.1f | %d | %d | %d | %.2f | %.2f |" % (
                n, cold["wall"], cold["cpu"], cold["rss"], cold["polled"],
                cold["warnings"], cold["rc"], warm["wall"], warm["cpu"]))
            sys.stdout.flush()
            if n == 10000 and warm2000:
                print("(unchanged poll at 10,000 / at 2,000: wall %.2f, "
                      "cpu %.2f)" % (warm["wall"] / warm2000["wall"],
                                     warm["cpu"] / warm2000["cpu"]))
            if n <= args.startup_feeds:
                startup = (n, conf, state)
        if startup:
            n, conf, state = startup
            base_state = os.path.join(tmp, "state-10")
            base_conf = os.path.join(tmp, "tiny-10.conf")
            write_config(base_conf, base_state, tiny_feeds(nginx.port, 10),
                         "1h")
            feedd_poll(feedd, base_conf, os.path.join(tmp, "tiny-10.log"))
            rss = {10: [], n: []}
            took, cpu = [], []
            for _ in range(3):
                for k, c in ((10, base_conf), (n, conf)):
                    p, t = run_until_serving(
                        feedd, c, os.path.join(tmp, "run-%d.log" % k))
                    if k == n:
                        took.append(t)
                        cpu.append(p.cpu_at_serving)
                    rss[k].append(idle_rss(p, 3.0))
                    stop(p)
            r10, rn = statistics.median(rss[10]), statistics.median(rss[n])
            res["startup"] = {"feeds": n, "took": statistics.median(took),
                              "per_feed": (rn - r10) * 1048576 / (n - 10)}
            print("\nfeedd run with %d feeds and their state: serving after "
                  "%.3f s (median of 3; %.3f-%.3f), %.2f s of CPU; idle "
                  "RSS %.1f MiB against %.1f MiB with 10 feeds (%.0f bytes "
                  "per feed)" % (
                      n, statistics.median(took), min(took), max(took),
                      statistics.median(cpu), rn,
                      r10, (rn - r10) * 1048576 / (n - 10)))
    finally:
        nginx.stop()
    return res


def summary(med, scaled):
    """The table of issue 10's targets: each with what was measured and
    whether it is met. med: the pairs' medians or None; scaled: what
    scale() returned or None."""
    rows = []

    def row(what, limit, measured, ok):
        rows.append((what, limit, measured,
                     "not run" if ok is None else ok if isinstance(ok, str)
                     else "met" if ok else "**not met**"))

    if med:
        cold, raw = med["feedd-cold"], med["raw-cold"]
        r = cold["wall"] / raw["wall"]
        row("cold poll, %s feeds (wall, feedd / raw-cold)" % format(
            med["feeds"], ","), "at most 1.3x",
            "%.2fx (%.2f s / %.2f s)%s" % (
                r, cold["wall"], raw["wall"],
                "; the round alone %.2fx" % (cold["round"] / raw["round"])
                if cold.get("round") and raw.get("round") else ""),
            r <= 1.3 and not med["bad"])
        row("cold poll peak RSS (parallel 50)", "at most 32 MiB",
            "%.1f MiB (raw-cold %.1f MiB)" % (cold["rss"], raw["rss"]),
            cold["rss"] <= 32)
        warm, raw = med["feedd-304"], med["raw-304"]
        r = warm["wall"] / raw["wall"] if raw["wall"] > 0 else float("inf")
        row("unchanged poll, all 304 (wall, feedd / raw-304)",
            "at most 1.5x",
            "%.2fx (%.3f s / %.3f s)%s" % (
                r, warm["wall"], raw["wall"],
                "; the round alone %.2fx (%.3f s / %.3f s); feedd whole / "
                "raw's round alone %.2fx" % (
                    warm["round"] / raw["round"], warm["round"],
                    raw["round"], warm["wall"] / raw["round"])
                if warm.get("round") and raw.get("round") else ""),
            r <= 1.5 and not med["bad"])
    else:
        row("cold poll, 2,000 feeds (wall, feedd / raw-cold)", "at most 1.3x",
            "-", None)
        row("cold poll peak RSS (parallel 50)", "at most 32 MiB", "-", None)
        row("unchanged poll, all 304 (wall, feedd / raw-304)",
            "at most 1.5x", "-", None)
    polls = (scaled or {}).get("polls", {})
    if med and 10000 in polls:
        warm = polls[10000][1]
        r = warm["wall"] / med["feedd-304"]["wall"]
        row("unchanged poll at 10,000 feeds vs at %s (wall)" % format(
            med["feeds"], ","), "at most 6x (linear: 5x)",
            "%.2fx (%.2f s / %.2f s; cpu %.2fx)" % (
                r, warm["wall"], med["feedd-304"]["wall"],
                warm["cpu"] / max(med["feedd-304"]["cpu"], 1e-9)),
            r <= 6 and not warm.get("bad"))
    else:
        row("unchanged poll at 10,000 feeds vs at 2,000 (wall)",
            "at most 6x (linear: 5x)", "-", None)
    up = (scaled or {}).get("startup")
    small = "not judged (fewer than 100,000 feeds)"
    if up:
        row("start-up, %s feeds, %s entries (to serving)" % (
            format(up["feeds"], ","), format(10 * up["feeds"], ",")),
            "under 1 s at 100,000 feeds, 1M entries", "%.3f s" % up["took"],
            up["took"] < 1 if up["feeds"] >= 100000 else small)
        row("feedd run idle, RSS per feed beyond 10 feeds", "at most 1 KiB",
            "%.0f bytes" % up["per_feed"],
            up["per_feed"] <= 1024 if up["feeds"] >= 100000 else small)
    else:
        row("start-up, 100,000 feeds, 1M entries (to serving)", "under 1 s",
            "-", None)
        row("feedd run idle, RSS per feed beyond 10 feeds", "at most 1 KiB",
            "-", None)
    if 100000 in polls:
        cold = polls[100000][0]
        row("cold poll of 100,000 feeds on one host", "every feed polled "
            "once, no error", "%d polled, %d warnings, exit %d" % (
                cold["polled"], cold["warnings"], cold["rc"]),
            not cold.get("bad"))
    else:
        row("cold poll of 100,000 feeds on one host", "every feed polled "
            "once, no error", "-", None)
    print("\n## Targets (issue 10)\n")
    print("| target | limit | measured | met |")
    print("|---|---|---|---|")
    for r in rows:
        print("| %s | %s | %s | %s |" % r)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("feedd")
    ap.add_argument("raw")
    ap.add_argument("--corpus", default=CORPUS)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--tiny", default="/tmp/feedd-daemon-tiny")
    ap.add_argument("--scale", default="10000,100000")
    ap.add_argument("--startup-feeds", type=int, default=100000)
    ap.add_argument("--no-pairs", action="store_true")
    ap.add_argument("--no-strace", action="store_true")
    ap.add_argument("--keep", action="store_true",
                    help="keep the tiny corpus and the temporary folder")
    ap.add_argument("--smoke", action="store_true",
                    help="a few feeds, one round, served by nginx or else "
                    "by Python: that the suite still works (ctest)")
    args = ap.parse_args()
    have_nginx = shutil.which("nginx") is not None or os.path.exists(
        "/usr/sbin/nginx")
    smoke_dir = None
    if args.smoke:
        smoke_dir = tempfile.mkdtemp(prefix="feedd-bench-smoke-")
        args.corpus = os.path.join(smoke_dir, "corpus")
        args.rounds, args.scale, args.no_strace = 1, "", True
        subprocess.run([sys.executable, GEN, "--daemon", args.corpus,
                        "--files", "10", "--total-mb", "2"],
                       check=True, stdout=subprocess.DEVNULL)
    elif not have_nginx:
        ap.error("nginx not found (apt-get install nginx-light)")
    sizes = [int(s) for s in args.scale.split(",") if s]
    feedd, raw = os.path.abspath(args.feedd), os.path.abspath(args.raw)
    # The suite's corpus is made, or made again when its stamp says it
    # came from other arguments or another gen_corpus.py; a folder of
    # feeds with no stamp is used as it is.
    if not smoke_dir and (args.corpus == CORPUS or
                          not os.path.isdir(args.corpus) or
                          not os.listdir(args.corpus) or
                          os.path.exists(os.path.join(args.corpus,
                                                      "gen_corpus.stamp"))):
        subprocess.run([sys.executable, GEN, "--daemon", "--reuse",
                        args.corpus], check=True)
    args.corpus = os.path.abspath(args.corpus)
    tmp = tempfile.mkdtemp(prefix="feedd-daemon-bench-")
    med = scaled = None
    try:
        if not args.no_pairs:
            if have_nginx:
                nginx = Nginx(args.corpus, tempfile.mkdtemp(prefix="nginx-",
                                                            dir=tmp))
            else:
                nginx = PyServer(args.corpus)
            try:
                med = pairs(args, feedd, raw, nginx, tmp)
            finally:
                nginx.stop()
        if sizes:
            scaled = scale(args, feedd, tmp, sizes, med and med["feedd-304"])
        summary(med, scaled)
    finally:
        if args.keep:
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
            if sizes:
                shutil.rmtree(args.tiny, ignore_errors=True)
        if smoke_dir:
            shutil.rmtree(smoke_dir, ignore_errors=True)
    return 1 if med and med.get("bad") else 0


if __name__ == "__main__":
    sys.exit(main())
