/* feeds/jsonfeed.c - JSON Feed 1.0 and 1.1
 * (https://www.jsonfeed.org/version/1.1/), read with jansson once the
 * document is whole: JSON Feeds are small, and jansson does not stream.
 * Its entries go through the same fields as those of XML feeds. */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "parse_int.h"
#include "text.h"

static const char *
jstr(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The first author's name: "authors" (1.1) or "author" (1.0). */
static const char *
jauthor(const json_t *o)
{
    const json_t *a = json_object_get(o, "authors");

    if (json_is_array(a) && json_array_size(a) > 0)
        return jstr(json_array_get(a, 0), "name");
    return jstr(json_object_get(o, "author"), "name");
}

/* The URL of the first of "hubs" (JSON Feed 1.1) of type WebSub. */
static const char *
jhub(const json_t *o)
{
    const json_t *hubs = json_object_get(o, "hubs"), *h;
    const char *type;
    size_t i;

    json_array_foreach(hubs, i, h)
    {
        if ((type = jstr(h, "type")) != NULL && strcasecmp(type, "WebSub") == 0)
            return jstr(h, "url");
    }
    return NULL;
}

/* A feed-level URL into f, resolved (out of memory: the parser's
 * error). */
static void
feed_url_field(struct feed_parser *p, enum field f, const char *url)
{
    if (url != NULL && feed_fields_set(p, f, url, 0) == 0 &&
        feed_fields_absolutize(p, &p->f[f]) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
}

static void
json_item(struct feed_parser *p, const json_t *it)
{
    const json_t *v, *x;
    const char *str;
    char num[32];
    size_t i;

    feed_fields_reset(p);
    v = json_object_get(it, "id");
    if (json_is_string(v)) {
        (void)feed_fields_set(p, F_GUID, json_string_value(v), 0);
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        (void)feed_fields_set(p, F_GUID, num, 0);
    }
    if ((str = jstr(it, "url")) || (str = jstr(it, "external_url"))) {
        if (feed_fields_set(p, F_LINK, str, 0) == 0 &&
            feed_fields_absolutize(p, &p->f[F_LINK]) != 0)
            set_error(p, FEED_E_NOMEM, "out of memory");
    }
    if ((str = jstr(it, "title")))
        (void)feed_fields_set(p, F_TITLE, str, 0);
    if ((str = jstr(it, "content_html"))) {
        if (feed_fields_set(p, F_CONTENT, str, 0) == 0 &&
            feed_text_resolve_urls(&p->f[F_CONTENT], feed_fields_base(p),
                                   &p->ub, &p->tmp))
            set_error(p, FEED_E_NOMEM, "out of memory");
    } else if ((str = jstr(it, "content_text"))) {
        (void)feed_fields_set(p, F_CONTENT, str, 1);
    }
    if ((str = jstr(it, "summary")))
        (void)feed_fields_set(p, F_SUMMARY, str, 1);
    if ((str = jstr(it, "date_published")))
        (void)feed_fields_set(p, F_PUBLISHED, str, 0);
    if ((str = jstr(it, "date_modified")))
        (void)feed_fields_set(p, F_UPDATED, str, 0);
    if ((str = jauthor(it)))
        (void)feed_fields_set(p, F_AUTHOR, str, 0);
    feed_fields_image(p, jstr(it, "image"));
    v = json_object_get(it, "tags");
    json_array_foreach(v, i, x)
    {
        if (json_is_string(x))
            feed_fields_category(p, json_string_value(x),
                                 json_string_length(x));
    }
    v = json_object_get(it, "attachments");
    json_array_foreach(v, i, x)
    {
        const json_t *size = json_object_get(x, "size_in_bytes");

        num[0] = '\0';
        if (json_is_integer(size))
            snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                     json_integer_value(size));
        feed_fields_enclosure(p, jstr(x, "url"), jstr(x, "mime_type"),
                              num[0] ? num : NULL);
    }
    if (!p->error)
        feed_fields_emit(p);
}

int
feed_jsonfeed_parse(struct feed_parser *p)
{
    json_error_t jerr;
    json_t *root, *items, *it;
    const char *version, *str;
    size_t i;

    root = json_loadb(p->json.data, p->json.len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        snprintf(p->errmsg, sizeof(p->errmsg), "line %d, column %d: %s",
                 jerr.line, jerr.column, jerr.text);
        p->error = FEED_E_XML;
        return p->error;
    }
    version = jstr(root, "version");
    if (version == NULL ||
        (strncmp(version, "https://jsonfeed.org/version/", 29) != 0 &&
         strncmp(version, "http://jsonfeed.org/version/", 28) != 0)) {
        json_decref(root);
        set_error(p, FEED_E_NOTFEED,
                  "not a feed: JSON without a JSON Feed version");
        return p->error;
    }
    p->info.format =
        strstr(version, "/1.1") ? FEED_FORMAT_JSON11 : FEED_FORMAT_JSON10;
    if ((str = jstr(root, "title")))
        (void)feed_fields_set(p, F_FEED_TITLE, str, 0);
    if ((str = jstr(root, "home_page_url")) &&
        feed_fields_set(p, F_FEED_LINK, str, 0) == 0 &&
        feed_fields_absolutize(p, &p->f[F_FEED_LINK]) != 0)
        set_error(p, FEED_E_NOMEM, "out of memory");
    if ((str = jauthor(root)))
        (void)feed_fields_set(p, F_FEED_AUTHOR, str, 0);
    /* WebSub's hub and topic. */
    feed_url_field(p, F_FEED_HUB, jhub(root));
    feed_url_field(p, F_FEED_SELF, jstr(root, "feed_url"));
    feed_fields_sync_info(p);
    items = json_object_get(root, "items");
    json_array_foreach(items, i, it)
    {
        if (p->error)
            break;
        if (json_is_object(it))
            json_item(p, it);
    }
    json_decref(root);
    return p->error;
}
