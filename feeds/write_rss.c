/* feeds/write_rss.c - the merged feed as RSS 2.0 (the RSS Advisory
 * Board's specification), with the Atom namespace for the self link and
 * Dublin Core for authors: RSS's own author element must be an e-mail
 * address, which a feed's author seldom is. */
#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/item.h"
#include "feeds/write.h"
#include "write_int.h"

/* indent<name>RFC 822 date</name> (RFC 1123's four-digit year, "GMT", as
 * the specification's own examples); nothing for FEED_TIME_NONE. */
static int
rss_date(struct feed_buf *out, const char *indent, const char *name, int64_t t)
{
    char date[FEED_HTTPDATE_LEN + 1];

    if (t == FEED_TIME_NONE)
        return 0;
    return feed_buf_printf(out, "%s<%s>%s</%s>\n", indent, name,
                           feed_date_format_http(t, date), name);
}

/* Enclosures (url, length and type are required: an unknown length is 0,
 * an unknown type application/octet-stream) and categories. */
static int
rss_lists(struct feed_buf *out, const struct feed_entry *e)
{
    size_t i;
    int rc;

    for (i = 0; i < e->nenclosures; i++) {
        const struct feed_enclosure *x = &e->enclosures[i];

        if (!feed_web_url(x->url))
            continue;
        if ((rc = feed_buf_puts(out, "      <enclosure url=\"")) != 0 ||
            (rc = feed_buf_iri(out, x->url, 1)) != 0 ||
            (rc = feed_buf_printf(
                 out, "\" length=\"%lld\" type=\"",
                 (long long)(x->length > 0 ? x->length : 0))) != 0 ||
            (rc = feed_buf_xml(
                 out, x->type ? x->type : "application/octet-stream")) != 0 ||
            (rc = feed_buf_puts(out, "\"/>\n")) != 0)
            return rc;
    }
    for (i = 0; i < e->ncategories; i++)
        if ((rc = feed_xml_elem(out, "      ", "category", "",
                                e->categories[i])) != 0)
            return rc;
    return 0;
}

static int
rss_item(struct feed_buf *out, const struct feed_item *it)
{
    const struct feed_entry *e = &it->entry;
    const char *description = e->summary ? e->summary : e->content;
    int rc;

    if ((rc = feed_buf_puts(out, "    <item>\n")) != 0 ||
        (rc = feed_xml_elem(out, "      ", "title", "", e->title)) != 0 ||
        (rc = feed_xml_iri(out, "      ", "link",
                           feed_web_url(e->link) ? e->link : NULL)) != 0 ||
        (rc = feed_buf_printf(out,
                              "      <guid isPermaLink=\"false\">urn:feedd:%s"
                              "</guid>\n",
                              it->id)) != 0 ||
        (rc = rss_date(out, "      ", "pubDate", feed_item_date(it))) != 0 ||
        (rc = feed_xml_elem(out, "      ", "dc:creator", "", e->author)) != 0)
        return rc;
    /* An item needs a title or a description. */
    if (e->title == NULL && description == NULL)
        description = "";
    if ((rc = feed_xml_elem(out, "      ", "description", "", description)) !=
            0 ||
        (e->summary && e->content &&
         (rc = feed_xml_elem(out, "      ", "content:encoded", "",
                             e->content)) != 0) ||
        (rc = rss_lists(out, e)) != 0)
        return rc;
    /* Where it came from: source's url must be the feed's own. */
    if (feed_web_url(it->feed_url) &&
        ((rc = feed_buf_puts(out, "      <source url=\"")) != 0 ||
         (rc = feed_buf_iri(out, it->feed_url, 1)) != 0 ||
         (rc = feed_buf_puts(out, "\">")) != 0 ||
         (rc = feed_buf_xml(out, it->feed_title ? it->feed_title
                                 : it->feed     ? it->feed
                                                : "")) != 0 ||
         (rc = feed_buf_puts(out, "</source>\n")) != 0))
        return rc;
    return feed_buf_puts(out, "    </item>\n");
}

int
feed_write_rss(struct feed_buf *out, const struct feed_meta *m,
               const struct feed_item *items, size_t n)
{
    const char *title = m->title ? m->title : "feedd";
    const char *home = m->home_url ? m->home_url : m->self_url;
    size_t i;
    int rc;

    if ((rc = feed_buf_printf(
             out,
             "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
             "<rss version=\"2.0\" "
             "xmlns:atom=\"http://www.w3.org/2005/Atom\" "
             "xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" "
             "xmlns:dc=\"http://purl.org/dc/elements/1.1/\"%s>\n"
             "  <channel>\n",
             m->archive ? FEED_FH_XMLNS : "")) != 0 ||
        (rc = feed_xml_elem(out, "    ", "title", "", title)) != 0 ||
        (rc = feed_xml_iri(out, "    ", "link", home)) != 0 ||
        (rc = feed_xml_elem(out, "    ", "description", "", title)) != 0)
        return rc;
    if (m->self_url &&
        ((rc = feed_buf_puts(out, "    <atom:link rel=\"self\" "
                                  "type=\"application/rss+xml\" href=\"")) !=
             0 ||
         (rc = feed_buf_iri(out, m->self_url, 1)) != 0 ||
         (rc = feed_buf_puts(out, "\"/>\n")) != 0))
        return rc;
    if ((rc = feed_xml_history(out, "    ", "atom:link", "application/rss+xml",
                               m)) != 0 ||
        (rc = rss_date(out, "    ", "lastBuildDate", m->updated)) != 0 ||
        (rc = feed_buf_puts(out, "    <generator>feedd " FEEDD_VERSION
                                 "</generator>\n")) != 0)
        return rc;
    for (i = 0; i < n; i++)
        if ((rc = rss_item(out, &items[i])) != 0)
            return rc;
    return feed_buf_puts(out, "  </channel>\n</rss>\n");
}
