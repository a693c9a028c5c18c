#!/usr/bin/env python3
"""tests/integration/valid.py - feedd's outputs against the W3C Feed
Validation Service's error rules, offline (feed_rules.py).

usage: valid.py --feedd BIN --examples DIR [--shared DIR]

First the rules themselves: documents with one known fault each must be
refused, and their fixed versions taken. Then feedd polls the bundled
demo and, when the shared corpus is beside the checkout, every feed file
of it (4,345 feeds from other parsers' test suites: odd dates, missing
titles, hostile markup, duplicate ids, every encoding), with max_items
large enough to publish all of them; feed.atom, feed.rss and feed.json
must have no error.
"""
import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import feed_rules as rules  # noqa: E402

GOOD_ATOM = b"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<id>http://example.org/feed.atom</id><title>t</title>
<updated>2026-11-30T10:00:00Z</updated>
<link rel="self" type="application/atom+xml" href="http://example.org/feed.atom"/>
<author><name>a</name></author>
<entry><id>urn:x:1</id><title>one</title><updated>2026-11-30T10:00:00+01:00</updated>
<link href="http://example.org/1"/><content type="html">&lt;p&gt;x&lt;/p&gt;</content></entry>
</feed>"""

ATOM_FAULTS = [
    (b"<updated>2026-11-30T10:00:00Z</updated>",
     b"<updated>2026-11-30 10:00:00</updated>"),
    (b"<id>urn:x:1</id>", b"<id>not an iri</id>"),
    (b'<link rel="self" type="application/atom+xml" '
     b'href="http://example.org/feed.atom"/>', b""),
    (b"<author><name>a</name></author>", b""),
    (b"</entry>", b"</entry><entry><id>urn:x:1</id><title>two</title>"
     b"<updated>2026-11-30T10:00:00Z</updated>"
     b'<link href="http://example.org/2"/></entry>'),
    (b'<content type="html">', b'<content type="markdown">'),
    (b"<title>one</title>", b""),
    (b"2026-11-30T10:00:00+01:00", b"2026-02-30T10:00:00+01:00"),
]

GOOD_RSS = b"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom">
<channel><title>t</title><link>http://example.org/</link><description>d</description>
<atom:link rel="self" type="application/rss+xml" href="http://example.org/feed.rss"/>
<lastBuildDate>Mon, 30 Nov 2026 10:00:00 +0000</lastBuildDate>
<item><title>one</title><guid isPermaLink="false">urn:x:1</guid>
<pubDate>Mon, 30 Nov 2026 10:00:00 +0000</pubDate>
<enclosure url="http://example.org/a.mp3" length="12" type="audio/mpeg"/></item>
</channel></rss>"""

RSS_FAULTS = [
    (b"Mon, 30 Nov 2026 10:00:00 +0000</pubDate>",
     b"Tue, 30 Nov 2026 10:00:00 +0000</pubDate>"),
    (b"Mon, 30 Nov 2026 10:00:00 +0000</pubDate>",
     b"2026-11-30T10:00:00Z</pubDate>"),
    (b'<guid isPermaLink="false">', b"<guid>"),
    (b"<description>d</description>", b""),
    (b'<atom:link rel="self" type="application/rss+xml" '
     b'href="http://example.org/feed.rss"/>', b""),
    (b'length="12"', b'length="twelve"'),
    (b"</item>", b"</item><item><title>two</title>"
     b'<guid isPermaLink="false">urn:x:1</guid></item>'),
    (b"<title>one</title>", b"<title>one</title><creator>x</creator>"),
    (b"<title>one</title>", b"<author>Jane Doe</author>"),
]

GOOD_JSON = b"""{"version": "https://jsonfeed.org/version/1.1", "title": "t",
"feed_url": "http://example.org/feed.json", "_feedd": {"x": 1},
"items": [{"id": "urn:x:1", "content_html": "<p>x</p>",
"date_published": "2026-11-30T10:00:00Z", "authors": [{"name": "a"}],
"attachments": [{"url": "http://example.org/a.mp3", "mime_type": "audio/mpeg"}]}]}"""

JSON_FAULTS = [
    (b'"id": "urn:x:1"', b'"id": 1'),
    (b'"content_html": "<p>x</p>",', b""),
    (b'"2026-11-30T10:00:00Z"', b'"Mon, 30 Nov 2026 10:00:00 +0000"'),
    (b"/version/1.1\"", b"/version/1\""),
    (b'"mime_type": "audio/mpeg"', b'"type": "audio/mpeg"'),
    (b'"authors": [{"name": "a"}]', b'"authors": [{}]'),
    (b'"_feedd"', b'"feedd"'),
]


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def test_rules():
    """Each rule refuses a document with its fault and takes the good one:
    a checker that refuses nothing proves nothing."""
    for good, faults, fn in ((GOOD_ATOM, ATOM_FAULTS, rules.check_atom),
                             (GOOD_RSS, RSS_FAULTS, rules.check_rss),
                             (GOOD_JSON, JSON_FAULTS, rules.check_json)):
        errs = fn(good)
        check(errs == [], "%s refused the good document: %s" % (
            fn.__name__, errs))
        for old, new in faults:
            check(old in good, "fault %r: %r not in the document" % (new,
                                                                    old))
            errs = fn(good.replace(old, new, 1))
            check(errs, "%s took a document with %r" % (fn.__name__, new))


def corpus_feeds(shared):
    """Every feed file of the shared corpus, as config locations."""
    corpus = os.path.join(shared, "corpus")
    out = []
    for folder, _, files in sorted(os.walk(corpus)):
        for name in sorted(files):
            if name.endswith((".md", ".txt", ".jsonl", ".tsv")) or \
                    name.startswith("LICENSE") or name.startswith("COPYING"):
                continue
            path = os.path.join(folder, name)
            if '"' in path or "\\" in path or any(ord(c) < 32 for c in path):
                continue
            out.append(path)
    return out


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def poll(feedd, tmp, locations, base, max_items=100000, tag_of=None,
         port=1):
    conf = os.path.join(tmp, "feedd.conf")
    with open(conf, "w") as f:
        f.write("state_dir %s\nlisten 127.0.0.1:%d\nmax_items %d\n"
                "public_url %s\n" % (os.path.join(tmp, "state"), port,
                                     max_items, base))
        for i, loc in enumerate(locations):
            f.write('feed f%d "%s"%s\n' % (
                i, loc, " tags " + tag_of(loc) if tag_of else ""))
    p = subprocess.run([feedd, "poll", "--once", "-c", conf],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       stdin=subprocess.DEVNULL, timeout=600)
    public = os.path.join(tmp, "state", "public")
    check(os.path.exists(os.path.join(public, "feed.atom")),
          "no feed.atom after poll --once (exit %d): %s" % (
              p.returncode, p.stderr.decode(errors="replace")[-2000:]))
    return public


def validate(public, base, what):
    """Every Atom, RSS and JSON document under public/ (the merged feed,
    the tags' and the archive pages), each with its own self URL; the
    bytes checked and the count of documents."""
    total = count = 0
    kinds = {".atom": rules.check_atom, ".rss": rules.check_rss,
             ".json": rules.check_json}
    for folder, _, files in os.walk(public):
        for name in sorted(files):
            ext = os.path.splitext(name)[1]
            if name.startswith(".") or ext not in kinds:
                continue
            path = os.path.join(folder, name)
            rel = os.path.relpath(path, public)
            with open(path, "rb") as f:
                data = f.read()
            errs = kinds[ext](data, self_url=base + rel)
            check(errs == [], "%s of %s: %d errors, first: %s" % (
                rel, what, len(errs), "; ".join(errs[:10])))
            total += len(data)
            count += 1
    check(count >= 3, "%s: only %d documents" % (what, count))
    return total, count


def fetch(url, what, tries=20):
    """The body at url; a 503 (a page made while the loop is busy, say
    under a sanitizer) is asked again a little later."""
    for i in range(tries):
        try:
            with urllib.request.urlopen(url, timeout=30) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            if e.code != 503 or i == tries - 1:
                raise AssertionError("%s: %s" % (what, e))
        except OSError as e:
            raise AssertionError("%s: %s" % (what, e))
        time.sleep(0.5)
    return b""


def served_pages(feedd, tmp, public, base, port):
    """The archive pages, which exist only as the daemon makes them when
    asked: feedd run on the state of tmp, each page of public/archive/
    fetched in the three formats and checked. The count of documents."""
    with open(os.path.join(public, "archive", "pages")) as f:
        pages = [int(line.split()[1]) for line in f
                 if line.startswith("page ")]
    check(pages, "no archive page was fixed")
    # The same state with no feed: the daemon serves what is stored and
    # its loop is not busy polling 4,353 files meanwhile.
    conf = os.path.join(tmp, "serve.conf")
    with open(os.path.join(tmp, "feedd.conf")) as f, open(conf, "w") as g:
        g.write("".join(line for line in f if not line.startswith("feed ")))
    p = subprocess.Popen([feedd, "run", "-c", conf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    n = 0
    try:
        # The pages are set on the server with the first publish.
        for _ in range(400):
            try:
                urllib.request.urlopen("http://127.0.0.1:%d/archive/%d.atom"
                                       % (port, pages[0]), timeout=30).read()
                break
            except OSError:
                time.sleep(0.05)
        for k in pages:
            for ext, fn in (("atom", rules.check_atom),
                            ("rss", rules.check_rss),
                            ("json", rules.check_json)):
                name = "archive/%d.%s" % (k, ext)
                data = fetch("http://127.0.0.1:%d/%s" % (port, name), name)
                errs = fn(data, self_url=base + name)
                check(errs == [], "%s: %d errors, first: %s" % (
                    name, len(errs), "; ".join(errs[:10])))
                n += 1
    finally:
        p.send_signal(signal.SIGTERM)
        p.wait(30)
    return n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--feedd", required=True)
    ap.add_argument("--examples", required=True)
    ap.add_argument("--shared")
    args = ap.parse_args()
    feedd = os.path.abspath(args.feedd)
    base = "https://example.org/river/"
    tmp = tempfile.mkdtemp(prefix="feedd-valid-")
    try:
        test_rules()
        demo = os.path.join(args.examples, "feeds")
        feeds = sorted(os.path.join(demo, n) for n in os.listdir(demo))
        os.mkdir(os.path.join(tmp, "demo"))
        validate(poll(feedd, os.path.join(tmp, "demo"), feeds, base), base,
                 "the demo")
        if args.shared and os.path.isdir(os.path.join(args.shared, "corpus")):
            locations = corpus_feeds(args.shared)
            corpus = os.path.join(args.shared, "corpus")
            os.mkdir(os.path.join(tmp, "corpus"))
            # Every entry at once, then pages of 500 and a tag per source.
            size, n = validate(poll(feedd, os.path.join(tmp, "corpus"),
                                    locations, base), base, "the corpus")
            os.mkdir(os.path.join(tmp, "paged"))
            port = free_port()
            public = poll(feedd, os.path.join(tmp, "paged"), locations, base,
                          500, lambda loc: os.path.relpath(
                              loc, corpus).split(os.sep)[0], port)
            check(os.listdir(os.path.join(public, "archive")) and
                  os.listdir(os.path.join(public, "tag")),
                  "no archive pages or tag outputs were made")
            size2, n2 = validate(public, base, "the corpus paged and tagged")
            n3 = served_pages(feedd, os.path.join(tmp, "paged"), public,
                              base, port)
            print("corpus: %d feeds; outputs of %d bytes valid, then %d "
                  "documents of %d bytes (tags) and %d archive pages" % (
                      len(locations), size, n2, size2, n3))
        else:
            print("shared corpus not found: the demo only")
    except AssertionError as e:
        print("FAIL valid: %s" % e)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print("ok valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
