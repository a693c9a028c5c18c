/* feeds/write_html.c - the merged feed as a page to read: a river,
 * newest first, each entry's title (a link to it), the feed it came from,
 * its time and its summary. One HTML5 document with its own small style
 * sheet: no script, no web fonts, nothing fetched but the entries' own
 * images; readable on a phone and in dark mode. Its links to the other
 * outputs are relative, so the page works from the server and from disk.
 * Each summary goes through feed_sanitize_html() here unless the caller
 * says it did (feed_meta.sanitized): the page is the one output a
 * browser runs as it is. */
#include <string.h>

#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/item.h"
#include "feeds/sanitize.h"
#include "feeds/write.h"
#include "write_int.h"

static const char style[] =
    ":root{color-scheme:light dark;--fg:#1d1d1f;--bg:#fdfdfc;--dim:#6b6b70;"
    "--line:#e3e3e0;--link:#1a5fb4}"
    "@media (prefers-color-scheme:dark){:root{--fg:#e8e8e6;--bg:#151517;"
    "--dim:#9a9aa0;--line:#2c2c30;--link:#78aeed}}"
    "body{margin:0;background:var(--bg);color:var(--fg);"
    "font:17px/1.55 system-ui,-apple-system,'Segoe UI',sans-serif}"
    "header,main,footer{max-width:42rem;margin:0 auto;padding:0 1rem}"
    "header{padding-top:1.5rem;border-bottom:1px solid var(--line)}"
    "h1{font-size:1.6rem;margin:0 0 .3rem}"
    "nav,.meta,footer{color:var(--dim);font-size:.85rem}"
    "nav{margin-bottom:1rem}nav a{margin-right:.8rem}"
    "a{color:var(--link);text-decoration:none}a:hover{text-decoration:"
    "underline}"
    "article{padding:1.2rem 0;border-bottom:1px solid var(--line)}"
    "article h2{font-size:1.15rem;margin:0 0 .2rem;line-height:1.3}"
    ".meta{margin:0 0 .5rem}"
    ".summary{overflow-wrap:anywhere}"
    ".summary>:first-child{margin-top:0}.summary>:last-child{margin-bottom:0}"
    ".summary img,.summary video{max-width:100%;height:auto}"
    ".summary pre{overflow-x:auto}"
    ".summary table{display:block;overflow-x:auto}"
    "footer{padding:1.5rem 1rem 2rem}";

/* "2024-05-17 12:14 UTC" from an RFC 3339 date. */
static int
human_date(struct feed_buf *out, int64_t t)
{
    char date[FEED_DATE_LEN + 1];
    int rc;

    feed_date_format(t, date);
    if ((rc = feed_buf_printf(out, "<time datetime=\"%s\">", date)) != 0)
        return rc;
    date[10] = ' ';
    date[16] = '\0';
    return feed_buf_printf(out, "%s UTC</time>", date);
}

static int
html_entry(struct feed_buf *out, const struct feed_item *it, int sanitized)
{
    const struct feed_entry *e = &it->entry;
    const char *title = e->title && *e->title ? e->title : "(untitled)";
    const char *html = e->summary ? e->summary : e->content;
    const char *source = it->feed_title ? it->feed_title : it->feed;
    int rc;

    if ((rc = feed_buf_puts(out, "<article>\n<h2>")) != 0)
        return rc;
    if (feed_web_url(e->link)) {
        if ((rc = feed_buf_puts(out, "<a href=\"")) != 0 ||
            (rc = feed_buf_iri(out, e->link, 1)) != 0 ||
            (rc = feed_buf_puts(out, "\">")) != 0 ||
            (rc = feed_buf_xml(out, title)) != 0 ||
            (rc = feed_buf_puts(out, "</a>")) != 0)
            return rc;
    } else if ((rc = feed_buf_xml(out, title)) != 0) {
        return rc;
    }
    if ((rc = feed_buf_puts(out, "</h2>\n<p class=\"meta\">")) != 0)
        return rc;
    if (source && ((rc = feed_buf_xml(out, source)) != 0 ||
                   (rc = feed_buf_puts(out, " · ")) != 0))
        return rc;
    if ((rc = human_date(out, feed_item_date(it))) != 0 ||
        (rc = feed_buf_puts(out, "</p>\n")) != 0)
        return rc;
    if (html && *html &&
        ((rc = feed_buf_puts(out, "<div class=\"summary\">")) != 0 ||
         (rc = sanitized ? feed_buf_puts(out, html)
                         : feed_sanitize_html(out, html, strlen(html))) != 0 ||
         (rc = feed_buf_puts(out, "</div>\n")) != 0))
        return rc;
    return feed_buf_puts(out, "</article>\n");
}

/* The page's documents in other formats. */
static const struct {
    const char *ext, *type, *label;
} alt[] = {
    {"atom", "application/atom+xml", "Atom"},
    {"rss", "application/rss+xml", "RSS"},
    {"json", "application/feed+json", "JSON Feed"},
};

int
feed_write_html(struct feed_buf *out, const struct feed_meta *m,
                const struct feed_item *items, size_t n)
{
    const char *title = m->title ? m->title : "feedd";
    const char *stem = m->stem ? m->stem : "feed";
    size_t i;
    int rc;

    if ((rc = feed_buf_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n"
                                 "<head>\n<meta charset=\"utf-8\">\n"
                                 "<meta name=\"viewport\" content=\"width="
                                 "device-width, initial-scale=1\">\n"
                                 "<title>")) != 0 ||
        (rc = feed_buf_xml(out, title)) != 0 ||
        (rc = feed_buf_puts(out, "</title>\n")) != 0)
        return rc;
    for (i = 0; i < 3; i++)
        if ((rc = feed_buf_printf(out,
                                  "<link rel=\"alternate\" type=\"%s\" "
                                  "href=\"",
                                  alt[i].type)) != 0 ||
            (rc = feed_buf_xml(out, stem)) != 0 ||
            (rc = feed_buf_printf(out, ".%s\">\n", alt[i].ext)) != 0)
            return rc;
    if ((rc = feed_buf_puts(out,
                            "<meta name=\"referrer\" content=\"no-referrer\">\n"
                            "<style>")) != 0 ||
        (rc = feed_buf_puts(out, style)) != 0 ||
        (rc = feed_buf_puts(out, "</style>\n</head>\n<body>\n<header>\n"
                                 "<h1>")) != 0 ||
        (rc = feed_buf_xml(out, title)) != 0 ||
        (rc = feed_buf_puts(out, "</h1>\n<nav>")) != 0)
        return rc;
    if (m->updated != FEED_TIME_NONE &&
        ((rc = feed_buf_puts(out, "Updated ")) != 0 ||
         (rc = human_date(out, m->updated)) != 0 ||
         (rc = feed_buf_puts(out, " · ")) != 0))
        return rc;
    for (i = 0; i < 3; i++)
        if ((rc = feed_buf_puts(out, "<a href=\"")) != 0 ||
            (rc = feed_buf_xml(out, stem)) != 0 ||
            (rc = feed_buf_printf(out, ".%s\">%s</a>", alt[i].ext,
                                  alt[i].label)) != 0)
            return rc;
    if ((rc = feed_buf_puts(out, "<a href=\"")) != 0 ||
        (rc = feed_buf_xml(out, m->opml_url ? m->opml_url : "feeds.opml")) !=
            0 ||
        (rc = feed_buf_puts(out, "\">Feeds (OPML)</a>"
                                 "</nav>\n</header>\n<main>\n")) != 0)
        return rc;
    for (i = 0; i < n; i++)
        if ((rc = html_entry(out, &items[i], m->sanitized)) != 0)
            return rc;
    if (n == 0 && (rc = feed_buf_puts(out, "<p>Nothing yet.</p>\n")) != 0)
        return rc;
    return feed_buf_puts(out, "</main>\n<footer>feedd " FEEDD_VERSION
                              "</footer>\n</body>\n</html>\n");
}
