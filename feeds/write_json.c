/* feeds/write_json.c - the merged feed as JSON Feed 1.1
 * (https://jsonfeed.org/version/1.1). feedd's own members are under
 * "_feedd", as the specification asks of extensions. */
#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/item.h"
#include "feeds/write.h"
#include "write_int.h"

/* ,"name":"value" (escaped); nothing when value is NULL. */
static int
json_member(struct feed_buf *out, const char *name, const char *value)
{
    int rc;

    if (value == NULL)
        return 0;
    if ((rc = feed_buf_printf(out, ",\"%s\":", name)) != 0)
        return rc;
    return feed_buf_json(out, value);
}

/* ,"name":"URL", as an IRI (feed_buf_iri()); nothing when url is NULL. */
static int
json_url(struct feed_buf *out, const char *name, const char *url)
{
    int rc;

    if (url == NULL)
        return 0;
    if ((rc = feed_buf_printf(out, ",\"%s\":\"", name)) != 0 ||
        (rc = feed_buf_iri(out, url, 0)) != 0)
        return rc;
    return feed_buf_puts(out, "\"");
}

/* ,"name":"RFC 3339 date"; nothing for FEED_TIME_NONE. */
static int
json_date(struct feed_buf *out, const char *name, int64_t t)
{
    char date[FEED_DATE_LEN + 1];

    if (t == FEED_TIME_NONE)
        return 0;
    return feed_buf_printf(out, ",\"%s\":\"%s\"", name,
                           feed_date_format(t, date));
}

/* Tags and attachments (mime_type is required: application/octet-stream
 * when the feed gave none). */
static int
json_lists(struct feed_buf *out, const struct feed_entry *e)
{
    size_t i, n = 0;
    int rc;

    for (i = 0; i < e->ncategories; i++)
        if ((rc = feed_buf_puts(out, i ? "," : ",\"tags\":[")) != 0 ||
            (rc = feed_buf_json(out, e->categories[i])) != 0)
            return rc;
    if (e->ncategories && (rc = feed_buf_puts(out, "]")) != 0)
        return rc;
    for (i = 0; i < e->nenclosures; i++) {
        const struct feed_enclosure *x = &e->enclosures[i];

        if (!feed_web_url(x->url))
            continue;
        if ((rc = feed_buf_puts(out, n++ ? ",{" : ",\"attachments\":[{")) !=
                0 ||
            (rc = feed_buf_puts(out, "\"url\":\"")) != 0 ||
            (rc = feed_buf_iri(out, x->url, 0)) != 0 ||
            (rc = feed_buf_puts(out, "\"")) != 0 ||
            (rc = json_member(out, "mime_type",
                              x->type ? x->type
                                      : "application/octet-stream")) != 0 ||
            (x->length > 0 &&
             (rc = feed_buf_printf(out, ",\"size_in_bytes\":%lld",
                                   (long long)x->length)) != 0) ||
            (rc = feed_buf_puts(out, "}")) != 0)
            return rc;
    }
    return n ? feed_buf_puts(out, "]") : 0;
}

/* "_feedd": the feed that carried it first (name, title, URL) and every
 * feed that carried it. */
static int
json_source(struct feed_buf *out, const struct feed_item *it)
{
    size_t i;
    int rc;

    if ((rc = feed_buf_puts(out, ",\"_feedd\":{\"feed\":")) != 0 ||
        (rc = feed_buf_json(out, it->feed)) != 0 ||
        (rc = json_member(out, "feed_title", it->feed_title)) != 0 ||
        (rc = json_member(out, "feed_url", it->feed_url)) != 0 ||
        (rc = feed_buf_puts(out, ",\"feeds\":[")) != 0)
        return rc;
    for (i = 0; i <= it->nalso; i++) {
        const char *name = i == 0 ? it->feed : it->also[i - 1];

        if ((i && (rc = feed_buf_puts(out, ",")) != 0) ||
            (rc = feed_buf_json(out, name)) != 0)
            return rc;
    }
    return feed_buf_puts(out, "]}");
}

static int
json_item(struct feed_buf *out, const struct feed_item *it, int first)
{
    const struct feed_entry *e = &it->entry;
    const char *html = e->content ? e->content : e->summary;
    int rc;

    if ((rc = feed_buf_printf(out, "%s\n    {\"id\":\"urn:feedd:%s\"",
                              first ? "" : ",", it->id)) != 0 ||
        (rc = json_url(out, "url", feed_web_url(e->link) ? e->link : NULL)) !=
            0 ||
        (rc = json_member(out, "title", e->title)) != 0 ||
        (rc = json_member(out, "content_html", html ? html : "")) != 0 ||
        (rc = json_url(out, "image",
                       feed_web_url(e->image) ? e->image : NULL)) != 0 ||
        (rc = json_date(out, "date_published", feed_item_date(it))) != 0 ||
        (rc = json_date(out, "date_modified", feed_item_updated(it))) != 0)
        return rc;
    if (e->author &&
        ((rc = feed_buf_puts(out, ",\"authors\":[{\"name\":")) != 0 ||
         (rc = feed_buf_json(out, e->author)) != 0 ||
         (rc = feed_buf_puts(out, "}]")) != 0))
        return rc;
    if ((rc = json_lists(out, e)) != 0 || (rc = json_source(out, it)) != 0)
        return rc;
    return feed_buf_puts(out, "}");
}

int
feed_write_json(struct feed_buf *out, const struct feed_meta *m,
                const struct feed_item *items, size_t n)
{
    size_t i;
    int rc;

    if ((rc = feed_buf_puts(out, "{\"version\":"
                                 "\"https://jsonfeed.org/version/1.1\"")) !=
            0 ||
        (rc = json_member(out, "title", m->title ? m->title : "feedd")) != 0 ||
        (rc = json_url(out, "home_page_url", m->home_url)) != 0 ||
        (rc = json_url(out, "feed_url", m->self_url)) != 0 ||
        (rc = json_url(out, "next_url", m->prev_archive)) != 0 ||
        (rc = feed_buf_puts(out, ",\"items\":[")) != 0)
        return rc;
    for (i = 0; i < n; i++)
        if ((rc = json_item(out, &items[i], i == 0)) != 0)
            return rc;
    return feed_buf_puts(out, n ? "\n]}\n" : "]}\n");
}
