/* tests/unit/test_write.c - the merged feed as Atom, RSS 2.0 and JSON
 * Feed 1.1: well-formed, escaped, the members each format requires, and
 * read back by feedd's own parser (and jansson) as the same entries; each
 * linear in its input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <gumbo.h>
#include <jansson.h>

#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/item.h"
#include "feeds/parse.h"
#include "feeds/write.h"
#include "linear.h"

struct seen {
    int n;
    char titles[4][128];
    char links[4][256];
    char guids[4][64];
    char authors[4][64];
    char summaries[4][64];
    size_t enclosures[4], categories[4];
    int64_t published[4], updated[4];
};

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct seen *s = arg;

    assert_true(s->n < 4);
    snprintf(s->titles[s->n], sizeof(s->titles[0]), "%s",
             e->title ? e->title : "");
    snprintf(s->links[s->n], sizeof(s->links[0]), "%s", e->link ? e->link : "");
    snprintf(s->guids[s->n], sizeof(s->guids[0]), "%s", e->guid ? e->guid : "");
    snprintf(s->authors[s->n], sizeof(s->authors[0]), "%s",
             e->author ? e->author : "");
    snprintf(s->summaries[s->n], sizeof(s->summaries[0]), "%s",
             e->summary ? e->summary : "");
    s->enclosures[s->n] = e->nenclosures;
    s->categories[s->n] = e->ncategories;
    s->published[s->n] = e->published;
    s->updated[s->n] = e->updated;
    s->n++;
    return 0;
}

static void
test_atom_round_trip(void **state)
{
    struct feed_item items[2];
    struct feed_meta meta = {"River <&> \"quoted\"",
                             "http://127.0.0.1:8080/feed.atom",
                             "http://127.0.0.1:8080/feed.atom",
                             1715948040,
                             NULL,
                             NULL,
                             NULL,
                             NULL,
                             0,
                             NULL,
                             NULL,
                             0};
    struct feed_buf out;
    struct feed_parser *p;
    struct seen s;

    (void)state;
    memset(items, 0, sizeof(items));
    memset(&s, 0, sizeof(s));
    strcpy(items[0].id, "0123456789abcdef");
    items[0].entry.title = "Tom & Jerry <3 \x01";
    items[0].entry.link = "https://example.com/a?x=1&y=2";
    items[0].entry.summary = "<p>html</p>";
    items[0].entry.published = 1715948040;
    items[0].entry.updated = FEED_TIME_NONE;
    items[0].feed = "src";
    items[0].feed_url = "https://example.com/feed";
    items[0].stored = 1715950000;
    strcpy(items[1].id, "fedcba9876543210");
    items[1].entry.title = NULL;
    items[1].entry.published = FEED_TIME_NONE;
    items[1].entry.updated = FEED_TIME_NONE;
    items[1].feed = "other";
    items[1].feed_title = "Other feed";
    items[1].feed_url = "file:///tmp/x.xml";
    items[1].stored = 1715950000;

    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_atom(&out, &meta, items, 2), 0);
    /* Every entry has its stable ID, and its source. */
    assert_non_null(strstr(out.data, "<id>urn:feedd:0123456789abcdef</id>"));
    assert_non_null(strstr(out.data, "<title>Other feed</title>"));
    assert_non_null(strstr(out.data, "<title>src</title>"));
    assert_non_null(strstr(out.data, "River &lt;&amp;&gt; &quot;quoted&quot;"));
    assert_null(strchr(out.data, '\x01'));

    p = feed_parser_new(NULL, NULL, on_entry, &s);
    assert_int_equal(feed_parser_push(p, out.data, out.len, 1), 0);
    assert_int_equal(feed_parser_info(p)->format, FEED_FORMAT_ATOM10);
    feed_parser_free(p);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.titles[0], "Tom & Jerry <3");
    assert_string_equal(s.links[0], "https://example.com/a?x=1&y=2");
    assert_string_equal(s.guids[0], "urn:feedd:0123456789abcdef");
    assert_true(s.published[0] == 1715948040);
    /* atom:updated is required: the best date there is. */
    assert_true(s.updated[0] == 1715948040);
    assert_true(s.updated[1] == 1715950000);
    feed_buf_free(&out);
}

static void
test_atom_lists(void **state)
{
    struct feed_enclosure enc[2] = {
        {"https://example.com/a.mp3", "audio/mpeg", 12345},
        {"https://example.com/b\"c.jpg", NULL, -1},
    };
    const char *cats[] = {"news", "<tag>"};
    struct feed_item it;
    struct feed_meta meta = {"t",  NULL, "urn:x", 0,    NULL, NULL,
                             NULL, NULL, 0,       NULL, NULL, 0};
    struct feed_buf out;

    (void)state;
    memset(&it, 0, sizeof(it));
    strcpy(it.id, "0123456789abcdef");
    it.entry.link = "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a";
    it.entry.published = it.entry.updated = FEED_TIME_NONE;
    it.entry.enclosures = enc;
    it.entry.nenclosures = 2;
    it.entry.categories = cats;
    it.entry.ncategories = 2;
    it.feed = "f";
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_atom(&out, &meta, &it, 1), 0);
    assert_non_null(strstr(out.data,
                           "<link rel=\"enclosure\" href=\"https://example.com/"
                           "a.mp3\" type=\"audio/mpeg\" length=\"12345\"/>"));
    assert_non_null(strstr(out.data,
                           "<link rel=\"enclosure\" href=\"https://example.com/"
                           "b%22c.jpg\"/>"));
    assert_non_null(strstr(out.data, "<category term=\"news\"/>"));
    assert_non_null(strstr(out.data, "<category term=\"&lt;tag&gt;\"/>"));
    /* A link that is no web address (an id used as link) is left out. */
    assert_null(strstr(out.data, "rel=\"alternate\""));
    feed_buf_free(&out);
}

/* Two items for the RSS and JSON Feed writers: one with every field, one
 * with next to none. */
static const struct feed_enclosure rich_enc[2] = {
    {"https://example.com/a.mp3", "audio/mpeg", 12345},
    {"https://example.com/b.jpg", NULL, -1},
};
static const char *const rich_cats[] = {"news", "<tag>"};
static const char *const rich_also[] = {"second"};

static void
two_items(struct feed_item items[2])
{
    memset(items, 0, 2 * sizeof(*items));
    strcpy(items[0].id, "0123456789abcdef");
    items[0].entry.title = "Tom & Jerry <3";
    items[0].entry.link = "https://example.com/a?x=1&y=2";
    items[0].entry.author = "Ann <ann>";
    items[0].entry.summary = "<p>short</p>";
    items[0].entry.content = "<p>long & \"quoted\"</p>";
    items[0].entry.image = "https://example.com/t.png";
    items[0].entry.published = 1715948040;
    items[0].entry.updated = FEED_TIME_NONE;
    items[0].entry.enclosures = rich_enc;
    items[0].entry.nenclosures = 2;
    items[0].entry.categories = rich_cats;
    items[0].entry.ncategories = 2;
    items[0].feed = "src";
    items[0].feed_title = "Source \"S\"";
    items[0].feed_url = "https://example.com/feed";
    items[0].also = rich_also;
    items[0].nalso = 1;
    items[0].stored = 1715950000;
    items[0].changed = 1715960000;
    strcpy(items[1].id, "fedcba9876543210");
    items[1].entry.link = "urn:uuid:1225c695-cfb8-4ebb-aaaa-80da344efa6a";
    items[1].entry.published = FEED_TIME_NONE;
    items[1].entry.updated = FEED_TIME_NONE;
    items[1].feed = "other";
    items[1].feed_url = "file:///tmp/x.xml";
    items[1].stored = 1715950000;
    items[1].changed = FEED_TIME_NONE;
}

static void
read_back(const struct feed_buf *out, enum feed_format want, struct seen *s)
{
    struct feed_parser *p = feed_parser_new(NULL, NULL, on_entry, s);

    memset(s, 0, sizeof(*s));
    assert_non_null(p);
    assert_int_equal(feed_parser_push(p, out->data, out->len, 1), 0);
    assert_int_equal(feed_parser_info(p)->format, want);
    feed_parser_free(p);
}

static void
test_rss(void **state)
{
    struct feed_item items[2];
    struct feed_meta meta = {"River <&>",
                             "http://h:8080/feed.rss",
                             "http://h:8080/feed.atom",
                             1715948040,
                             "http://h:8080/",
                             NULL,
                             NULL,
                             NULL,
                             0,
                             NULL,
                             NULL,
                             0};
    struct feed_buf out;
    struct seen s;

    (void)state;
    two_items(items);
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_rss(&out, &meta, items, 2), 0);
    assert_non_null(strstr(out.data, "<link>http://h:8080/</link>"));
    assert_non_null(
        strstr(out.data, "<atom:link rel=\"self\" type=\"application/rss+xml\""
                         " href=\"http://h:8080/feed.rss\"/>"));
    assert_non_null(
        strstr(out.data,
               "<lastBuildDate>Fri, 17 May 2024 12:14:00 GMT</lastBuildDate>"));
    assert_non_null(strstr(out.data, "<title>River &lt;&amp;&gt;</title>"));
    assert_non_null(strstr(out.data, "<guid isPermaLink=\"false\">urn:feedd:"
                                     "0123456789abcdef</guid>"));
    assert_non_null(strstr(out.data, "<source url=\"https://example.com/feed\">"
                                     "Source &quot;S&quot;</source>"));
    /* RSS requires an enclosure's length and type. */
    assert_non_null(strstr(out.data,
                           "<enclosure url=\"https://example.com/b.jpg\" "
                           "length=\"0\" type=\"application/octet-stream\"/>"));
    /* The full text beside the summary, only when there are both; no
     * source for a feed that is not on the web; no link that is not. */
    assert_non_null(strstr(out.data, "<content:encoded>"));
    assert_null(strstr(strstr(out.data, "fedcba9876543210"), "<source"));
    assert_null(strstr(out.data, "urn:uuid"));

    read_back(&out, FEED_FORMAT_RSS20, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.titles[0], "Tom & Jerry <3");
    assert_string_equal(s.links[0], "https://example.com/a?x=1&y=2");
    assert_string_equal(s.guids[0], "urn:feedd:0123456789abcdef");
    assert_string_equal(s.guids[1], "urn:feedd:fedcba9876543210");
    assert_string_equal(s.authors[0], "Ann <ann>");
    assert_string_equal(s.summaries[0], "<p>short</p>");
    assert_int_equal(s.enclosures[0], 2);
    assert_int_equal(s.categories[0], 2);
    assert_true(s.published[0] == 1715948040);
    /* An item with no date of its own is dated when it was stored. */
    assert_true(s.published[1] == 1715950000);
    feed_buf_free(&out);
}

/* RFC 5005: an archive document's marker and links, and a subscription
 * document's link to its newest archive; both still read back. */
static void
test_archive_links(void **state)
{
    struct feed_item items[2];
    struct feed_meta meta = {"River",
                             "http://h/archive/3.atom",
                             "urn:a3",
                             1715948040,
                             "http://h/",
                             "http://h/feed.atom",
                             "http://h/archive/2.atom?a&b",
                             "http://h/archive/4.atom",
                             1,
                             NULL,
                             NULL,
                             0};
    struct feed_buf out;
    struct seen s;

    (void)state;
    two_items(items);
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_atom(&out, &meta, items, 2), 0);
    assert_non_null(strstr(
        out.data, "<feed xmlns=\"http://www.w3.org/2005/Atom\" "
                  "xmlns:fh=\"http://purl.org/syndication/history/1.0\">"));
    assert_non_null(strstr(out.data, "  <fh:archive/>\n"));
    assert_non_null(strstr(
        out.data, "<link rel=\"current\" href=\"http://h/feed.atom\"/>"));
    assert_non_null(strstr(out.data,
                           "<link rel=\"prev-archive\" "
                           "href=\"http://h/archive/2.atom?a&amp;b\"/>"));
    assert_non_null(strstr(out.data, "<link rel=\"next-archive\" "
                                     "href=\"http://h/archive/4.atom\"/>"));
    read_back(&out, FEED_FORMAT_ATOM10, &s);
    assert_int_equal(s.n, 2);
    feed_buf_free(&out);

    feed_buf_init(&out, 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(feed_write_rss(&out, &meta, items, 2), 0);
    assert_non_null(strstr(
        out.data, "xmlns:fh=\"http://purl.org/syndication/history/1.0\">"));
    assert_non_null(strstr(out.data, "    <fh:archive/>\n"));
    assert_non_null(strstr(out.data,
                           "<atom:link rel=\"prev-archive\" "
                           "type=\"application/rss+xml\" "
                           "href=\"http://h/archive/2.atom?a&amp;b\""));
    read_back(&out, FEED_FORMAT_RSS20, &s);
    assert_int_equal(s.n, 2);
    feed_buf_free(&out);

    /* JSON Feed pages with next_url. */
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_json(&out, &meta, items, 2), 0);
    assert_int_equal(feed_buf_append(&out, "", 0), 0);
    assert_non_null(
        strstr(out.data, ",\"next_url\":\"http://h/archive/2.atom?a&b\""));
    feed_buf_free(&out);

    /* A subscription document: its prev-archive only, no marker. */
    meta.archive = 0;
    meta.current_url = meta.next_archive = NULL;
    feed_buf_init(&out, 0);
    memset(&s, 0, sizeof(s));
    assert_int_equal(feed_write_atom(&out, &meta, items, 2), 0);
    assert_null(strstr(out.data, "fh:"));
    assert_null(strstr(out.data, "current"));
    assert_null(strstr(out.data, "next-archive"));
    assert_non_null(strstr(out.data, "rel=\"prev-archive\""));
    read_back(&out, FEED_FORMAT_ATOM10, &s);
    assert_int_equal(s.n, 2);
    feed_buf_free(&out);
}

static void
test_json_feed(void **state)
{
    struct feed_item items[2];
    struct feed_meta meta = {"River",
                             "http://h:8080/feed.json",
                             "http://h:8080/feed.atom",
                             1715948040,
                             "http://h:8080/",
                             NULL,
                             NULL,
                             NULL,
                             0,
                             NULL,
                             NULL,
                             0};
    struct feed_buf out;
    json_error_t err;
    json_t *doc, *it, *x;
    struct seen s;

    (void)state;
    two_items(items);
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_json(&out, &meta, items, 2), 0);
    doc = json_loadb(out.data, out.len, 0, &err);
    assert_non_null(doc);
    assert_string_equal(json_string_value(json_object_get(doc, "version")),
                        "https://jsonfeed.org/version/1.1");
    assert_string_equal(json_string_value(json_object_get(doc, "feed_url")),
                        "http://h:8080/feed.json");
    assert_string_equal(
        json_string_value(json_object_get(doc, "home_page_url")),
        "http://h:8080/");
    assert_int_equal(json_array_size(json_object_get(doc, "items")), 2);
    it = json_array_get(json_object_get(doc, "items"), 0);
    assert_string_equal(json_string_value(json_object_get(it, "id")),
                        "urn:feedd:0123456789abcdef");
    assert_string_equal(json_string_value(json_object_get(it, "content_html")),
                        "<p>long & \"quoted\"</p>");
    assert_string_equal(
        json_string_value(json_object_get(it, "date_published")),
        "2024-05-17T12:14:00Z");
    /* The edit feedd stored moves date_modified on. */
    assert_string_equal(json_string_value(json_object_get(it, "date_modified")),
                        "2024-05-17T15:33:20Z");
    x = json_array_get(json_object_get(it, "authors"), 0);
    assert_string_equal(json_string_value(json_object_get(x, "name")),
                        "Ann <ann>");
    assert_int_equal(json_array_size(json_object_get(it, "tags")), 2);
    x = json_array_get(json_object_get(it, "attachments"), 1);
    assert_string_equal(json_string_value(json_object_get(x, "mime_type")),
                        "application/octet-stream");
    assert_null(json_object_get(x, "size_in_bytes"));
    x = json_object_get(it, "_feedd");
    assert_int_equal(json_array_size(json_object_get(x, "feeds")), 2);
    assert_string_equal(json_string_value(json_object_get(x, "feed_title")),
                        "Source \"S\"");
    /* The bare item: content_html is required; no url that is not a web
     * address. */
    it = json_array_get(json_object_get(doc, "items"), 1);
    assert_string_equal(json_string_value(json_object_get(it, "content_html")),
                        "");
    assert_null(json_object_get(it, "url"));
    json_decref(doc);

    read_back(&out, FEED_FORMAT_JSON11, &s);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.titles[0], "Tom & Jerry <3");
    assert_string_equal(s.links[0], "https://example.com/a?x=1&y=2");
    assert_string_equal(s.guids[0], "urn:feedd:0123456789abcdef");
    feed_buf_free(&out);

    /* No items is still a whole document. */
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_json(&out, &meta, items, 0), 0);
    doc = json_loadb(out.data, out.len, 0, &err);
    assert_non_null(doc);
    assert_int_equal(json_array_size(json_object_get(doc, "items")), 0);
    json_decref(doc);
    feed_buf_free(&out);
}

/* Counts elements named tag under n, and fails on any script or event
 * handler. */
static size_t
html_count(const GumboNode *n, GumboTag tag)
{
    const GumboVector *kids;
    size_t c = 0;
    unsigned i;

    if (n->type != GUMBO_NODE_ELEMENT && n->type != GUMBO_NODE_DOCUMENT)
        return 0;
    kids = n->type == GUMBO_NODE_DOCUMENT ? &n->v.document.children
                                          : &n->v.element.children;
    if (n->type == GUMBO_NODE_ELEMENT) {
        assert_int_not_equal(n->v.element.tag, GUMBO_TAG_SCRIPT);
        assert_int_not_equal(n->v.element.tag, GUMBO_TAG_IFRAME);
        for (i = 0; i < n->v.element.attributes.length; i++) {
            const GumboAttribute *a = n->v.element.attributes.data[i];

            assert_false(strncasecmp(a->name, "on", 2) == 0);
            assert_null(strstr(a->value, "javascript:"));
        }
        c += n->v.element.tag == tag;
    }
    for (i = 0; i < kids->length; i++)
        c += html_count(kids->data[i], tag);
    return c;
}

/* A tag's page links to its own documents, and to the feed list above. */
static void
test_html_stem(void **state)
{
    struct feed_meta meta = {"T",
                             NULL,
                             NULL,
                             0,
                             NULL,
                             NULL,
                             NULL,
                             NULL,
                             0,
                             "a.b-c<",
                             "../feeds.opml",
                             0};
    struct feed_buf out;

    (void)state;
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_html(&out, &meta, NULL, 0), 0);
    assert_int_equal(feed_buf_append(&out, "", 0), 0);
    assert_non_null(strstr(out.data, "type=\"application/rss+xml\" "
                                     "href=\"a.b-c&lt;.rss\">"));
    assert_non_null(strstr(out.data, "<a href=\"a.b-c&lt;.json\">JSON Feed"));
    assert_non_null(strstr(out.data, "<a href=\"../feeds.opml\">"));
    assert_null(strstr(out.data, "feed.atom"));
    feed_buf_free(&out);
}

static void
test_html(void **state)
{
    struct feed_item items[2];
    struct feed_meta meta = {"River <&>", NULL, NULL, 1715948040, NULL, NULL,
                             NULL,        NULL, 0,    NULL,       NULL, 0};
    struct feed_buf out;
    GumboOutput *doc;

    (void)state;
    two_items(items);
    items[0].entry.summary = "<p onclick=\"x()\">short</p>"
                             "<script>alert(1)</script>"
                             "<a href=\"javascript:alert(2)\">a</a>";
    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_html(&out, &meta, items, 2), 0);
    assert_int_equal(feed_buf_append(&out, "", 0), 0);
    assert_true(strncmp(out.data, "<!DOCTYPE html>", 15) == 0);
    assert_non_null(strstr(out.data, "<title>River &lt;&amp;&gt;</title>"));
    assert_non_null(strstr(out.data, "name=\"viewport\""));
    assert_non_null(strstr(out.data, "href=\"feed.rss\""));
    assert_non_null(strstr(out.data, "href=\"feed.json\""));
    assert_non_null(strstr(out.data, "href=\"feeds.opml\""));
    assert_non_null(strstr(out.data, "type=\"application/atom+xml\" "
                                     "href=\"feed.atom\">"));
    /* Title as a link, source, a readable time, the summary made safe. */
    assert_non_null(strstr(out.data,
                           "<h2><a href=\"https://example.com/a?x=1&amp;"
                           "y=2\">Tom &amp; Jerry &lt;3</a></h2>"));
    assert_non_null(strstr(out.data, "Source &quot;S&quot; · <time datetime="
                                     "\"2024-05-17T12:14:00Z\">2024-05-17 "
                                     "12:14 UTC</time>"));
    assert_non_null(strstr(out.data, "<p>short</p>"));
    /* An entry with no title nor web link. */
    assert_non_null(strstr(out.data, "<h2>(untitled)</h2>"));
    assert_null(strstr(out.data, "<script"));
    doc = gumbo_parse(out.data);
    assert_int_equal(html_count(doc->root, GUMBO_TAG_ARTICLE), 2);
    assert_int_equal(html_count(doc->root, GUMBO_TAG_STYLE), 1);
    gumbo_destroy_output(&kGumboDefaultOptions, doc);
    /* What the caller says it sanitized is taken as it is (here, what
     * the sanitizer would have changed: a class). */
    feed_buf_reset(&out);
    meta.sanitized = 1;
    items[0].entry.summary = "<p class=\"c\">as it is</p>";
    assert_int_equal(feed_write_html(&out, &meta, items, 2), 0);
    assert_int_equal(feed_buf_append(&out, "", 0), 0);
    assert_non_null(
        strstr(out.data, "<div class=\"summary\"><p class=\"c\">as it is</p>"));
    feed_buf_free(&out);
}

static void
test_item_date(void **state)
{
    struct feed_item it;

    (void)state;
    memset(&it, 0, sizeof(it));
    it.entry.published = 10;
    it.entry.updated = 20;
    it.stored = 30;
    assert_true(feed_item_date(&it) == 10);
    it.entry.published = FEED_TIME_NONE;
    assert_true(feed_item_date(&it) == 20);
    it.entry.updated = FEED_TIME_NONE;
    assert_true(feed_item_date(&it) == 30);
    /* A date far in the future (a wrong clock) does not pin the entry to
     * the top: when it was stored counts instead. */
    it.stored = 1715948040;
    it.entry.published = 1715948040 + 7 * 86400;
    assert_true(feed_item_date(&it) == 1715948040);
    it.entry.published = 1715948040 + 3600;
    assert_true(feed_item_date(&it) == 1715948040 + 3600);
}

/* ---- linear in the items ---- */

/* One item whose title and content are unit repeated to about n bytes
 * (ITEM_TEXT), or about n / 64 small items (ITEMS); written as Atom, and
 * each copied. */
struct shape {
    int many;
    const char *unit;
    int (*write)(struct feed_buf *, const struct feed_meta *,
                 const struct feed_item *, size_t);
};

static void
run_shape(size_t n, void *arg)
{
    const struct shape *sh = arg;
    size_t lu = strlen(sh->unit), k = n / lu + 1;
    size_t nitems = sh->many ? n / 64 + 1 : 1;
    struct feed_meta m = {"merged", "http://h/feed",
                          "urn:x",  0,
                          NULL,     NULL,
                          NULL,     NULL,
                          0,        NULL,
                          NULL,     0};
    struct feed_item *items = calloc(nitems, sizeof(*items));
    const char *cats[] = {"a&b", "<c>"};
    struct feed_enclosure enc = {"http://h/a.mp3", "audio/mpeg", 1};
    struct feed_buf text, out;

    assert_non_null(items);
    feed_buf_init(&text, 0);
    feed_buf_init(&out, 0);
    for (size_t i = 0; i < (sh->many ? 1 : k); i++)
        assert_int_equal(feed_buf_append(&text, sh->unit, lu), 0);
    for (size_t i = 0; i < nitems; i++) {
        struct feed_item *it = &items[i], *c;
        struct feed_entry *e = &it->entry;

        memcpy(it->id, "0123456789abcdef", FEED_ID_LEN + 1);
        e->title = e->content = text.data;
        e->link = "http://h/a?b=1&c=2";
        e->published = e->updated = 1715948040;
        e->enclosures = &enc;
        e->nenclosures = 1;
        e->categories = cats;
        e->ncategories = 2;
        it->feed = "f";
        it->feed_url = "http://h/rss";
        it->also = cats;
        it->nalso = 2;
        it->stored = it->changed = 1715948040;
        assert_non_null(c = feed_item_copy(it));
        free(c);
    }
    assert_int_equal(sh->write(&out, &m, items, nitems), 0);
    feed_buf_free(&text);
    feed_buf_free(&out);
    free(items);
}

static void
test_linear(void **state)
{
    static const char *const units[] = {"&", "<a>", "\xff", "\x01", "a"};
    static const struct {
        const char *name;
        int (*write)(struct feed_buf *, const struct feed_meta *,
                     const struct feed_item *, size_t);
    } writers[] = {{"atom", feed_write_atom},
                   {"rss", feed_write_rss},
                   {"json", feed_write_json},
                   {"html", feed_write_html}};

    (void)state;
    for (size_t w = 0; w < sizeof(writers) / sizeof(writers[0]); w++)
        for (size_t i = 0; i <= sizeof(units) / sizeof(units[0]); i++) {
            int many = i == sizeof(units) / sizeof(units[0]);
            struct shape sh = {many, many ? "t&" : units[i], writers[w].write};
            char name[32];

            snprintf(name, sizeof(name), "%s %s %02x", writers[w].name,
                     sh.many ? "items" : "text", (unsigned char)sh.unit[0]);
            assert_linear(name, run_shape, &sh, LINEAR_N0, 1u << 18);
        }
}

/* What the W3C validator refuses: an Atom entry with neither content nor
 * an alternate link (RFC 4287 §4.1.1), and a URL holding what an IRI may
 * not (a space), in any of the four outputs. */
static void
test_validator_rules(void **state)
{
    struct feed_enclosure enc = {"https://example.com/a b.mp3 mp3",
                                 "audio/mpeg", 1};
    struct feed_meta meta = {.title = "River",
                             .self_url = "http://127.0.0.1:8080/feed.atom",
                             .id = "http://127.0.0.1:8080/feed.atom",
                             .updated = 1715948040};
    typedef int writer(struct feed_buf *, const struct feed_meta *,
                       const struct feed_item *, size_t);
    writer *writers[] = {feed_write_atom, feed_write_rss, feed_write_json,
                         feed_write_html};
    struct feed_item items[2];
    struct feed_buf out;

    (void)state;
    memset(items, 0, sizeof(items));
    strcpy(items[0].id, "0123456789abcdef");
    items[0].entry.title = "no link";
    items[0].entry.summary = "<p>only a summary</p>";
    items[0].entry.published = items[0].entry.updated = FEED_TIME_NONE;
    items[0].feed = "src";
    items[0].feed_url = "https://example.com/my feed.xml";
    strcpy(items[1].id, "fedcba9876543210");
    items[1].entry.link = "https://example.com/insert value here";
    items[1].entry.enclosures = &enc;
    items[1].entry.nenclosures = 1;
    items[1].entry.published = items[1].entry.updated = FEED_TIME_NONE;
    items[1].feed = "src";

    feed_buf_init(&out, 0);
    assert_int_equal(feed_write_atom(&out, &meta, items, 1), 0);
    assert_non_null(strstr(out.data, "<content type=\"html\">&lt;p&gt;only a "
                                     "summary&lt;/p&gt;</content>"));
    assert_null(strstr(out.data, "<summary"));
    assert_non_null(strstr(out.data, "<id>https://example.com/my%20feed.xml"));
    feed_buf_reset(&out);
    items[0].entry.summary = NULL;
    assert_int_equal(feed_write_atom(&out, &meta, items, 1), 0);
    assert_non_null(strstr(out.data, "<content type=\"html\"></content>"));
    for (size_t w = 0; w < sizeof(writers) / sizeof(writers[0]); w++) {
        feed_buf_reset(&out);
        assert_int_equal(writers[w](&out, &meta, items, 2), 0);
        assert_non_null(strstr(out.data, "insert%20value%20here"));
        assert_null(strstr(out.data, "insert value"));
        if (w != 3) {
            assert_non_null(strstr(out.data, "a%20b.mp3%20mp3"));
            assert_null(strstr(out.data, "b.mp3 mp3"));
        }
    }
    feed_buf_free(&out);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_atom_round_trip),
        cmocka_unit_test(test_atom_lists),
        cmocka_unit_test(test_rss),
        cmocka_unit_test(test_archive_links),
        cmocka_unit_test(test_json_feed),
        cmocka_unit_test(test_html),
        cmocka_unit_test(test_html_stem),
        cmocka_unit_test(test_item_date),
        cmocka_unit_test(test_validator_rules),
        cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
