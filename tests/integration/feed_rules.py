"""tests/integration/feed_rules.py - the W3C Feed Validation Service's
error rules for what feedd writes, offline: Atom 1.0 (RFC 4287), RSS 2.0
(the RSS Advisory Board's spec, as the validator reads it) and JSON Feed
1.1. Each check_* takes the document's bytes and returns a list of
errors, one line each; an empty list is a valid document.

Only what the validator reports as an error (and the issue's "self links,
unique ids") is checked, not its warnings about style. Written from the
specifications and the validator's documented messages, not its code.
"""
import datetime
import email.utils
import json
import re
import xml.etree.ElementTree as ET

ATOM_NS = "http://www.w3.org/2005/Atom"
A = "{%s}" % ATOM_NS
XHTML = "{http://www.w3.org/1999/xhtml}"

# RFC 3339 date-time, as RFC 4287 3.3 narrows it (upper-case T and Z).
RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?"
    r"(Z|[+-]\d{2}:\d{2})$")
# RFC 822 as RFC 2822 refines it: optional day name, 4-digit year.
RFC822 = re.compile(
    r"^(?:(Mon|Tue|Wed|Thu|Fri|Sat|Sun), )?(\d{1,2}) "
    r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) (\d{4}) "
    r"(\d{2}):(\d{2})(?::(\d{2}))? "
    r"([+-]\d{4}|GMT|UT|EST|EDT|CST|CDT|MST|MDT|PST|PDT)$")
DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
          "Oct", "Nov", "Dec"]
# An absolute IRI: a scheme, then no spaces, controls or the characters
# RFC 3987 leaves out.
IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]*$")
# A relative reference (resolved against xml:base by readers).
IRI_REF = re.compile(r"^[^\s<>\"{}|\\^`\x00-\x1f\x7f]*$")
MIME = re.compile(r"^[\w!#$&^.+-]+/[\w!#$&^.+-]+(\s*;.*)?$")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def rfc3339_ok(text):
    m = RFC3339.match(text or "")
    if not m:
        return False
    y, mo, d, h, mi, s = (int(g) for g in m.groups()[:6])
    try:
        datetime.datetime(y, mo, d, h, mi, min(s, 59))
    except ValueError:
        return False
    tz = m.group(8)
    if tz != "Z" and (int(tz[1:3]) > 23 or int(tz[4:6]) > 59):
        return False
    return s <= 60


def rfc822_ok(text):
    m = RFC822.match(text or "")
    if not m:
        return False
    day, d, mon, y, h, mi, s = m.groups()[:7]
    try:
        when = datetime.date(int(y), MONTHS.index(mon) + 1, int(d))
    except ValueError:
        return False
    if int(h) > 23 or int(mi) > 59 or (s is not None and int(s) > 60):
        return False
    # A day name that is not the date's own is an error to the validator.
    return day is None or DAYS[when.weekday()] == day


def _text(el):
    return "".join(el.itertext()) if el is not None else None


def _parse(data, what, errors):
    try:
        return ET.fromstring(data)
    except ET.ParseError as e:
        errors.append("%s: not well-formed XML: %s" % (what, e))
        return None


# ---- Atom 1.0 -------------------------------------------------------------

def _atom_text(el, where, errors):
    kind = el.get("type", "text")
    if kind not in ("text", "html", "xhtml"):
        errors.append("%s: type %r is not text, html or xhtml" % (where,
                                                                    kind))
    if kind == "xhtml":
        kids = list(el)
        if len(kids) != 1 or kids[0].tag != XHTML + "div":
            errors.append("%s: xhtml content is not one xhtml:div" % where)
    elif len(el):
        errors.append("%s: child elements in %s text" % (where, kind))


def _atom_person(el, where, errors):
    name = el.find(A + "name")
    if name is None or not (name.text or "").strip():
        errors.append("%s: a person without a name" % where)
    uri = el.findtext(A + "uri")
    if uri is not None and not IRI_REF.match(uri.strip()):
        errors.append("%s: uri %r is not an IRI" % (where, uri))
    email_ = el.findtext(A + "email")
    if email_ is not None and not EMAIL.match(email_.strip()):
        errors.append("%s: email %r is not an address" % (where, email_))


def _atom_one(parent, name, where, errors, required=True):
    found = parent.findall(A + name)
    if len(found) > 1:
        errors.append("%s: %d atom:%s, at most one" % (where, len(found),
                                                         name))
    if required and not found:
        errors.append("%s: no atom:%s" % (where, name))
    return found[0] if found else None


def _atom_links(parent, where, errors):
    seen = set()
    for link in parent.findall(A + "link"):
        href = link.get("href")
        if href is None or not IRI_REF.match(href):
            errors.append("%s: link href %r is not an IRI" % (where, href))
        rel = link.get("rel", "alternate")
        if ":" not in rel and rel not in (
                "alternate", "related", "self", "enclosure", "via", "first",
                "last", "previous", "next", "prev-archive", "next-archive",
                "current", "hub", "license", "replies", "edit"):
            errors.append("%s: link rel %r is not registered" % (where, rel))
        if link.get("type") is not None and not MIME.match(link.get("type")):
            errors.append("%s: link type %r is not a MIME type" % (
                where, link.get("type")))
        length = link.get("length")
        if length is not None and not length.isdigit():
            errors.append("%s: link length %r is not a number" % (where,
                                                                  length))
        if rel == "alternate":
            key = (link.get("type"), link.get("hreflang"))
            if key in seen:
                errors.append("%s: two alternate links of type %r" % (
                    where, key[0]))
            seen.add(key)


def _atom_common(el, where, errors, need_updated=True):
    """What feed, entry and source share: id, title, updated, links,
    authors, categories, dates."""
    ident = _atom_one(el, "id", where, errors, need_updated)
    if ident is not None and not IRI.match((ident.text or "").strip()):
        errors.append("%s: id %r is not an absolute IRI" % (where,
                                                            ident.text))
    title = _atom_one(el, "title", where, errors, need_updated)
    if title is not None:
        _atom_text(title, where + " title", errors)
    for name in ("updated", "published"):
        d = _atom_one(el, name, where, errors,
                      need_updated and name == "updated")
        if d is not None and not rfc3339_ok((d.text or "").strip()):
            errors.append("%s: %s %r is not an RFC 3339 date" % (where, name,
                                                                 d.text))
    for name in ("subtitle", "rights", "summary"):
        t = _atom_one(el, name, where, errors, False)
        if t is not None:
            _atom_text(t, "%s %s" % (where, name), errors)
    for name in ("author", "contributor"):
        for p in el.findall(A + name):
            _atom_person(p, "%s %s" % (where, name), errors)
    for c in el.findall(A + "category"):
        if not c.get("term"):
            errors.append("%s: a category without a term" % where)
    _atom_links(el, where, errors)
    return ident


def check_atom(data, self_url=None):
    errors = []
    root = _parse(data, "atom", errors)
    if root is None:
        return errors
    if root.tag != A + "feed":
        return ["atom: root is %s, not atom:feed" % root.tag]
    _atom_common(root, "feed", errors)
    selfs = [link for link in root.findall(A + "link")
             if link.get("rel") == "self"]
    if len(selfs) != 1:
        errors.append("feed: %d self links, one expected" % len(selfs))
    elif self_url is not None and selfs[0].get("href") != self_url:
        errors.append("feed: self link %r, not %r" % (selfs[0].get("href"),
                                                      self_url))
    elif selfs[0].get("type") not in (None, "application/atom+xml"):
        errors.append("feed: self link of type %r" % selfs[0].get("type"))
    feed_author = root.find(A + "author") is not None
    ids = set()
    for i, entry in enumerate(root.findall(A + "entry")):
        where = "entry %d" % (i + 1)
        ident = _atom_common(entry, where, errors)
        if ident is not None:
            if ident.text in ids:
                errors.append("%s: id %r used twice" % (where, ident.text))
            ids.add(ident.text)
        source = _atom_one(entry, "source", where, errors, False)
        if source is not None:
            _atom_common(source, where + " source", errors, False)
        if not (feed_author or entry.find(A + "author") is not None or
                (source is not None and
                 source.find(A + "author") is not None)):
            errors.append("%s: no author (entry, source or feed)" % where)
        content = _atom_one(entry, "content", where, errors, False)
        if content is not None:
            if content.get("src") is not None:
                if (content.text or "").strip() or len(content):
                    errors.append("%s: content with src is not empty" %
                                  where)
                if entry.find(A + "summary") is None:
                    errors.append("%s: content by src without a summary" %
                                  where)
            elif content.get("type", "text") in ("text", "html", "xhtml"):
                _atom_text(content, where + " content", errors)
            elif not MIME.match(content.get("type")):
                errors.append("%s: content type %r is not a MIME type" % (
                    where, content.get("type")))
        else:
            alt = [link for link in entry.findall(A + "link")
                   if link.get("rel", "alternate") == "alternate"]
            if not alt:
                errors.append("%s: neither content nor an alternate link" %
                              where)
    return errors


# ---- RSS 2.0 --------------------------------------------------------------

RSS_CHANNEL = {"title", "link", "description", "language", "copyright",
               "managingEditor", "webMaster", "pubDate", "lastBuildDate",
               "category", "generator", "docs", "cloud", "ttl", "image",
               "rating", "textInput", "skipHours", "skipDays", "item"}
RSS_ITEM = {"title", "link", "description", "author", "category",
            "comments", "enclosure", "guid", "pubDate", "source"}


def _rss_url(text):
    return bool(re.match(r"^(https?|ftp|mailto|news|file):", text or "")) \
        and IRI.match(text) is not None


def check_rss(data, self_url=None):
    errors = []
    root = _parse(data, "rss", errors)
    if root is None:
        return errors
    if root.tag != "rss" or root.get("version") != "2.0":
        return ["rss: root is %s version %r, not rss 2.0" % (
            root.tag, root.get("version"))]
    channels = root.findall("channel")
    if len(channels) != 1:
        return ["rss: %d channels" % len(channels)]
    ch = channels[0]
    for el in ch:
        if "}" not in el.tag and el.tag not in RSS_CHANNEL:
            errors.append("channel: undefined element %s" % el.tag)
    for name in ("title", "link", "description"):
        if ch.find(name) is None:
            errors.append("channel: no %s" % name)
    if ch.find("link") is not None and not _rss_url(ch.findtext("link")):
        errors.append("channel: link %r is not a URL" % ch.findtext("link"))
    for name in ("pubDate", "lastBuildDate"):
        if ch.find(name) is not None and not rfc822_ok(ch.findtext(name)):
            errors.append("channel: %s %r is not an RFC 822 date" % (
                name, ch.findtext(name)))
    ttl = ch.findtext("ttl")
    if ttl is not None and not ttl.isdigit():
        errors.append("channel: ttl %r is not a number" % ttl)
    selfs = [link for link in ch.findall(A + "link")
             if link.get("rel") == "self"]
    if len(selfs) != 1:
        errors.append("channel: %d atom:link rel=self, one expected" %
                      len(selfs))
    else:
        if self_url is not None and selfs[0].get("href") != self_url:
            errors.append("channel: self link %r, not %r" % (
                selfs[0].get("href"), self_url))
        if selfs[0].get("type") != "application/rss+xml":
            errors.append("channel: self link of type %r" %
                          selfs[0].get("type"))
    guids = set()
    for i, item in enumerate(ch.findall("item")):
        where = "item %d" % (i + 1)
        for el in item:
            if "}" not in el.tag and el.tag not in RSS_ITEM:
                errors.append("%s: undefined element %s" % (where, el.tag))
        for name in ("title", "link", "description", "author", "comments",
                     "guid", "pubDate", "source"):
            if len(item.findall(name)) > 1:
                errors.append("%s: %d %s, at most one" % (
                    where, len(item.findall(name)), name))
        if item.find("title") is None and item.find("description") is None:
            errors.append("%s: neither title nor description" % where)
        if item.find("link") is not None and \
                not _rss_url(item.findtext("link")):
            errors.append("%s: link %r is not a URL" % (where,
                                                        item.findtext("link")))
        if item.find("pubDate") is not None and \
                not rfc822_ok(item.findtext("pubDate")):
            errors.append("%s: pubDate %r is not an RFC 822 date" % (
                where, item.findtext("pubDate")))
        author = item.findtext("author")
        if author is not None and not EMAIL.match(author.split(" ")[0]):
            errors.append("%s: author %r is not an e-mail address" % (
                where, author))
        guid = item.find("guid")
        if guid is not None:
            text = (guid.text or "").strip()
            perma = guid.get("isPermaLink", "true")
            if perma not in ("true", "false"):
                errors.append("%s: isPermaLink %r" % (where, perma))
            if perma == "true" and not _rss_url(text):
                errors.append("%s: permalink guid %r is not a URL" % (where,
                                                                      text))
            if not text:
                errors.append("%s: empty guid" % where)
            if text in guids:
                errors.append("%s: guid %r used twice" % (where, text))
            guids.add(text)
        for enc in item.findall("enclosure"):
            if not _rss_url(enc.get("url")):
                errors.append("%s: enclosure url %r" % (where,
                                                        enc.get("url")))
            if not (enc.get("length") or "").isdigit():
                errors.append("%s: enclosure length %r" % (
                    where, enc.get("length")))
            if not MIME.match(enc.get("type") or ""):
                errors.append("%s: enclosure type %r" % (where,
                                                         enc.get("type")))
        for src in item.findall("source"):
            if not _rss_url(src.get("url")):
                errors.append("%s: source url %r" % (where, src.get("url")))
        for cat in item.findall("category"):
            if not (cat.text or "").strip():
                errors.append("%s: empty category" % where)
    return errors


# ---- JSON Feed 1.1 --------------------------------------------------------

JSON_TOP = {"version", "title", "home_page_url", "feed_url", "description",
            "user_comment", "next_url", "icon", "favicon", "authors",
            "language", "expired", "hubs", "items"}
JSON_ITEM = {"id", "url", "external_url", "title", "content_html",
             "content_text", "summary", "image", "banner_image",
             "date_published", "date_modified", "authors", "tags",
             "language", "attachments"}


def _json_url(v):
    return isinstance(v, str) and IRI.match(v) is not None


def _json_authors(v, where, errors):
    if not isinstance(v, list):
        errors.append("%s: authors is not an array" % where)
        return
    for a in v:
        if not isinstance(a, dict) or not any(
                isinstance(a.get(k), str) and a.get(k)
                for k in ("name", "url", "avatar")):
            errors.append("%s: an author without name, url or avatar" %
                          where)


def check_json(data, self_url=None):
    errors = []
    try:
        doc = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        return ["json: not JSON: %s" % e]
    if not isinstance(doc, dict):
        return ["json: not an object"]
    if doc.get("version") != "https://jsonfeed.org/version/1.1":
        errors.append("json: version %r" % doc.get("version"))
    if not isinstance(doc.get("title"), str):
        errors.append("json: no title")
    for k in doc:
        if k not in JSON_TOP and not k.startswith("_"):
            errors.append("json: unknown member %r" % k)
    for k in ("home_page_url", "feed_url", "next_url", "icon", "favicon"):
        if k in doc and not _json_url(doc[k]):
            errors.append("json: %s %r is not a URL" % (k, doc[k]))
    if self_url is not None and doc.get("feed_url") != self_url:
        errors.append("json: feed_url %r, not %r" % (doc.get("feed_url"),
                                                     self_url))
    if "authors" in doc:
        _json_authors(doc["authors"], "json", errors)
    items = doc.get("items")
    if not isinstance(items, list):
        return errors + ["json: items is not an array"]
    ids = set()
    for i, it in enumerate(items):
        where = "item %d" % (i + 1)
        if not isinstance(it, dict):
            errors.append("%s: not an object" % where)
            continue
        for k in it:
            if k not in JSON_ITEM and not k.startswith("_"):
                errors.append("%s: unknown member %r" % (where, k))
        ident = it.get("id")
        if not isinstance(ident, str) or not ident:
            errors.append("%s: id %r is not a non-empty string" % (where,
                                                                   ident))
        elif ident in ids:
            errors.append("%s: id %r used twice" % (where, ident))
        ids.add(ident)
        if not isinstance(it.get("content_html"), str) and \
                not isinstance(it.get("content_text"), str):
            errors.append("%s: neither content_html nor content_text" %
                          where)
        for k in ("url", "external_url", "image", "banner_image"):
            if k in it and not _json_url(it[k]):
                errors.append("%s: %s %r is not a URL" % (where, k, it[k]))
        for k in ("title", "summary", "language"):
            if k in it and not isinstance(it[k], str):
                errors.append("%s: %s is not a string" % (where, k))
        for k in ("date_published", "date_modified"):
            if k in it and not rfc3339_ok(it[k]):
                errors.append("%s: %s %r is not an RFC 3339 date" % (
                    where, k, it[k]))
        if "authors" in it:
            _json_authors(it["authors"], where, errors)
        if "tags" in it and not (isinstance(it["tags"], list) and all(
                isinstance(t, str) for t in it["tags"])):
            errors.append("%s: tags is not an array of strings" % where)
        for att in it.get("attachments", []):
            if not isinstance(att, dict) or not _json_url(att.get("url")) \
                    or not isinstance(att.get("mime_type"), str) \
                    or not MIME.match(att.get("mime_type")):
                errors.append("%s: attachment without url and mime_type" %
                              where)
            elif "size_in_bytes" in att and not (
                    isinstance(att["size_in_bytes"], int) and
                    att["size_in_bytes"] >= 0):
                errors.append("%s: attachment size_in_bytes %r" % (
                    where, att["size_in_bytes"]))
    return errors
