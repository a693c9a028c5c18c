#!/usr/bin/env python3
"""tests/bench/gen_corpus.py - a large synthetic feed corpus for the parse
benchmark, and with --daemon the one of the daemon benchmark
(tests/bench/README.md).

    gen_corpus.py [OUT_DIR] [--files N] [--total-mb MB] [--seed S]
    gen_corpus.py --daemon [OUT_DIR] [--files N] [--total-mb MB] [--seed S]
                  [--reuse]

Writes N feed files (default 400) of about MB megabytes in all (default
100) into OUT_DIR (default /tmp/feedd-bench-corpus), which is emptied of
earlier feed-*.xml first. The same arguments always give the same bytes.

The mix, by file: about half RSS 2.0 (descriptions as escaped HTML or
CDATA, full text in content:encoded as CDATA, enclosures, categories),
about a third Atom 1.0 (content type="html" escaped and type="xhtml"
inline), the rest RSS 1.0 (RDF, dc: dates and creators). Each file is
between 50 KB and 1 MB, sizes spread log-uniformly; the text mixes ASCII
with accented Latin, Cyrillic, Greek, CJK and emoji, all UTF-8. Every file
is well-formed: a benchmark of error paths would measure something else.

--daemon writes issue 10's corpus instead, into OUT_DIR (default
/tmp/feedd-daemon-corpus2), N files (default 2000) of about MB megabytes
in all (default 360): exactly 60% RSS 2.0, 30% Atom 1.0 and 10% RSS 1.0
(largest remainder for other N), in a seeded order, each with 20 to 100
entries. Every entry has a description of 200 to 8,000 bytes as it
stands in the file (sizes log-uniform), escaped HTML or CDATA (Atom:
summary type="html"), 1-4 categories (dc:subject in RSS 1.0), dates in
RFC 822 (RSS 2.0 pubDate) or RFC 3339 (Atom, dc:date), and 30% of them an
enclosure (media:content in RSS 1.0). 15% carry a full text
(content:encoded, Atom content as escaped HTML or xhtml) whose size is set
feed by feed so that the corpus lands on MB. The files are named
feed-NNNN-FORMAT.xml; at the end OUT_DIR/gen_corpus.stamp records the
arguments and a digest of this program, and --reuse leaves a corpus whose
stamp matches as it is.
"""

import argparse
import datetime
import hashlib
import math
import os
import random
import sys
from xml.sax.saxutils import escape

MIN_SIZE = 50_000
MAX_SIZE = 1_000_000

WORDS_ASCII = (
    "the of and to in is that for on with as was by at from it an be this "
    "are or which have has not but they their were been more one all "
    "about also new after two first other year years people city council "
    "report said will would could government market energy policy week "
    "data release version update server network security patch kernel "
    "library parser feed daemon river weather forecast north south east "
    "west morning evening election budget school health science research "
    "space launch station orbit climate ocean mountain village harbour"
).split()
WORDS_UTF8 = (
    "café naïve résumé Zürich Ærøskøbing São Paulo Kraków Gdańsk İstanbul "
    "Москва погода новости правительство экономика Санкт-Петербург "
    "Αθήνα ειδήσεις καιρός οικονομία 東京 天気 ニュース 経済 北京 新闻 "
    "서울 날씨 뉴스 — – … “quoted” ‘single’ € £ ¥ © ® ™ ½ → ✓ 🚀 🌧️ 📈"
).split()


def words(rng, n):
    out = []
    for _ in range(n):
        pool = WORDS_UTF8 if rng.random() < 0.12 else WORDS_ASCII
        out.append(rng.choice(pool))
    return " ".join(out)


def sentence(rng, lo=6, hi=18):
    s = words(rng, rng.randint(lo, hi))
    return s[:1].upper() + s[1:] + "."


def marked_sentence(rng, site, link, em, strong):
    """An escaped sentence, made a link, <em> or <strong> below the given
    thresholds of one draw."""
    s = escape(sentence(rng))
    r = rng.random()
    if r < link:
        s = '<a href="https://%s/ref/%d">%s</a>' % (
            site, rng.randint(1, 10**6), s)
    elif r < em:
        s = "<em>%s</em>" % s
    elif r < strong:
        s = "<strong>%s</strong>" % s
    return s


def paragraph_html(rng, site):
    """One paragraph of HTML with a little inline markup."""
    parts = []
    for _ in range(rng.randint(2, 6)):
        parts.append(marked_sentence(rng, site, 0.2, 0.35, 0.45))
    html = "<p>%s</p>" % " ".join(parts)
    if rng.random() < 0.15:
        html += '<p><img src="https://%s/img/%d.jpg" alt="%s" width="640" ' \
                'height="360"/></p>' % (site, rng.randint(1, 10**6),
                                        escape(words(rng, 3), {'"': "&quot;"}))
    if rng.random() < 0.1:
        html += "<ul>%s</ul>" % "".join(
            "<li>%s</li>" % escape(sentence(rng, 3, 8))
            for _ in range(rng.randint(2, 5)))
    return html


def body_html(rng, site, lo, hi):
    return "\n".join(paragraph_html(rng, site)
                     for _ in range(rng.randint(lo, hi)))


def rfc822(rng, t):
    days = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
    months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
              "Oct", "Nov", "Dec"]
    y, mo, d, h, mi, s, wd = t
    zone = rng.choice(["GMT", "+0000", "+0300", "-0500", "EST", "+0530"])
    return "%s, %02d %s %04d %02d:%02d:%02d %s" % (
        days[wd], d, months[mo - 1], y, h, mi, s, zone)


def rfc3339(rng, t):
    y, mo, d, h, mi, s, _ = t
    zone = rng.choice(["Z", "Z", "+00:00", "+02:00", "-07:00"])
    return "%04d-%02d-%02dT%02d:%02d:%02d%s" % (y, mo, d, h, mi, s, zone)


def a_time(rng):
    y = rng.randint(2019, 2024)
    mo = rng.randint(1, 12)
    d = rng.randint(1, 28)
    wd = datetime.date(y, mo, d).weekday()
    return (y, mo, d, rng.randint(0, 23), rng.randint(0, 59),
            rng.randint(0, 59), wd)


def cdata(s):
    return "<![CDATA[" + s.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def rss20_item(rng, site, n):
    link = "https://%s/%d/%02d/%s-a%d" % (
        site, rng.randint(2019, 2024), rng.randint(1, 12),
        "-".join(rng.choice(WORDS_ASCII) for _ in range(4)), 10**5 + n)
    title = escape(sentence(rng, 4, 12))
    summary = body_html(rng, site, 1, 2)
    out = ["<item>\n<title>%s</title>\n<link>%s</link>\n" % (title, link)]
    if rng.random() < 0.7:
        out.append('<guid isPermaLink="true">%s</guid>\n' % link)
    else:
        out.append('<guid isPermaLink="false">%s-%08x</guid>\n' % (
            site, rng.getrandbits(32)))
    out.append("<pubDate>%s</pubDate>\n" % rfc822(rng, a_time(rng)))
    out.append("<dc:creator>%s</dc:creator>\n" % escape(words(rng, 2)))
    for _ in range(rng.randint(0, 4)):
        out.append("<category>%s</category>\n" % escape(words(rng, 1)))
    # Descriptions come both ways real feeds send them.
    if rng.random() < 0.6:
        out.append("<description>%s</description>\n" % escape(summary))
    else:
        out.append("<description>%s</description>\n" % cdata(summary))
    if rng.random() < 0.75:
        out.append("<content:encoded>%s</content:encoded>\n" %
                   cdata(body_html(rng, site, 3, 14)))
    if rng.random() < 0.2:
        out.append('<enclosure url="https://%s/media/%d.mp3" length="%d" '
                   'type="audio/mpeg"/>\n' % (site, n, rng.randint(10**5,
                                                              10**8)))
    if rng.random() < 0.3:
        out.append('<media:thumbnail url="https://%s/thumb/%d.jpg"/>\n' %
                   (site, n))
    out.append("</item>\n")
    return "".join(out)


def rss20_head(rng, site, media):
    """An RSS 2.0 document up to its first item; media adds the Media RSS
    namespace."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rss version="2.0" '
        'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'xmlns:atom="http://www.w3.org/2005/Atom"%s>\n<channel>\n'
        "<title>%s</title>\n<link>https://%s/</link>\n"
        '<atom:link href="https://%s/feed/" rel="self" '
        'type="application/rss+xml"/>\n'
        "<description>%s</description>\n<language>en</language>\n"
        "<lastBuildDate>%s</lastBuildDate>\n" % (
            ' xmlns:media="http://search.yahoo.com/mrss/"' if media else "",
            escape(words(rng, 3)), site, site, escape(sentence(rng)),
            rfc822(rng, a_time(rng))))


def rss20(rng, site, target):
    head = rss20_head(rng, site, True)
    return fill(rng, head, "</channel>\n</rss>\n", target,
                lambda n: rss20_item(rng, site, n))


def atom_entry(rng, site, n):
    link = "https://%s/posts/%d/%s" % (
        site, 10**6 + n, "-".join(rng.choice(WORDS_ASCII) for _ in range(3)))
    t1, t2 = a_time(rng), a_time(rng)
    out = ["<entry>\n"]
    if rng.random() < 0.2:
        out.append('<title type="html">%s</title>\n' %
                   escape("<em>%s</em> %s" % (escape(words(rng, 2)),
                                              escape(sentence(rng, 3, 8)))))
    else:
        out.append("<title>%s</title>\n" % escape(sentence(rng, 4, 12)))
    out.append('<link rel="alternate" type="text/html" href="%s"/>\n' % link)
    out.append("<id>tag:%s,2024:post-%d</id>\n" % (site, n))
    out.append("<published>%s</published>\n<updated>%s</updated>\n" % (
        rfc3339(rng, t1), rfc3339(rng, t2)))
    out.append("<author><name>%s</name><email>someone@%s</email></author>\n"
               % (escape(words(rng, 2)), site))
    for _ in range(rng.randint(0, 3)):
        out.append('<category term="%s"/>\n' %
                   escape(rng.choice(WORDS_ASCII)))
    if rng.random() < 0.5:
        out.append('<summary type="html">%s</summary>\n' %
                   escape(body_html(rng, site, 1, 1)))
    body = body_html(rng, site, 3, 14)
    if rng.random() < 0.5:
        out.append('<content type="html">%s</content>\n' % escape(body))
    else:
        out.append('<content type="xhtml"><div '
                   'xmlns="http://www.w3.org/1999/xhtml">%s</div>'
                   "</content>\n" % body)
    if rng.random() < 0.1:
        out.append('<link rel="enclosure" href="https://%s/media/%d.ogg" '
                   'length="%d" type="audio/ogg"/>\n' % (
                       site, n, rng.randint(10**5, 10**8)))
    out.append("</entry>\n")
    return "".join(out)


def atom10(rng, site, target):
    head = (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
        "<title>%s</title>\n<subtitle>%s</subtitle>\n"
        '<link href="https://%s/"/>\n'
        '<link rel="self" href="https://%s/atom.xml"/>\n'
        "<id>tag:%s,2024:feed</id>\n<updated>%s</updated>\n" % (
            escape(words(rng, 3)), escape(sentence(rng)), site, site, site,
            rfc3339(rng, a_time(rng))))
    return fill(rng, head, "</feed>\n", target,
                lambda n: atom_entry(rng, site, n))


def rss10_item(rng, site, n):
    link = "https://%s/story/%d.html" % (site, 10**6 + n)
    return (
        '<item rdf:about="%s">\n<title>%s</title>\n<link>%s</link>\n'
        "<description>%s</description>\n<dc:date>%s</dc:date>\n"
        "<dc:creator>%s</dc:creator>\n<dc:subject>%s</dc:subject>\n"
        "</item>\n" % (
            link, escape(sentence(rng, 4, 12)), link,
            escape(body_html(rng, site, 2, 10)), rfc3339(rng, a_time(rng)),
            escape(words(rng, 2)), escape(rng.choice(WORDS_ASCII))))


def rss10(rng, site, target):
    head = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" '
        'xmlns="http://purl.org/rss/1.0/" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">\n'
        '<channel rdf:about="https://%s/rss">\n<title>%s</title>\n'
        "<link>https://%s/</link>\n<description>%s</description>\n"
        "</channel>\n" % (site, escape(words(rng, 3)), site,
                          escape(sentence(rng))))
    return fill(rng, head, "</rdf:RDF>\n", target,
                lambda n: rss10_item(rng, site, n))


def fill(rng, head, tail, target, item):
    """head, then items until the document is about target bytes, then
    tail; sizes in UTF-8 bytes."""
    parts = [head]
    size = len(head.encode()) + len(tail.encode())
    n = 0
    while size < target:
        s = item(n)
        parts.append(s)
        size += len(s.encode())
        n += 1
    parts.append(tail)
    return "".join(parts)


def sizes(rng, files, total):
    """files sizes, log-uniform in [MIN_SIZE, MAX_SIZE], scaled so that
    they add up to about total."""
    raw = [math.exp(rng.uniform(math.log(MIN_SIZE), math.log(MAX_SIZE)))
           for _ in range(files)]
    scale = total / sum(raw)
    return [int(min(MAX_SIZE, max(MIN_SIZE, s * scale))) for s in raw]


# ---- The daemon benchmark's corpus (--daemon) ----
#
# Issue 10's corpus: files in fixed shares of the three formats, each with
# ENTRIES entries; every entry has a description of DESC bytes (as it
# stands in the file, escaped HTML or CDATA), dates, categories, and some
# an enclosure; a share of them carries the full text, whose size is set
# feed by feed so that the corpus lands near --total-mb.

DAEMON_MIX = (("rss20", 0.6), ("atom10", 0.3), ("rss10", 0.1))
ENTRIES = (20, 100)
DESC = (200, 8000)
FULL_SHARE = 0.15  # of entries with a full text
FULL_WEIGHT = (1.0, 8.0)  # log-uniform; times bytes per unit, set as we go
# Bytes of an entry beside its description and full text, and of a
# document beside its entries, by format: estimates, the feed-by-feed
# correction makes up for their error.
ENTRY_OVERHEAD = {"rss20": 530, "atom10": 555, "rss10": 535}
HEAD_OVERHEAD = {"rss20": 650, "atom10": 380, "rss10": 400}
STAMP = "gen_corpus.stamp"


def log_uniform(rng, lo, hi):
    return math.exp(rng.uniform(math.log(lo), math.log(hi)))


def html_pieces(rng, site):
    """Endless pieces of HTML that each keep the whole balanced when it
    is cut after any of them: <p>...</p> as sentences, paragraph breaks,
    now and then a list or an image."""
    first = True
    while True:
        s = marked_sentence(rng, site, 0.15, 0.25, 0.32)
        if first:
            first = False
        elif rng.random() < 0.25:
            s = "</p>\n<p>" + s
        elif rng.random() < 0.03:
            s = ('</p>\n<p><img src="https://%s/img/%d.jpg" alt="%s" '
                 'width="640" height="360"/></p>\n<p>' % (
                     site, rng.randint(1, 10**6),
                     escape(words(rng, 3), {'"': "&quot;"})) + s)
        elif rng.random() < 0.03:
            s = "</p>\n<ul>%s</ul>\n<p>%s" % ("".join(
                "<li>%s</li>" % escape(sentence(rng, 3, 8))
                for _ in range(rng.randint(2, 4))), s)
        else:
            s = " " + s
        yield s


def sized_html(rng, site, target, enc, most=None):
    """(text, bytes): HTML of at least target bytes once put in the file
    by enc (escape, cdata or as it is), and at most most if given, in
    whole pieces; bytes is the size of enc(text) in UTF-8."""
    pieces, size = [], 0
    wrap = len(enc("<p></p>").encode())
    bare = len(enc(""))  # CDATA's own markup, once for the whole

    def cost(piece):
        return len(enc(piece).encode()) - bare

    for piece in html_pieces(rng, site):
        pieces.append(piece)
        size += cost(piece)
        if size + wrap >= target:
            break
    while most is not None and size + wrap > most and len(pieces) > 1:
        size -= cost(pieces.pop())
    text = "<p>" + "".join(pieces).lstrip(" ") + "</p>"
    return text, len(enc(text).encode())


def as_is(s):
    return s


def description(rng, site, target, cdata_ok=True):
    """An escaped or CDATA description of target (DESC) bytes."""
    enc = cdata if cdata_ok and rng.random() < 0.4 else escape
    text, _ = sized_html(rng, site, target, enc, DESC[1])
    return enc(text)


def rss20_entry(rng, site, n, desc, full):
    link = "https://%s/%d/%02d/%s-a%d" % (
        site, rng.randint(2019, 2024), rng.randint(1, 12),
        "-".join(rng.choice(WORDS_ASCII) for _ in range(4)), 10**5 + n)
    out = ["<item>\n<title>%s</title>\n<link>%s</link>\n" % (
        escape(sentence(rng, 4, 12)), link)]
    if rng.random() < 0.7:
        out.append('<guid isPermaLink="true">%s</guid>\n' % link)
    else:
        out.append('<guid isPermaLink="false">%s-%d-%08x</guid>\n' % (
            site, n, rng.getrandbits(32)))
    out.append("<pubDate>%s</pubDate>\n" % rfc822(rng, a_time(rng)))
    out.append("<dc:creator>%s</dc:creator>\n" % escape(words(rng, 2)))
    for _ in range(rng.randint(1, 4)):
        out.append("<category>%s</category>\n" % escape(words(rng, 1)))
    out.append("<description>%s</description>\n" % description(
        rng, site, desc))
    if full:
        out.append("<content:encoded>%s</content:encoded>\n" % cdata(
            sized_html(rng, site, full, cdata)[0]))
    if rng.random() < 0.3:
        out.append('<enclosure url="https://%s/media/%d.mp3" length="%d" '
                   'type="audio/mpeg"/>\n' % (site, n,
                                              rng.randint(10**5, 10**8)))
    out.append("</item>\n")
    return "".join(out)


def atom_entry_daemon(rng, site, n, desc, full):
    link = "https://%s/posts/%d/%s" % (
        site, 10**6 + n, "-".join(rng.choice(WORDS_ASCII) for _ in range(3)))
    out = ["<entry>\n<title>%s</title>\n" % escape(sentence(rng, 4, 12)),
           '<link rel="alternate" type="text/html" href="%s"/>\n' % link,
           "<id>tag:%s,2024:post-%d</id>\n" % (site, n),
           "<published>%s</published>\n<updated>%s</updated>\n" % (
               rfc3339(rng, a_time(rng)), rfc3339(rng, a_time(rng))),
           "<author><name>%s</name></author>\n" % escape(words(rng, 2))]
    for _ in range(rng.randint(1, 3)):
        out.append('<category term="%s"/>\n' %
                   escape(rng.choice(WORDS_ASCII)))
    out.append('<summary type="html">%s</summary>\n' % description(
        rng, site, desc))
    if full:
        if rng.random() < 0.5:
            out.append('<content type="html">%s</content>\n' % escape(
                sized_html(rng, site, full, escape)[0]))
        else:
            out.append('<content type="xhtml"><div '
                       'xmlns="http://www.w3.org/1999/xhtml">%s</div>'
                       "</content>\n" % sized_html(rng, site, full,
                                                   as_is)[0])
    if rng.random() < 0.3:
        out.append('<link rel="enclosure" href="https://%s/media/%d.ogg" '
                   'length="%d" type="audio/ogg"/>\n' % (
                       site, n, rng.randint(10**5, 10**8)))
    out.append("</entry>\n")
    return "".join(out)


def rss10_entry(rng, site, n, desc, full):
    link = "https://%s/story/%d.html" % (site, 10**6 + n)
    out = ['<item rdf:about="%s">\n<title>%s</title>\n<link>%s</link>\n' % (
        link, escape(sentence(rng, 4, 12)), link),
        "<description>%s</description>\n" % description(rng, site, desc),
        "<dc:date>%s</dc:date>\n" % rfc3339(rng, a_time(rng)),
        "<dc:creator>%s</dc:creator>\n" % escape(words(rng, 2))]
    for _ in range(rng.randint(1, 3)):
        out.append("<dc:subject>%s</dc:subject>\n" %
                   escape(rng.choice(WORDS_ASCII)))
    if full:
        out.append("<content:encoded>%s</content:encoded>\n" % cdata(
            sized_html(rng, site, full, cdata)[0]))
    if rng.random() < 0.3:
        out.append('<media:content url="https://%s/media/%d.mp4" '
                   'fileSize="%d" type="video/mp4"/>\n' % (
                       site, n, rng.randint(10**5, 10**8)))
    out.append("</item>\n")
    return "".join(out)


def daemon_feed(rng, kind, site, plan):
    """One document of kind with the entries of plan [(desc, full)]."""
    if kind == "rss20":
        head = rss20_head(rng, site, False)
        tail, entry = "</channel>\n</rss>\n", rss20_entry
    elif kind == "atom10":
        head = (
            '<?xml version="1.0" encoding="utf-8"?>\n'
            '<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="en">\n'
            "<title>%s</title>\n<subtitle>%s</subtitle>\n"
            '<link href="https://%s/"/>\n'
            '<link rel="self" href="https://%s/atom.xml"/>\n'
            "<id>tag:%s,2024:feed</id>\n<updated>%s</updated>\n" % (
                escape(words(rng, 3)), escape(sentence(rng)), site, site,
                site, rfc3339(rng, a_time(rng))))
        tail, entry = "</feed>\n", atom_entry_daemon
    else:
        head = (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-'
            'ns#" xmlns="http://purl.org/rss/1.0/" '
            'xmlns:dc="http://purl.org/dc/elements/1.1/" '
            'xmlns:content="http://purl.org/rss/1.0/modules/content/" '
            'xmlns:media="http://search.yahoo.com/mrss/">\n'
            '<channel rdf:about="https://%s/rss">\n<title>%s</title>\n'
            "<link>https://%s/</link>\n<description>%s</description>\n"
            "<items><rdf:Seq>%s</rdf:Seq></items>\n</channel>\n" % (
                site, escape(words(rng, 3)), site, escape(sentence(rng)),
                "".join('<rdf:li rdf:resource="https://%s/story/%d.html"/>'
                        % (site, 10**6 + n) for n in range(len(plan)))))
        tail, entry = "</rdf:RDF>\n", rss10_entry
    return "".join([head] + [entry(rng, site, n, d, f)
                             for n, (d, f) in enumerate(plan)] + [tail])


def daemon_kinds(rng, files):
    """The formats of files files in DAEMON_MIX's shares (largest
    remainder), shuffled."""
    exact = [files * share for _, share in DAEMON_MIX]
    counts = [int(x) for x in exact]
    by_rest = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in by_rest[:files - sum(counts)]:
        counts[i] += 1
    kinds = [k for (k, _), c in zip(DAEMON_MIX, counts) for _ in range(c)]
    rng.shuffle(kinds)
    return kinds


def stamp_text(args):
    """What the corpus in OUT was made from: the arguments and this
    program's own bytes."""
    with open(os.path.abspath(__file__), "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()[:16]
    return "daemon files=%d total_mb=%g seed=%d generator=%s\n" % (
        args.files, args.total_mb, args.seed, digest)


def daemon_corpus(args):
    """Writes issue 10's corpus into args.out; prints what it made."""
    stamp = os.path.join(args.out, STAMP)
    want = stamp_text(args)
    if args.reuse and os.path.exists(stamp):
        with open(stamp) as f:
            if f.readline() == want:
                print("corpus in %s is current (%s)" % (args.out, STAMP))
                return 0
    for name in os.listdir(args.out):
        if name == STAMP or (name.startswith("feed-") and
                             name.endswith(".xml")):
            os.unlink(os.path.join(args.out, name))
    rng = random.Random(args.seed)
    kinds = daemon_kinds(rng, args.files)
    plans = []
    for kind in kinds:
        plan = []
        for _ in range(rng.randint(*ENTRIES)):
            w = log_uniform(rng, *FULL_WEIGHT) \
                if rng.random() < FULL_SHARE else 0.0
            plan.append((int(log_uniform(rng, *DESC)), w))
        plans.append(plan)

    def rest(kind, plan):
        return HEAD_OVERHEAD[kind] + sum(d + ENTRY_OVERHEAD[kind]
                                         for d, _ in plan)

    left = sum(rest(k, p) for k, p in zip(kinds, plans))
    weight = sum(w for p in plans for _, w in p)
    total, written = args.total_mb * 1e6, 0
    counts = {k: [0, 0, 0] for k, _ in DAEMON_MIX}
    for i, (kind, plan) in enumerate(zip(kinds, plans)):
        # Bytes per unit of full-text weight, so that what is left lands
        # on the total.
        per = max(0.0, (total - written - left) / weight) if weight else 0
        left -= rest(kind, plan)
        weight -= sum(w for _, w in plan)
        full = [(d, int(w * per) if w * per >= DESC[0] else 0)
                for d, w in plan]
        site = "%s%d.example" % (rng.choice(WORDS_ASCII), i)
        data = daemon_feed(rng, kind, site, full).encode()
        with open(os.path.join(args.out, "feed-%04d-%s.xml" % (i, kind)),
                  "wb") as f:
            f.write(data)
        written += len(data)
        counts[kind][0] += 1
        counts[kind][1] += len(data)
        counts[kind][2] += len(plan)
    for name, (n, b, e) in counts.items():
        print("%-7s %4d files %8.1f MB %7d entries" % (name, n, b / 1e6, e))
    print("total   %4d files %8.1f MB %7d entries in %s" % (
        args.files, written / 1e6, sum(c[2] for c in counts.values()),
        args.out))
    with open(stamp, "w") as f:
        f.write(want)
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("out", nargs="?")
    ap.add_argument("--files", type=int)
    ap.add_argument("--total-mb", type=float)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--daemon", action="store_true",
                    help="the daemon benchmark's corpus (issue 10)")
    ap.add_argument("--reuse", action="store_true",
                    help="with --daemon: keep OUT when its stamp says it "
                    "was made with the same arguments and generator")
    args = ap.parse_args()
    defaults = (("/tmp/feedd-daemon-corpus2", 2000, 360.0) if args.daemon
                else ("/tmp/feedd-bench-corpus", 400, 100.0))
    for name, value in zip(("out", "files", "total_mb"), defaults):
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.files < 1 or args.total_mb <= 0:
        ap.error("--files and --total-mb must be positive")
    if args.reuse and not args.daemon:
        ap.error("--reuse needs --daemon")

    rng = random.Random(args.seed)
    os.makedirs(args.out, exist_ok=True)
    if args.daemon:
        return daemon_corpus(args)
    for name in os.listdir(args.out):
        if name.startswith("feed-") and name.endswith(".xml"):
            os.unlink(os.path.join(args.out, name))

    kinds = [("rss20", rss20, 0.5), ("atom10", atom10, 0.35),
             ("rss10", rss10, 0.15)]
    counts = {k: [0, 0] for k, _, _ in kinds}
    for i, target in enumerate(sizes(rng, args.files,
                                     args.total_mb * 1e6)):
        r = rng.random()
        for name, make, share in kinds:
            if r < share:
                break
            r -= share
        site = "%s%d.example" % (rng.choice(WORDS_ASCII), i)
        data = make(rng, site, target).encode()
        with open(os.path.join(args.out, "feed-%03d-%s.xml" % (i, name)),
                  "wb") as f:
            f.write(data)
        counts[name][0] += 1
        counts[name][1] += len(data)
    total = sum(b for _, b in counts.values())
    for name, (n, b) in counts.items():
        print("%-7s %4d files %8.1f MB" % (name, n, b / 1e6))
    print("total   %4d files %8.1f MB in %s" % (args.files, total / 1e6,
                                               args.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
