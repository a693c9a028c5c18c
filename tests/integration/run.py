#!/usr/bin/env python3
"""Integration tests: the real feedd binary against real local HTTP servers.

usage: run.py --feedd BIN --examples DIR TEST

Each TEST is a function below named test_TEST. Servers listen on 127.0.0.1
only, are started by the test itself and stopped before it returns; every
feedd process is stopped by its pid. A test fails by raising (exit 1).
"""
import argparse
import calendar
import email.utils
import fcntl
import glob
import gzip
import http.server
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

ATOM = "{http://www.w3.org/2005/Atom}"
ARGS = None


# ---- a scripted HTTP server ------------------------------------------------

class Route:
    """What the server answers at one path: status, body, headers; an ETag
    makes it answer If-None-Match with 304, a Last-Modified (an HTTP date)
    If-Modified-Since with that date likewise. A gate (a threading.Event)
    holds each answer until the test sets it."""

    def __init__(self, body=b"", status=200, ctype="application/rss+xml",
                 etag=None, headers=None, delay=0, last_modified=None,
                 gate=None):
        self.body = body if isinstance(body, bytes) else body.encode()
        self.delay = delay
        self.gate = gate
        self.status = status
        self.ctype = ctype
        self.etag = etag
        self.last_modified = last_modified
        self.headers = headers or {}


class FeedServer:
    def __init__(self):
        self.routes = {}
        self.requests = []  # (path, headers) in arrival order
        self.arrivals = []  # (path, time.monotonic()) likewise
        self.ends = []  # (path, time.monotonic()) of drip routes' ends
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_GET(self):
                server.requests.append((self.path, dict(self.headers)))
                server.arrivals.append((self.path, time.monotonic()))
                r = server.routes.get(self.path)
                if r is None:
                    self.send_error(404)
                    return
                time.sleep(r.delay)
                if getattr(r, "gate", None) is not None:
                    r.gate.wait(30)
                if getattr(r, "drip", 0):
                    # A body without a length, a little every half second
                    # for drip seconds; when it ended is kept.
                    self.send_response(200)
                    self.send_header("Content-Type", r.ctype)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    try:
                        self.wfile.write(r.body)
                        self.wfile.flush()
                        for _ in range(int(r.drip * 2)):
                            time.sleep(0.5)
                            self.wfile.write(b" " * 200)
                            self.wfile.flush()
                        self.wfile.write(b"</channel></rss>")
                        self.wfile.flush()
                    except OSError:
                        pass
                    server.ends.append((self.path, time.monotonic()))
                    self.close_connection = True
                    return
                if getattr(r, "endless", False):
                    # A body without end (no length, never closed).
                    self.send_response(200)
                    self.send_header("Content-Type", r.ctype)
                    self.end_headers()
                    try:
                        self.wfile.write(r.body)
                        while True:
                            self.wfile.write(b" " * 65536)
                    except OSError:
                        pass
                    return
                if (r.etag and self.headers.get("If-None-Match") == r.etag) \
                        or (r.last_modified and not r.etag and self.headers.get(
                            "If-Modified-Since") == r.last_modified):
                    self.send_response(304)
                    if r.etag:
                        self.send_header("ETag", r.etag)
                    self.end_headers()
                    return
                self.send_response(r.status)
                self.send_header("Content-Type", r.ctype)
                self.send_header("Content-Length", str(len(r.body)))
                if r.etag:
                    self.send_header("ETag", r.etag)
                if r.last_modified:
                    self.send_header("Last-Modified", r.last_modified)
                for k, v in r.headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(r.body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       daemon=True)
        self.thread.start()

    def url(self, path):
        return "http://127.0.0.1:%d%s" % (self.port, path)

    def hits(self, path):
        return [h for p, h in self.requests if p == path]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


# ---- helpers ---------------------------------------------------------------

def check(cond, what):
    if not cond:
        raise AssertionError(what)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def feedd(*args, timeout=30):
    """Runs feedd to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run([ARGS.feedd] + list(args), capture_output=True,
                       text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr


def feedd_peak(*args, timeout=30):
    """feedd(*args) and the peak of its resident memory in KiB, read from
    /proc while it runs (VmHWM only grows: the last reading is the
    peak, unless it grew in the last 20 ms of its life); None for a
    build with AddressSanitizer, whose shadow memory says nothing of
    feedd's own."""
    p = subprocess.Popen([ARGS.feedd] + list(args), stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    peak = [0]

    def watch():
        while p.poll() is None:
            try:
                with open("/proc/%d/status" % p.pid) as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            peak[0] = max(peak[0], int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
    t = threading.Thread(target=watch, daemon=True)
    t.start()
    out, err = p.communicate(timeout=timeout)
    t.join()
    with open(ARGS.feedd, "rb") as f:
        asan = b"libasan.so" in f.read()
    return p.returncode, out, err, None if asan else peak[0]


def rss(title, items):
    """An RSS 2.0 document; items are (guid, link, title, pubDate)."""
    out = ['<?xml version="1.0"?>\n<rss version="2.0"><channel>'
           '<title>%s</title><link>https://example.com/</link>' % title]
    for guid, link, t, date in items:
        out.append("<item>")
        if guid:
            out.append('<guid isPermaLink="false">%s</guid>' % guid)
        if link:
            out.append("<link>%s</link>" % link)
        out.append("<title>%s</title>" % t)
        if date:
            out.append("<pubDate>%s</pubDate>" % date)
        out.append("</item>")
    out.append("</channel></rss>\n")
    return "".join(out)


def read_atom(path):
    """The entries of a merged feed.atom as dicts, in document order."""
    root = ET.parse(path).getroot()
    check(root.tag == ATOM + "feed", "%s is not an Atom feed" % path)
    entries = []
    for e in root.findall(ATOM + "entry"):
        link = e.find(ATOM + "link")
        src = e.find(ATOM + "source")
        entries.append({
            "id": e.findtext(ATOM + "id"),
            "title": e.findtext(ATOM + "title"),
            "link": link.get("href") if link is not None else None,
            "published": e.findtext(ATOM + "published"),
            "updated": e.findtext(ATOM + "updated"),
            "source": src.findtext(ATOM + "title") if src is not None else None,
            # Every feed that carried it, in feedd's own category scheme.
            "feeds": sorted(c.get("term") for c in e.findall(ATOM + "category")
                            if c.get("scheme") == "urn:feedd:feed"),
        })
    return entries


def check_entries(entries):
    """What every merged feed must hold: unique well-formed IDs, newest
    first."""
    ids = [e["id"] for e in entries]
    check(len(ids) == len(set(ids)), "duplicate IDs in feed.atom: %s" % ids)
    for i in ids:
        check(re.fullmatch(r"urn:feedd:[0-9a-f]{16}", i or ""),
              "bad entry ID %r" % i)
    dates = [e["published"] or e["updated"] for e in entries]
    check(dates == sorted(dates, reverse=True),
          "entries are not newest first: %s" % dates)


def write_config(dirpath, lines, port=None):
    conf = os.path.join(dirpath, "feedd.conf")
    with open(conf, "w") as f:
        f.write("state_dir state\n")
        f.write("listen 127.0.0.1:%d\n" % (port or free_port()))
        f.write("title \"test river\"\n")
        for line in lines:
            f.write(line + "\n")
    return conf


def copy_demo(tmp):
    shutil.copy(os.path.join(ARGS.examples, "feedd.conf"), tmp)
    shutil.copytree(os.path.join(ARGS.examples, "feeds"),
                    os.path.join(tmp, "feeds"))
    return os.path.join(tmp, "feedd.conf")


def log_file():
    """A file for a process's stdout and stderr, read back with seek(0) and
    read() while it runs. The process shares the file's offset: the file
    is opened to append, or a line written between the seek and the read
    would land over the first lines instead of after the last."""
    f = tempfile.TemporaryFile(mode="w+")
    fcntl.fcntl(f.fileno(), fcntl.F_SETFL,
                fcntl.fcntl(f.fileno(), fcntl.F_GETFL) | os.O_APPEND)
    return f


class Daemon:
    """feedd run, in the background; stopped by its pid."""

    def __init__(self, conf, args=()):
        self.errfile = log_file()
        self.proc = subprocess.Popen([ARGS.feedd, "run", "-c", conf] +
                                     list(args),
                                     stdin=subprocess.DEVNULL,
                                     stdout=self.errfile, stderr=self.errfile)

    def log(self):
        self.errfile.seek(0)
        return self.errfile.read()

    def stop(self, sig=signal.SIGTERM, timeout=10):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError("feedd did not stop within %ds of %s"
                                 % (timeout, sig.name))


def get(url, headers=None):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def wait_for(what, fn, timeout=15):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        try:
            v = fn()
            if v:
                return v
        except (OSError, ET.ParseError):
            pass
        time.sleep(0.1)
    raise AssertionError("timed out waiting for " + what)


# ---- tests -----------------------------------------------------------------

def test_poll_once(tmp):
    """poll --once on a copy of the demo: every entry published once, the
    Moscow Times article among them; a second poll adds nothing; a slug
    edit keeps the article one entry."""
    conf = copy_demo(tmp)
    code, out, err = feedd("poll", "--once", "-c", conf)
    check(code == 0, "poll --once exited %d: %s" % (code, err))
    atom = os.path.join(tmp, "state", "public", "feed.atom")
    entries = read_atom(atom)
    check_entries(entries)
    check(len(entries) == 5, "expected 5 entries, got %d" % len(entries))
    putin = [e for e in entries if e["link"] and e["link"].endswith("-a85146")]
    check(len(putin) == 1, "the a85146 article is not there once: %s" % putin)
    p = putin[0]
    check(p["title"] == "Putin Touts Economic Ties on Final Day of China Trip",
          "title: %r" % p["title"])
    check(p["published"] == "2024-05-17T09:14:00Z",
          "published: %r" % p["published"])
    check(p["source"] == "The Moscow Times - News (demo copy)",
          "source: %r" % p["source"])
    for name in ("moscow-times", "feedd-notes", "weather"):
        check(re.search(r"^%s: \d+ new" % name, err, re.M),
              "no log line for %s: %s" % (name, err))

    # Again: nothing is new, nothing is published twice.
    code, out, err = feedd("poll", "--once", "-c", conf)
    check(code == 0, "second poll exited %d" % code)
    check(" new, " not in err, "second poll stored entries again: %s" % err)
    again = read_atom(atom)
    check([e["id"] for e in again] == [e["id"] for e in entries],
          "second poll changed the entries")

    # The publisher rewrites the headline and its slug; the article ID
    # at the end of the link stays, and so does feedd's ID.
    path = os.path.join(tmp, "feeds", "moscow-times.xml")
    with open(path) as f:
        doc = f.read()
    doc = doc.replace("putin-touts-economic-ties-on-final-day-of-china-trip-a85146",
                      "putin-wraps-up-china-visit-in-harbin-a85146")
    doc = doc.replace("Putin Touts Economic Ties on Final Day of China Trip",
                      "Putin Wraps Up China Visit in Harbin")
    with open(path, "w") as f:
        f.write(doc)
    code, out, err = feedd("poll", "--once", "-c", conf)
    check(code == 0, "third poll exited %d" % code)
    after = read_atom(atom)
    check_entries(after)
    a85146 = [e for e in after if e["link"] and e["link"].endswith("-a85146")]
    check(len(a85146) == 1, "slug edit made a second entry: %s" % a85146)
    check(a85146[0]["id"] == p["id"], "slug edit changed the ID")
    check(len(after) == 5, "expected 5 entries after the edit")


# The two stories of "Local news", for the tests that serve it.
NEWS_ITEMS = [
    ("n1", "https://news.example/2024/05/17/first-story-100001",
     "First story", "Fri, 17 May 2024 10:00:00 GMT"),
    ("n2", "https://news.example/2024/05/17/second-story-100002",
     "Second story", "Fri, 17 May 2024 11:00:00 GMT"),
]


def test_run_serves(tmp):
    """feedd run polls an HTTP feed, serves the merged feed with validators,
    answers conditional GETs with 304, and ends on SIGTERM with exit 0."""
    srv = FeedServer()
    try:
        srv.routes["/news.xml"] = Route(rss("Local news", NEWS_ITEMS),
                                        etag='"v1"')
        port = free_port()
        conf = write_config(tmp, ["interval 1h",
                                  "feed news %s" % srv.url("/news.xml")],
                            port=port)
        d = Daemon(conf)
        try:
            base = "http://127.0.0.1:%d" % port

            def has_two():
                status, headers, body = get(base + "/feed.atom")
                return status == 200 and body.count(b"<entry>") == 2 and \
                    (headers, body)
            headers, body = wait_for("two entries at /feed.atom", has_two)
            check(headers.get("Content-Type", "").startswith(
                "application/atom+xml"), "Content-Type: %s" % headers)
            etag = headers.get("ETag")
            check(etag, "no ETag")
            status, _, body2 = get(base + "/feed.atom",
                                   {"If-None-Match": etag})
            check(status == 304 and body2 == b"",
                  "conditional GET gave %d" % status)
            status, _, _ = get(base + "/healthz")
            check(status == 200, "/healthz gave %d" % status)
            status, _, _ = get(base + "/nope")
            check(status == 404, "/nope gave %d" % status)
            # What is served is what is on disk.
            with open(os.path.join(tmp, "state", "public", "feed.atom"),
                      "rb") as f:
                check(f.read() == body,
                      "served feed differs from public/feed.atom")
            check(len(srv.hits("/news.xml")) == 1,
                  "the feed was fetched %d times" % len(srv.hits("/news.xml")))
            ua = srv.hits("/news.xml")[0].get("User-Agent", "")
            check(ua.startswith("feedd/"), "User-Agent: %r" % ua)
            # SIGHUP does not end the daemon.
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(0.3)
            check(d.proc.poll() is None, "SIGHUP ended feedd")
            status, _, _ = get(base + "/healthz")
            check(status == 200, "not serving after SIGHUP")
        finally:
            code = d.stop()
        check(code == 0, "feedd run exited %d on SIGTERM: %s" % (code, d.log()))
        check("news: 2 new, 0 updated (2 in the feed)" in d.log(), d.log())
        # A restart serves the same feed at once, and leaves the file as
        # it was (the same bytes are not written again).
        atom = os.path.join(tmp, "state", "public", "feed.atom")
        mtime = os.stat(atom).st_mtime_ns
        d = Daemon(conf)
        try:
            status, _, again = wait_for("/feed.atom after a restart",
                                        lambda: get(base + "/feed.atom"))
            check(status == 200 and again == body,
                  "after a restart /feed.atom gave %d" % status)
            check(os.stat(atom).st_mtime_ns == mtime,
                  "a restart rewrote an unchanged feed.atom")
        finally:
            check(d.stop() == 0, "the restarted feedd did not exit 0")
    finally:
        srv.stop()


def test_conditional_get(tmp):
    """The second poll sends the ETag it got, or else the Last-Modified it
    got as If-Modified-Since, and a 304 is no error."""
    srv = FeedServer()
    lm = "Fri, 17 May 2024 10:30:00 GMT"
    try:
        srv.routes["/f.xml"] = Route(rss("F", [
            ("a", "https://f.example/a-200001", "A",
             "Fri, 17 May 2024 10:00:00 GMT")]), etag='"abc"')
        srv.routes["/g.xml"] = Route(rss("G", [
            ("b", "https://g.example/b-200002", "B",
             "Fri, 17 May 2024 10:00:00 GMT")]), last_modified=lm)
        conf = write_config(tmp, ["feed f %s" % srv.url("/f.xml"),
                                  "feed g %s" % srv.url("/g.xml")])
        for _ in range(2):
            code, _, err = feedd("poll", "--once", "-c", conf)
            check(code == 0, "poll exited %d: %s" % (code, err))
        hits = srv.hits("/f.xml")
        check(len(hits) == 2, "%d requests" % len(hits))
        check("If-None-Match" not in hits[0], "first request was conditional")
        check(hits[1].get("If-None-Match") == '"abc"',
              "second request: %s" % hits[1])
        hits = srv.hits("/g.xml")
        check(len(hits) == 2, "%d requests of g" % len(hits))
        check("If-Modified-Since" not in hits[0],
              "g's first request was conditional")
        check(hits[1].get("If-Modified-Since") == lm and
              "If-None-Match" not in hits[1],
              "g's second request: %s" % hits[1])
        check("poll: 2 feeds" in err and "2 not modified" in err,
              "the second poll did not count two 304s: %s" % err)
        check("error" not in err.lower(),
              "a 304 was reported as an error: %s" % err)
        check(len(read_atom(os.path.join(tmp, "state", "public",
                                         "feed.atom"))) == 2,
              "the entries are not there once each")
    finally:
        srv.stop()


def test_publish_sanitizes_once(tmp):
    """A running daemon publishes after every poll that brought something;
    each publish sanitizes only the entries new or edited since the last
    (the others' HTML is kept), and the outputs are the same as ever."""
    srv = FeedServer()
    one = ("a", "https://s.example/a-300001", "A",
           "Fri, 17 May 2024 10:00:00 GMT")
    two = ("b", "https://s.example/b-300002", "B",
           "Fri, 17 May 2024 11:00:00 GMT")
    three = ("c", "https://s.example/c-300003", "C",
             "Fri, 17 May 2024 12:00:00 GMT")
    try:
        srv.routes["/s.xml"] = Route(rss("S", [one, two]))
        port = free_port()
        conf = write_config(tmp, ["interval 1s",
                                  "feed s %s" % srv.url("/s.xml")], port)
        d = Daemon(conf, ["-v"])
        try:
            wait_for("the first publish", lambda: re.search(
                r"publish: 2 entries, 2 sanitized", d.log()))
            srv.routes["/s.xml"] = Route(rss("S", [three, one, two]))
            wait_for("the second publish", lambda: re.search(
                r"publish: 3 entries, (\d+) sanitized", d.log()))
            made = re.search(r"publish: 3 entries, (\d+) sanitized",
                             d.log()).group(1)
            check(made == "1", "the second publish sanitized %s entries, "
                  "not the one new: %s" % (made, d.log()))
            body = get("http://127.0.0.1:%d/index.html" % port)[2].decode()
            check(body.count("<article>") == 3, "the page: %s" % body)
        finally:
            check(d.stop() == 0, "feedd exited non-zero: %s" % d.log())
    finally:
        srv.stop()


def test_unchanged_poll_syncs_nothing(tmp):
    """A poll --once where every feed answers 304 changes only times: it
    writes their lines to feeds.state and syncs nothing, no fsync, no
    fdatasync (seen with strace; skipped without it). The poll that
    stored the entries did sync."""
    strace = shutil.which("strace")
    if strace is None:
        print("skip: no strace")
        sys.exit(77)
    srv = FeedServer()
    out = os.path.join(tmp, "strace.out")

    # LeakSanitizer cannot run under ptrace (a sanitizer build).
    env = dict(os.environ)
    env["ASAN_OPTIONS"] = (env.get("ASAN_OPTIONS", "") +
                           ":detect_leaks=0").lstrip(":")

    def traced(conf):
        """(exit code, stderr, the sync calls strace saw)."""
        p = subprocess.run([strace, "-f", "-o", out, "-e",
                            "trace=fsync,fdatasync,syncfs,sync,"
                            "sync_file_range", ARGS.feedd, "poll", "--once",
                            "-c", conf], capture_output=True, text=True,
                           timeout=60, stdin=subprocess.DEVNULL, env=env)
        if not os.path.exists(out) and "ptrace" in p.stderr:
            print("skip: strace cannot trace here: %s" % p.stderr.strip())
            sys.exit(77)
        with open(out) as f:
            calls = [line.strip() for line in f
                     if re.search(r"\b(f?sync|fdatasync|syncfs|"
                                  r"sync_file_range)\(", line)]
        os.unlink(out)
        return p.returncode, p.stderr, calls
    try:
        for name in ("a", "b"):
            srv.routes["/%s.xml" % name] = Route(rss(name.upper(), [
                (name + "1", "https://%s.example/%s-400001" % (name, name),
                 "One", "Fri, 17 May 2024 10:00:00 GMT")]),
                etag='"%s1"' % name)
        conf = write_config(tmp, ["feed a %s" % srv.url("/a.xml"),
                                  "feed b %s" % srv.url("/b.xml")])
        code, err, calls = traced(conf)
        check(code == 0, "first poll exited %d: %s" % (code, err))
        check(calls, "the poll that stored entries synced nothing")
        state = os.path.join(tmp, "state", "feeds.state")
        size = os.path.getsize(state)
        time.sleep(1.1)  # times are in seconds: let them change
        code, err, calls = traced(conf)
        check(code == 0 and "0 fetched, 2 not modified" in err,
              "second poll exited %d: %s" % (code, err))
        check(calls == [], "an all-304 poll --once synced: %s" % calls)
        check(os.path.getsize(state) > size,
              "the all-304 poll did not write the feeds' times")
    finally:
        srv.stop()


def test_publish_unchanged(tmp):
    """A poll that brings nothing new leaves public/feed.atom as it is,
    without making it again; but it is made again whenever what it would
    hold differs from what it holds: another title, a file that is gone,
    or entries committed by a run that stopped before it published."""
    srv = FeedServer()
    try:
        srv.routes["/f.xml"] = Route(rss("F", [
            ("a", "https://f.example/a-300001", "A",
             "Fri, 17 May 2024 10:00:00 GMT")]), etag='"v1"')
        port = free_port()
        lines = ["feed f %s" % srv.url("/f.xml")]
        conf = write_config(tmp, lines, port)
        public = os.path.join(tmp, "state", "public")
        atom = os.path.join(public, "feed.atom")

        def poll(what):
            code, _, err = feedd("poll", "--once", "-c", conf)
            check(code == 0, "%s: poll exited %d: %s" % (what, code, err))

        def titles():
            return sorted(e["title"] for e in read_atom(atom))

        poll("first")
        check(titles() == ["A"], "first: %s" % titles())
        with open(atom, "rb") as f:
            first = f.read()

        # All 304: feed.atom is not made again; bytes feedd would not
        # write (its title changed by hand, same length) stay, which
        # shows it.
        check(first.count(b">test river<") == 1, "no title in feed.atom")
        by_hand = first.replace(b">test river<", b">TEST RIVER<")
        with open(atom, "wb") as f:
            f.write(by_hand)
        poll("unchanged")
        with open(atom, "rb") as f:
            check(f.read() == by_hand, "an unchanged poll made feed.atom again")

        # Another title: made again, though every feed answers 304.
        with open(conf) as f:
            text = f.read()
        with open(conf, "w") as f:
            f.write(text.replace('title "test river"', 'title "other river"'))
        poll("new title")
        root = ET.parse(atom).getroot()
        check(root.findtext(ATOM + "title") == "other river",
              "the new title is not published")
        check(titles() == ["A"], "new title: %s" % titles())

        # Gone: made again.
        os.unlink(atom)
        poll("gone")
        check(titles() == ["A"], "after its removal: %s" % titles())

        # A run that committed B and stopped before it published (kill
        # -9 within the publish delay) leaves the feed.atom of before B:
        # the next poll publishes B, though nothing is new to it.
        saved = {n: open(os.path.join(public, n), "rb").read()
                 for n in os.listdir(public)}
        srv.routes["/f.xml"] = Route(rss("F", [
            ("a", "https://f.example/a-300001", "A",
             "Fri, 17 May 2024 10:00:00 GMT"),
            ("b", "https://f.example/b-300002", "B",
             "Fri, 17 May 2024 11:00:00 GMT")]), etag='"v2"')
        poll("B")
        check(titles() == ["A", "B"], "B: %s" % titles())
        for n in os.listdir(public):
            os.unlink(os.path.join(public, n))
        for n, data in saved.items():
            with open(os.path.join(public, n), "wb") as f:
                f.write(data)
        check(titles() == ["A"], "the feed.atom of before B is not back")
        poll("after B")
        check(titles() == ["A", "B"], "B is not published: %s" % titles())
        check(len(srv.hits("/f.xml")) == 6, "%d requests" %
              len(srv.hits("/f.xml")))
    finally:
        srv.stop()


def test_redirect(tmp):
    """A feed that moved: relative links, in <link> and in the HTML of
    the description, resolve against where the feed is now, not the URL
    in the config."""
    srv = FeedServer()
    try:
        srv.routes["/old.xml"] = Route(
            "moved", status=301,
            headers={"Location": srv.url("/new/feed.xml")})
        srv.routes["/new/feed.xml"] = Route(
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Moved'
            '</title><item><title>Post</title>'
            '<link>2024/05/post-a85146</link>'
            '<description>&lt;p&gt;&lt;img src="img/a.png"&gt; '
            '&lt;a href="/about"&gt;about&lt;/a&gt;&lt;/p&gt;</description>'
            '</item></channel></rss>')
        conf = write_config(tmp, ["feed moved %s" % srv.url("/old.xml")])
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "poll exited %d: %s" % (code, err))
        path = os.path.join(tmp, "state", "public", "feed.atom")
        entries = read_atom(path)
        check(len(entries) == 1, "%d entries" % len(entries))
        check(entries[0]["link"] == srv.url("/new/2024/05/post-a85146"),
              "link %s" % entries[0]["link"])
        root = ET.parse(path).getroot()
        html = "".join(e.text or "" for e in root.iter()
                       if e.tag in (ATOM + "content", ATOM + "summary"))
        check('src="%s"' % srv.url("/new/img/a.png") in html,
              "relative image not resolved: %r" % html)
        check('href="%s"' % srv.url("/about") in html,
              "root-relative link not resolved: %r" % html)
    finally:
        srv.stop()


def test_bad_feeds(tmp):
    """A missing file, an HTTP error, malformed XML and a non-feed each get
    one line naming the feed and the cause; the good feed and the entries
    before the break are still stored and published."""
    srv = FeedServer()
    try:
        srv.routes["/good.xml"] = Route(rss("Good", [
            ("g1", "https://good.example/one-300001", "Good one",
             "Fri, 17 May 2024 10:00:00 GMT")]))
        srv.routes["/gone.xml"] = Route("gone", status=410)
        broken = rss("Broken", [
            ("b1", "https://broken.example/kept-400001", "Kept",
             "Fri, 17 May 2024 09:00:00 GMT"),
            ("b2", "https://broken.example/lost-400002", "Lost",
             "Fri, 17 May 2024 08:00:00 GMT")])
        cut = broken.index("<item>", broken.index("Kept"))
        # Cut short inside an entry: what no repair can mend.
        srv.routes["/broken.xml"] = Route(broken[:cut] + "<item><title>Lost")
        srv.routes["/page.html"] = Route("<html><body>hi</body></html>",
                                         ctype="text/html")
        conf = write_config(tmp, [
            "feed good %s" % srv.url("/good.xml"),
            "feed gone %s" % srv.url("/gone.xml"),
            "feed broken %s" % srv.url("/broken.xml"),
            "feed page %s" % srv.url("/page.html"),
            "feed missing does/not/exist.xml",
        ])
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "poll exited %d: %s" % (code, err))
        lines = err.strip().splitlines()

        def line_for(name):
            found = [l for l in lines if l.startswith(name + ": ")]
            check(len(found) == 1, "not one line for %s: %s" % (name, lines))
            return found[0]
        check("410" in line_for("gone"), line_for("gone"))
        check(re.search(r"line \d+, column \d+: no element found",
                        line_for("broken")), line_for("broken"))
        check("not a feed" in line_for("page"), line_for("page"))
        check("exist.xml" in line_for("missing") or
              "Couldn't" in line_for("missing"), line_for("missing"))
        check(line_for("good") == "good: 1 new, 0 updated (1 in the feed)",
              line_for("good"))
        titles = sorted(e["title"] for e in
                        read_atom(os.path.join(tmp, "state", "public",
                                               "feed.atom")))
        check(titles == ["Good one", "Kept"], "published: %s" % titles)
    finally:
        srv.stop()


def test_bad_config(tmp):
    """A bad config: every error as FILE:LINE, a non-zero exit, nothing
    started."""
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("interval 15x\n"
                "feed ok https://example.com/feed\n"
                "bogus setting\n"
                "feed ok https://example.com/other\n")
    code, out, err = feedd("check", "-c", conf)
    check(code != 0, "check accepted a bad config")
    errs = [l for l in err.splitlines() if l]
    check(len(errs) == 3, "expected 3 errors, got: %s" % errs)
    for n, l in zip((1, 3, 4), errs):
        check(l.startswith("%s:%d: " % (conf, n)), "not FILE:%d: %s" % (n, l))
    code, _, err2 = feedd("poll", "--once", "-c", conf)
    check(code != 0, "poll --once ran with a bad config")
    check(not os.path.exists(os.path.join(tmp, "state")),
          "a bad config still created the store")
    code, out, _ = feedd("check", "-c", os.path.join(ARGS.examples,
                                                     "feedd.conf"))
    check(code == 0 and "configuration OK" in out, "the demo config is bad")
    # What run refuses, check refuses first (issue 9): a listen host name.
    with open(conf, "w") as f:
        f.write("listen example.com:8080\n")
    code, _, err = feedd("check", "-c", conf)
    check(code != 0 and err.startswith(conf + ":1: listen: ")
          and "not a numeric" in err,
          "check took a listen host name: %r" % err)
    with open(conf, "w") as f:
        f.write("feed js javascript:alert(1)\n"
                "feed v6 http://[::1/feed\n"
                "state_dir /tmp/a\x01b\n")
    code, _, err = feedd("check", "-c", conf)
    errs = [l for l in err.splitlines() if l]
    check(code != 0 and len(errs) == 3
          and all(l.startswith("%s:%d: " % (conf, n))
                  for n, l in zip((1, 2, 3), errs))
          and "\x01" not in err,
          "check took a bad location or state_dir: %r" % err)
    # A binary file: one line, a short escaped excerpt, no raw bytes.
    # Made here: the feedd binary itself is over the 4 MiB size cap in a
    # sanitizer build, which is another error.
    blob = os.path.join(os.path.dirname(conf), "blob.bin")
    with open(blob, "wb") as f:
        f.write(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 64)
    code, _, err = feedd("check", "-c", blob)
    check(code != 0 and len(err.splitlines()) == 1
          and "not a config file" in err and len(err) < 400
          and all(" " <= c <= "~" for c in err.rstrip("\n")),
          "check of a binary file: %r" % err[:500])


def item(guid=None, link=None, title="", date=None, desc=None, permalink=False):
    out = ["<item>"]
    if guid:
        out.append('<guid isPermaLink="%s">%s</guid>'
                   % ("true" if permalink else "false", guid))
    if link:
        out.append("<link>%s</link>" % link.replace("&", "&amp;"))
    out.append("<title>%s</title>" % title)
    if date:
        out.append("<pubDate>%s</pubDate>" % date)
    if desc:
        out.append("<description>%s</description>" % desc)
    out.append("</item>")
    return "".join(out)


def channel(title, items):
    return ('<?xml version="1.0"?><rss version="2.0"><channel><title>%s</title>'
            '<link>https://example.com/</link>%s</channel></rss>'
            % (title, "".join(items)))


def test_outputs(tmp):
    """One poll writes the merged feed as Atom, RSS 2.0, JSON Feed 1.1 and
    an HTML page, each with the same entries and public_url's self links;
    the daemon serves each with its type, the page at / too. Without
    public_url, a wildcard listen address gives the machine's name, not
    0.0.0.0."""
    conf = copy_demo(tmp)
    with open(conf, "a") as f:
        f.write("public_url https://example.org/river\n")
    code, _, err = feedd("poll", "--once", "-c", conf)
    check(code == 0, "poll --once exited %d: %s" % (code, err))
    public = os.path.join(tmp, "state", "public")
    entries = read_atom(os.path.join(public, "feed.atom"))
    ids = [e["id"] for e in entries]
    check(len(ids) == 5, "expected 5 entries in feed.atom, got %d" % len(ids))
    root = ET.parse(os.path.join(public, "feed.atom")).getroot()
    check(root.findtext(ATOM + "id") == "https://example.org/river/feed.atom",
          "feed.atom id %r" % root.findtext(ATOM + "id"))
    rss_root = ET.parse(os.path.join(public, "feed.rss")).getroot()
    check(rss_root.tag == "rss" and rss_root.get("version") == "2.0",
          "feed.rss is not RSS 2.0")
    ch = rss_root.find("channel")
    self_link = ch.find(ATOM + "link")
    check(self_link is not None and self_link.get("href") ==
          "https://example.org/river/feed.rss", "feed.rss self link")
    check(ch.findtext("link") == "https://example.org/river/",
          "feed.rss channel link %r" % ch.findtext("link"))
    check([i.findtext("guid") for i in ch.findall("item")] == ids,
          "feed.rss items differ from feed.atom's")
    with open(os.path.join(public, "feed.json"), encoding="utf-8") as f:
        jf = json.load(f)
    check(jf["version"] == "https://jsonfeed.org/version/1.1", "JSON Feed version")
    check(jf["feed_url"] == "https://example.org/river/feed.json", "feed_url")
    check([i["id"] for i in jf["items"]] == ids,
          "feed.json items differ from feed.atom's")
    check(all("content_html" in i for i in jf["items"]), "content_html missing")
    with open(os.path.join(public, "index.html"), encoding="utf-8") as f:
        page = f.read()
    check(page.startswith("<!DOCTYPE html>") and page.count("<article>") == 5,
          "index.html does not hold the 5 entries")
    check("<script" not in page.lower(), "a script in index.html")
    opml = ET.parse(os.path.join(public, "feeds.opml")).getroot()
    urls = sorted(o.get("xmlUrl") for o in opml.iter("outline")
                  if o.get("xmlUrl"))
    check([u.rsplit("/", 1)[-1] for u in urls] ==
          ["feedd-notes.atom", "moscow-times.xml", "weather.rdf"],
          "feeds.opml lists %s" % urls)
    check(opml.find("head/dateCreated") is None,
          "feeds.opml has a date: the same list must make the same bytes")

    # Served, each with its type; / is the page.
    port = free_port()
    conf2 = write_config(tmp, ["feed notes feeds/feedd-notes.atom"], port=port)
    d = Daemon(conf2)
    try:
        base = "http://127.0.0.1:%d" % port
        for path, ctype in (("/feed.rss", "application/rss+xml"),
                            ("/feed.json", "application/feed+json"),
                            ("/index.html", "text/html"), ("/", "text/html"),
                            ("/feed.atom", "application/atom+xml"),
                            ("/feeds.opml", "text/x-opml")):
            name = "index.html" if path == "/" else path[1:]

            def served_as_file():
                status, headers, body = get(base + path)
                with open(os.path.join(tmp, "state", "public", name),
                          "rb") as f:
                    same = f.read() == body
                return (headers,) if status == 200 and same else None
            headers, = wait_for("%s as its file" % path, served_as_file)
            check(headers.get("Content-Type", "").startswith(ctype),
                  "%s served as %s" % (path, headers.get("Content-Type")))
            # Last-Modified is when the bytes changed: the file's time,
            # also for a file an earlier run wrote.
            mtime = int(os.stat(os.path.join(tmp, "state", "public",
                                             name)).st_mtime)
            lm = email.utils.parsedate_to_datetime(headers["Last-Modified"])
            check(abs(lm.timestamp() - mtime) <= 1,
                  "%s: Last-Modified %s, the file's time %d" % (
                      path, headers["Last-Modified"], mtime))
    finally:
        d.stop()
    # feeds.opml, read from its file: a conditional GET with its ETag; and
    # /healthz, made by the loop: the feeds by the health of their poll.
    d = Daemon(conf2)
    try:
        hz = wait_for("/healthz as JSON", lambda: (
            lambda r: json.loads(r[2]) if r[0] == 200 and
            r[2].startswith(b"{") else None)(get(base + "/healthz")))
        check(hz["status"] == "ok" and hz["feeds"] == 1 and
              hz["ok"] + hz["failing"] + hz["pending"] == 1 and
              "updated" in hz, "/healthz said %r" % hz)
        status, headers, _ = wait_for("/feeds.opml", lambda: (
            lambda r: r if r[0] == 200 else None)(get(base + "/feeds.opml")))
        status, _, body = get(base + "/feeds.opml",
                              {"If-None-Match": headers["ETag"]})
        check(status == 304 and body == b"",
              "/feeds.opml with its ETag gave %d" % status)
    finally:
        d.stop()
    # A restart with the same entries serves the files as they are, dated
    # when they were written, not when the daemon started.
    time.sleep(2)
    d = Daemon(conf2)
    try:
        headers = wait_for("/feed.atom again", lambda: (lambda r: r[1] if r[0]
                           == 200 else None)(get(base + "/feed.atom")))
        mtime = int(os.stat(os.path.join(tmp, "state", "public",
                                         "feed.atom")).st_mtime)
        lm = email.utils.parsedate_to_datetime(headers["Last-Modified"])
        check(abs(lm.timestamp() - mtime) <= 1,
              "after a restart, Last-Modified %s, the file's time %d" % (
                  headers["Last-Modified"], mtime))
    finally:
        d.stop()

    # A wildcard listen address, no public_url: the machine's name.
    conf3 = write_config(tmp, ["feed notes feeds/feedd-notes.atom"])
    with open(conf3) as f:
        text = f.read()
    with open(conf3, "w") as f:
        f.write(re.sub(r"listen 127\.0\.0\.1:", "listen 0.0.0.0:", text))
    code, _, err = feedd("poll", "--once", "-c", conf3)
    check(code == 0, "poll --once exited %d: %s" % (code, err))
    root = ET.parse(os.path.join(tmp, "state", "public", "feed.atom")).getroot()
    fid = root.findtext(ATOM + "id")
    check("0.0.0.0" not in fid and socket.gethostname() in fid,
          "feed id with a wildcard listen address: %r" % fid)
    # Another feed list: feeds.opml is made again.
    opml = ET.parse(os.path.join(public, "feeds.opml")).getroot()
    urls = [o.get("xmlUrl") for o in opml.iter("outline") if o.get("xmlUrl")]
    check(len(urls) == 1 and urls[0].endswith("/feedd-notes.atom"),
          "feeds.opml after the feed list changed: %s" % urls)


def test_readers(tmp):
    """Real clients read the outputs: headless Chromium loads index.html
    (every entry an article, and a screenshot made), newsboat subscribes
    to feed.atom and to feed.rss as served and finds every entry, with
    its title, in each."""
    conf = copy_demo(tmp)
    port = free_port()
    with open(conf) as f:
        text = f.read()
    with open(conf, "w") as f:
        f.write(re.sub(r"(?m)^listen .*$", "listen 127.0.0.1:%d" % port, text))
    code, _, err = feedd("poll", "--once", "-c", conf)
    check(code == 0, "poll --once exited %d: %s" % (code, err))
    public = os.path.join(tmp, "state", "public")
    titles = sorted(e["title"] for e in read_atom(os.path.join(public,
                                                               "feed.atom")))
    page = "file://" + os.path.join(public, "index.html")
    browser = ["chromium", "--headless=new", "--no-sandbox", "--disable-gpu",
               "--hide-scrollbars", "--user-data-dir=" +
               os.path.join(tmp, "chromium")]
    dom = subprocess.run(browser + ["--dump-dom", page], capture_output=True,
                         text=True, timeout=60, stdin=subprocess.DEVNULL)
    check(dom.returncode == 0, "chromium --dump-dom: %s" % dom.stderr[-300:])
    check(dom.stdout.count("<article>") == len(titles),
          "chromium saw %d articles, not %d" % (dom.stdout.count("<article>"),
                                                len(titles)))
    shot = os.path.join(tmp, "river.png")
    subprocess.run(browser + ["--window-size=412,900", "--screenshot=" + shot,
                              page], capture_output=True, timeout=60,
                   stdin=subprocess.DEVNULL)
    with open(shot, "rb") as f:
        check(f.read(8) == b"\x89PNG\r\n\x1a\n", "no screenshot of index.html")

    d = Daemon(conf)
    try:
        wait_for("the server", lambda: get("http://127.0.0.1:%d/feed.rss"
                                           % port)[0] == 200)
        for name in ("feed.atom", "feed.rss"):
            home = os.path.join(tmp, "newsboat-" + name)
            os.makedirs(home)
            urls = os.path.join(home, "urls")
            with open(urls, "w") as f:
                f.write("http://127.0.0.1:%d/%s\n" % (port, name))
            cache = os.path.join(home, "cache.db")
            nb = subprocess.run(
                ["newsboat", "-u", urls, "-c", cache, "-C", "/dev/null",
                 "-x", "reload", "print-unread"], capture_output=True,
                text=True, timeout=60, stdin=subprocess.DEVNULL,
                env=dict(os.environ, HOME=home))
            check(nb.returncode == 0, "newsboat on %s: %s" % (name, nb.stderr))
            check(nb.stdout.strip() == "%d unread articles" % len(titles),
                  "newsboat on %s: %r" % (name, nb.stdout))
            db = sqlite3.connect(cache)
            got = sorted(r[0] for r in db.execute("SELECT title FROM rss_item"))
            db.close()
            check(got == titles, "newsboat read %s as %s" % (name, got))
    finally:
        d.stop()


def test_sanitized(tmp):
    """The HTML of entries reaches the merged feed sanitized: no script,
    event handler or javascript: URL, whatever the feed carries; what is
    safe stays."""
    desc = ('<script>alert(1)</script><p onclick="steal()" style="x">safe '
            '<a href="javascript:evil()">bad link</a> '
            '<a href="https://example.com/ok">good link</a></p>'
            '<iframe src="https://evil.example/"></iframe>'
            '<img src=x onerror=alert(2)>')
    esc = desc.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    with open(os.path.join(tmp, "x.xml"), "w") as f:
        f.write(channel("X", [item(guid="g1", title="one", desc=esc,
                                   date="Fri, 17 May 2024 10:00:00 GMT")]))
    conf = write_config(tmp, ["feed x x.xml"])
    code, _, err = feedd("poll", "--once", "-c", conf)
    check(code == 0, "poll --once exited %d: %s" % (code, err))
    root = ET.parse(os.path.join(tmp, "state", "public", "feed.atom")).getroot()
    # No link: the entry's HTML is its content (RFC 4287 4.1.1).
    html = "".join(e.text or "" for e in root.iter()
                   if e.tag in (ATOM + "summary", ATOM + "content"))
    check("safe" in html and "https://example.com/ok" in html,
          "safe HTML lost: %r" % html)
    for bad in ("<script", "alert(", "onclick", "onerror", "javascript:",
                "<iframe", "style="):
        check(bad not in html.lower(), "%s kept in %r" % (bad, html))


def test_http2(tmp):
    """An https feed server that speaks HTTP/2 only (nghttpd): feedd polls
    its feeds over HTTP/2, six of one host started at once as six streams
    of one connection, trusting the test's certificate through ca_file;
    without ca_file each is one line naming the feed and the
    certificate."""
    nghttpd = shutil.which("nghttpd") or (
        "/usr/sbin/nghttpd" if os.path.exists("/usr/sbin/nghttpd") else None)
    check(nghttpd is not None,
          "nghttpd not found (apt-get install nghttp2-server)")
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    check(r.returncode == 0, "openssl: %s" % r.stderr.decode()[-300:])
    docs = os.path.join(tmp, "htdocs")
    os.mkdir(docs)
    for i in range(6):
        with open(os.path.join(docs, "f%d.xml" % i), "w") as f:
            f.write(rss("F%d" % i, [
                ("g%d" % i, "https://h2.example/e-40000%d" % i, "E%d" % i,
                 "Fri, 17 May 2024 10:00:00 GMT")]))
    port = free_port()
    out = open(os.path.join(tmp, "nghttpd.log"), "w+")
    srv = subprocess.Popen([nghttpd, "-v", "-d", docs, "--address=127.0.0.1",
                            str(port), key, cert],
                           stdout=out, stderr=subprocess.STDOUT,
                           stdin=subprocess.DEVNULL)
    try:
        wait_for("nghttpd", lambda: socket.create_connection(
            ("127.0.0.1", port), timeout=1).close() or True)
        feeds = ["feed f%d https://127.0.0.1:%d/f%d.xml" % (i, port, i)
                 for i in range(6)]
        # Untrusted: one line per feed, naming it and the certificate.
        conf = write_config(tmp, ["per_host 1"] + feeds)
        code, _, err = feedd("poll", "--once", "-c", conf)
        for i in range(6):
            line = [x for x in err.splitlines() if "f%d:" % i in x]
            check(line and "certificate" in line[0].lower(),
                  "f%d without ca_file: %s" % (i, err))
        # Trusted: each polled over HTTP/2, on one connection.
        conf = write_config(tmp, ["parallel 6", "per_host 6",
                                  "ca_file cert.pem"] + feeds)
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0 and "6 fetched" in err and "0 failed" in err,
              "poll over HTTP/2 exited %d: %s" % (code, err))
        out.seek(0)
        log = out.read()
        streams = set(re.findall(r"\[id=(\d+)\].*recv HEADERS frame "
                                 r"<length=\d+, flags=0x\w+, stream_id=(\d+)>",
                                 log))
        # Only the trusted run's requests got as far as HTTP/2 frames.
        conns = {c for c, _ in streams}
        check(len(streams) == 6 and len(conns) == 1,
              "the six polls of one host, as (connection, stream): %s\n%s"
              % (sorted(streams), log[-2000:]))
        check(len(read_atom(os.path.join(tmp, "state", "public",
                                         "feed.atom"))) == 6,
              "the six entries are not stored")
    finally:
        srv.terminate()
        srv.wait(10)
        out.close()


def test_tls(tmp):
    """With tls_cert and tls_key the daemon serves HTTPS only: a client
    that trusts the certificate gets the outputs, whose self links and
    ids say https; plain HTTP on that port gets no answer; a key that is
    not the certificate's stops the start with one line naming both."""
    import ssl
    cert, key = os.path.join(tmp, "cert.pem"), os.path.join(tmp, "key.pem")
    r = subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
         "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    check(r.returncode == 0, "openssl: %s" % r.stderr.decode()[-300:])
    port = free_port()
    conf = write_config(tmp, ["tls_cert cert.pem", "tls_key key.pem",
                              "feed notes feeds/feedd-notes.atom"], port=port)
    shutil.copytree(os.path.join(ARGS.examples, "feeds"),
                    os.path.join(tmp, "feeds"))
    ctx = ssl.create_default_context(cafile=cert)
    base = "https://127.0.0.1:%d" % port
    d = Daemon(conf)
    try:
        def fetch():
            try:
                with urllib.request.urlopen(base + "/feed.atom", timeout=5,
                                            context=ctx) as resp:
                    body = resp.read()
                    return body if b"<entry>" in body else None
            except (OSError, urllib.error.URLError):
                return None
        body = wait_for("/feed.atom over HTTPS", fetch)
        root = ET.fromstring(body)
        self_links = [link.get("href") for link in root.iter(ATOM + "link")
                      if link.get("rel") == "self"]
        check(self_links[0] == base + "/feed.atom" and
              root.findtext(ATOM + "id") == base + "/feed.atom",
              "over TLS the feed calls itself %r (id %r)" % (
                  self_links[0], root.findtext(ATOM + "id")))
        # A plain HTTP request to the TLS port is not answered as HTTP.
        s = socket.create_connection(("127.0.0.1", port), 5)
        s.sendall(b"GET /feed.atom HTTP/1.1\r\nHost: x\r\n\r\n")
        s.settimeout(5)
        try:
            reply = s.recv(100)
        except OSError:
            reply = b""
        s.close()
        check(not reply.startswith(b"HTTP/1.1 200"),
              "plain HTTP answered on the TLS port: %r" % reply)
    finally:
        d.stop()
    # A key of another certificate: refused at start, naming both files.
    other = os.path.join(tmp, "other.pem")
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-out", other],
                   check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL)
    conf2 = write_config(tmp, ["tls_cert cert.pem", "tls_key other.pem",
                               "feed notes feeds/feedd-notes.atom"],
                         port=free_port())
    p = subprocess.run([ARGS.feedd, "run", "-c", conf2], timeout=30,
                       stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT)
    out = p.stdout.decode(errors="replace")
    check(p.returncode != 0 and "cert.pem" in out and "other.pem" in out,
          "a key that is not the certificate's: exit %d, %r" % (
              p.returncode, out[-500:]))


def test_scenario(tmp):
    """Versions of several feeds as publishers really change them: a GUID's
    scheme flips, a slug is rewritten around the same article ID, tracking
    parameters appear, GUID-less entries are edited, one feed has colliding
    GUIDs and links, one article comes through two feeds. The merged output
    holds each logical entry once, with its latest title."""
    srv = FeedServer()
    D = "Fri, 17 May 2024 %02d:00:00 GMT"
    try:
        def serve(news, collide, mirror):
            srv.routes["/news.xml"] = Route(channel("News", news))
            srv.routes["/collide.xml"] = Route(channel("Collide", collide))
            # The mirror answers last, so that news brings the shared
            # article first (the first feed to bring an entry owns it).
            srv.routes["/mirror.xml"] = Route(channel("Mirror", mirror),
                                              delay=0.3)

        news1 = [
            item("http://news.example/2024/05/17/putin-touts-ties-a85146",
                 "http://news.example/2024/05/17/putin-touts-ties-a85146",
                 "A first", D % 10, permalink=True),
            item("b-guid", "https://news.example/b", "B first", D % 9),
            item(None, "https://news.example/c", "C first", D % 8),
        ]
        collide = [
            item("same", "https://c.example/one", "Shared guid one", D % 7),
            item("same", "https://c.example/two", "Shared guid two", D % 6),
            item(None, "https://c.example/shared", "Shared link one", D % 5),
            item(None, "https://c.example/shared", "Shared link two", D % 4),
            item(None, "https://c.example/shared", "Shared link two", D % 4),
        ]
        mirror = [
            item(None, "https://NEWS.example/2024/05/17/putin-touts-ties-a85146"
                       "?utm_source=mirror", "A as the mirror titles it", D % 10),
        ]
        serve(news1, collide, mirror)
        conf = write_config(tmp, ["max_items 100",
                                  "feed news %s" % srv.url("/news.xml"),
                                  "feed collide %s" % srv.url("/collide.xml"),
                                  "feed mirror %s" % srv.url("/mirror.xml")])
        atom = os.path.join(tmp, "state", "public", "feed.atom")

        def poll():
            code, _, err = feedd("poll", "--once", "-c", conf)
            check(code == 0, "poll exited %d: %s" % (code, err))
            return err

        poll()
        first = read_atom(atom)
        titles = sorted(e["title"] for e in first)
        check(titles == sorted(["A first", "B first", "C first",
                                "Shared guid one", "Shared guid two",
                                "Shared link one", "Shared link two"]),
              "after poll 1: %s" % titles)
        a = [e for e in first if e["title"] == "A first"][0]
        check(a["feeds"] == ["mirror", "news"],
              "the article through two feeds lists %s" % a["feeds"])

        # Poll 2: the publisher edits.
        news2 = [
            item("https://news.example/2024/05/17/putin-wraps-up-visit-a85146",
                 "https://news.example/2024/05/17/putin-wraps-up-visit-a85146",
                 "A edited", D % 10, permalink=True),
            item("b-guid", "https://news.example/b?utm_source=rss&utm_medium=x",
                 "B edited", D % 9),
            item(None, "https://news.example/c", "C edited", D % 8),
            item("d-guid", "https://news.example/d", "D new", D % 11),
        ]
        serve(news2, collide, mirror)
        err = poll()
        check("news: 1 new, 3 updated (4 in the feed)" in err,
              "poll 2 log: %s" % err)
        second = read_atom(atom)
        check_entries(second)
        titles = sorted(e["title"] for e in second)
        check(titles == sorted(["A edited", "B edited", "C edited", "D new",
                                "Shared guid one", "Shared guid two",
                                "Shared link one", "Shared link two"]),
              "after poll 2: %s" % titles)
        a2 = [e for e in second if e["title"] == "A edited"][0]
        check(a2["id"] == a["id"], "the A article changed its ID")
        check(a2["updated"] > a["updated"], "atom:updated did not advance: "
              "%s -> %s" % (a["updated"], a2["updated"]))

        # Poll 3: nothing changed; nothing is written.
        segs = os.path.join(tmp, "state", "items")
        sizes = {f: os.path.getsize(os.path.join(segs, f))
                 for f in os.listdir(segs) if f.endswith(".jsonl")}
        with open(atom, "rb") as f:
            before = f.read()
        state_file = os.path.join(tmp, "state", "feeds.state")
        atom_ino = os.stat(atom).st_ino
        with open(state_file) as f:
            state_before = f.read()
        err = poll()
        check(" new, " not in err, "an unchanged re-poll stored: %s" % err)
        # feed.atom is not even rewritten (a rename would give a new
        # inode), and feeds.state gets at most a line per feed appended
        # (their poll times), not a rewrite.
        check(os.stat(atom).st_ino == atom_ino,
              "an unchanged re-poll rewrote feed.atom")
        with open(state_file) as f:
            state_after = f.read()
        tail = state_after[len(state_before):]
        check(state_after.startswith(state_before)
              and len(tail.splitlines()) <= 3,
              "an unchanged re-poll wrote feeds.state as %r" % tail[:300])
        after_sizes = {f: os.path.getsize(os.path.join(segs, f))
                       for f in os.listdir(segs) if f.endswith(".jsonl")}
        check(after_sizes == sizes, "an unchanged re-poll wrote to the store")
        with open(atom, "rb") as f:
            check(f.read() == before, "an unchanged re-poll changed feed.atom")
    finally:
        srv.stop()


def test_shared_guid(tmp):
    """Entries that share one guid stay apart however the feed changes:
    the one that kept the ID leaves, comes back edited, and another entry
    joins with a link already taken."""
    srv = FeedServer()
    D = "Fri, 17 May 2024 %02d:00:00 GMT"
    try:
        A = item("same", "https://s.example/a", "A", D % 10)
        A2 = item("same", "https://s.example/a", "A edited", D % 10)
        B = item("same", "https://s.example/b", "B", D % 9)
        C = item("same", "https://s.example/b", "C shares B's link", D % 8)
        conf = write_config(tmp, ["max_items 100",
                                  "feed s %s" % srv.url("/s.xml")])
        atom = os.path.join(tmp, "state", "public", "feed.atom")
        ids = {}
        for step, items in enumerate([[A, B], [B], [B, A2], [A2, B, C],
                                      [C, B]]):
            srv.routes["/s.xml"] = Route(channel("S", items))
            code, _, err = feedd("poll", "--once", "-c", conf)
            check(code == 0, "poll %d exited %d: %s" % (step, code, err))
            entries = read_atom(atom)
            check_entries(entries)
            for e in entries:
                key = "A" if e["link"].endswith("/a") else e["title"][0]
                check(ids.setdefault(key, e["id"]) == e["id"],
                      "step %d: %s changed its ID" % (step, key))
            titles = sorted(e["title"] for e in entries)
            want = {0: ["A", "B"], 1: ["A", "B"], 2: ["A edited", "B"],
                    3: ["A edited", "B", "C shares B's link"],
                    4: ["A edited", "B", "C shares B's link"]}[step]
            check(titles == want, "step %d: %s, not %s" % (step, titles, want))
    finally:
        srv.stop()


class GrowingServer(FeedServer):
    """Each request for /grow-N.xml returns every entry so far plus three
    new ones: a feed that grows while the daemon is killed again and again.
    Feed N's body is sent in two halves with 0.25*(N+1) s between them, so
    that a poll is under way for a while; inflight counts the responses
    being sent."""

    def __init__(self, nfeeds):
        super().__init__()
        self.count = [0] * nfeeds
        self.inflight = 0
        self.lock = threading.Lock()
        for n in range(nfeeds):
            self.routes["/grow-%d.xml" % n] = Route("")
        orig = self.httpd.RequestHandlerClass.do_GET
        server = self

        def do_GET(handler):
            if not handler.path.startswith("/grow-"):
                return orig(handler)
            n = int(handler.path[6:].split(".")[0])
            with server.lock:
                server.count[n] += 1
                server.inflight += 1
                total = server.count[n] * 3
            try:
                items = [item("g%d-%d" % (n, i), "https://grow%d.example/p/%d"
                              % (n, i), "grow %d entry %d" % (n, i),
                              "Fri, 17 May 2024 10:%02d:%02d GMT"
                              % (i // 60 % 60, i % 60))
                         for i in range(total)]
                body = channel("Grow %d" % n, items).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/rss+xml")
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                half = len(body) // 2
                handler.wfile.write(body[:half])
                handler.wfile.flush()
                time.sleep(0.25 * (n + 1))
                handler.wfile.write(body[half:])
            except OSError:
                pass  # the daemon was killed mid-response
            finally:
                with server.lock:
                    server.inflight -= 1
        self.httpd.RequestHandlerClass.do_GET = do_GET


def segment_bytes(state):
    """The bytes of the store's segments (what every commit appends to)."""
    return sum(os.path.getsize(p) for p in
               glob.glob(os.path.join(state, "items", "*.jsonl")))


def test_crash(tmp):
    """SIGKILL while a daemon polls growing feeds, again and again. Each
    kill is shown to land in a running daemon that had already polled and
    stored in that run (its log says so and the segments grew), and most
    while a response was still arriving (mid-poll, a batch half parsed);
    after a final clean poll no entry is lost and none is duplicated."""
    import random
    rnd = random.Random(4242)
    srv = GrowingServer(3)
    state = os.path.join(tmp, "state")
    stored = re.compile(r"^grow\d: \d+ new, \d+ updated", re.M)
    try:
        conf = write_config(tmp, ["max_items 100000", "interval 1s"] +
                            ["feed grow%d %s" % (n, srv.url("/grow-%d.xml" % n))
                             for n in range(3)])
        kills = mid = 0
        for run in range(16):
            before = segment_bytes(state)
            d = Daemon(conf)
            try:
                wait_for("a stored poll in run %d" % run,
                         lambda: stored.search(d.log()), timeout=20)
                if run % 2 == 0:
                    # While a response is being sent: mid-transfer.
                    wait_for("a poll under way in run %d" % run,
                             lambda: srv.inflight > 0, timeout=20)
                else:
                    # Anywhere: mid-transfer, mid-commit, or between polls.
                    time.sleep(rnd.uniform(0, 1.0))
                check(d.proc.poll() is None,
                      "run %d ended before its kill: %s" % (run, d.log()))
                under_way = srv.inflight > 0
                d.proc.kill()
                code = d.proc.wait()
            finally:
                if d.proc.poll() is None:
                    d.proc.kill()
                    d.proc.wait()
            check(code == -signal.SIGKILL,
                  "run %d exited %s, not by the kill" % (run, code))
            check(segment_bytes(state) > before,
                  "run %d stored nothing before its kill" % run)
            kills += 1
            mid += under_way
        check(mid >= kills // 2,
              "only %d of %d kills landed while a poll was under way"
              % (mid, kills))
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "final poll exited %d: %s" % (code, err))
        entries = read_atom(os.path.join(state, "public", "feed.atom"))
        titles = [e["title"] for e in entries]
        check(len(titles) == len(set(titles)),
              "duplicated after %d kills: %d entries, %d distinct"
              % (kills, len(titles), len(set(titles))))
        want = set("grow %d entry %d" % (n, i) for n in range(3)
                   for i in range(srv.count[n] * 3))
        missing = want - set(titles)
        check(not missing, "lost after %d kills: %s" % (kills,
                                                        sorted(missing)[:5]))
        print("crash: %d kills, each after a stored poll, %d mid-poll; "
              "%d entries, none lost or doubled" % (kills, mid, len(titles)))
    finally:
        srv.stop()


def test_disk_full(tmp):
    """A write that fails (the file size limit stands in for a full disk)
    is a clear error; the next poll stores everything, nothing is lost and
    nothing doubled."""
    import resource
    srv = FeedServer()
    try:
        big = "x" * 2000
        srv.routes["/f.xml"] = Route(channel("F", [
            item("e%d" % i, "https://f.example/e-%d" % (1000 + i), "entry %d" % i,
                 "Fri, 17 May 2024 10:%02d:00 GMT" % i, desc=big)
            for i in range(40)]), etag='"v1"')
        # g fits on the disk; f does not, and that alone fails the run.
        srv.routes["/g.xml"] = Route(channel("G", [
            item("g0", "https://g.example/g-1", "small one",
                 "Fri, 17 May 2024 09:00:00 GMT")]))
        conf = write_config(tmp, ["max_items 1000",
                                  "feed f %s" % srv.url("/f.xml"),
                                  "feed g %s" % srv.url("/g.xml")])
        # A first poll creates the store; then writes are capped small.
        os.makedirs(os.path.join(tmp, "state"), exist_ok=True)

        def limited():
            resource.setrlimit(resource.RLIMIT_FSIZE, (20000, 20000))
        p = subprocess.run([ARGS.feedd, "poll", "--once", "-c", conf],
                           capture_output=True, text=True, timeout=30,
                           preexec_fn=limited, stdin=subprocess.DEVNULL)
        # Entries that could not be stored fail the run, although
        # feed.atom (small) could be written.
        check(p.returncode == 1, "poll exited %d: %s" % (p.returncode, p.stderr))
        lines = p.stderr.splitlines()
        check(re.search(r"^f: cannot store 40 entries: .*(too large|File too "
                        r"large)", p.stderr, re.M),
              "no clear error: %s" % p.stderr)
        # One line for the feed, and the last line says the run failed.
        check(len([l for l in lines if l.startswith("f:")]) == 1,
              "not one line for the feed: %s" % p.stderr)
        # g fits, but polls that end together share one commit: g is
        # stored, or fails with f in one line of its own.
        g_lines = [l for l in lines if l.startswith("g:")]
        g_failed = len(g_lines) == 1 and re.search(
            r"^g: cannot store 1 entry: .*(too large|File too large)",
            g_lines[0])
        check(g_failed or (len(g_lines) == 1 and g_lines[0].startswith(
            "g: 1 new")), "g: neither stored nor one clear error: %s"
              % p.stderr)
        check(lines and re.search(r"^poll: .*%d of 2 feeds could not all be "
                                  r"stored" % (2 if g_failed else 1),
                                  lines[-1]),
              "the last line does not say entries were lost: %s" % p.stderr)
        # The failed batch left the validators unset: the next poll must
        # fetch everything again, not ask for 304.
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "second poll exited %d: %s" % (code, err))
        check("f: 40 new, 0 updated" in err, "second poll: %s" % err)
        check(not g_failed or "g: 1 new" in err, "second poll: %s" % err)
        hits = srv.hits("/f.xml")
        check("If-None-Match" not in hits[-1],
              "the retry was conditional after a failed store")
        titles = [e["title"] for e in read_atom(
            os.path.join(tmp, "state", "public", "feed.atom"))]
        check(sorted(titles) == sorted(["small one"] +
                                       ["entry %d" % i for i in range(40)]),
              "after the retry: %d entries" % len(titles))
    finally:
        srv.stop()


def test_store_fails(tmp):
    """A commit that fails never leaves feeds.state saying the poll
    succeeded: the feed's validators are dropped (so that the next poll
    fetches everything again) and its error is recorded, on disk."""
    import json
    import resource
    srv = FeedServer()
    try:
        srv.routes["/f.xml"] = Route(channel("F", [
            item("a0", "https://f.example/a-0", "first",
                 "Fri, 17 May 2024 09:00:00 GMT")]), etag='"v1"',
            headers={"Last-Modified": "Fri, 17 May 2024 09:00:00 GMT"})
        conf = write_config(tmp, ["max_items 1000",
                                  "feed f %s" % srv.url("/f.xml")])
        state_file = os.path.join(tmp, "state", "feeds.state")

        def state():
            with open(state_file) as fp:
                rows = [json.loads(l) for l in fp if l.strip()]
            return [r for r in rows if r.get("feed") == "f"][-1]
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "first poll exited %d: %s" % (code, err))
        st = state()
        check(st["etag"] == '"v1"' and st["errors"] == 0,
              "after a good poll: %s" % st)
        # The feed changes; its entries do not fit on the disk.
        big = "x" * 2000
        srv.routes["/f.xml"] = Route(channel("F", [
            item("e%d" % i, "https://f.example/e-%d" % i, "entry %d" % i,
                 "Fri, 17 May 2024 10:%02d:00 GMT" % i, desc=big)
            for i in range(40)]), etag='"v2"',
            headers={"Last-Modified": "Fri, 17 May 2024 10:00:00 GMT"})
        size = os.path.getsize(glob.glob(os.path.join(
            tmp, "state", "items", "*.jsonl"))[0])

        def limited():
            lim = size + 20000
            resource.setrlimit(resource.RLIMIT_FSIZE, (lim, lim))
        p = subprocess.run([ARGS.feedd, "poll", "--once", "-c", conf],
                           capture_output=True, text=True, timeout=30,
                           preexec_fn=limited, stdin=subprocess.DEVNULL)
        check(p.returncode != 0, "poll exited 0: %s" % p.stderr)
        st = state()
        check(st["etag"] is None and st["last_modified"] is None,
              "validators kept after a failed commit: %s" % st)
        check(st["errors"] >= 1 and "cannot store" in (st["last_error"] or ""),
              "no error recorded after a failed commit: %s" % st)
        # The next poll is not conditional and stores everything.
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "third poll exited %d: %s" % (code, err))
        check("If-None-Match" not in srv.hits("/f.xml")[-1] and
              "If-Modified-Since" not in srv.hits("/f.xml")[-1],
              "the retry was conditional after a failed commit")
        st = state()
        check(st["etag"] == '"v2"' and st["errors"] == 0 and
              st["last_error"] is None, "after the retry: %s" % st)
        titles = [e["title"] for e in read_atom(
            os.path.join(tmp, "state", "public", "feed.atom"))]
        check(len(titles) == 41, "after the retry: %d entries" % len(titles))
    finally:
        srv.stop()


def test_limits(tmp):
    """A feed over the parser's limits is no failed poll: of 10,005 entries
    the first 10,000 are stored, an entry with a 3 MiB description is
    skipped beside the normal ones, an entry whose record would be over the
    store's 32 MiB is skipped; one warning line per feed names the limit,
    the poll is a success (errors 0, ETag kept) and the next one is a
    conditional GET answered 304. A document over 32 MiB still fails, with
    the limit in its error."""
    import json
    srv = FeedServer()
    D = 1715940000  # 2024-05-17 10:00:00 UTC

    def date(i):
        return time.strftime("%a, %d %b %Y %H:%M:%S GMT",
                             time.gmtime(D - 60 * i))
    try:
        srv.routes["/many.xml"] = Route(channel("Many", [
            item("m%d" % i, None, "many %d" % i, date(i))
            for i in range(10005)]), etag='"many-1"')
        srv.routes["/big.xml"] = Route(channel("Big", [
            item("b0", None, "big 0", date(0)),
            item("b1", None, "big 1", date(1), desc="x" * (3 << 20)),
            item("b2", None, "big 2", date(2))]), etag='"big-1"')
        # Nine fields just under 2 MiB of '"', which JSON doubles: a
        # record of 36 MiB from a document of 18.
        q = '"' * ((2 << 20) - 64)
        srv.routes["/huge.xml"] = Route(
            '<?xml version="1.0"?><rss version="2.0" xmlns:content="http://'
            'purl.org/rss/1.0/modules/content/"><channel><title>Huge</title>'
            '<item><guid>h0</guid><title>huge 0</title></item><item><guid>'
            'h1</guid><title>%s</title><description>%s</description>'
            '<content:encoded>%s</content:encoded><author>%s</author>%s'
            '</item><item><guid>h2</guid><title>huge 2</title></item>'
            '</channel></rss>' % (q, q, q, q, "".join(
                "<category>%d%s</category>" % (i, q) for i in range(5))),
            etag='"huge-1"')
        srv.routes["/over.xml"] = Route(channel("Over", [
            item("o%d" % i, None, "over", None, desc="x" * (1 << 20))
            for i in range(33)]))
        conf = write_config(tmp, ["max_items 100000", "max_size 32M",
                                  "feed over %s" % srv.url("/over.xml"),
                                  "feed many %s" % srv.url("/many.xml"),
                                  "feed big %s" % srv.url("/big.xml"),
                                  "feed huge %s" % srv.url("/huge.xml")])
        code, _, err = feedd("poll", "--once", "-v", "-c", conf, timeout=50)
        print(err)
        check(code == 0, "first poll exited %d: %s" % (code, err))
        titles = [e["title"] for e in read_atom(
            os.path.join(tmp, "state", "public", "feed.atom"))]
        want = (["many %d" % i for i in range(10000)] +
                ["big 0", "big 2", "huge 0", "huge 2"])
        check(sorted(titles) == sorted(want),
              "stored: %d entries, %s" % (len(titles), sorted(
                  set(titles) ^ set(want))[:10]))
        warn = {"many": "more than 10000 entries, the first 10000 were taken",
                "big": "1 entry skipped, a field over 2 MiB",
                "huge": "1 entry skipped, a record over the store's 32 MiB"}
        for name, what in warn.items():
            # Beside "N new, 0 updated", one line: the warning, no error.
            lines = [l for l in err.splitlines() if l.startswith(name + ": ")
                     and not re.search(r": \d+ new, \d+ updated", l)]
            check(len(lines) == 1 and what in lines[0],
                  "%s: expected one line saying %r: %s" % (name, what, lines))
        with open(os.path.join(tmp, "state", "feeds.state")) as fp:
            rows = [json.loads(l) for l in fp if l.strip()]
        for name in warn:
            st = [r for r in rows if r.get("feed") == name][-1]
            check(st["errors"] == 0 and st["last_error"] is None and
                  st["etag"] == '"%s-1"' % name, "%s: %s" % (name, st))
        st = [r for r in rows if r.get("feed") == "over"][-1]
        check(st["errors"] == 1 and "larger than 33554432 bytes, the limit"
              in st["last_error"] and
              re.search(r"^over: http://\S+/over\.xml: response larger", err,
                        re.M),
              "over: %s" % st)
        code, _, err = feedd("poll", "--once", "-v", "-c", conf, timeout=50)
        print(err)
        check(code == 0, "second poll exited %d: %s" % (code, err))
        for name in warn:
            hits = srv.hits("/%s.xml" % name)
            check(len(hits) == 2 and
                  hits[1].get("If-None-Match") == '"%s-1"' % name,
                  "%s: the second request was not conditional: %s"
                  % (name, hits[1:]))
        check(not any(w in err for w in warn.values()),
              "a 304 warned again: %s" % err)
        # feedd parse says it too, and it is no failure.
        path = os.path.join(tmp, "many.xml")
        with open(path, "wb") as fp:
            fp.write(srv.routes["/many.xml"].body)
        code, out, err = feedd("parse", path)
        last = json.loads(out.splitlines()[-1])
        check(code == 0 and last["entries"] == 10000 and
              last["skipped"] == 5 and last["error"] is None and
              err == "feedd: %s: %s\n" % (path, warn["many"]),
              "feedd parse: %d %s %r" % (code, last, err))
    finally:
        srv.stop()


def test_fetch_settings(tmp):
    """timeout, connect_timeout, max_size and user_agent, as settings and
    per feed: each feed is fetched with its own, or else the settings',
    whatever the order of the lines; a feed over its limit fails with one
    line naming it and the limit, beside feeds that are fine."""
    srv = FeedServer()
    full = socket.socket()
    full.bind(("127.0.0.1", 0))
    full.listen(0)
    held = []
    try:
        # A listening socket whose queue is full and never accepted: a
        # connect to it waits until the connect timeout.
        for _ in range(8):
            c = socket.socket()
            c.setblocking(False)
            c.connect_ex(full.getsockname())
            held.append(c)
        body = channel("X", [item("x1", None, "x one",
                                  "Fri, 17 May 2024 10:00:00 GMT")])
        srv.routes["/plain.xml"] = Route(body)
        srv.routes["/agent.xml"] = Route(body)
        srv.routes["/slow.xml"] = Route(body, delay=4)
        srv.routes["/big.xml"] = Route(channel("B", [
            item("b%d" % i, None, "b", None, desc="y" * 1000)
            for i in range(200)]))
        # 64 MiB of spaces in 64 KiB of gzip: stopped at max_size as it
        # is decoded.
        import gzip
        srv.routes["/bomb.xml"] = Route(gzip.compress(
            b"<rss version='2.0'><channel>" + b" " * (64 << 20)),
            headers={"Content-Encoding": "gzip"})
        srv.routes["/endless.xml"] = Route(b"<rss version='2.0'><channel>")
        srv.routes["/endless.xml"].endless = True
        conf = write_config(tmp, [
            "feed bomb %s" % srv.url("/bomb.xml"),
            "feed endless %s" % srv.url("/endless.xml"),
            "feed plain %s" % srv.url("/plain.xml"),
            "feed agent %s user_agent \"ExampleBot/2.0 (+mailto:a@b.example)\""
            % srv.url("/agent.xml"),
            "feed slow %s timeout 1s" % srv.url("/slow.xml"),
            "feed big %s max_size 100k" % srv.url("/big.xml"),
            "feed closed http://127.0.0.1:%d/x.xml connect_timeout 1s"
            % full.getsockname()[1],
            # Settings after the feeds still hold for them.
            "user_agent \"feedd-test/1 (+https://example.org/)\"",
            "timeout 20s", "max_size 1M"])
        t0 = time.monotonic()
        code, _, err, peak = feedd_peak("poll", "--once", "-c", conf,
                                        timeout=30)
        took = time.monotonic() - t0
        check(took < 15, "the poll took %.1f s: a timeout was not kept"
              % took)
        ua = {p: h.get("User-Agent") for p, h in srv.requests}
        check(ua.get("/plain.xml") == "feedd-test/1 (+https://example.org/)",
              "the user_agent setting was not sent: %r" % ua)
        check(ua.get("/agent.xml") == "ExampleBot/2.0 (+mailto:a@b.example)",
              "the feed's user_agent was not sent: %r" % ua)

        def line(name):
            found = [l for l in err.splitlines() if l.startswith(name + ": ")]
            check(len(found) == 1, "%s: one line expected, got %r" % (
                name, found))
            return found[0]
        check("new" in line("plain") and "new" in line("agent"),
              "the healthy feeds: %r" % err)
        check("timed out" in line("slow") and
              line("slow").startswith("slow: %s: " % srv.url("/slow.xml")),
              "slow: the line names neither the URL nor the cause: %r"
              % line("slow"))
        check("larger than 102400 bytes" in line("big"),
              "big: %r" % line("big"))
        check("larger than 1048576 bytes" in line("bomb"),
              "bomb: %r" % line("bomb"))
        check("larger than 1048576 bytes" in line("endless"),
              "endless: %r" % line("endless"))
        # All of it (a bomb, an endless body, slow and hung feeds) within
        # 64 MiB.
        check(peak is None or 0 < peak < 64 * 1024, "peak RSS %s KiB" % peak)
        # The 1 s connect_timeout, not the 20 s timeout.
        check(re.search(r"after [1-4]\d\d\d ms: timeout",
                        line("closed").lower()),
              "closed: %r" % line("closed"))
        check(code == 0, "poll --once exited %d: a failed feed is no failure "
              "of the round" % code)
        # A proxy from the environment, as curl reads it: the request goes
        # to it, in absolute form.
        srv.routes["http://feeds.example.invalid/p.xml"] = Route(body)
        conf3 = write_config(tmp, ["feed viaproxy "
                                   "http://feeds.example.invalid/p.xml"])
        env = dict(os.environ, http_proxy=srv.url(""), no_proxy="")
        p = subprocess.run([ARGS.feedd, "poll", "--once", "-c", conf3],
                           env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, text=True, timeout=30)
        check(p.returncode == 0 and "viaproxy: 1 new" in p.stderr,
              "a feed through http_proxy: %r" % p.stderr)
        # Without the settings: the defaults (feedd/VERSION (+URL), 16 MiB).
        conf2 = write_config(tmp, ["feed plain %s" % srv.url("/plain.xml")])
        srv.requests.clear()
        feedd("poll", "--once", "-c", conf2)
        agent = srv.requests[-1][1].get("User-Agent", "")
        check(re.match(r"^feedd/[0-9.]+ \(\+https?://\S+\)$", agent),
              "default User-Agent %r" % agent)
    finally:
        for c in held:
            c.close()
        full.close()
        srv.stop()


def state_rows(tmp):
    """Each feed's last line of state/feeds.state."""
    rows = {}
    with open(os.path.join(tmp, "state", "feeds.state")) as f:
        for line in f:
            if line.strip():
                r = json.loads(line)
                rows[r.get("feed")] = r
    return rows


def test_retry_after(tmp):
    """A 429 or 503 with Retry-After (seconds or an HTTP date) is not asked
    again before it says; when two feeds of one host are told to wait, no
    feed of that host is polled until the wait is over, while another
    host's feeds go on; Cache-Control max-age and Expires put the next
    poll off past the interval (a day at most), never before it; so do
    a feed's ttl and syndication period; skipHours and skipDays move it
    to the first hour they allow. feedd list says why."""
    a, b = FeedServer(), FeedServer()
    body = channel("X", [item("x1", None, "x one",
                              "Fri, 17 May 2024 10:00:00 GMT")])
    later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    t_start = time.time()
    try:
        a.routes["/busy1.xml"] = Route(b"", status=429,
                                       headers={"Retry-After": "3600"})
        a.routes["/busy2.xml"] = Route(b"", status=503,
                                       headers={"Retry-After": later})
        a.routes["/fast-a.xml"] = Route(body)
        b.routes["/busy3.xml"] = Route(b"", status=503,
                                       headers={"Retry-After": "600"})
        b.routes["/fast-b.xml"] = Route(body)
        b.routes["/cached.xml"] = Route(body, headers={
            "Cache-Control": "public, max-age=7200"})
        b.routes["/expires.xml"] = Route(body, headers={
            "Date": email.utils.formatdate(time.time() - 1000, usegmt=True),
            "Expires": email.utils.formatdate(time.time() + 3 * 3600 - 1000,
                                              usegmt=True)})
        b.routes["/forever.xml"] = Route(body, headers={
            "Cache-Control": "max-age=31536000"})
        b.routes["/short.xml"] = Route(body, headers={
            "Cache-Control": "max-age=60"})
        # The feed's own hints: ttl (minutes), the syndication module,
        # skipHours (every hour but the one three hours on, UTC) and
        # skipDays (today, UTC).
        now_tm = time.gmtime(t_start)
        open_hour = (now_tm.tm_hour + 3) % 24
        today = time.strftime("%A", now_tm)

        def hinted(extra):
            return ('<?xml version="1.0"?><rss version="2.0" xmlns:sy="http'
                    '://purl.org/rss/1.0/modules/syndication/"><channel>'
                    '<title>H</title>%s<item><title>h</title><guid>h1</guid>'
                    '</item></channel></rss>' % extra)
        b.routes["/ttl.xml"] = Route(hinted("<ttl>300</ttl>"))
        b.routes["/sy.xml"] = Route(hinted(
            "<sy:updatePeriod>daily</sy:updatePeriod>"
            "<sy:updateFrequency>2</sy:updateFrequency>"))
        b.routes["/hours.xml"] = Route(hinted("<skipHours>%s</skipHours>" % (
            "".join("<hour>%d</hour>" % h for h in range(24)
                    if h != open_hour))))
        b.routes["/days.xml"] = Route(hinted(
            "<skipDays><day>%s</day></skipDays>" % today))
        conf = write_config(tmp, [
            "interval 30m",
            "feed busy1 %s" % a.url("/busy1.xml"),
            "feed busy2 %s" % a.url("/busy2.xml"),
            "feed fast-a %s interval 2s" % a.url("/fast-a.xml"),
            "feed busy3 %s" % b.url("/busy3.xml"),
            "feed fast-b %s interval 2s" % b.url("/fast-b.xml"),
            "feed cached %s" % b.url("/cached.xml"),
            "feed expires %s" % b.url("/expires.xml"),
            "feed forever %s" % b.url("/forever.xml"),
            "feed short %s" % b.url("/short.xml"),
            "feed ttl %s" % b.url("/ttl.xml"),
            "feed sy %s" % b.url("/sy.xml"),
            "feed hours %s" % b.url("/hours.xml"),
            "feed days %s" % b.url("/days.xml")])
        t0 = time.time()
        d = Daemon(conf)
        try:
            wait_for("both busy feeds of host A told to wait", lambda:
                     len(a.hits("/busy1.xml")) and len(a.hits("/busy2.xml")))
            # Counted from when feedd says the wait is in force; a poll of
            # fast-a under way then may still arrive.
            wait_for("the line that host A waits", lambda: re.search(
                r"asks to wait: none of its feeds is polled", d.log()))
            time.sleep(0.3)
            seen_a = len(a.hits("/fast-a.xml"))
            seen_b = len(b.hits("/fast-b.xml"))
            time.sleep(7)
            log = d.log()
        finally:
            d.stop()
        check(len(a.hits("/fast-a.xml")) == seen_a,
              "host A asked to wait, yet fast-a was polled %d more times" %
              (len(a.hits("/fast-a.xml")) - seen_a))
        check(len(b.hits("/fast-b.xml")) >= seen_b + 2,
              "host B's feeds stopped too: %d polls in 7 s" %
              (len(b.hits("/fast-b.xml")) - seen_b))
        check(re.search(r"asks to wait: none of its feeds is polled for "
                        r"\d+ s", log), "no line says host A waits: %s" % log)
        for path in ("/busy1.xml", "/busy2.xml"):
            check(len(a.hits(path)) == 1, "%s asked %d times" % (
                path, len(a.hits(path))))
        check(len(b.hits("/busy3.xml")) == 1, "busy3 asked again")
        rows = state_rows(tmp)
        code, out, _ = feedd("list", "--json", "-c", conf)
        why = {f["name"]: f["next_why"] for f in json.loads(out)}
        check(why["busy1"] == "Retry-After" and why["busy2"] == "Retry-After"
              and why["cached"] == "Cache-Control" and
              why["expires"] == "Cache-Control" and why["short"] == "interval"
              and why["busy3"] == "back-off" and why["ttl"] == "ttl" and
              why["sy"] == "ttl" and why["hours"] == "skipHours",
              "feedd list says why: %s" % why)

        def after(name):
            return rows[name]["next_poll"] - t0
        # Jitter adds up to 10%; a day is the ceiling.
        for name, low, high in (("busy1", 3600, 3600 * 1.1 + 30),
                                ("busy2", 7200 - 30, 7200 * 1.1 + 30),
                                ("busy3", 1800, 1800 * 1.2 + 30),
                                ("cached", 7200, 7200 * 1.1 + 30),
                                ("expires", 3 * 3600 - 30,
                                 3 * 3600 * 1.1 + 30),
                                ("forever", 86400, 86400 * 1.1 + 30),
                                ("short", 1800 * 0.5, 1800 * 1.6 + 30),
                                ("ttl", 5 * 3600, 5 * 3600 * 1.1 + 30),
                                ("sy", 12 * 3600, 12 * 3600 * 1.1 + 30)):
            check(low <= after(name) <= high,
                  "%s: next poll in %.0f s, expected %d to %d" % (
                      name, after(name), low, high))
        # skipHours: at the start of the one hour left open.
        nxt = rows["hours"]["next_poll"]
        check(nxt % 3600 == 0 and time.gmtime(nxt).tm_hour == open_hour and
              nxt - t0 <= 3 * 3600 + 60,
              "hours: next poll at %s UTC, the open hour is %d" % (
                  time.strftime("%H:%M", time.gmtime(nxt)), open_hour))
        # skipDays: not today (UTC), and no later than tomorrow's start.
        nxt = rows["days"]["next_poll"]
        midnight = (int(t0) // 86400 + 1) * 86400
        check(time.strftime("%A", time.gmtime(nxt)) != today and
              nxt <= max(midnight, t0 + 1800 * 1.6 + 30),
              "days: next poll on %s" % time.strftime(
                  "%A %H:%M", time.gmtime(nxt)))
    finally:
        a.stop()
        b.stop()


def test_moved(tmp):
    """A feed redirected permanently (301, 308, a chain of them) on three
    polls in a row has its URL changed in the config file, its comment
    and the other lines kept, with a line in the log; a temporary
    redirect (302, or a chain with one) never changes it; a redirect loop
    fails with one line."""
    srv = FeedServer()
    body = channel("X", [item("x1", None, "x one",
                              "Fri, 17 May 2024 10:00:00 GMT")])
    try:
        for path in ("/new.xml", "/final.xml", "/temp-target.xml"):
            srv.routes[path] = Route(body)
        srv.routes["/old.xml"] = Route(b"", status=301, headers={
            "Location": srv.url("/new.xml")})
        srv.routes["/chain.xml"] = Route(b"", status=308, headers={
            "Location": srv.url("/mid.xml")})
        srv.routes["/mid.xml"] = Route(b"", status=301, headers={
            "Location": srv.url("/final.xml")})
        srv.routes["/temp.xml"] = Route(b"", status=302, headers={
            "Location": srv.url("/temp-target.xml")})
        srv.routes["/mixed.xml"] = Route(b"", status=301, headers={
            "Location": srv.url("/temp.xml")})
        srv.routes["/loop1.xml"] = Route(b"", status=301, headers={
            "Location": srv.url("/loop2.xml")})
        srv.routes["/loop2.xml"] = Route(b"", status=301, headers={
            "Location": srv.url("/loop1.xml")})
        conf = write_config(tmp, [
            "# the feeds, polled every second",
            "feed old %s interval 1s  # moved in 2024" % srv.url("/old.xml"),
            "feed chain %s interval 1s" % srv.url("/chain.xml"),
            "feed temp %s interval 1s" % srv.url("/temp.xml"),
            "feed mixed %s interval 1s" % srv.url("/mixed.xml"),
            "feed loop %s interval 1s" % srv.url("/loop1.xml")])
        d = Daemon(conf)
        try:
            def moved():
                with open(conf) as f:
                    text = f.read()
                return text if (srv.url("/new.xml") in text and
                                srv.url("/final.xml") in text) else None
            text = wait_for("old and chain moved in the config", moved,
                            timeout=30)
            # The moved feeds are then asked at their new place only.
            time.sleep(1)
            old_hits = len(srv.hits("/old.xml"))
            chain_hits = len(srv.hits("/chain.xml"))
            wait_for("new.xml asked directly", lambda: len(
                srv.hits("/new.xml")) >= len(srv.hits("/old.xml")) + 2)
            temp_polls = len(srv.hits("/temp.xml"))
            log = d.log()
        finally:
            d.stop()
        check(len(srv.hits("/old.xml")) == old_hits and
              len(srv.hits("/chain.xml")) == chain_hits,
              "the old URLs were still asked after the config changed")
        check(old_hits == 3 and chain_hits == 3,
              "moved after %d and %d polls, not 3" % (old_hits, chain_hits))
        check("feed old %s interval 1s  # moved in 2024" % srv.url("/new.xml")
              in text, "the line of old lost its options or comment: %s"
              % text)
        check("\n# the feeds, polled every second\n" in text,
              "the comment line went: %s" % text)
        check(srv.url("/temp.xml") in text and srv.url("/mixed.xml") in text,
              "a temporary redirect changed the config: %s" % text)
        check(temp_polls >= 4, "temp polled only %d times" % temp_polls)
        check(re.search(r"^old: moved permanently to %s \(3 polls in a "
                        r"row\)" % re.escape(srv.url("/new.xml")), log, re.M),
              "no line says old moved: %s" % log)
        loop = [l for l in log.splitlines() if l.startswith("loop: ")]
        check(loop and "redirects" in loop[0].lower() and
              (srv.url("/loop1.xml") in loop[0] or
               srv.url("/loop2.xml") in loop[0]),
              "the redirect loop's line: %r" % loop[:1])
    finally:
        srv.stop()


def test_hung_feeds(tmp):
    """Two feeds of one host that hang (headers never come) hold their
    own connections, not the host's other feeds: with per_host 2, the
    third feed of the host is fetched once they have been silent for a
    few seconds, long before their timeout, and they fail with one line
    each."""
    srv = FeedServer()
    body = channel("X", [item("x1", None, "x one",
                              "Fri, 17 May 2024 10:00:00 GMT")])
    try:
        srv.routes["/hang1.xml"] = Route(body, delay=25)
        srv.routes["/hang2.xml"] = Route(body, delay=25)
        srv.routes["/ok.xml"] = Route(body)
        conf = write_config(tmp, ["per_host 2", "timeout 15s",
                                  "feed hang1 %s" % srv.url("/hang1.xml"),
                                  "feed hang2 %s" % srv.url("/hang2.xml"),
                                  "feed ok %s" % srv.url("/ok.xml")])
        code, _, err = feedd("poll", "--once", "-c", conf, timeout=40)
        first = min(t for _, t in srv.arrivals)
        ok_at = [t for path, t in srv.arrivals if path == "/ok.xml"]
        check(ok_at and ok_at[0] - first < 9,
              "the healthy feed waited %.1f s behind two hung ones" %
              (ok_at[0] - first if ok_at else -1))
        check(re.search(r"^ok: 1 new", err, re.M), "ok: %r" % err)
        for name in ("hang1", "hang2"):
            check(re.search(r"^%s: http://\S+: .*timed out" % name, err,
                            re.M), "%s: %r" % (name, err))
    finally:
        srv.stop()


def test_held_not_stalled(tmp):
    """A transfer feedd itself holds (the parse thread has its four
    documents) is not a hung one: it keeps its place in its host's
    per_host, and the host's next feed waits for it to end."""
    drip = [FeedServer() for _ in range(4)]
    srv = FeedServer()
    head = b"<rss version='2.0'><channel><title>d</title>"
    try:
        lines = ["per_host 1", "parallel 8", "timeout 40s"]
        for i, d in enumerate(drip):
            d.routes["/d.xml"] = Route(head)
            d.routes["/d.xml"].drip = 12
            lines.append("feed d%d %s" % (i, d.url("/d.xml")))
        # Later than the four: it is the one held.
        srv.routes["/b1.xml"] = Route(head, delay=1)
        srv.routes["/b1.xml"].drip = 1
        srv.routes["/b2.xml"] = Route(channel("B", [item(
            "b", None, "b two", "Fri, 17 May 2024 10:00:00 GMT")]))
        lines += ["feed b1 %s" % srv.url("/b1.xml"),
                  "feed b2 %s" % srv.url("/b2.xml")]
        conf = write_config(tmp, lines)
        code, _, err = feedd("poll", "--once", "-v", "-c", conf, timeout=50)
        # b1 can end only once the parse thread takes it: after one of
        # the four has ended.
        d_end = min([t for d in drip for _, t in d.ends] or [0])
        b2_at = [t for path, t in srv.arrivals if path == "/b2.xml"]
        check(d_end and b2_at, "the four ended %r, b2 came %r: %r" %
              (d_end, b2_at, err))
        check(b2_at[0] >= d_end,
              "b2 was fetched %.1f s before b1, held by feedd, could end "
              "(per_host 1): %r" % (d_end - b2_at[0], err))
        check(not re.search(r"^b1: no byte", err, re.M),
              "b1, held by feedd, was taken for a hung feed: %r" % err)
        check(re.search(r"^b2: 1 new", err, re.M), "b2: %r" % err)
    finally:
        for d in drip:
            d.stop()
        srv.stop()


def test_publish_fails(tmp):
    """When public/feed.atom cannot be written (here a directory stands in
    its way), readers are served what was committed all the same; the file
    is written at the next publish once it can be."""
    srv = FeedServer()
    try:
        srv.routes["/news.xml"] = Route(rss("Local news", NEWS_ITEMS),
                                        etag='"v1"')
        port = free_port()
        conf = write_config(tmp, ["interval 1h",
                                  "feed news %s" % srv.url("/news.xml")],
                            port=port)
        atom = os.path.join(tmp, "state", "public", "feed.atom")
        os.makedirs(os.path.join(atom, "blocker"))
        d = Daemon(conf)
        try:
            base = "http://127.0.0.1:%d" % port

            def has_two():
                status, _, body = get(base + "/feed.atom")
                return status == 200 and body.count(b"<entry>") == 2 and body
            body = wait_for("two entries at /feed.atom", has_two)
            check("publish: cannot write" in d.log(),
                  "the failed write was not logged: %s" % d.log())
            check(os.path.isdir(atom), "feed.atom was written through a "
                  "directory")
            # The way is clear: the stop's publish writes the file.
            shutil.rmtree(atom)
        finally:
            code = d.stop()
        check(code == 0, "feedd run exited %d: %s" % (code, d.log()))
        with open(atom, "rb") as f:
            check(f.read() == body, "feed.atom differs from what was served")
    finally:
        srv.stop()


def test_daemon_cli(tmp):
    """run, poll and check read their arguments strictly: `run --once`
    (which used to poll once and exit 0) and anything unknown are refused
    with one line and exit 2, before anything is started."""
    conf = write_config(tmp, ["feed f file://%s/none.xml" % tmp])
    state = os.path.join(tmp, "state")
    for args, what in ((["run", "--once", "-c", conf], "--once"),
                       (["run", "-c", conf, "--once"], "--once"),
                       (["check", "--once", "-c", conf], "--once"),
                       (["poll", "--once", "--bogus", "-c", conf], "--bogus"),
                       (["run", "-c", conf, "extra"], "extra"),
                       (["poll", "--once", "-c"], "-c")):
        code, out, err = feedd(*args, timeout=10)
        lines = err.splitlines()
        check(code == 2, "%s exited %d, not 2: %s" % (args, code, err))
        check(len(lines) == 1 and what in lines[0],
              "%s: not one line naming %s: %r" % (args, what, err))
        check(out == "", "%s printed %r" % (args, out))
        check(not os.path.exists(state), "%s created the store" % args)
    for cmd in ("run", "poll", "check"):
        code, out, err = feedd(cmd, "--help")
        check(code == 0 and out.startswith("usage: feedd %s" % cmd) and
              err == "", "%s --help: %d %r %r" % (cmd, code, out, err))
    # The long forms, with = as well.
    code, out, err = feedd("check", "--config=" + conf)
    check(code == 0 and "configuration OK" in out, "--config=: %s" % err)
    code, out, err = feedd("poll", "--config", conf, "--once")
    check(code == 0 and os.path.exists(state), "poll --config: %s" % err)


def list_table(out):
    """The rows of `feedd list` as dicts by header, cut where each header
    begins (the columns are aligned; cells may hold single spaces)."""
    lines = out.rstrip("\n").split("\n")
    head = lines[0]
    names = ["NAME", "URL", "INTERVAL", "TAGS", "LAST OK", "LAST ERROR",
             "NEXT POLL", "WHY", "ENTRIES"]
    starts = [head.index(n) for n in names]
    check(starts == sorted(starts) and starts[0] == 0,
          "header out of order: %r" % head)
    rows = []
    for line in lines[1:]:
        cells = [line[a:b].strip() for a, b in
                 zip(starts, starts[1:] + [len(line)])]
        # Each cell sits in its column: two spaces before the next one.
        for a in starts[1:-1]:
            check(line[a - 2:a] == "  " and line[a] != " ",
                  "a cell out of its column at %d: %r" % (a, line))
        rows.append(dict(zip(names, cells)))
    return rows


def minute(text):
    """A "YYYY-MM-DD HH:MM" of feedd list (UTC) in seconds."""
    check(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d", text),
          "not a UTC minute: %r" % text)
    return calendar.timegm(time.strptime(text, "%Y-%m-%d %H:%M"))


def rfc3339(text):
    check(isinstance(text, str) and
          re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", text),
          "not an RFC 3339 time: %r" % text)
    return calendar.timegm(time.strptime(text, "%Y-%m-%dT%H:%M:%SZ"))


def test_list(tmp):
    """feedd list and list --json beside a running daemon of the same
    config (no lock taken, nothing written): two feeds polled, one of them
    failing with 404 after it once succeeded, each column checked; then a
    feed no longer in the config is not listed, one never polled is
    "never", a state_dir not made yet gives every feed "never" and 0, and
    a broken config its FILE:LINE errors and status 1."""
    srv = FeedServer()
    d = None
    try:
        srv.routes["/news.xml"] = Route(rss("News", NEWS_ITEMS))
        srv.routes["/missing.xml"] = Route(rss("Soon gone", [
            ("m1", "https://gone.example/m-500001", "Kept",
             "Fri, 17 May 2024 08:00:00 GMT")]))
        good_url, bad_url = srv.url("/news.xml"), srv.url("/missing.xml")
        conf = write_config(tmp, [
            "feed news %s interval 30m tags local,daily" % good_url,
            "feed missing %s interval 1h30m" % bad_url])
        state = os.path.join(tmp, "state")
        started = time.time()
        # missing succeeds once, then answers 404 to the daemon: its last
        # success is that poll's, a second before.
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "poll --once exited %d: %s" % (code, err))
        time.sleep(1.1)
        del srv.routes["/missing.xml"]
        d = Daemon(conf)

        def polled():
            code, out, err = feedd("list", "-c", conf, "--json")
            check(code == 0, "list --json beside the daemon exited %d: %s"
                  % (code, err))
            feeds = json.loads(out)
            # Both polled by the daemon: poll --once sets no next poll.
            return feeds if (feeds[1]["errors"] == 1 and
                             feeds[0]["next_poll"] is not None) else None
        feeds = wait_for("both feeds polled, as feedd list sees them", polled)
        code, out, err = feedd("list", "-c", conf)
        check(code == 0 and err == "",
              "list beside the daemon exited %d: %s" % (code, err))
        check(d.proc.poll() is None, "the daemon stopped: %s" % d.log())
        now = time.time()

        rows = list_table(out)
        check([r["NAME"] for r in rows] == ["news", "missing"],
              "rows: %s" % out)
        news, missing = rows
        check(news["URL"] == good_url and missing["URL"] == bad_url,
              "URLs: %s" % out)
        check(news["INTERVAL"] == "30m" and missing["INTERVAL"] == "1h30m",
              "intervals: %s" % out)
        check(news["TAGS"] == "local,daily" and missing["TAGS"] == "-",
              "tags: %s" % out)
        ok = minute(news["LAST OK"])
        check(started - 60 <= ok <= now, "news last ok: %s" % out)
        ok = minute(missing["LAST OK"])
        check(started - 60 <= ok <= now, "missing last ok: %s" % out)
        check(news["LAST ERROR"] == "-", "news last error: %s" % out)
        check(missing["LAST ERROR"] == "HTTP 404 from %s" % bad_url,
              "missing last error: %s" % out)
        # The next polls: a healthy feed's at its place in its host's
        # cycle (half an interval to one and a half on), a failing one's
        # an interval on; up to 10% of jitter; minutes.
        nxt = minute(news["NEXT POLL"])
        check(started + 14 * 60 <= nxt <= now + 48 * 60,
              "news next poll: %s" % out)
        nxt = minute(missing["NEXT POLL"])
        check(started + 85 * 60 <= nxt <= now + 100 * 60,
              "missing next poll: %s" % out)
        check(news["ENTRIES"] == "2" and missing["ENTRIES"] == "1",
              "entries: %s" % out)
        check(out.splitlines()[1].endswith(" 2"), "entries not last: %s" % out)

        check([f["name"] for f in feeds] == ["news", "missing"],
              "json names: %s" % feeds)
        jn, jm = feeds
        check(jn["url"] == good_url and jm["url"] == bad_url,
              "json urls: %s" % feeds)
        check(jn["interval"] == 1800 and jm["interval"] == 5400,
              "json intervals: %s" % feeds)
        check(jn["tags"] == ["local", "daily"] and jm["tags"] == [],
              "json tags: %s" % feeds)
        check(started - 2 <= rfc3339(jn["last_ok"]) <= now + 1,
              "json last_ok: %s" % feeds)
        check(started - 2 <= rfc3339(jm["last_ok"]) <
              rfc3339(jm["last_poll"]) <= now + 1,
              "json last_ok of missing: %s" % feeds)
        check(jn["last_error"] is None and jn["errors"] == 0,
              "json news error: %s" % feeds)
        check(jm["last_error"] == "HTTP 404 from %s" % bad_url and
              jm["errors"] == 1, "json missing error: %s" % feeds)
        check(900 <= rfc3339(jn["next_poll"]) - rfc3339(jn["last_ok"]) <=
              2700 + 2700 // 10 + 1, "json next_poll: %s" % feeds)
        check(5400 <= rfc3339(jm["next_poll"]) - rfc3339(jm["last_poll"]) <=
              5400 + 5400 // 10 + 1, "json next_poll: %s" % feeds)
        check(jn["entries"] == 2 and jm["entries"] == 1,
              "json entries: %s" % feeds)
        check(d.proc.poll() is None, "the daemon stopped: %s" % d.log())
        check("in use" not in d.log(), "a lock clash: %s" % d.log())
        check(d.stop() == 0, "feedd run did not exit 0: %s" % d.log())
        d = None

        # missing leaves the config, fresh comes in: listed in config
        # order, fresh never polled.
        conf = write_config(tmp, [
            "feed fresh %s" % srv.url("/fresh.xml"),
            "feed news %s interval 30m tags local,daily" % good_url])
        code, out, err = feedd("list", "-c", conf)
        check(code == 0, "list after the daemon: %d %s" % (code, err))
        rows = list_table(out)
        check([r["NAME"] for r in rows] == ["fresh", "news"], "rows: %s" % out)
        check([rows[0][k] for k in ("INTERVAL", "TAGS", "LAST OK",
                                    "LAST ERROR", "NEXT POLL", "ENTRIES")] ==
              ["30m", "-", "never", "-", "-", "0"], "fresh: %s" % out)
        check(rows[1]["ENTRIES"] == "2" and rows[1]["LAST OK"] != "never",
              "news after the daemon: %s" % out)

        # A state_dir not made yet: every feed never, nothing made.
        sub = os.path.join(tmp, "sub")
        os.mkdir(sub)
        conf2 = write_config(sub, ["feed news %s" % good_url])
        for args in (["list", "-c", conf2], ["list", "--json", "-c", conf2]):
            code, out, err = feedd(*args)
            check(code == 0, "%s: %d %s" % (args, code, err))
        check(json.loads(out) == [{
            "name": "news", "url": good_url, "interval": 1800, "tags": [],
            "last_ok": None, "last_poll": None, "last_error": None,
            "errors": 0, "next_poll": None, "next_why": None, "entries": 0}],
            "no state_dir, json: %s" % out)
        code, out, err = feedd("list", "-c", conf2)
        rows = list_table(out)
        check(rows[0]["LAST OK"] == "never" and rows[0]["ENTRIES"] == "0",
              "no state_dir: %s" % out)
        check(os.listdir(sub) == ["feedd.conf"], "list made %s" % os.listdir(sub))

        # A broken config: every error as FILE:LINE, status 1, no output.
        with open(conf2, "a") as f:
            f.write("bogus 1\nfeed\n")
        code, out, err = feedd("list", "-c", conf2)
        check(code == 1 and out == "", "broken config: %d %r" % (code, out))
        lines = err.strip().splitlines()
        check(len(lines) == 2 and all(l.startswith(conf2 + ":") for l in lines),
              "broken config errors: %r" % err)
        check(os.path.isdir(state), "the state folder went away")
    finally:
        if d is not None:
            d.stop()
        srv.stop()


def test_parse_cli(tmp):
    """feedd parse prints one JSON object per entry and one per file."""
    import json
    path = os.path.join(ARGS.examples, "feeds", "moscow-times.xml")
    code, out, err = feedd("parse", path)
    check(code == 0, "parse exited %d: %s" % (code, err))
    lines = [json.loads(l) for l in out.splitlines()]
    check(len(lines) == 3, "expected 2 entries and a file line: %s" % lines)
    e = lines[0]
    for key in ("file", "feed_title", "guid", "id", "link", "title",
                "published", "updated", "author", "summary", "content",
                "enclosures", "categories"):
        check(key in e, "no %s in %s" % (key, e))
    check(e["published"] == "2024-05-17T09:14:00Z", e["published"])
    check(lines[2] == {"file": path, "format": "rss20", "entries": 2,
                       "encoding": "utf-8", "bad_dates": 0, "skipped": 0,
                       "error": None},
          lines[2])
    # --charset is the HTTP charset: it beats the XML declaration.
    doc = os.path.join(tmp, "koi8.xml")
    with open(doc, "wb") as f:
        f.write('<?xml version="1.0" encoding="windows-1251"?><rss><channel>'
                '<item><title>Привет</title><enclosure url="http://x/a.mp3" '
                'type="audio/mpeg" length="12"/><category>a</category>'
                '</item></channel></rss>'.encode("koi8-r"))
    code, out, err = feedd("parse", "--charset", "koi8-r", doc)
    lines = [json.loads(l) for l in out.splitlines()]
    check(code == 0 and lines[0]["title"] == "Привет", out)
    check(lines[0]["enclosures"] == [{"url": "http://x/a.mp3",
                                      "type": "audio/mpeg", "length": 12}],
          lines[0]["enclosures"])
    check(lines[0]["categories"] == ["a"], lines[0]["categories"])
    code, out, err = feedd("parse", os.path.join(tmp, "missing.xml"))
    check(code == 1 and "missing.xml" in err, "missing file: %d %s" % (code, err))
    # --chunk streams the file in pieces: the same lines, whatever the
    # size, for each demo feed (one with a bare '&' to repair).
    broken = os.path.join(tmp, "broken.xml")
    with open(broken, "w") as f:
        f.write('<rss version="2.0"><channel><title>B</title>' +
                "".join('<item><guid>g%d</guid><title>%s</title></item>'
                        % (i, "Fish & chips" if i == 30 else "ok")
                        for i in range(60)) + "</channel></rss>")
    feeds = sorted(glob.glob(os.path.join(ARGS.examples, "feeds", "*")))
    code, whole, err = feedd("parse", broken, *feeds)
    check(code == 0 and whole.count('"guid":"g') == 60, "whole: %s" % err)
    for size in ("1", "13", "4096"):
        code, out, err = feedd("parse", "--chunk", size, broken, *feeds)
        check(code == 0 and out == whole,
              "--chunk %s gives other lines: %s" % (size, err))
    # Bad values and unknown options: one line on stderr, status 2, and
    # nothing parsed.
    for args in (["--chunk", "0", broken], ["--chunk", "junk", broken],
                 ["--chunk=12x", broken], ["--chunk", "-1", broken],
                 ["--bogus", broken], ["-x", broken], [broken, "--charset"]):
        opt = [a for a in args if a.startswith("-")][0].split("=")[0]
        code, out, err = feedd("parse", *args)
        check(code == 2 and out == "" and len(err.splitlines()) == 1 and
              opt in err, "%s: %d %r %r" % (args, code, out, err))
    code, out, err = feedd("parse", "--help")
    check(code == 0 and out.startswith("usage: feedd parse"),
          "--help: %d %r" % (code, out))


def test_many_feeds(tmp):
    """A cold poll of 1,500 feeds on one host: feedd hands libcurl only
    what may start now, so the server never sees more than per_host
    connections at once, every feed is fetched exactly once, and no poll
    fails for having waited its turn."""
    lock = threading.Lock()
    state = {"now": 0, "max": 0, "hits": {}}

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            with lock:
                state["now"] += 1
                state["max"] = max(state["max"], state["now"])
                state["hits"][self.path] = state["hits"].get(self.path, 0) + 1
            n = self.path.rsplit("/", 1)[-1]
            body = rss("F" + n, [("g" + n, "https://m.example/a-%s" % n,
                                  "Entry " + n,
                                  "Fri, 17 May 2024 10:00:00 GMT")])
            time.sleep(0.01)
            data = body.encode()
            # Counted out before the answer goes, so that the client's next
            # request (which may come as soon as this answer is read) is
            # never counted beside this one.
            with lock:
                state["now"] -= 1
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.request_queue_size = 128
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    n = 1500
    try:
        base = "http://127.0.0.1:%d" % httpd.server_address[1]
        conf = write_config(tmp, ["parallel 12", "per_host 6",
                                  "max_items %d" % n] +
                            ["feed f%d %s/f/%d" % (i, base, i)
                             for i in range(n)])
        code, _, err = feedd("poll", "--once", "-v", "-c", conf, timeout=50)
        print(err)
        check(code == 0, "poll exited %d: %s" % (code, err[-2000:]))
        check(state["max"] <= 6, "%d connections at once to one host"
              % state["max"])
        hits = state["hits"]
        check(len(hits) == n and set(hits.values()) == {1},
              "%d feeds fetched, counts %s" % (len(hits), set(hits.values())))
        bad = [l for l in err.splitlines() if "warning" in l.lower()
               or "error" in l.lower() or "timed out" in l or "resolve" in l]
        check(not bad, "failures: %s" % bad[:5])
        entries = read_atom(os.path.join(tmp, "state", "public", "feed.atom"))
        check(len(entries) == n, "%d entries published" % len(entries))
    finally:
        httpd.shutdown()
        httpd.server_close()

def test_large_feeds(tmp):
    """A cold poll of feeds large enough to go through the parse thread
    (over 16 KiB; half with a Content-Length, half without, which the
    thread takes whatever their size), more of them than the thread takes
    at once, beside small ones parsed on the loop: every entry of every
    feed is stored once, no transfer waits until it times out, and the
    second poll (all 304) stores nothing."""
    nbig, nsmall, per = 40, 20, 700

    def body(n):
        items = per if n < nbig else 3
        return rss("F%d" % n, [
            ("g%d-%d" % (n, i), "https://l.example/%d/%d" % (n, i),
             "Entry %d of feed %d, with a title long enough to weigh" % (i, n),
             "Fri, 17 May 2024 10:00:00 GMT") for i in range(items)]).encode()

    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *a):
            pass

        def do_GET(self):
            n = int(self.path.rsplit("/", 1)[-1])
            data = body(n)
            etag = '"v%d"' % n
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/rss+xml")
            self.send_header("ETag", etag)
            # Odd feeds without a length: read to the connection's close.
            if n % 2 == 0:
                self.send_header("Content-Length", str(len(data)))
            else:
                self.close_connection = True
            self.end_headers()
            # In pieces, so that the parse thread's queue fills.
            for i in range(0, len(data), 8192):
                self.wfile.write(data[i:i + 8192])

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    n = nbig + nsmall
    try:
        check(len(body(0)) > 64 * 1024 and len(body(nbig)) < 16 * 1024,
              "fixture sizes")
        base = "http://127.0.0.1:%d" % httpd.server_address[1]
        conf = write_config(tmp, ["parallel 30", "per_host 30",
                                  "max_items 100000"] +
                            ["feed f%d %s/f/%d" % (i, base, i)
                             for i in range(n)])
        code, _, err = feedd("poll", "--once", "-c", conf, timeout=60)
        check(code == 0, "poll exited %d: %s" % (code, err[-2000:]))
        bad = [l for l in err.splitlines() if "warning" in l.lower()
               or "error" in l.lower() or "timed out" in l]
        check(not bad, "failures: %s" % bad[:5])
        for i in range(n):
            want = per if i < nbig else 3
            check("f%d: %d new, 0 updated" % (i, want) in err,
                  "f%d did not store its %d entries: %s"
                  % (i, want, err[-1500:]))
        entries = read_atom(os.path.join(tmp, "state", "public", "feed.atom"))
        check(len(entries) == nbig * per + nsmall * 3,
              "%d entries published" % len(entries))
        code, _, err = feedd("poll", "--once", "-v", "-c", conf, timeout=60)
        check(code == 0, "second poll exited %d: %s" % (code, err[-2000:]))
        check(" new," not in err, "the second poll stored: %s" % err[-1500:])
    finally:
        httpd.shutdown()
        httpd.server_close()

# What test_store_damage damages: a name and a glob under state_dir. A new
# target (feeds.state, say) is one more line.
DAMAGE_TARGETS = [
    ("segment", "items/*.jsonl"),
    ("index", "items/index"),
    ("feeds.state", "feeds.state"),
]


def damage_file(rng, path):
    """Damages path in place: 1 to 4 bytes at a random offset overwritten
    (each with another value, so that the damage always changes
    something), inserted or removed. Returns (what, offset, length)."""
    with open(path, "rb") as fp:
        data = bytearray(fp.read())
    kind = rng.choice(["overwrite", "overwrite", "insert", "delete"])
    n = rng.randint(1, 4)
    if kind == "insert":
        at = rng.randint(0, len(data))
        data[at:at] = bytes(rng.randrange(256) for _ in range(n))
    else:
        n = min(n, len(data))
        at = rng.randint(0, len(data) - n)
        if kind == "delete":
            del data[at:at + n]
        else:
            for i in range(at, at + n):
                data[i] ^= rng.randint(1, 255)
    with open(path, "wb") as fp:
        fp.write(data)
    return kind, at, n


def test_store_damage(tmp):
    """A small store damaged a few hundred times (random bytes at random
    offsets of a segment, of items/index or of feeds.state, same length or
    not), each time
    in a fresh copy: every poll --once ends without a crash, the damage is
    logged, and every entry of both feeds is in the store afterwards,
    exactly once. One poll brings back what a feed without validators
    carries; a feed that answers 304 is fetched whole at the poll after
    the one that found the damage, so a second poll is run when the first
    left an entry out."""
    import random
    rounds = int(os.environ.get("FEEDD_DAMAGE_ROUNDS", "300"))
    seed = int(os.environ.get("FEEDD_DAMAGE_SEED", "9"))
    srv = FeedServer()
    try:
        titles = {}
        for name, etag in (("alpha", '"a1"'), ("beta", None)):
            items = [item("%s-%d" % (name, i),
                          "https://%s.example/post-%d" % (name, i),
                          "%s entry %d" % (name, i),
                          "Fri, 17 May 2024 %02d:%02d:00 GMT"
                          % (8 + i, 7 * len(name)))
                     for i in range(5)]
            headers = {"Last-Modified": "Fri, 17 May 2024 12:00:00 GMT"} \
                if etag else {}
            srv.routes["/%s.xml" % name] = Route(
                channel(name, items), etag=etag, headers=headers)
            titles[name] = {"%s entry %d" % (name, i) for i in range(5)}
        conf = write_config(tmp, [
            "max_items 1000",
            "feed alpha %s" % srv.url("/alpha.xml"),
            "feed beta %s" % srv.url("/beta.xml")])
        state = os.path.join(tmp, "state")
        pristine = os.path.join(tmp, "pristine")
        atom = os.path.join(state, "public", "feed.atom")
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0 and "store" not in err,
              "the first poll: %d %s" % (code, err))
        everything = titles["alpha"] | titles["beta"]
        got = [e["title"] for e in read_atom(atom)]
        check(sorted(got) == sorted(everything), "the first poll: %s" % got)
        shutil.copytree(state, pristine)

        def stored(what):
            entries = read_atom(atom)
            check_entries(entries)
            return [e["title"] for e in entries]

        rng = random.Random(seed)
        done = second = 0  # rounds run, and those that needed two polls
        # A build with sanitizers is several times slower: past 45 s, the
        # rounds stop once there have been 100.
        budget = time.monotonic() + 45
        for r in range(rounds):
            if r >= 100 and time.monotonic() > budget:
                break
            done += 1
            shutil.rmtree(state)
            shutil.copytree(pristine, state)
            target, pattern = rng.choice(DAMAGE_TARGETS)
            path = rng.choice(sorted(glob.glob(os.path.join(state, pattern))))
            kind, at, n = damage_file(rng, path)
            where = "round %d (seed %d): %s %s of %d bytes at %d of %s" % (
                r, seed, target, kind, n, at, os.path.relpath(path, state))
            code, _, err = feedd("poll", "--once", "-c", conf)
            check(code >= 0, "%s: killed by signal %d: %s"
                  % (where, -code, err))
            if code == 1 and "written by a newer feedd" in err:
                # The digit of a segment's header made larger: that
                # segment is refused, and nothing is touched.
                check(target == "segment" and at < 20,
                      "%s: refused: %s" % (where, err))
                continue
            check(code == 0, "%s: the poll exited %d: %s" % (where, code, err))
            check(re.search(r"^store: ", err, re.M),
                  "%s: nothing logged:\n%s" % (where, err))
            got = stored(where)
            missing = titles["beta"] - set(got)
            check(not missing, "%s: after one poll, missing %s:\n%s"
                  % (where, sorted(missing), err))
            if sorted(got) == sorted(everything):
                continue
            second += 1
            code, _, err2 = feedd("poll", "--once", "-c", conf)
            check(code == 0, "%s: the second poll exited %d: %s\n%s"
                  % (where, code, err, err2))
            got = stored(where)
            check(sorted(got) == sorted(everything),
                  "%s: after two polls: %s\n%s\n%s" % (where, got, err, err2))
        print("%d rounds, %d needed a second poll" % (done, second))
    finally:
        srv.stop()


# ---- live reload (issue 11) -------------------------------------------------

def reload_config(path, lines, port, state="state", rename=True):
    """Writes the config at path: state_dir, listen, title and lines. With
    rename, as editors do: a new file beside it, renamed over it."""
    text = "state_dir %s\nlisten 127.0.0.1:%d\ntitle \"test river\"\n%s" % (
        state, port, "".join(l + "\n" for l in lines))
    target = path
    if rename:
        target = os.path.join(os.path.dirname(path), ".feedd.conf.swp")
    with open(target, "w") as f:
        f.write(text)
    if rename:
        os.rename(target, path)


def reload_routes(srv, names):
    """One feed per name at /NAME.xml, each with one entry titled
    "NAME entry"."""
    for i, n in enumerate(names):
        srv.routes["/%s.xml" % n] = Route(rss(n, [
            (n + "-1", "https://%s.example/post-%d" % (n, 500001 + i),
             n + " entry", "Fri, 17 May 2024 1%d:00:00 GMT" % i)]))


def served_titles(port):
    status, _, body = get("http://127.0.0.1:%d/feed.atom" % port)
    if status != 200:
        return set()
    root = ET.fromstring(body)
    return {e.findtext(ATOM + "title") for e in root.findall(ATOM + "entry")}


def reload_lines(d):
    return [l for l in d.log().splitlines() if l.startswith("reload:")]


def test_reload_sighup(tmp):
    """SIGHUP applies the edited config: a feed added is fetched at once
    and its entries published; a feed removed is fetched no more, and its
    entries stay. The config is a symlink to a file in another folder, so
    that only the signal (not the watch on the folder) can see the edit."""
    srv = FeedServer()
    try:
        reload_routes(srv, ["a", "b"])
        real = os.path.join(tmp, "real")
        os.mkdir(real)
        os.mkdir(os.path.join(tmp, "etc"))
        conf = os.path.join(tmp, "etc", "feedd.conf")
        os.symlink(os.path.join(real, "feedd.conf"), conf)
        port = free_port()
        state = os.path.join(tmp, "state")
        a = "feed a %s interval 1s" % srv.url("/a.xml")
        b = "feed b %s interval 1h" % srv.url("/b.xml")
        reload_config(os.path.join(real, "feedd.conf"), [a], port, state,
                      rename=False)
        d = Daemon(conf)
        try:
            wait_for("a's entry", lambda: "a entry" in served_titles(port))
            reload_config(os.path.join(real, "feedd.conf"), [a, b], port,
                          state, rename=False)
            d.proc.send_signal(signal.SIGHUP)
            # b's interval is an hour: its entry comes from the reload.
            wait_for("b's entry after SIGHUP",
                     lambda: "b entry" in served_titles(port))
            check("reload: 1 feed added, 0 removed, 0 changed (SIGHUP)"
                  in reload_lines(d), "reload lines: %s" % reload_lines(d))
            check(len(srv.hits("/b.xml")) == 1,
                  "b fetched %d times" % len(srv.hits("/b.xml")))
            # a goes once it has been polled twice; its entry stays.
            wait_for("a polled twice",
                     lambda: len(srv.hits("/a.xml")) >= 2)
            reload_config(os.path.join(real, "feedd.conf"), [b], port, state,
                          rename=False)
            d.proc.send_signal(signal.SIGHUP)
            wait_for("the second reload", lambda: len(reload_lines(d)) == 2)
            check(reload_lines(d)[1] ==
                  "reload: 0 feeds added, 1 removed, 0 changed (SIGHUP)",
                  "reload lines: %s" % reload_lines(d))
            before = len(srv.hits("/a.xml"))
            time.sleep(2.5)
            check(len(srv.hits("/a.xml")) == before,
                  "a fetched after its removal: %d then %d"
                  % (before, len(srv.hits("/a.xml"))))
            check(served_titles(port) == {"a entry", "b entry"},
                  "served: %s" % served_titles(port))
            check(d.proc.poll() is None, "feedd ended")
        finally:
            code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
        titles = {e["title"] for e in read_atom(
            os.path.join(state, "public", "feed.atom"))}
        check(titles == {"a entry", "b entry"}, "feed.atom: %s" % titles)
    finally:
        srv.stop()


def test_reload_rename(tmp):
    """A config replaced by a rename, as editors and `feedd add` do, is
    applied without a signal, once for the burst of changes; other files
    of the folder changing are no reload."""
    srv = FeedServer()
    try:
        reload_routes(srv, ["a", "b"])
        conf = os.path.join(tmp, "feedd.conf")
        port = free_port()
        a = "feed a %s" % srv.url("/a.xml")
        reload_config(conf, [a], port)
        d = Daemon(conf)
        try:
            wait_for("a's entry", lambda: "a entry" in served_titles(port))
            with open(os.path.join(tmp, "notes.txt"), "w") as f:
                f.write("not the config\n")
            reload_config(conf, [a, "interval 2h",
                                 "feed b %s tags x,y" % srv.url("/b.xml")],
                          port)
            wait_for("b's entry", lambda: "b entry" in served_titles(port))
            time.sleep(1)
            lines = reload_lines(d)
            # a takes the new default interval: it changed too.
            check(lines == ["reload: 1 feed added, 0 removed, 1 changed; "
                            "settings changed: interval (the file changed)"],
                  "reload lines: %s" % lines)
            # Written in place: the same. b's tags change.
            reload_config(conf, [a, "interval 2h",
                                 "feed b %s tags x" % srv.url("/b.xml")],
                          port, rename=False)
            wait_for("the second reload", lambda: len(reload_lines(d)) == 2)
            time.sleep(0.5)
            check(reload_lines(d)[1:] == ["reload: 0 feeds added, 0 removed, "
                                          "1 changed (the file changed)"],
                  "reload lines: %s" % reload_lines(d))
        finally:
            code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
    finally:
        srv.stop()


def test_reload_broken(tmp):
    """A broken edit is refused with every error as FILE:LINE: the daemon
    keeps serving and polling with the config in force, and a later good
    edit applies."""
    srv = FeedServer()
    try:
        reload_routes(srv, ["a", "b"])
        conf = os.path.join(tmp, "feedd.conf")
        port = free_port()
        a = "feed a %s interval 1s" % srv.url("/a.xml")
        b = "feed b %s" % srv.url("/b.xml")
        reload_config(conf, [a], port)
        d = Daemon(conf)
        try:
            wait_for("a's entry", lambda: "a entry" in served_titles(port))
            # Lines 6 and 7 are wrong (3 lines of settings come first); b on
            # line 5 is not taken either.
            reload_config(conf, [a, b, "bogus setting", "interval 15x"], port)
            wait_for("the refusal", lambda: reload_lines(d))
            log = d.log()
            check(reload_lines(d) == [
                "reload: refused, 2 errors in %s; the running config stays "
                "in force (the file changed)" % conf],
                "reload lines: %s" % reload_lines(d))
            for n in (6, 7):
                check(re.search(r"^%s:%d: " % (re.escape(conf), n), log,
                                re.M), "no %s:%d: line in %s" % (conf, n, log))
            hits = len(srv.hits("/a.xml"))
            wait_for("a polled after the refusal",
                     lambda: len(srv.hits("/a.xml")) >= hits + 2)
            status, _, _ = get("http://127.0.0.1:%d/healthz" % port)
            check(status == 200, "/healthz gave %d" % status)
            check(srv.hits("/b.xml") == [], "b of the broken file fetched")
            check(d.proc.poll() is None, "feedd ended")
            reload_config(conf, [a, b], port)
            wait_for("b's entry", lambda: "b entry" in served_titles(port))
            check(reload_lines(d)[-1] == "reload: 1 feed added, 0 removed, "
                  "0 changed (the file changed)",
                  "reload lines: %s" % reload_lines(d))
        finally:
            code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
    finally:
        srv.stop()


def test_reload_listen(tmp):
    """A new listen address: the new port answers, the old one does not,
    and the merged feed names its new address. An address that cannot be
    bound is logged and the server stays where it was."""
    srv = FeedServer()
    busy = socket.socket()
    try:
        reload_routes(srv, ["a"])
        conf = os.path.join(tmp, "feedd.conf")
        old, new = free_port(), free_port()
        a = "feed a %s" % srv.url("/a.xml")
        reload_config(conf, [a], old)
        d = Daemon(conf)
        try:
            wait_for("a's entry", lambda: "a entry" in served_titles(old))
            reload_config(conf, [a], new)
            wait_for("the new port", lambda: served_titles(new))
            try:
                get("http://127.0.0.1:%d/healthz" % old)
                check(False, "the old port still answers")
            except OSError:
                pass
            _, _, body = get("http://127.0.0.1:%d/feed.atom" % new)
            check(b"127.0.0.1:%d/feed.atom" % new in body,
                  "the feed does not name its new address")
            check("settings changed: listen" in reload_lines(d)[-1],
                  "reload lines: %s" % reload_lines(d))
            # A port taken by someone else: refused, the server stays.
            busy.bind(("127.0.0.1", 0))
            busy.listen(1)
            taken = busy.getsockname()[1]
            reload_config(conf, [a], taken)
            wait_for("the second reload", lambda: len(reload_lines(d)) == 3)
            check(reload_lines(d)[1:] == [
                "reload: listen 127.0.0.1:%d: address already in use; still "
                "serving on the old address" % taken,
                "reload: 0 feeds added, 0 removed, 0 changed (the file "
                "changed)"], "reload lines: %s" % reload_lines(d))
            status, _, body = get("http://127.0.0.1:%d/feed.atom" % new)
            check(status == 200 and b":%d/feed.atom" % new in body,
                  "the old server is gone after a failed rebind")
            # The same address and port by another name: the old socket
            # must close before the new one can bind.
            with open(conf) as f:
                text = f.read()
            with open(conf + ".new", "w") as f:
                f.write(text.replace("127.0.0.1:%d" % taken,
                                     "localhost:%d" % new))
            os.rename(conf + ".new", conf)
            wait_for("the third reload", lambda: len(reload_lines(d)) == 4)
            check("serving http://localhost:%d/feed.atom" % new in d.log(),
                  d.log())
            status, _, body = get("http://127.0.0.1:%d/feed.atom" % new)
            check(status == 200 and b"localhost:%d/feed.atom" % new in body,
                  "not serving on localhost:%d: %d" % (new, status))
        finally:
            code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
    finally:
        busy.close()
        srv.stop()


def test_reload_state_dir(tmp):
    """A changed state_dir is refused with one message, and nothing else
    of that edit applies."""
    srv = FeedServer()
    try:
        reload_routes(srv, ["a", "b"])
        conf = os.path.join(tmp, "feedd.conf")
        port = free_port()
        a = "feed a %s" % srv.url("/a.xml")
        reload_config(conf, [a], port)
        d = Daemon(conf)
        try:
            wait_for("a's entry", lambda: "a entry" in served_titles(port))
            reload_config(conf, [a, "feed b %s" % srv.url("/b.xml")], port,
                          state="elsewhere")
            d.proc.send_signal(signal.SIGHUP)
            wait_for("the refusal", lambda: reload_lines(d))
            time.sleep(1.5)
            lines = reload_lines(d)
            # The SIGHUP and the rename (seen 200 ms later, or first when
            # the test is slow to signal): each refused, in either order.
            refusal = ("reload: refused: state_dir changed from %s to %s, "
                       "which needs a restart; the running config stays in "
                       "force" % (os.path.join(tmp, "state"),
                                  os.path.join(tmp, "elsewhere")))
            check("%s (SIGHUP)" % refusal in lines and all(
                l in ("%s (SIGHUP)" % refusal,
                      "%s (the file changed)" % refusal) for l in lines),
                "reload lines: %s" % lines)
            check(srv.hits("/b.xml") == [], "b was polled")
            check(not os.path.exists(os.path.join(tmp, "elsewhere")),
                  "the new state_dir was made")
            check(served_titles(port) == {"a entry"}, "served changed")
        finally:
            code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
    finally:
        srv.stop()


def test_reload_midpoll(tmp):
    """A feed removed while its fetch is under way: the poll is let finish
    and what it brought is stored and published; no further request. One
    removed and added again during its poll goes on being polled."""
    srv = FeedServer()
    try:
        reload_routes(srv, ["slow", "a"])
        srv.routes["/slow.xml"].delay = 1.5
        real = os.path.join(tmp, "real")
        os.mkdir(real)
        os.mkdir(os.path.join(tmp, "etc"))
        conf = os.path.join(tmp, "etc", "feedd.conf")
        path = os.path.join(real, "feedd.conf")
        os.symlink(path, conf)
        port = free_port()
        state = os.path.join(tmp, "state")
        slow = "feed slow %s interval 1s" % srv.url("/slow.xml")
        a = "feed a %s" % srv.url("/a.xml")

        def edit(lines):
            reload_config(path, lines, port, state, rename=False)
            n = len(reload_lines(d))
            d.proc.send_signal(signal.SIGHUP)
            wait_for("a reload", lambda: len(reload_lines(d)) > n)
            return reload_lines(d)[-1]

        reload_config(path, [slow, a], port, state, rename=False)
        d = Daemon(conf)
        try:
            wait_for("slow's request", lambda: srv.hits("/slow.xml"))
            check(edit([a]) == "reload: 0 feeds added, 1 removed, 0 changed "
                  "(SIGHUP)", "reload lines: %s" % reload_lines(d))
            wait_for("slow's entry, from the poll let finish",
                     lambda: "slow entry" in served_titles(port))
            check("slow: 1 new, 0 updated (1 in the feed)" in d.log(),
                  d.log())
            time.sleep(2)
            check(len(srv.hits("/slow.xml")) == 1,
                  "slow fetched %d times" % len(srv.hits("/slow.xml")))
            # Back: polled at once; removed and added again while that
            # poll is under way, it is the same feed, polled on after.
            check(edit([slow, a]).startswith("reload: 1 feed added"),
                  "reload lines: %s" % reload_lines(d))
            wait_for("slow's second request",
                     lambda: len(srv.hits("/slow.xml")) == 2)
            check(edit([a]).startswith("reload: 0 feeds added, 1 removed"),
                  "reload lines: %s" % reload_lines(d))
            check(edit([slow, a]).startswith("reload: 1 feed added, 0 "
                                             "removed"),
                  "reload lines: %s" % reload_lines(d))
            wait_for("slow polled on", lambda: len(srv.hits("/slow.xml")) >= 3)
            check(d.proc.poll() is None, "feedd ended")
        finally:
            code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
        check("slow entry" in {e["title"] for e in read_atom(
            os.path.join(state, "public", "feed.atom"))}, "slow's entry lost")
    finally:
        srv.stop()



def test_reload_log(tmp):
    """The log read while the daemon writes it, as the reload tests read
    it: a reload's line logged between the test's seek to the start of the
    file and its read lands after the lines before it, not over them."""
    srv = FeedServer()
    try:
        reload_routes(srv, ["a"])
        conf = os.path.join(tmp, "feedd.conf")
        port = free_port()
        reload_config(conf, ["feed a %s" % srv.url("/a.xml")], port)
        d = Daemon(conf)
        try:
            wait_for("a's entry", lambda: "a entry" in served_titles(port))
            before = d.log()
            d.errfile.seek(0)
            d.proc.send_signal(signal.SIGHUP)
            time.sleep(1)
            d.errfile.read()
            check(d.log() == before + "reload: 0 feeds added, 0 removed, 0 "
                  "changed (SIGHUP)\n", "log before the reload:\n%s\nafter:"
                  "\n%s" % (before, d.log()))
        finally:
            code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
    finally:
        srv.stop()

# ---- systemd: sd_notify and socket activation ------------------------------

def start_feedd_env(args, env, pass_fds=()):
    """feedd with extra environment; stderr to a file: (proc, read_log)."""
    errfile = log_file()
    full = dict(os.environ)
    for k in ("NOTIFY_SOCKET", "WATCHDOG_USEC", "WATCHDOG_PID", "LISTEN_FDS",
              "LISTEN_PID", "LISTEN_FDNAMES", "JOURNAL_STREAM"):
        full.pop(k, None)
    full.update(env)
    proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=errfile,
                            stderr=errfile, env=full, pass_fds=pass_fds)

    def read_log():
        errfile.seek(0)
        return errfile.read()
    return proc, read_log


def stop_proc(proc, timeout=10):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise AssertionError("feedd did not stop on SIGTERM")


def test_systemd_notify(tmp):
    """Under a NOTIFY_SOCKET the test listens on: READY=1 once serving,
    STATUS= lines counting feeds and failing ones, WATCHDOG=1 at half of
    WATCHDOG_USEC, RELOADING=1 then READY=1 around a SIGHUP reload,
    STOPPING=1 on SIGTERM."""
    srv = FeedServer()
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = os.path.join(tmp, "notify.sock")
    sock.bind(path)
    sock.settimeout(0.2)
    msgs = []  # (monotonic time, one datagram's assignments)

    def drain(until, want=None):
        end = time.monotonic() + until
        while time.monotonic() < end:
            try:
                data = sock.recv(4096)
            except socket.timeout:
                continue
            msgs.append((time.monotonic(), data.decode().split("\n")))
            if want and want(msgs[-1][1]):
                return msgs[-1][1]
        return None
    try:
        srv.routes["/news.xml"] = Route(rss("Local news", NEWS_ITEMS))
        port = free_port()
        conf = write_config(tmp, ["interval 1h",
                                  "feed news %s" % srv.url("/news.xml"),
                                  "feed gone %s" % srv.url("/gone.xml")],
                            port=port)
        proc, log = start_feedd_env([ARGS.feedd, "run", "-c", conf],
                                    {"NOTIFY_SOCKET": path,
                                     "WATCHDOG_USEC": "1000000"})
        try:
            ready = drain(10, lambda m: "READY=1" in m)
            check(ready is not None, "no READY=1: %s %s" % (msgs, log()))
            status, _, _ = get("http://127.0.0.1:%d/healthz" % port)
            check(status == 200, "not serving once READY=1 was sent")
            final = drain(10, lambda m: "STATUS=polling 2 feeds, 1 failing"
                          in m)
            check(final is not None, "no STATUS with one failing feed: %s"
                  % msgs)
            # 1 s of watchdog: a ping every 500 ms, and none as late as
            # the second that systemd allows.
            drain(3)
            pings = [t for t, m in msgs if "WATCHDOG=1" in m]
            check(len(pings) >= 5, "%d WATCHDOG=1 in %s" % (len(pings), msgs))
            gaps = sorted(b - a for a, b in zip(pings[1:], pings[2:]))
            check(0.35 < gaps[len(gaps) // 2] < 0.7 and gaps[-1] < 0.95,
                  "watchdog gaps %s" % gaps)
            # A reload is wrapped in RELOADING=1 (with the monotonic time
            # systemd 253 wants) and READY=1.
            n = len(msgs)
            proc.send_signal(signal.SIGHUP)
            drain(5, lambda m: "READY=1" in m)
            after = [m for _, m in msgs[n:]]
            reloading = [i for i, m in enumerate(after) if "RELOADING=1" in m]
            ready = [i for i, m in enumerate(after) if "READY=1" in m]
            check(len(reloading) == 1 and ready and ready[0] > reloading[0]
                  and any(x.startswith("MONOTONIC_USEC=")
                          for x in after[reloading[0]]),
                  "around a reload: %s" % after)
        finally:
            code = stop_proc(proc)
        check(code == 0, "exit %d: %s" % (code, log()))
        drain(0.5)
        stopping = [m for _, m in msgs if "STOPPING=1" in m]
        check(len(stopping) == 1, "STOPPING=1 sent %d times" % len(stopping))
        statuses = [x for _, m in msgs for x in m if x.startswith("STATUS=")]
        check(all(re.fullmatch(r"STATUS=polling 2 feeds, [0-2] failing", x)
                  for x in statuses), statuses)
        # Outside systemd nothing is sent, and the daemon runs as before.
        msgs.clear()
        proc, log = start_feedd_env([ARGS.feedd, "run", "-c", conf], {})
        try:
            wait_for("/healthz", lambda: get("http://127.0.0.1:%d/healthz"
                                             % port)[0] == 200)
        finally:
            check(stop_proc(proc) == 0, log())
        drain(0.5)
        check(msgs == [], "sent without NOTIFY_SOCKET: %s" % msgs)
    finally:
        sock.close()
        srv.stop()


# Sets LISTEN_PID to its own pid (known only after the fork), puts the
# socket at fd 3 as systemd does, and becomes feedd.
ACTIVATE = ("import os, sys\n"
            "fd = int(sys.argv[1])\n"
            "if fd != 3:\n"
            "    os.dup2(fd, 3)\n"
            "    os.close(fd)\n"
            "os.set_inheritable(3, True)\n"
            "os.environ['LISTEN_PID'] = str(os.getpid())\n"
            "os.environ['LISTEN_FDS'] = '1'\n"
            "os.execv(sys.argv[2], sys.argv[2:])\n")


def test_socket_activation(tmp):
    """A listening socket passed as systemd does (fd 3, LISTEN_FDS=1,
    LISTEN_PID) is served instead of binding `listen`; a passed fd that is
    not a listening TCP socket is refused with one line and exit 1."""
    listen_port = free_port()
    conf = write_config(tmp, [], port=listen_port)
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(16)
    port = lsock.getsockname()[1]
    fd = lsock.fileno()
    proc, log = start_feedd_env(
        [sys.executable, "-c", ACTIVATE, str(fd), ARGS.feedd, "run", "-c",
         conf], {}, pass_fds=(fd,))
    lsock.close()  # feedd holds it now
    try:
        status = wait_for("/healthz on the passed socket",
                          lambda: get("http://127.0.0.1:%d/healthz"
                                      % port)[0])
        check(status == 200, "/healthz gave %d" % status)
        status, _, body = get("http://127.0.0.1:%d/feed.atom" % port)
        check(status == 200 and b"<feed" in body, "/feed.atom gave %d" % status)
        with socket.socket() as c:
            refused = c.connect_ex(("127.0.0.1", listen_port)) != 0
        check(refused, "feedd bound `listen` as well as the passed socket")
        check("on the socket systemd passed (port %d)" % port in log(), log())
    finally:
        code = stop_proc(proc)
    check(code == 0, "exit %d: %s" % (code, log()))
    # A file at fd 3 is no socket to listen on.
    with open(conf, "rb") as f:
        proc, log = start_feedd_env(
            [sys.executable, "-c", ACTIVATE, str(f.fileno()), ARGS.feedd,
             "run", "-c", conf], {}, pass_fds=(f.fileno(),))
        try:
            code = proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            stop_proc(proc)
            raise AssertionError("feedd ran on a file passed as its socket")
    check(code == 1, "exit %d on a file as the socket" % code)
    check("not a listening TCP socket" in log(), log())


def test_log_levels(tmp):
    """-q logs warnings only, -v debug lines too; `check` takes neither;
    JOURNAL_STREAM naming another stream than stderr adds no prefixes."""
    srv = FeedServer()
    try:
        srv.routes["/news.xml"] = Route(rss("Local news", NEWS_ITEMS))
        conf = write_config(tmp, ["feed news %s" % srv.url("/news.xml"),
                                  "feed gone %s" % srv.url("/gone.xml")])
        code, _, err = feedd("poll", "-c", conf, "--once", "-q")
        check(code == 0, "poll -q exited %d: %s" % (code, err))
        check("gone: HTTP 404" in err, "-q dropped a warning: %r" % err)
        check("news:" not in err, "-q logged information: %r" % err)
        code, _, err = feedd("poll", "-c", conf, "--once")
        check("no new entries" not in err, "debug line without -v: %r" % err)
        code, _, err = feedd("poll", "--verbose", "-c", conf, "--once")
        check(code == 0, "poll -v exited %d: %s" % (code, err))
        check("news: no new entries (2)" in err, "-v: %r" % err)
        check("gone: HTTP 404" in err, "-v: %r" % err)
        code, _, err = feedd("check", "-c", conf, "-v")
        check(code == 2 and "unknown option" in err,
              "check -v: %d %r" % (code, err))
        proc, log = start_feedd_env([ARGS.feedd, "poll", "-c", conf,
                                     "--once"], {"JOURNAL_STREAM": "1:1"})
        check(proc.wait(timeout=30) == 0, log())
        check("<" not in log() and "gone: HTTP 404" in log(), log())
    finally:
        srv.stop()


# ---- the feed list edited from the command line (issue 11) ---------------

EDIT_CONF = ("# my feeds\n"
             "state_dir state   # the store\n"
             "\n"
             "\t# news\n"
             "feed old https://old.example/feed.xml  interval 1h # kept\n"
             "\n"
             "title \"my river\"   # last line, no line end")


def html_page(links):
    head = "".join('<link rel="%s" type="%s" href="%s">' % link
                   for link in links)
    return ("<!DOCTYPE html>\n<html><head><title>A blog</title>%s</head>"
            "<body><p>Hello<p>unclosed <b>tags</body></html>" % head)


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def check_refused(conf, args, before, what):
    """feedd ARGS fails with one line naming what, the file untouched."""
    rc, out, err = feedd(*args, "-c", conf)
    check(rc == 1, "%s: exit %d, stderr %r" % (args, rc, err))
    check(err.count("\n") == 1 and what in err,
          "%s: stderr is not one line naming %r: %r" % (args, what, err))
    check(read_bytes(conf) == before, "%s changed the file" % (args,))


def test_feed_edit(tmp):
    srv = FeedServer()
    try:
        srv.routes["/news.xml"] = Route(rss("Example News!", []))
        srv.routes["/first.xml"] = Route(rss("First Feed", []))
        srv.routes["/blog/"] = Route(html_page([
            ("alternate", "application/rss+xml", "../first.xml"),
            ("Alternate", "application/atom+xml; charset=utf-8",
             srv.url("/second.atom")),
            ("stylesheet", "text/css", "/style.css")]), ctype="text/html")
        srv.routes["/plain/"] = Route(html_page([
            ("stylesheet", "text/css", "/style.css")]), ctype="text/html")
        conf = os.path.join(tmp, "feedd.conf")
        with open(conf, "wb") as f:
            f.write(EDIT_CONF.encode())
        os.chmod(conf, 0o640)

        # A feed's URL: named from its title, after the last feed line.
        rc, out, err = feedd("add", srv.url("/news.xml"), "-c", conf)
        check(rc == 0, "add failed: %r" % err)
        check(out == "added feed example-news %s\n" % srv.url("/news.xml"),
              "add printed %r" % out)
        lines = EDIT_CONF.split("\n")
        want = "\n".join(lines[:5] + ["feed example-news " +
                                      srv.url("/news.xml")] + lines[5:])
        check(read_bytes(conf) == want.encode(),
              "add did not keep every other line: %r" % read_bytes(conf))
        check(os.stat(conf).st_mode & 0o777 == 0o640, "the mode changed")
        hits = srv.hits("/news.xml")
        check(hits and hits[0].get("User-Agent", "").startswith("feedd/"),
              "no feedd user agent: %r" % hits)

        # A web page with two feeds: the first is added, the other named.
        rc, out, err = feedd("add", srv.url("/blog/"), "--tags", "a,b",
                             "--interval", "2h", "-c", conf)
        check(rc == 0, "add of a page failed: %r" % err)
        check("added feed first-feed %s\n" % srv.url("/first.xml") in out
              and srv.url("/second.atom") in out,
              "add of a page printed %r" % out)
        want = "\n".join(lines[:5] + [
            "feed example-news " + srv.url("/news.xml"),
            "feed first-feed %s interval 2h tags a,b" % srv.url("/first.xml")]
            + lines[5:])
        check(read_bytes(conf) == want.encode(),
              "add of a page wrote %r" % read_bytes(conf))
        rc, out, err = feedd("check", "-c", conf)
        check(rc == 0, "the edited file does not check: %r" % err)

        before = read_bytes(conf)
        check_refused(conf, ["add", srv.url("/plain/")], before,
                      "names one")
        check_refused(conf, ["add", srv.url("/missing.xml")], before, "404")
        check_refused(conf, ["add", "http://127.0.0.1:%d/x" % free_port()],
                      before, "cannot fetch")
        # Duplicates: the same URL after normalisation, or the same name.
        check_refused(conf, ["add", srv.url("/news.xml?utm_source=x")],
                      before, "already in")
        check_refused(conf, ["add", srv.url("/blog/")], before,
                      "already in")
        check_refused(conf, ["add", srv.url("/news.xml") + "?v=2",
                             "--name", "old"], before, "already in")
        check_refused(conf, ["add", srv.url("/news.xml") + "?v=2",
                             "--interval", "soon"], before, "interval")
        nfetched = len(srv.requests)
        check_refused(conf, ["remove", "nothing"], before, "no feed")
        check(len(srv.requests) == nfetched, "remove fetched something")

        # Remove by name and by URL: only those lines go.
        rc, out, err = feedd("remove", "example-news", "-c", conf)
        check(rc == 0 and "removed feed example-news" in out,
              "remove by name: %r %r" % (out, err))
        rc, out, err = feedd("remove", "HTTPS://OLD.example/feed.xml",
                             "-c", conf)
        check(rc == 0 and "removed feed old" in out,
              "remove by URL: %r %r" % (out, err))
        want = "\n".join(lines[:4] + [
            "feed first-feed %s interval 2h tags a,b" % srv.url("/first.xml")]
            + lines[5:])
        check(read_bytes(conf) == want.encode(),
              "remove wrote %r" % read_bytes(conf))

        # A config that does not parse is refused, untouched.
        with open(conf, "ab") as f:
            f.write(b"\nnonsense 1\n")
        before = read_bytes(conf)
        check_refused(conf, ["add", srv.url("/news.xml")], before,
                      "feedd.conf:8: ")
        check_refused(conf, ["remove", "first-feed"], before, "feedd.conf:8")
    finally:
        srv.stop()


OPML = """<?xml version="1.0" encoding="UTF-8"?>
<opml version="1.0">
  <head><title>mine</title></head>
  <body>
    <outline text="Top" type="rss" xmlUrl="http://example.com/top.xml"/>
    <outline text="Tech &amp; Science">
      <outline text="Deep">
        <outline text="Blog One" title="Blog One" type="rss"
                 xmlUrl="https://one.example/feed"/>
      </outline>
      <outline title="two" xmlUrl="https://two.example/rss"
               category="/extra,/Tech &amp; Science"/>
      <outline text="dup by url" xmlUrl="https://OLD.example/feed.xml#x"/>
    </outline>
    <outline text="old" xmlUrl="https://elsewhere.example/"/>
  </body>
</opml>
"""


def export_without_date(conf):
    rc, out, err = feedd("export", "-c", conf)
    check(rc == 0, "export failed: %r" % err)
    ET.fromstring(out)  # well-formed
    return re.sub(r"<dateCreated>[^<]*</dateCreated>", "", out)


def test_opml(tmp):
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "wb") as f:
        f.write(EDIT_CONF.encode())
    opml = os.path.join(tmp, "subs.opml")
    with open(opml, "w") as f:
        f.write(OPML)
    rc, out, err = feedd("import", opml, "-c", conf)
    check(rc == 0, "import failed: %r" % err)
    check(out == "imported 3 feeds, skipped 2 duplicates\n",
          "import printed %r" % out)
    text = read_bytes(conf).decode()
    lines = EDIT_CONF.split("\n")
    want = "\n".join(lines[:5] + [
        "feed Top http://example.com/top.xml",
        "feed blog-one https://one.example/feed tags tech-science,Deep",
        "feed two https://two.example/rss tags tech-science,extra"]
        + lines[5:])
    check(text == want, "import wrote %r" % text)

    before = read_bytes(conf)
    bad = os.path.join(tmp, "bad.opml")
    with open(bad, "w") as f:
        f.write("<opml><body><outline xmlUrl='http://x/'></body></opml>")
    check_refused(conf, ["import", bad], before, "bad.opml:1")
    with open(bad, "w") as f:
        f.write("<rss><channel/></rss>")
    check_refused(conf, ["import", bad], before, "not an OPML file")
    check_refused(conf, ["import", os.path.join(tmp, "none.opml")], before,
                  "cannot read")

    # Export, then import into an empty config: the same feeds.
    exported = export_without_date(conf)
    root = ET.fromstring(exported)
    check(root.get("version") == "2.0" and root.findtext("head/title")
          == "my river", "export head: %r" % exported)
    old = [o for o in root.iter("outline") if o.get("text") == "old"]
    check(len(old) == 1 and old[0].get("{urn:feedd:opml}interval") == "1h",
          "the export does not give old's interval: %r" % exported)
    out1 = os.path.join(tmp, "out.opml")
    with open(out1, "w") as f:
        f.write(exported)
    empty = os.path.join(tmp, "empty.conf")
    with open(empty, "w") as f:
        f.write("title \"my river\"\nstate_dir state\n")
    rc, out, err = feedd("import", out1, "-c", empty)
    check(rc == 0 and out == "imported 4 feeds, skipped 0 duplicates\n",
          "import of the export: %r %r" % (out, err))
    check(export_without_date(empty) == exported,
          "the round trip changed the feeds:\n%s\n%s"
          % (exported, export_without_date(empty)))
    # Every feed of the first config, with its tags, is in the second.
    def feeds(path):
        return sorted(l.split("#")[0].split()
                      for l in open(path).read().split("\n")
                      if l.startswith("feed "))
    check(feeds(conf) == feeds(empty),
          "round trip: %r != %r" % (feeds(conf), feeds(empty)))


# ---- /metrics, /status, /status.json ---------------------------------------

def prom_samples(text):
    """The samples of a Prometheus text document as {(name, labels): value},
    labels a sorted tuple of (name, value); checks that each sample's
    family was declared by # TYPE before it."""
    samples, typed = {}, set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            typed.add(line.split()[2])
            continue
        if not line or line.startswith("#"):
            continue
        m = re.fullmatch(r'([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)', line)
        check(m, "not a Prometheus sample: %r" % line)
        name, labels = m.group(1), m.group(3) or ""
        check(name in typed, "%s without # TYPE before it" % name)
        pairs = tuple(sorted(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"',
                                        labels)))
        check((name, pairs) not in samples, "%s%s twice" % (name, pairs))
        samples[(name, pairs)] = float(m.group(4))
    return samples


def feed_sample(samples, name, feed):
    return samples.get((name, (("feed", feed),)))


def raw_request(port, method, path, headers=None, timeout=15):
    """One request on its own connection: (status, headers, body)."""
    import http.client
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path, headers=headers or {})
        r = c.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        c.close()


def renders(log, path):
    """How many times the daemon (run with -v) made path."""
    return len(re.findall(r"(?m)%s: \d+ feeds, \d+ bytes, made in"
                          % re.escape(path), log))


def test_status_pages(tmp):
    """/metrics, /status and /status.json, made at request time: with one
    feed that is fine, one that answers 404 and one that answers 304 on its
    second poll, each says what happened, per feed and in all; HEAD is
    answered without a body, POST refused; gzip when asked; a burst of
    concurrent requests shares one render."""
    srv = FeedServer()
    port = free_port()
    try:
        srv.routes["/ok.xml"] = Route(rss("Ok", [
            ("o1", "https://ok.example/one-500001", "Ok one",
             "Fri, 17 May 2024 10:00:00 GMT")]))
        srv.routes["/same.xml"] = Route(rss("Same", [
            ("s1", "https://same.example/one-500002", "Same one",
             "Fri, 17 May 2024 09:00:00 GMT"),
            ("s2", "https://same.example/two-500003", "Same two",
             "Fri, 17 May 2024 08:00:00 GMT")]), etag='"same-1"')
        conf = write_config(tmp, [
            "interval 1h",
            "feed ok %s" % srv.url("/ok.xml"),
            "feed gone %s" % srv.url("/gone.xml"),
            "feed same %s interval 1s" % srv.url("/same.xml")], port=port)
        started = int(time.time())
        d = Daemon(conf, ["-v"])
        base = "http://127.0.0.1:%d" % port
        try:
            def scraped():
                status, headers, body = get(base + "/metrics")
                if status != 200:
                    return None
                smp = prom_samples(body.decode())
                if smp.get(("feedd_polls_total",
                            (("result", "not_modified"),)), 0) < 1:
                    return None
                return headers, body.decode(), smp
            headers, text, smp = wait_for("a 304 in /metrics", scraped)
            check(headers.get("Content-Type") ==
                  "text/plain; version=0.0.4; charset=utf-8",
                  "/metrics served as %s" % headers.get("Content-Type"))
            check(headers.get("Cache-Control") == "no-store" and
                  "ETag" not in headers,
                  "/metrics headers: %s" % headers)
            now = time.time() + 1
            ls = "feedd_feed_last_success_timestamp_seconds"
            for name in ("ok", "same"):
                t = feed_sample(smp, ls, name)
                check(t is not None and started - 1 <= t <= now,
                      "%s{feed=%s} %r" % (ls, name, t))
            check(feed_sample(smp, ls, "gone") is None,
                  "a last success for gone: %s" % text)
            fails = {n: feed_sample(smp, "feedd_feed_consecutive_failures", n)
                     for n in ("ok", "gone", "same")}
            check(fails["ok"] == 0 and fails["same"] == 0 and
                  fails["gone"] >= 1, "consecutive failures: %s" % fails)
            codes = {n: feed_sample(smp, "feedd_feed_last_http_status", n)
                     for n in ("ok", "gone", "same")}
            check(codes == {"ok": 200, "gone": 404, "same": 304},
                  "last HTTP status: %s" % codes)
            stored = {n: feed_sample(smp, "feedd_feed_entries_stored_total",
                                     n) for n in ("ok", "gone", "same")}
            check(stored == {"ok": 1, "gone": 0, "same": 2},
                  "entries stored: %s" % stored)
            polls = {r: smp[("feedd_polls_total", (("result", r),))]
                     for r in ("ok", "not_modified", "error")}
            check(polls["ok"] == 2 and polls["not_modified"] >= 1 and
                  polls["error"] >= 1, "polls: %s" % polls)
            ratio = smp[("feedd_polls_not_modified_ratio", ())]
            check(abs(ratio - polls["not_modified"] / sum(polls.values()))
                  < 0.0001, "304 share %r of %s" % (ratio, polls))
            check(smp[("feedd_store_entries", ())] == 3,
                  "store entries: %s" % text)
            check(smp[("feedd_store_bytes", ())] ==
                  segment_bytes(os.path.join(tmp, "state")),
                  "store bytes %r, the segments hold %d" % (
                      smp[("feedd_store_bytes", ())],
                      segment_bytes(os.path.join(tmp, "state"))))
            feeds = {s: smp[("feedd_feeds", (("state", s),))]
                     for s in ("ok", "failing", "pending")}
            check(feeds == {"ok": 2, "failing": 1, "pending": 0},
                  "feeds by state: %s" % feeds)
            check(abs(smp[("feedd_start_time_seconds", ())] - started) <= 2,
                  "start time %r" % smp[("feedd_start_time_seconds", ())])

            # /status.json: the same, per feed.
            status, headers, body = get(base + "/status.json")
            check(status == 200 and headers.get("Content-Type") ==
                  "application/json", "/status.json: %d %s" % (
                      status, headers.get("Content-Type")))
            js = json.loads(body)
            check(js["feeds"] == 3 and js["ok"] == 2 and js["failing"] == 1
                  and js["pending"] == 0 and js["entries"] == 3,
                  "/status.json totals: %s" % body[:200])
            check(js["polls"]["ok"] == 2 and js["polls"]["not_modified"] >= 1
                  and js["polls"]["error"] >= 1, "polls %s" % js["polls"])
            by = {f["name"]: f for f in js["feed_list"]}
            check(sorted(by) == ["gone", "ok", "same"], "feeds %s" % sorted(by))
            check(by["ok"]["health"] == "ok" and by["ok"]["http_status"] == 200
                  and by["ok"]["stored"] == 1 and by["ok"]["failures"] == 0
                  and by["ok"]["error"] is None and
                  by["ok"]["location"] == srv.url("/ok.xml"),
                  "ok in /status.json: %s" % by["ok"])
            check(by["gone"]["health"] == "failing" and
                  by["gone"]["http_status"] == 404 and
                  by["gone"]["failures"] >= 1 and
                  "404" in (by["gone"]["error"] or "") and
                  by["gone"]["last_success"] is None,
                  "gone in /status.json: %s" % by["gone"])
            check(by["same"]["health"] == "ok" and
                  by["same"]["http_status"] == 304 and
                  by["same"]["stored"] == 2,
                  "same in /status.json: %s" % by["same"])

            # /status: a page naming each feed with its health.
            status, headers, body = get(base + "/status")
            page = body.decode()
            check(status == 200 and
                  headers.get("Content-Type", "").startswith("text/html") and
                  page.startswith("<!DOCTYPE html>"),
                  "/status: %d %s" % (status, headers.get("Content-Type")))
            for name, health in (("ok", "ok"), ("gone", "failing"),
                                 ("same", "ok")):
                m = re.search(r'<tr class="(\w+)"><td title="[^"]*">%s</td>'
                              r'<td>(\w+)</td>' % name, page)
                check(m and m.group(1) == health and m.group(2) == health,
                      "/status row of %s: %s" % (
                          name, m.group(0) if m else page))
            check("404" in page, "/status does not show the 404")

            # HEAD: the headers alone; POST refused.
            time.sleep(1.1)  # past the shared render, so that HEAD makes one
            for path in ("/metrics", "/status", "/status.json"):
                status, h, body = raw_request(port, "HEAD", path)
                check(status == 200 and body == b"" and
                      int(h.get("content-length", "0")) > 0 and
                      h.get("cache-control") == "no-store",
                      "HEAD %s: %d %s %r" % (path, status, h, body[:50]))
                status, h, body = raw_request(port, "POST", path)
                check(status == 405 and h.get("allow") == "GET, HEAD",
                      "POST %s: %d %s" % (path, status, h))

            # gzip, for a client that takes it.
            time.sleep(1.1)
            status, h, body = raw_request(port, "GET", "/metrics",
                                          {"Accept-Encoding": "gzip"})
            check(status == 200 and h.get("content-encoding") == "gzip",
                  "/metrics with Accept-Encoding: gzip: %d %s" % (status, h))
            import gzip as gz
            smp = prom_samples(gz.decompress(body).decode())
            check(feed_sample(smp, "feedd_feed_last_http_status", "gone")
                  == 404, "the gzip copy differs")

            # A burst of concurrent requests: one render, or two when the
            # burst straddles the end of the shared second.
            time.sleep(1.1)
            before = renders(d.log(), "/metrics")
            n, results = 40, []
            barrier = threading.Barrier(n)

            def one():
                barrier.wait()
                results.append(raw_request(port, "GET", "/metrics"))
            t0 = time.monotonic()
            threads = [threading.Thread(target=one) for _ in range(n)]
            for t in threads:
                t.start()
            for t in threads:
                t.join(30)
            elapsed = time.monotonic() - t0
            check(len(results) == n and all(r[0] == 200 for r in results),
                  "burst: %s" % sorted(r[0] for r in results))
            made = wait_for("the renders logged", lambda: (
                renders(d.log(), "/metrics") - before) or None)
            bodies = set(r[2] for r in results)
            check(1 <= made <= 1 + int(elapsed) and len(bodies) <= made,
                  "%d requests in %.2f s made %d renders, %d bodies" % (
                      n, elapsed, made, len(bodies)))
        finally:
            check(d.stop() == 0, "feedd did not stop cleanly: %s" % d.log())
        # Only while the server runs: poll --once serves nothing.
    finally:
        srv.stop()


def test_status_stalled(tmp):
    """The loop held up (here by a feed that is a FIFO no one writes yet,
    which the loop opens): a request for /metrics waits for it, and gets
    503 when it does not answer within 5 s; later ones at once until it
    does. A stop while a request waits answers it and ends cleanly."""
    fifo = os.path.join(tmp, "stuck.xml")
    port = free_port()
    conf = write_config(tmp, ["feed stuck %s" % fifo], port=port)
    body = rss("Stuck", [("k1", "https://stuck.example/one-600001", "One",
                          "Fri, 17 May 2024 10:00:00 GMT")]).encode()

    def unblock():
        """Writes the feed to a reader that has the FIFO open: False when
        none has."""
        try:
            fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:
            return False
        try:
            os.write(fd, body)
        finally:
            os.close(fd)
        return True

    # A stop while a request is held.
    os.mkfifo(fifo)
    d = Daemon(conf, ["-v"])
    try:
        wait_for("the server", lambda: socket.create_connection(
            ("127.0.0.1", port), timeout=1).close() or True)
        result = []
        t = threading.Thread(target=lambda: result.append(
            raw_request(port, "GET", "/metrics")))
        t.start()
        time.sleep(1)
        check(t.is_alive(), "/metrics answered while the loop was held: %s"
              % result)
        d.proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        check(unblock(), "the loop does not hold the FIFO open")
        t.join(10)
        check(not t.is_alive() and result and result[0][0] in (200, 503),
              "the request held at the stop got %s" % result)
        code = d.stop()
        check(code == 0, "feedd exited %d: %s" % (code, d.log()))
        check("internal:" not in d.log(), d.log())
    finally:
        unblock()
        d.stop()

    # The loop late: 503 after 5 s, then at once, until it answers.
    os.remove(fifo)
    os.mkfifo(fifo)
    shutil.rmtree(os.path.join(tmp, "state"))
    d = Daemon(conf, ["-v"])
    try:
        wait_for("the server", lambda: socket.create_connection(
            ("127.0.0.1", port), timeout=1).close() or True)
        t0 = time.monotonic()
        status, h, text = raw_request(port, "GET", "/metrics")
        waited = time.monotonic() - t0
        check(status == 503 and b"did not answer in time" in text and
              4 <= waited <= 9, "a held loop: %d %r after %.1f s" % (
                  status, text, waited))
        t0 = time.monotonic()
        status, h, text = raw_request(port, "GET", "/metrics")
        check(status == 503 and time.monotonic() - t0 < 1,
              "again: %d after %.1f s" % (status, time.monotonic() - t0))
        check(unblock(), "the loop does not hold the FIFO open")
        wait_for("/metrics once the loop runs", lambda: raw_request(
            port, "GET", "/metrics")[0] == 200)
        # The render asked before may come before the poll's end: the
        # entry shows in a later one.
        wait_for("/metrics with the entry stored", lambda: feed_sample(
            prom_samples(raw_request(port, "GET", "/metrics")[2].decode()),
            "feedd_feed_entries_stored_total", "stuck") == 1)
        check(d.stop() == 0, "feedd did not stop cleanly: %s" % d.log())
    finally:
        unblock()
        d.stop()
def tag_feeds(srv):
    """Feeds a, b and c, two entries each, at /NAME.xml."""
    for i, n in enumerate("abc"):
        srv.routes["/%s.xml" % n] = Route(rss(n, [
            ("%s-%d" % (n, k), "https://%s.example/post-%d" % (n, 600001 + k),
             "%s entry %d" % (n, k),
             "Fri, 17 May 2024 1%d:%d0:00 GMT" % (i, k)) for k in (1, 2)]))


def test_tags(tmp):
    """Each tag gets the four outputs of its feeds' entries only, under
    public/tag/, with its own title, self links and ID; served from the
    daemon with their types and validators; a tag gone at reload loses
    its files and its paths. A tag that names no file ("..") is not
    published, and nothing is written outside public/tag/; one that is not
    a name at all is refused by the config."""
    srv = FeedServer()
    d = None
    try:
        tag_feeds(srv)
        port = free_port()
        feeds = ["public_url https://example.org/river",
                 "feed a %s tags x,y" % srv.url("/a.xml"),
                 "feed b %s tags x,..,ok.v-1_" % srv.url("/b.xml"),
                 "feed c %s" % srv.url("/c.xml")]
        conf = write_config(tmp, feeds, port)
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "poll --once exited %d: %s" % (code, err))
        check('tag ".." is not published' in err, "no word of tag ..: %s" % err)
        public = os.path.join(tmp, "state", "public")
        tagdir = os.path.join(public, "tag")
        want = {"%s.%s" % (t, e) for t in ("x", "y", "ok.v-1_")
                for e in ("atom", "rss", "json", "html")}
        # Each with its gzip copy, made at publish time.
        check({n[:-3] if n.endswith(".gz") else n
               for n in os.listdir(tagdir)} == want and
              len(os.listdir(tagdir)) == 2 * len(want),
              "public/tag holds %s" % sorted(os.listdir(tagdir)))
        check(sorted(os.listdir(public)) == sorted(
            ["feed.atom", "feed.rss", "feed.json", "index.html", "feeds.opml",
             "tag", ".outputs.stamp", ".tags.stamp"]),
            "public holds %s" % sorted(os.listdir(public)))

        def sources(path):
            return sorted({e["source"] for e in read_atom(path)})

        x = os.path.join(tagdir, "x.atom")
        check(sources(x) == ["a", "b"], "x.atom has %s" % sources(x))
        check(len(read_atom(x)) == 4, "x.atom: %d entries" % len(read_atom(x)))
        check_entries(read_atom(x))
        check(sources(os.path.join(tagdir, "y.atom")) == ["a"], "y.atom")
        check(sources(os.path.join(tagdir, "ok.v-1_.atom")) == ["b"], "ok.v-1_")
        root = ET.parse(x).getroot()
        check(root.findtext(ATOM + "title") == "test river \u2014 x",
              "x.atom title %r" % root.findtext(ATOM + "title"))
        check(root.findtext(ATOM + "id") ==
              "https://example.org/river/tag/x.atom", "x.atom id")
        check([l.get("href") for l in root.findall(ATOM + "link")
               if l.get("rel") == "self"] ==
              ["https://example.org/river/tag/x.atom"], "x.atom self link")
        ch = ET.parse(os.path.join(tagdir, "x.rss")).getroot().find("channel")
        check(ch.find(ATOM + "link").get("href") ==
              "https://example.org/river/tag/x.rss", "x.rss self link")
        check(len(ch.findall("item")) == 4, "x.rss items")
        with open(os.path.join(tagdir, "x.json"), encoding="utf-8") as f:
            jf = json.load(f)
        check(jf["feed_url"] == "https://example.org/river/tag/x.json" and
              len(jf["items"]) == 4, "x.json")
        with open(os.path.join(tagdir, "x.html"), encoding="utf-8") as f:
            page = f.read()
        check(page.count("<article>") == 4 and 'href="x.rss"' in page and
              "https://example.org/river/feeds.opml" in page, "x.html")
        # The merged feed still has every feed.
        check(len(read_atom(os.path.join(public, "feed.atom"))) == 6,
              "feed.atom")

        # Nothing new: the tags' files are not written again.
        mtimes = {n: os.stat(os.path.join(tagdir, n)).st_mtime_ns
                  for n in os.listdir(tagdir)}
        time.sleep(0.05)
        code, _, err = feedd("poll", "--once", "-c", conf)
        check(code == 0, "second poll exited %d: %s" % (code, err))
        check({n: os.stat(os.path.join(tagdir, n)).st_mtime_ns
               for n in os.listdir(tagdir)} == mtimes,
              "an unchanged poll wrote the tags' files again")

        # Served, with their types and validators.
        d = Daemon(conf)
        base = "http://127.0.0.1:%d" % port
        wait_for("tag/y.atom served",
                 lambda: get(base + "/tag/y.atom")[0] == 200)
        for ext, ctype in (("atom", "application/atom+xml"),
                           ("rss", "application/rss+xml"),
                           ("json", "application/feed+json"),
                           ("html", "text/html")):
            status, hdrs, body = get(base + "/tag/x." + ext)
            check(status == 200 and hdrs["Content-Type"].startswith(ctype),
                  "/tag/x.%s: %d %s" % (ext, status, hdrs.get("Content-Type")))
            with open(os.path.join(tagdir, "x." + ext), "rb") as f:
                check(f.read() == body, "/tag/x.%s is not its file" % ext)
            status, _, _ = get(base + "/tag/x." + ext,
                               {"If-None-Match": hdrs["ETag"]})
            check(status == 304, "/tag/x.%s revalidated: %d" % (ext, status))
            # gzip: the copy compressed at publish time, its own ETag.
            status, zh, zbody = get(base + "/tag/x." + ext,
                                    {"Accept-Encoding": "gzip"})
            check(status == 200 and zh.get("Content-Encoding") == "gzip" and
                  gzip.decompress(zbody) == body and
                  zh["ETag"] != hdrs["ETag"] and
                  "Accept-Encoding" in zh.get("Vary", ""),
                  "/tag/x.%s with gzip: %d %s" % (ext, status, zh))
            status, _, _ = get(base + "/tag/x." + ext,
                               {"Accept-Encoding": "gzip",
                                "If-None-Match": zh["ETag"]})
            check(status == 304, "/tag/x.%s gzip revalidated: %d" % (
                ext, status))
        for bad in ("/tag/...atom", "/tag/../feed.atom", "/tag/%2e%2e/feed.atom",
                    "/tag/x.atom/", "/tag/", "/tag/z.atom"):
            check(get(base + bad)[0] == 404, bad + " is served")

        # Tag y and ok.v-1_ gone at reload: their files and paths go.
        reload_config(conf, feeds[:1] + [
            "feed a %s tags x" % srv.url("/a.xml"),
            "feed b %s tags x" % srv.url("/b.xml"),
            "feed c %s" % srv.url("/c.xml")], port)
        d.proc.send_signal(signal.SIGHUP)
        wait_for("tag y gone", lambda: not os.path.exists(
            os.path.join(tagdir, "y.atom")))
        wait_for("/tag/y.atom 404",
                 lambda: get(base + "/tag/y.atom")[0] == 404)
        check(sorted(os.listdir(tagdir)) ==
              ["x.atom", "x.atom.gz", "x.html", "x.html.gz", "x.json",
               "x.json.gz", "x.rss", "x.rss.gz"],
              "after reload: %s" % sorted(os.listdir(tagdir)))
        check(get(base + "/tag/x.atom")[0] == 200, "x.atom after reload")
        check(d.stop() == 0, "feedd exited non-zero: %s" % d.log())
        d = None

        # A tag that is not a name: the config says so.
        bad = write_config(tmp, ["feed a %s tags ../up" % srv.url("/a.xml")])
        code, _, err = feedd("poll", "--once", "-c", bad)
        check(code != 0 and "tags" in err, "tag ../up: %d %s" % (code, err))
        check(not os.path.exists(os.path.join(public, "up.atom")) and
              not os.path.exists(os.path.join(tmp, "state", "up.atom")),
              "a file outside public/tag/")
    finally:
        if d is not None:
            d.stop()
        srv.stop()


def archive_chain(base, fmt):
    """The documents from feed.FMT back along prev-archive (JSON Feed's
    next_url), fetched from the daemon at base: a list of (name, root
    element or JSON object, bytes), the subscription document first."""
    out = []
    name = "feed." + fmt
    seen = set()
    while name is not None:
        check(name not in seen, "a prev-archive loop at " + name)
        seen.add(name)
        status, _, data = get(base + "/" + name)
        check(status == 200, "/%s: %d" % (name, status))
        if fmt == "json":
            root = json.loads(data)
            links = [root["next_url"]] if "next_url" in root else []
        else:
            root = ET.fromstring(data)
            parent = root if fmt == "atom" else root.find("channel")
            links = [l.get("href") for l in parent.findall(ATOM + "link")
                     if l.get("rel") == "prev-archive"]
        out.append((name, root, data))
        check(len(links) <= 1, "%s: %d prev-archive links" % (name, len(links)))
        name = None
        if links:
            pre = "https://example.org/river/"
            check(links[0].startswith(pre), "prev-archive " + links[0])
            name = links[0][len(pre):]
            check(re.fullmatch(r"archive/[0-9]+\." + fmt, name),
                  "prev-archive " + name)
    return out


def archive_ids(root, fmt):
    if fmt == "json":
        return [i["id"] for i in root["items"]]
    if fmt == "atom":
        return [e.findtext(ATOM + "id") for e in root.findall(ATOM + "entry")]
    return [i.findtext("guid") for i in root.find("channel").findall("item")]


def test_archive(tmp):
    """RFC 5005 archives: with max_items 3, every entry stored is reachable
    from feed.atom (and feed.rss) along prev-archive links, in exactly one
    document of the chain; the archive pages are marked <fh:archive/>,
    link to the subscription document and always hold the same entries
    (an entry updated later shows its new version in its page); they are
    served with their types, made when asked: no page is a file."""
    srv = FeedServer()
    d = None
    entries = []

    def serve(n, edit=None):
        while len(entries) < n:
            k = len(entries)
            entries.append(("g%d" % k, "https://f.example/post-%d" % (700001 + k),
                            "entry %d" % k,
                            "Fri, 17 May 2024 %02d:%02d:00 GMT" % (k // 60, k % 60)))
        items = list(entries)
        if edit is not None:
            g, l, t, dt = items[edit]
            items[edit] = (g, l, t + " edited", dt)
        srv.routes["/f.xml"] = Route(rss("F", items))

    try:
        port = free_port()
        conf = write_config(tmp, ["public_url https://example.org/river",
                                  "max_items 3",
                                  "feed f %s" % srv.url("/f.xml")], port)
        public = os.path.join(tmp, "state", "public")
        pages = {}
        for step, (n, edit) in enumerate(((5, None), (9, None), (11, 0),
                                          (12, None), (19, 4))):
            serve(n, edit)
            code, _, err = feedd("poll", "--once", "-c", conf)
            check(code == 0, "poll %d exited %d: %s" % (step, code, err))
            d = Daemon(conf)
            base = "http://127.0.0.1:%d" % port
            wait_for("served", lambda: get(base + "/feed.atom")[0] == 200)
            for fmt in ("atom", "rss", "json"):
                chain = archive_chain(base, fmt)
                # Each entry in one page at most; the subscription
                # document's newest may be in a page too.
                ids = [i for _, r, _ in chain[1:]
                       for i in archive_ids(r, fmt)]
                check(len(ids) == len(set(ids)),
                      "step %d %s: an entry in two pages" % (step, fmt))
                ids = set(ids) | set(archive_ids(chain[0][1], fmt))
                check(len(ids) == n, "step %d %s: %d entries reachable of %d" %
                      (step, fmt, len(ids), n))
                # Complete pages of max_items; the subscription document
                # holds its newest 3 and the entries of no page (< 3).
                check(len(chain) - 1 == n // 3, "step %d: %d pages" %
                      (step, len(chain) - 1))
                sub = archive_ids(chain[0][1], fmt)
                check(3 <= len(sub) <= 3 + 2, "feed.%s: %d" % (fmt, len(sub)))
                for name, root, data in chain[1:]:
                    check(len(archive_ids(root, fmt)) == 3, name + " size")
                    check(not os.path.exists(os.path.join(public, name)),
                          name + " is a file")
                    if name in pages:
                        check(pages[name] == archive_ids(root, fmt),
                              "step %d: %s holds other entries" % (step, name))
                    pages[name] = archive_ids(root, fmt)
                    if fmt == "json":
                        check(root["feed_url"] ==
                              "https://example.org/river/" + name, name)
                        continue
                    parent = root if fmt == "atom" else root.find("channel")
                    check(parent.find(
                        "{http://purl.org/syndication/history/1.0}archive")
                        is not None, name + ": no fh:archive")
                    cur = [l.get("href") for l in parent.findall(ATOM + "link")
                           if l.get("rel") == "current"]
                    check(cur == ["https://example.org/river/feed." + fmt],
                          name + " current link %s" % cur)
            check(d.stop() == 0, "feedd exited non-zero: %s" % d.log())
            d = None
            # The newest entries by date are in feed.atom.
            sub = read_atom(os.path.join(public, "feed.atom"))
            check_entries(sub)
            check(sub[0]["title"].startswith("entry %d" % (n - 1)),
                  "newest in feed.atom: %s" % sub[0]["title"])
        check(len(pages) == 3 * (19 // 3), "pages: %s" % sorted(pages))

        d = Daemon(conf)
        base = "http://127.0.0.1:%d" % port
        wait_for("served", lambda: get(base + "/feed.atom")[0] == 200)
        for name, ctype in (("archive/0.atom", "application/atom+xml"),
                            ("archive/5.rss", "application/rss+xml"),
                            ("archive/3.json", "application/feed+json")):
            status, hdrs, body = get(base + "/" + name)
            check(status == 200 and hdrs["Content-Type"].startswith(ctype),
                  "/%s: %d" % (name, status))
        check(get(base + "/archive/6.atom")[0] == 404, "a page not made")
        check(get(base + "/archive/pages")[0] == 404, "pages is served")
        check(d.stop() == 0, "feedd exited non-zero: %s" % d.log())
        d = None
    finally:
        if d is not None:
            d.stop()
        srv.stop()


# ---- WebSub ----------------------------------------------------------------

class Hub:
    """A WebSub hub (W3C WebSub): takes each subscribe or unsubscribe
    request with 202, then verifies it with a GET of its callback carrying
    a challenge, and keeps what it saw; pushes when the test says."""

    def __init__(self, leases, status=202, deny=False):
        self.requests = []  # (form, time.monotonic())
        # What each request gets, in turn, the last one repeated.
        self.statuses = status if isinstance(status, list) else [status]
        self.deny = deny  # deny every subscription, not verify it
        self.verified = []  # (form, status, body, challenge, time)
        self.leases = list(leases)  # granted in turn, the last one repeated
        hub = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                form = {k: v[0] for k, v in urllib.parse.parse_qs(
                    self.rfile.read(n).decode()).items()}
                form["content-type"] = self.headers.get("Content-Type")
                form["user-agent"] = self.headers.get("User-Agent")
                hub.requests.append((form, time.monotonic()))
                status = hub.statuses[0]
                if len(hub.statuses) > 1:
                    hub.statuses.pop(0)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if status // 100 == 2:
                        threading.Thread(target=hub.verify, args=(form,),
                                     daemon=True).start()

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_address[1]
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self):
        return "http://127.0.0.1:%d/hub" % self.port

    def verify(self, form):
        time.sleep(0.1)
        challenge = os.urandom(8).hex()
        lease = self.leases.pop(0) if len(self.leases) > 1 else self.leases[0]
        if self.deny:
            q = urllib.parse.urlencode({"hub.mode": "denied",
                                        "hub.topic": form.get("hub.topic"),
                                        "hub.reason": "not today"})
            status, _, body = get(form["hub.callback"] + "?" + q)
            self.verified.append((form, status, body, None, time.monotonic()))
            return
        q = urllib.parse.urlencode({"hub.mode": form.get("hub.mode"),
                                    "hub.topic": form.get("hub.topic"),
                                    "hub.challenge": challenge,
                                    "hub.lease_seconds": lease})
        status, _, body = get(form["hub.callback"] + "?" + q)
        self.verified.append((form, status, body, challenge, time.monotonic()))

    def subscribes(self):
        return [f for f, _ in self.requests if f.get("hub.mode") == "subscribe"]

    def stop(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def push(callback, body, secret, algo="sha256"):
    """POSTs body to callback signed with secret; the status."""
    import hmac
    sig = algo + "=" + hmac.new(secret.encode(), body, algo).hexdigest()
    req = urllib.request.Request(callback, data=body, method="POST", headers={
        "Content-Type": "application/atom+xml", "X-Hub-Signature": sig})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


def websub_atom(hub, self_url, entries):
    out = ['<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom">'
           '<title>hubbed</title><link href="https://example.com/"/>'
           '<link rel="hub" href="%s"/><link rel="self" href="%s"/>'
           '<id>urn:hubbed</id><updated>2024-05-17T10:00:00Z</updated>'
           % (hub, self_url)]
    for eid, title, day in entries:
        out.append('<entry><id>%s</id><title>%s</title><link href="https://'
                   'example.com/%s"/><updated>2024-05-%02dT10:00:00Z</updated>'
                   '</entry>' % (eid, title, eid, day))
    out.append("</feed>")
    return "".join(out).encode()


def titles_served(port):
    status, _, body = get("http://127.0.0.1:%d/feed.json" % port)
    if status != 200:
        return []
    return [i.get("title") for i in json.loads(body)["items"]]


def test_websub(tmp):
    """A feed that advertises a hub, with public_url set: feedd subscribes
    (topic, callback under public_url, a secret, a lease asked), echoes the
    hub's challenge, takes a signed push as if it had polled (no GET of the
    feed; not stored twice by the next poll), refuses a push with a bad
    signature (logged, not stored) or over max_size (413), renews a short
    lease before it ends, polls the feed only at the long fallback interval
    while the hub pushes, keeps the subscription across a restart without
    asking again, and unsubscribes when the feed leaves the config or stops
    naming its hub. Without public_url nothing subscribes and /websub/
    answers 404."""
    hub = Hub([4, 3600])
    failing, denying = Hub([60], status=500), Hub([60], deny=True)
    lapsing = Hub([3], status=[202, 500])
    srv = FeedServer()
    d = None
    try:
        # Two more feeds: one whose hub answers 500, one whose hub denies.
        for name, h in (("failing", failing), ("denying", denying),
                        ("lapsing", lapsing)):
            srv.routes["/%s.xml" % name] = Route(
                websub_atom(h.url(), srv.url("/%s.xml" % name),
                            [("urn:" + name, name, 1)]),
                ctype="application/atom+xml")
        self_url = srv.url("/hubbed.xml")
        e1 = ("urn:e1", "first entry", 17)
        srv.routes["/hubbed.xml"] = Route(websub_atom(hub.url(), self_url,
                                                      [e1]),
                                          ctype="application/atom+xml")
        port = free_port()
        public = "http://127.0.0.1:%d/" % port
        lines = ["public_url %s" % public, "max_size 64k",
                 "feed failing %s interval 1s" % srv.url("/failing.xml"),
                 "feed denying %s interval 1s" % srv.url("/denying.xml"),
                 "feed lapsing %s interval 1s" % srv.url("/lapsing.xml"),
                 "feed blog %s interval 1s" % self_url]
        conf = write_config(tmp, lines, port)
        d = Daemon(conf)
        wait_for("a subscribe request", lambda: hub.subscribes())
        form = hub.subscribes()[0]
        check(form["hub.topic"] == self_url, "topic %r" % form)
        cb = form["hub.callback"]
        check(cb.startswith(public + "websub/") and
              re.fullmatch(r"[0-9a-f]{32}", cb[len(public) + 7:]),
              "callback %r" % cb)
        secret = form.get("hub.secret", "")
        check(re.fullmatch(r"[0-9a-f]{64}", secret), "secret %r" % secret)
        check(int(form["hub.lease_seconds"]) > 0, "lease %r" % form)
        check(form["content-type"] == "application/x-www-form-urlencoded",
              "content type %r" % form["content-type"])
        check(form["user-agent"].startswith("feedd/"), "user agent")
        wait_for("the verification", lambda: hub.verified)
        _, status, body, challenge, t_verified = hub.verified[0]
        check(status == 200 and body == challenge.encode(),
              "challenge answered %d %r, not %r" % (status, body, challenge))
        # A verification the daemon did not ask for, or of another topic,
        # or of an unknown token: 404.
        q = {"hub.mode": "subscribe", "hub.topic": self_url,
             "hub.challenge": "x", "hub.lease_seconds": "60"}
        check(get(cb + "?" + urllib.parse.urlencode(q))[0] == 404,
              "an unasked verification answered")
        q["hub.topic"] = srv.url("/other.xml")
        check(get(cb + "?" + urllib.parse.urlencode(q))[0] == 404,
              "another topic's verification answered")
        check(get(public + "websub/" + "0" * 32)[0] == 404, "unknown token")
        check(push(public + "websub/" + "0" * 32, b"<feed/>", secret) == 404,
              "a push to an unknown token")

        # A hub that fails: one line naming the feed, the hub and the
        # cause, and not asked again at once; polls go on at the interval.
        wait_for("the failing hub's line", lambda: re.search(
            r"failing: WebSub hub %s: the subscribe request failed: HTTP 500"
            % re.escape(failing.url()), d.log()))
        # A hub that denies: logged, not asked again for a long while, the
        # feed polled at its interval.
        wait_for("the denial", lambda: denying.verified)
        check(denying.verified[0][1] == 200, "denial answered %d"
              % denying.verified[0][1])
        wait_for("the denial logged", lambda: re.search(
            r"denying: WebSub hub \S+ denied the subscription: not today",
            d.log()))
        gets = len(srv.hits("/denying.xml"))
        wait_for("polls of the denied feed",
                 lambda: len(srv.hits("/denying.xml")) >= gets + 2)

        # A lease whose renewal fails ends: logged, and the feed is polled
        # at its interval again.
        wait_for("the lapsed lease", lambda: re.search(
            r"lapsing: WebSub lease at \S+ ended without a renewal", d.log()))
        gets = len(srv.hits("/lapsing.xml"))
        wait_for("polls of the lapsed feed",
                 lambda: len(srv.hits("/lapsing.xml")) >= gets + 2)
        # The feed stops naming its hub: at its next poll feedd ends the
        # subscription (an unsubscribe to the hub, a line in the log) and
        # asks for no other.
        srv.routes["/lapsing.xml"] = Route(
            websub_atom(lapsing.url(), srv.url("/lapsing.xml"),
                        [("urn:lapsing", "lapsing", 1)]).replace(
                b'<link rel="hub"', b'<link rel="related"'),
            ctype="application/atom+xml")
        wait_for("the unsubscribe from the hub the feed no longer names",
                 lambda: any(f.get("hub.mode") == "unsubscribe" and
                             f.get("hub.topic") == srv.url("/lapsing.xml")
                             for f, _ in lapsing.requests))
        check("lapsing: the feed no longer names a WebSub hub: "
              "unsubscribing from %s" % lapsing.url() in d.log(), d.log())
        n = len(lapsing.requests)
        gets = len(srv.hits("/lapsing.xml"))
        wait_for("polls of the feed without a hub",
                 lambda: len(srv.hits("/lapsing.xml")) >= gets + 2)
        check(not [f for f, _ in lapsing.requests[n:]
                   if f.get("hub.mode") == "subscribe"],
              "subscribed again to a hub the feed no longer names")

        # The lease of 4 s is renewed before it ends.
        wait_for("the renewal", lambda: len(hub.subscribes()) >= 2)
        t_renewed = [t for f, t in hub.requests
                     if f.get("hub.mode") == "subscribe"][1]
        check(t_renewed - t_verified < 4, "renewed %.1f s after a lease of "
              "4 s" % (t_renewed - t_verified))
        renewal = hub.subscribes()[1]
        check(renewal["hub.callback"] == cb and renewal["hub.topic"] ==
              self_url and renewal["hub.secret"] == secret,
              "the renewal is not the same subscription: %r" % renewal)
        wait_for("the renewal's verification", lambda: len(hub.verified) >= 2)
        check(hub.verified[1][1] == 200, "renewal not verified")

        # The fallback: no more than one GET in 4 s at an interval of 1 s.
        wait_for("the first entry", lambda: "first entry" in
                 titles_served(port))
        gets = len(srv.hits("/hubbed.xml"))
        time.sleep(4)
        check(len(srv.hits("/hubbed.xml")) <= gets + 1,
              "polled %d times in 4 s while the hub pushes"
              % (len(srv.hits("/hubbed.xml")) - gets))

        # A signed push is taken without a GET of the feed.
        e2 = ("urn:e2", "pushed entry", 18)
        gets = len(srv.hits("/hubbed.xml"))
        check(push(cb, websub_atom(hub.url(), self_url, [e2, e1]), secret)
              // 100 == 2, "a good push refused")
        wait_for("the pushed entry", lambda: "pushed entry" in
                 titles_served(port))
        check(len(srv.hits("/hubbed.xml")) == gets, "the push made a GET")
        # sha512 is taken too.
        e4 = ("urn:e4", "sha512 entry", 20)
        check(push(cb, websub_atom(hub.url(), self_url, [e4]), secret,
                   "sha512") // 100 == 2, "a sha512 push refused")
        wait_for("the sha512 entry", lambda: "sha512 entry" in
                 titles_served(port))

        # A bad signature: acknowledged, logged, not stored.
        e3 = ("urn:e3", "forged entry", 19)
        check(push(cb, websub_atom(hub.url(), self_url, [e3]), "0" * 64)
              == 202, "a forged push not acknowledged")
        wait_for("the refusal logged",
                 lambda: "blog: push refused: bad signature" in d.log())
        # Too large for the feed's max_size: 413.
        big = websub_atom(hub.url(), self_url, [e1]) + b" " * 70000
        check(push(cb, big, secret) == 413, "a push over max_size")
        time.sleep(1.5)
        check("forged entry" not in titles_served(port),
              "the forged entry was stored")
        check(d.stop() == 0, "feedd exited non-zero: %s" % d.log())
        d = None
        state = open(os.path.join(tmp, "state", "websub.state")).read()
        check("\tverified\t" in state, "state file: %r" % state)
        # feedd list says why the next poll is a day away: WebSub.
        code, out, _ = feedd("list", "--json", "-c", conf)
        why = {f["name"]: f["next_why"] for f in json.loads(out)}
        check(code == 0 and why["blog"] == "WebSub" and
              why["denying"] == "interval", "feedd list says why: %s" % why)

        # A restart keeps the subscription: no new request, pushes taken;
        # its first poll finds the pushed entry stored already. A push
        # that comes while that poll runs (held until the push is in) is
        # dropped, and the feed polled again as soon as the poll ends.
        slow = Route(websub_atom(hub.url(), self_url, [e2, e1]),
                     ctype="application/atom+xml", gate=threading.Event())
        srv.routes["/hubbed.xml"] = slow
        nreq = len(hub.requests)
        gets = len(srv.hits("/hubbed.xml"))
        d = Daemon(conf)
        wait_for("a poll after the restart",
                 lambda: len(srv.hits("/hubbed.xml")) > gets)
        e5 = ("urn:e5", "after restart", 21)
        srv.routes["/hubbed.xml"] = Route(
            websub_atom(hub.url(), self_url, [e5, e2, e1]),
            ctype="application/atom+xml")
        pushed = push(cb, websub_atom(hub.url(), self_url, [e5]), secret)
        slow.gate.set()
        check(pushed // 100 == 2, "a push during a poll refused")
        wait_for("the poll after the push", lambda: len(
            srv.hits("/hubbed.xml")) == gets + 2)
        wait_for("the entry pushed during the poll",
                 lambda: "after restart" in titles_served(port))
        e6 = ("urn:e6", "pushed when idle", 22)
        check(push(cb, websub_atom(hub.url(), self_url, [e6]), secret)
              // 100 == 2, "a push after the restart refused")
        wait_for("the entry pushed after the restart",
                 lambda: "pushed when idle" in titles_served(port))
        check(len(srv.hits("/hubbed.xml")) == gets + 2, "polled again")
        time.sleep(1)
        titles = titles_served(port)
        check(titles.count("pushed entry") == 1, "served: %s" % titles)
        check(len(hub.requests) == nreq, "asked again after a restart: %s"
              % [f for f, _ in hub.requests[nreq:]])
        check(len(failing.requests) == 1 and len(denying.requests) == 1,
              "a failed or denied subscription asked again at once: %d, %d"
              % (len(failing.requests), len(denying.requests)))

        # The feed leaves the config: unsubscribed from.
        conf = write_config(tmp, lines[:2] + lines[2:5], port)
        d.proc.send_signal(signal.SIGHUP)
        wait_for("an unsubscribe", lambda: [
            f for f, _ in hub.requests if f.get("hub.mode") == "unsubscribe"])
        wait_for("its verification", lambda: [
            v for v in hub.verified if v[0].get("hub.mode") == "unsubscribe"])
        v = [v for v in hub.verified
             if v[0].get("hub.mode") == "unsubscribe"][0]
        check(v[1] == 200 and v[2] == v[3].encode(), "unsubscribe verified")
        check(d.stop() == 0, "feedd exited non-zero: %s" % d.log())
        d = None

        # Without public_url: no subscribe, no /websub/.
        other = os.path.join(tmp, "plain")
        os.mkdir(other)
        port2 = free_port()
        conf2 = write_config(other, ["feed blog %s interval 1s" % self_url],
                             port2)
        nreq = len(hub.requests)
        gets = len(srv.hits("/hubbed.xml"))
        d = Daemon(conf2)
        wait_for("a poll", lambda: len(srv.hits("/hubbed.xml")) > gets + 1)
        time.sleep(0.5)
        check(len(hub.requests) == nreq, "subscribed without public_url")
        check(get("http://127.0.0.1:%d/websub/%s" % (port2, "0" * 32))[0]
              == 404, "/websub/ answered without public_url")
        check(push("http://127.0.0.1:%d/websub/x" % port2, b"x", secret)
              == 405, "a POST without public_url")
        check(d.stop() == 0, "feedd exited non-zero: %s" % d.log())
        d = None
    finally:
        if d is not None:
            d.stop()
        srv.stop()
        for h in (hub, failing, denying, lapsing):
            h.stop()


def main():
    global ARGS
    ap = argparse.ArgumentParser()
    ap.add_argument("--feedd", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("test")
    ARGS = ap.parse_args()
    ARGS.feedd = os.path.abspath(ARGS.feedd)
    fn = globals().get("test_" + ARGS.test)
    if fn is None:
        sys.exit("no test %s" % ARGS.test)
    tmp = tempfile.mkdtemp(prefix="feedd-it-")
    try:
        fn(tmp)
    except AssertionError as e:
        print("FAIL %s: %s" % (ARGS.test, e))
        sys.exit(1)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok %s" % ARGS.test)


if __name__ == "__main__":
    main()
