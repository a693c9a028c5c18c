#!/usr/bin/env python3
"""tests/bench/server_bench.py - how feedd's reader-facing server holds,
beside nginx serving the same file (tests/bench/README.md).

    server_bench.py FEEDD [--corpus DIR] [--feeds N] [--rounds N]
                    [--seconds S] [--keep] [--smoke]

Needs wrk (Debian's wrk) and, but for --smoke, nginx (nginx-light). The
feeds come from CORPUS (default /tmp/feedd-daemon-corpus2, issue 10's,
made by gen_corpus.py --daemon when missing), served by nginx on a
loopback port of its own. It measures:

  keep-alive   wrk, 50 keep-alive connections, S seconds (default 5) on
               /feed.atom: feedd run serving the output of a poll of the
               first N feeds (default 200), and nginx serving the same
               file from disk (one worker), alternating, R rounds
               (default 5): median requests/s and the ratio
  1000 conns   wrk with 1,000 connections on feedd: every error wrk
               counts (connect, read, write, timeout, non-2xx)
  cold poll    feedd run starting with an empty store on every feed of
               CORPUS while four readers (keep-alive, each asking ten
               times a second) fetch /feed.atom, from the start to the
               end of the poll: the 99th percentile of their latency
  flood        one client opens connections from 127.0.0.1 without end
               (and sends nothing) while a second client on 127.0.0.2
               fetches /feed.atom 20 times: each of those must be
               answered, and how slow the slowest was

Last comes a markdown table of issue 12's server targets with what was
measured and whether it is met. --smoke: a few feeds, short runs, no
nginx: that the suite still works; it measures nothing.
"""

import argparse
import http.client
import os
import re
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import daemon_bench as db  # noqa: E402  (Nginx, run_until_serving, ...)


def raise_nofile():
    """Lets this process (and wrk, its child) hold many sockets."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = hard if hard != resource.RLIM_INFINITY else 65536
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(want, 65536), hard))


def wrk(url, conns, seconds, threads=1):
    """Runs wrk; its requests/s, latency percentiles (ms) and errors."""
    out = subprocess.run(
        ["wrk", "-t%d" % threads, "-c%d" % conns, "-d%ds" % seconds,
         "--latency", "--timeout", "5s", url],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, check=True,
        text=True).stdout
    r = {"out": out, "errors": 0, "pct": {}}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    r["rps"] = float(m.group(1)) if m else 0.0
    m = re.search(r"(\d+) requests in", out)
    r["requests"] = int(m.group(1)) if m else 0
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", out)
    if m:
        r["errors"] += sum(int(g) for g in m.groups())
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    if m:
        r["errors"] += int(m.group(1))
    for pct, val, unit in re.findall(r"^\s+(\d+)%\s+([\d.]+)(us|ms|s)\b",
                                     out, re.M):
        scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]
        r["pct"][int(pct)] = float(val) * scale
    return r


def serving_port(conf):
    with open(conf) as f:
        return int(re.search(r"^listen 127\.0\.0\.1:(\d+)$", f.read(),
                             re.M).group(1))


def feeds_of(corpus, port, n=None):
    names = sorted(f for f in os.listdir(corpus) if f.endswith(".xml"))
    if n:
        names = names[:n]
    return [("f%d" % i, "http://127.0.0.1:%d/%s" % (port, name))
            for i, name in enumerate(names)]


def get_ok(url, source, timeout=5):
    """One GET from the address source; (ok, seconds)."""
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    path = url.split(port, 1)[1]
    t0 = time.perf_counter()
    try:
        s = socket.create_connection((host, int(port)), timeout,
                                     source_address=(source, 0))
        s.sendall(b"GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n"
                  % (path.encode(), host.encode()))
        data = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
        s.close()
        return data.startswith(b"HTTP/1.1 200"), time.perf_counter() - t0
    except OSError:
        return False, time.perf_counter() - t0


def flood(url, seconds):
    """Connections from 127.0.0.1 without end, none sending a byte, while
    a second client on 127.0.0.2 asks 20 times; (answered, slowest s,
    connections the flood held)."""
    host, port = re.match(r"http://([^:/]+):(\d+)", url).groups()
    stop = threading.Event()
    held = []

    def opener():
        while not stop.is_set():
            try:
                s = socket.socket()
                s.settimeout(1)
                s.connect((host, int(port)))
                held.append(s)
            except OSError:
                time.sleep(0.01)
            # Connections the server closed are opened again.
            if len(held) > 3000:
                held.pop(0).close()

    t = threading.Thread(target=opener, daemon=True)
    t.start()
    time.sleep(min(2.0, seconds))
    results = []
    for _ in range(20):
        results.append(get_ok(url, "127.0.0.2"))
        time.sleep(seconds / 40.0)
    stop.set()
    t.join()
    n = len(held)
    for s in held:
        s.close()
    return (sum(1 for ok, _ in results if ok),
            max(t for _, t in results), n)


def write_config(path, state, feeds, max_items=None):
    db.write_config(path, state, feeds, interval="1h")
    if max_items:
        with open(path, "a") as f:
            f.write("max_items %d\n" % max_items)


def keep_alive(args, feedd, tmp, source_port, nginx_ok):
    """Fills a store, then wrk on feedd and on nginx alternately."""
    state = os.path.join(tmp, "ka-state")
    conf = os.path.join(tmp, "ka.conf")
    write_config(conf, state, feeds_of(args.corpus, source_port, args.feeds))
    subprocess.run([feedd, "poll", "-c", conf, "--once"], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                   env=db.ENV)
    public = os.path.join(state, "public")
    size = os.path.getsize(os.path.join(public, "feed.atom"))
    p, _ = db.run_until_serving(feedd, conf, os.path.join(tmp, "ka.log"))
    res = {"size": size, "feedd": [], "nginx": []}
    nginx = None
    try:
        url = "http://127.0.0.1:%d/feed.atom" % serving_port(conf)
        if nginx_ok:
            nginx = db.Nginx(public, tempfile.mkdtemp(prefix="ngx-", dir=tmp))
            nurl = "http://127.0.0.1:%d/feed.atom" % nginx.port
            with urllib.request.urlopen(nurl) as a, \
                    urllib.request.urlopen(url) as b:
                if a.read() != b.read():
                    sys.exit("nginx and feedd serve other bytes")
        wrk(url, 50, 1)  # warm-up
        for r in range(args.rounds):
            order = [("feedd", url)]
            if nginx:
                order.append(("nginx", nurl))
            if r % 2:
                order.reverse()
            for name, u in order:
                res[name].append(wrk(u, 50, args.seconds))
        res["c1000"] = wrk(url, 1000, args.seconds, threads=2)
        res["flood"] = flood(url, args.seconds)
    finally:
        if nginx:
            nginx.stop()
        db.stop(p)
    return res


def reader(url, stop, out, period):
    """A reader on one keep-alive connection, asking every period s;
    appends (seconds, ok) per request to out."""
    host, port, path = re.match(r"http://([^:/]+):(\d+)(/.*)", url).groups()
    conn = None
    while not stop.is_set():
        t0 = time.perf_counter()
        try:
            if conn is None:
                conn = http.client.HTTPConnection(host, int(port), timeout=10)
            conn.request("GET", path)
            r = conn.getresponse()
            r.read()
            ok = r.status == 200
        except (OSError, http.client.HTTPException):
            ok = False
            conn.close()
            conn = None
        took = time.perf_counter() - t0
        out.append((took, ok))
        time.sleep(max(0.0, period - took))
    if conn is not None:
        conn.close()


def polled(log, names):
    """How many of the feeds named have logged the end of a poll."""
    done = set()
    with open(log, errors="replace") as f:
        for line in f:
            m = re.match(r"(f\d+): \d+ new", line)
            if m and m.group(1) in names:
                done.add(m.group(1))
    return len(done)


def cold(args, feedd, tmp, source_port):
    """Readers' latency on /feed.atom while feedd run polls CORPUS with an
    empty store: 4 readers, each asking 10 times a second, from the
    daemon's start to the end of its first poll of every feed."""
    state = os.path.join(tmp, "cold-state")
    conf = os.path.join(tmp, "cold.conf")
    feeds = feeds_of(args.corpus, source_port,
                     args.feeds if args.smoke else None)
    names = {name for name, _ in feeds}
    write_config(conf, state, feeds)
    log = os.path.join(tmp, "cold.log")
    p, _ = db.run_until_serving(feedd, conf, log)
    stop, lat = threading.Event(), []
    try:
        url = "http://127.0.0.1:%d/feed.atom" % serving_port(conf)
        threads = [threading.Thread(target=reader, args=(url, stop, lat, 0.1))
                   for _ in range(4)]
        t0 = time.perf_counter()
        for t in threads:
            t.start()
        while polled(log, names) < len(names) and \
                time.perf_counter() - t0 < 300:
            time.sleep(0.2)
        took = time.perf_counter() - t0
        stop.set()
        for t in threads:
            t.join()
        n = polled(log, names)
    finally:
        stop.set()
        db.stop(p)
    times = sorted(t for t, _ in lat)
    return {"feeds": len(feeds), "polled": n, "poll_s": took,
            "requests": len(lat), "errors": sum(1 for _, ok in lat if not ok),
            "p99": times[min(len(times) - 1, int(len(times) * 0.99))] * 1000
            if times else None,
            "max": times[-1] * 1000 if times else None}


def table(ka, cold_r):
    med = {k: statistics.median(x["rps"] for x in ka[k])
           for k in ("feedd", "nginx") if ka[k]}
    rows = []
    if "nginx" in med:
        ratio = med["feedd"] / med["nginx"]
        rows.append(("/feed.atom, 50 keep-alive connections / nginx",
                     ">= 0.8x",
                     "%.2fx (%.0f / %.0f req/s, %d rounds)" % (
                         ratio, med["feedd"], med["nginx"], len(ka["feedd"])),
                     ratio >= 0.8))
    c = ka["c1000"]
    if c["errors"]:
        print(c["out"], file=sys.stderr)
    rows.append(("1,000 connections", "no errors",
                 "%d errors in %d requests" % (c["errors"], c["requests"]),
                 c["errors"] == 0 and c["requests"] > 0))
    p99 = cold_r["p99"]
    rows.append(("p99 of a reader's request during a cold poll of %d feeds"
                 % cold_r["feeds"], "<= 50 ms",
                 "%.1f ms, max %.1f ms (%d requests, %d errors; %d feeds "
                 "polled in %.1f s)" % (
                     p99 or -1, cold_r["max"] or -1, cold_r["requests"],
                     cold_r["errors"], cold_r["polled"], cold_r["poll_s"]),
                 p99 is not None and p99 <= 50 and cold_r["errors"] == 0 and
                 cold_r["polled"] == cold_r["feeds"]))
    ok, slow, held = ka["flood"]
    rows.append(("a second client beside a connection flood",
                 "kept in", "%d/20 answered, slowest %.0f ms (flood held %d)"
                 % (ok, slow * 1000, held), ok == 20))
    print("\nfeed.atom: %d bytes\n" % ka["size"])
    print("| target | limit | measured | met |\n|---|---|---|---|")
    for what, limit, got, met in rows:
        print("| %s | %s | %s | %s |" % (what, limit, got,
                                          "yes" if met else "no"))
    return all(met for *_, met in rows)


def main():
    ap = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("feedd")
    ap.add_argument("--corpus", default=db.CORPUS)
    ap.add_argument("--feeds", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    if shutil.which("wrk") is None:
        ap.error("wrk not found (apt-get install wrk)")
    nginx_ok = shutil.which("nginx") is not None or os.path.exists(
        "/usr/sbin/nginx")
    if not nginx_ok and not args.smoke:
        ap.error("nginx not found (apt-get install nginx-light)")
    raise_nofile()
    smoke_dir = None
    if args.smoke:
        smoke_dir = tempfile.mkdtemp(prefix="feedd-server-smoke-")
        args.corpus = os.path.join(smoke_dir, "corpus")
        args.feeds, args.rounds, args.seconds = 6, 1, 1
        subprocess.run([sys.executable, db.GEN, "--daemon", args.corpus,
                        "--files", "6", "--total-mb", "1"],
                       check=True, stdout=subprocess.DEVNULL)
    else:
        if args.corpus == db.CORPUS or not os.path.isdir(args.corpus):
            subprocess.run([sys.executable, db.GEN, "--daemon", "--reuse",
                            args.corpus], check=True)
    feedd = os.path.abspath(args.feedd)
    tmp = tempfile.mkdtemp(prefix="feedd-server-bench-")
    try:
        if nginx_ok:
            source = db.Nginx(args.corpus, tempfile.mkdtemp(prefix="src-",
                                                           dir=tmp))
        else:
            source = db.PyServer(args.corpus)
        try:
            ka = keep_alive(args, feedd, tmp, source.port,
                            nginx_ok and not args.smoke)
            cold_r = cold(args, feedd, tmp, source.port)
        finally:
            source.stop()
        met = table(ka, cold_r)
    finally:
        if args.keep:
            print("kept %s" % tmp, file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
        if smoke_dir:
            shutil.rmtree(smoke_dir, ignore_errors=True)
    if args.smoke:
        # The smoke run checks that everything ran and answered, not the
        # numbers of a loaded machine.
        bad = ka["c1000"]["requests"] == 0 or ka["flood"][0] == 0 or \
            cold_r["requests"] == 0
        return 1 if bad else 0
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
