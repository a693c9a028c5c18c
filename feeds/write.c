/* feeds/write.c - the merged Atom feed, and what every writer shares
 * (write_int.h). */
#include <strings.h>

#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/item.h"
#include "feeds/write.h"
#include "write_int.h"

int64_t
feed_item_date(const struct feed_item *it)
{
    int64_t t = it->entry.published != FEED_TIME_NONE ? it->entry.published
                : it->entry.updated != FEED_TIME_NONE ? it->entry.updated
                                                      : it->stored;

    /* A date more than a day past when feedd first saw the entry is a
     * wrong clock or a wrong zone: it would pin the entry to the top of
     * the river for as long as it lasts. */
    if (it->stored != FEED_TIME_NONE && it->stored > 0 &&
        t > it->stored + 86400)
        t = it->stored;
    return t;
}

int
feed_xml_elem(struct feed_buf *out, const char *indent, const char *name,
              const char *attrs, const char *text)
{
    int rc;

    if (text == NULL)
        return 0;
    if ((rc = feed_buf_printf(out, "%s<%s%s>", indent, name, attrs)) != 0 ||
        (rc = feed_buf_xml(out, text)) != 0)
        return rc;
    return feed_buf_printf(out, "</%s>\n", name);
}

int
feed_xml_iri(struct feed_buf *out, const char *indent, const char *name,
             const char *url)
{
    int rc;

    if (url == NULL)
        return 0;
    if ((rc = feed_buf_printf(out, "%s<%s>", indent, name)) != 0 ||
        (rc = feed_buf_iri(out, url, 1)) != 0)
        return rc;
    return feed_buf_printf(out, "</%s>\n", name);
}

int
feed_xml_date(struct feed_buf *out, const char *indent, const char *name,
              int64_t t)
{
    char date[FEED_DATE_LEN + 1];

    if (t == FEED_TIME_NONE)
        return 0;
    return feed_buf_printf(out, "%s<%s>%s</%s>\n", indent, name,
                           feed_date_format(t, date), name);
}

int
feed_xml_link(struct feed_buf *out, const char *indent, const char *rel,
              const char *href)
{
    int rc;

    if (href == NULL)
        return 0;
    if ((rc = feed_buf_printf(out, "%s<link rel=\"%s\" href=\"", indent,
                              rel)) != 0 ||
        (rc = feed_buf_iri(out, href, 1)) != 0)
        return rc;
    return feed_buf_puts(out, "\"/>\n");
}

/* indent<name rel="rel"[ type="type"] href="href"/>; nothing when href
 * is NULL. */
static int
history_link(struct feed_buf *out, const char *indent, const char *name,
             const char *type, const char *rel, const char *href)
{
    int rc;

    if (href == NULL)
        return 0;
    if ((rc = feed_buf_printf(out, "%s<%s rel=\"%s\"", indent, name, rel)) !=
            0 ||
        (type != NULL &&
         (rc = feed_buf_printf(out, " type=\"%s\"", type)) != 0) ||
        (rc = feed_buf_puts(out, " href=\"")) != 0 ||
        (rc = feed_buf_xml(out, href)) != 0)
        return rc;
    return feed_buf_puts(out, "\"/>\n");
}

int
feed_xml_history(struct feed_buf *out, const char *indent, const char *name,
                 const char *type, const struct feed_meta *m)
{
    int rc;

    if ((rc = history_link(out, indent, name, type, "current",
                           m->current_url)) != 0 ||
        (rc = history_link(out, indent, name, type, "prev-archive",
                           m->prev_archive)) != 0 ||
        (rc = history_link(out, indent, name, type, "next-archive",
                           m->next_archive)) != 0)
        return rc;
    return m->archive ? feed_buf_printf(out, "%s<fh:archive/>\n", indent) : 0;
}

int
feed_web_url(const char *s)
{
    return s && (strncasecmp(s, "http://", 7) == 0 ||
                 strncasecmp(s, "https://", 8) == 0);
}

/* RFC 4287 §4.2.7: enclosures as rel="enclosure" links; §4.2.2:
 * categories as terms. */
static int
atom_lists(struct feed_buf *out, const struct feed_entry *e)
{
    size_t i;
    int rc;

    for (i = 0; i < e->nenclosures; i++) {
        const struct feed_enclosure *x = &e->enclosures[i];

        if (!feed_web_url(x->url))
            continue;
        if ((rc = feed_buf_puts(out, "    <link rel=\"enclosure\" href=\"")) ||
            (rc = feed_buf_iri(out, x->url, 1)) != 0)
            return rc;
        if (x->type && ((rc = feed_buf_puts(out, "\" type=\"")) != 0 ||
                        (rc = feed_buf_xml(out, x->type)) != 0))
            return rc;
        if (x->length >= 0 && (rc = feed_buf_printf(out, "\" length=\"%lld",
                                                    (long long)x->length)) != 0)
            return rc;
        if ((rc = feed_buf_puts(out, "\"/>\n")) != 0)
            return rc;
    }
    for (i = 0; i < e->ncategories; i++)
        if ((rc = feed_buf_puts(out, "    <category term=\"")) != 0 ||
            (rc = feed_buf_xml(out, e->categories[i])) != 0 ||
            (rc = feed_buf_puts(out, "\"/>\n")) != 0)
            return rc;
    return 0;
}

int64_t
feed_item_updated(const struct feed_item *it)
{
    int64_t updated = it->entry.updated != FEED_TIME_NONE ? it->entry.updated
                                                          : feed_item_date(it);

    /* An edit feedd noticed (the publisher left its own date alone)
     * still moves it, so readers show the new version. */
    if (it->changed != FEED_TIME_NONE && it->changed > updated)
        updated = it->changed;
    return updated;
}

static int
atom_entry(struct feed_buf *out, const struct feed_item *it)
{
    const struct feed_entry *e = &it->entry;
    const char *link = feed_web_url(e->link) ? e->link : NULL;
    const char *summary = e->summary, *content = e->content;
    int64_t updated = feed_item_updated(it);
    size_t i;
    int rc;

    if ((rc = feed_buf_printf(out, "  <entry>\n    <id>urn:feedd:%s</id>\n",
                              it->id)) != 0 ||
        (rc = feed_xml_elem(out, "    ", "title", " type=\"text\"",
                            e->title ? e->title : "")) != 0 ||
        (rc = feed_xml_link(out, "    ", "alternate", link)) != 0 ||
        (rc = feed_xml_date(out, "    ", "published", e->published)) != 0 ||
        (rc = feed_xml_date(out, "    ", "updated", updated)) != 0)
        return rc;
    if (e->author &&
        ((rc = feed_buf_puts(out, "    <author>\n")) != 0 ||
         (rc = feed_xml_elem(out, "      ", "name", "", e->author)) != 0 ||
         (rc = feed_buf_puts(out, "    </author>\n")) != 0))
        return rc;
    /* RFC 4287 §4.1.1: an entry with no alternate link has content; the
     * summary is then its content, or it is empty. */
    if (content == NULL && link == NULL) {
        content = summary ? summary : "";
        summary = NULL;
    }
    if ((rc = feed_xml_elem(out, "    ", "summary", " type=\"html\"",
                            summary)) != 0 ||
        (rc = feed_xml_elem(out, "    ", "content", " type=\"html\"",
                            content)) != 0 ||
        (rc = atom_lists(out, e)) != 0)
        return rc;
    /* Every feed that carried it, as categories of feedd's own scheme. */
    for (i = 0; i <= it->nalso; i++) {
        const char *name = i == 0 ? it->feed : it->also[i - 1];

        if (name == NULL)
            continue;
        if ((rc = feed_buf_puts(out, "    <category scheme=\"urn:feedd:feed\" "
                                     "term=\"")) != 0 ||
            (rc = feed_buf_xml(out, name)) != 0 ||
            (rc = feed_buf_puts(out, "\"/>\n")) != 0)
            return rc;
    }
    /* RFC 4287 §4.2.11: where the entry came from. */
    if ((rc = feed_buf_puts(out, "    <source>\n")) != 0 ||
        (rc = feed_xml_iri(out, "      ", "id", it->feed_url)) != 0 ||
        (rc = feed_xml_elem(out, "      ", "title", "",
                            it->feed_title ? it->feed_title : it->feed)) != 0 ||
        (rc = feed_xml_link(out, "      ", "self", it->feed_url)) != 0 ||
        (rc = feed_buf_puts(out, "    </source>\n")) != 0)
        return rc;
    return feed_buf_puts(out, "  </entry>\n");
}

int
feed_write_atom(struct feed_buf *out, const struct feed_meta *m,
                const struct feed_item *items, size_t n)
{
    size_t i;
    int rc;

    if ((rc =
             feed_buf_printf(out,
                             "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n"
                             "<feed xmlns=\"http://www.w3.org/2005/Atom\"%s>\n",
                             m->archive ? FEED_FH_XMLNS : "")) ||
        (rc = feed_xml_elem(out, "  ", "title", "",
                            m->title ? m->title : "feedd")) ||
        (rc = feed_xml_elem(out, "  ", "id", "", m->id)) != 0 ||
        (rc = feed_xml_date(out, "  ", "updated", m->updated)) != 0 ||
        (rc = feed_xml_link(out, "  ", "self", m->self_url)) != 0 ||
        (rc = feed_xml_history(out, "  ", "link", NULL, m)) != 0 ||
        (rc = feed_buf_puts(out, "  <author><name>feedd</name></author>\n"
                                 "  <generator version=\"" FEEDD_VERSION
                                 "\">feedd</generator>\n")) != 0)
        return rc;
    for (i = 0; i < n; i++)
        if ((rc = atom_entry(out, &items[i])) != 0)
            return rc;
    return feed_buf_puts(out, "</feed>\n");
}
