/* store/record.c - the record codec: an item to its line in a segment,
 * and the line (parsed by jansson) back to an item, side by side.
 *
 * A record is one JSON object on one line:
 *
 *   {"id":"<16 hex>","feed":..,"feed_title":..,"feed_url":..,"also":[..],
 *    "stored":T,"changed":T,"hash":"<16 hex>"[,"shared":true],"guid":..,
 *    "link":..,"title":..,"author":..,"published":T,"updated":T,
 *    "summary":..,"content":..,"image":..,"enclosures":[{"url":..,
 *    "type":..,"length":N}],"categories":[..]}
 *
 * where a string may be null and a time T is seconds since the epoch or
 * null. Keys are only ever added to a record within one format: a reader
 * takes a missing key as "none" and ignores keys it does not know, so
 * adding one does not change STORE_FORMAT. "image", "enclosures",
 * "categories", "also", "changed", "hash" and "shared" came that way.
 * Every string is written by feed_buf_json(), the one JSON string writer,
 * and every ID and hash by feed_id_format(), the one hex codec. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <jansson.h>

#include "store_int.h"

/* ---- the helpers both ways ---------------------------------------------- */

const char *
store_json_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

int64_t
store_json_time(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_integer(v) ? (int64_t)json_integer_value(v) : FEED_TIME_NONE;
}

/* The "hash" member of o, 16 hex digits, or 0 when absent (a record
 * written before hashes were kept) or malformed. */
static uint64_t
store_json_hash(const json_t *o)
{
    uint64_t h;

    return feed_id_parse(store_json_str(o, "hash"), &h) == 0 ? h : 0;
}

int
store_put_str(struct feed_buf *b, const char *key, const char *s)
{
    return feed_buf_printf(b, ",\"%s\":", key) != 0 || feed_buf_json(b, s) != 0;
}

int
store_put_time(struct feed_buf *b, const char *key, int64_t t)
{
    if (t == FEED_TIME_NONE)
        return feed_buf_printf(b, ",\"%s\":null", key) != 0;
    return feed_buf_printf(b, ",\"%s\":%" PRId64, key, t) != 0;
}

/* ---- an item to its line ----------------------------------------------- */

static int
store_put_strs(struct feed_buf *b, const char *key, const char *const *a,
               size_t n, size_t max)
{
    size_t i, k;

    if (feed_buf_printf(b, ",\"%s\":[", key) != 0)
        return 1;
    for (i = k = 0; a != NULL && i < n && k < max; i++) {
        if (a[i] == NULL)
            continue;
        if ((k++ > 0 && feed_buf_puts(b, ",") != 0) ||
            feed_buf_json(b, a[i]) != 0)
            return 1;
    }
    return feed_buf_puts(b, "]") != 0;
}

/* ,"image":..,"enclosures":[..],"categories":[..] of e appended to b,
 * the lists written even when empty ([]). Additive keys: format 1 records
 * written before them read back as having none. An enclosure without a
 * URL and a NULL category carry nothing and are left out; past
 * STORE_ENCLOSURES_MAX and STORE_CATEGORIES_MAX the rest are dropped.
 * 0, or non-zero when out of memory. */
static int
store_put_lists(struct feed_buf *b, const struct feed_entry *e)
{
    const struct feed_enclosure *enc;
    size_t i, n;

    if (store_put_str(b, "image", e->image) != 0 ||
        feed_buf_puts(b, ",\"enclosures\":[") != 0)
        return 1;
    for (i = n = 0; e->enclosures != NULL && i < e->nenclosures &&
                    n < STORE_ENCLOSURES_MAX;
         i++) {
        enc = &e->enclosures[i];
        if (enc->url == NULL)
            continue;
        if (feed_buf_puts(b, n++ > 0 ? ",{\"url\":" : "{\"url\":") != 0 ||
            feed_buf_json(b, enc->url) != 0 ||
            store_put_str(b, "type", enc->type) != 0)
            return 1;
        /* Any negative length is the "unknown" of the model. */
        if ((enc->length >= 0
                 ? feed_buf_printf(b, ",\"length\":%" PRId64 "}", enc->length)
                 : feed_buf_puts(b, ",\"length\":null}")) != 0)
            return 1;
    }
    if (feed_buf_puts(b, "]") != 0)
        return 1;
    return store_put_strs(b, "categories", e->categories, e->ncategories,
                          STORE_CATEGORIES_MAX);
}

int
store_record_encode(struct feed_buf *b, uint64_t id, const struct feed_item *it)
{
    const struct feed_entry *e = &it->entry;
    char hex[FEED_ID_LEN + 1], hash[FEED_ID_LEN + 1];

    feed_id_format(id, hex);
    feed_id_format(it->hash, hash);
    return feed_buf_puts(b, "{\"id\":") != 0 || feed_buf_json(b, hex) != 0 ||
           store_put_str(b, "feed", it->feed) != 0 ||
           store_put_str(b, "feed_title", it->feed_title) != 0 ||
           store_put_str(b, "feed_url", it->feed_url) != 0 ||
           store_put_strs(b, "also", it->also, it->nalso, STORE_ALSO_MAX) !=
               0 ||
           store_put_time(b, "stored", it->stored) != 0 ||
           store_put_time(b, "changed", it->changed) != 0 ||
           store_put_str(b, "hash", hash) != 0 ||
           (it->shared && feed_buf_puts(b, ",\"shared\":true") != 0) ||
           store_put_str(b, "guid", e->guid) != 0 ||
           store_put_str(b, "link", e->link) != 0 ||
           store_put_str(b, "title", e->title) != 0 ||
           store_put_str(b, "author", e->author) != 0 ||
           store_put_time(b, "published", e->published) != 0 ||
           store_put_time(b, "updated", e->updated) != 0 ||
           store_put_str(b, "summary", e->summary) != 0 ||
           store_put_str(b, "content", e->content) != 0 ||
           store_put_lists(b, e) != 0 || feed_buf_puts(b, "}\n") != 0;
}

/* ---- a line back to an item --------------------------------------------- */

/* The first max strings of the array o[key] into out, borrowed from o;
 * members that are not strings are skipped. Their count. */
static size_t
store_strs_from_json(const json_t *o, const char *key, const char **out,
                     size_t max)
{
    const json_t *a = json_object_get(o, key);
    size_t i, n;

    for (i = n = 0; i < json_array_size(a) && n < max; i++)
        if ((out[n] = json_string_value(json_array_get(a, i))) != NULL)
            n++;
    return n;
}

/* e's image, enclosures and categories from o, in l's arrays, borrowing
 * the strings from o. A missing or malformed key (a record written before
 * the keys existed, or edited by hand) gives none: NULL and 0. Like
 * store_put_lists(), skips enclosures without a URL and categories that
 * are not strings, and keeps at most the first STORE_*_MAX. */
static void
store_lists_from_json(struct feed_entry *e, const json_t *o,
                      struct store_lists *l)
{
    const json_t *a, *v, *len;
    json_int_t x;
    size_t i, n;

    e->image = store_json_str(o, "image");
    a = json_object_get(o, "enclosures");
    for (i = n = 0; i < json_array_size(a) && n < STORE_ENCLOSURES_MAX; i++) {
        v = json_array_get(a, i);
        if ((l->enc[n].url = store_json_str(v, "url")) == NULL)
            continue;
        l->enc[n].type = store_json_str(v, "type");
        len = json_object_get(v, "length");
        x = json_is_integer(len) ? json_integer_value(len) : -1;
        l->enc[n++].length = x >= 0 ? (int64_t)x : -1;
    }
    e->enclosures = n > 0 ? l->enc : NULL;
    e->nenclosures = n;
    n = store_strs_from_json(o, "categories", l->cat, STORE_CATEGORIES_MAX);
    e->categories = n > 0 ? l->cat : NULL;
    e->ncategories = n;
}

int
store_record_decode(struct feed_item *it, const json_t *o,
                    struct store_lists *l)
{
    uint64_t id;

    if (feed_id_parse(store_json_str(o, "id"), &id) != 0)
        return -EINVAL;
    memset(it, 0, sizeof *it);
    feed_id_format(id, it->id);
    it->feed = store_json_str(o, "feed");
    it->feed_title = store_json_str(o, "feed_title");
    it->feed_url = store_json_str(o, "feed_url");
    it->nalso = store_strs_from_json(o, "also", l->also, STORE_ALSO_MAX);
    it->also = it->nalso > 0 ? l->also : NULL;
    it->stored = store_json_time(o, "stored");
    it->changed = store_json_time(o, "changed");
    it->hash = store_json_hash(o);
    it->shared = json_is_true(json_object_get(o, "shared"));
    it->entry.guid = store_json_str(o, "guid");
    it->entry.link = store_json_str(o, "link");
    it->entry.title = store_json_str(o, "title");
    it->entry.author = store_json_str(o, "author");
    it->entry.published = store_json_time(o, "published");
    it->entry.updated = store_json_time(o, "updated");
    it->entry.summary = store_json_str(o, "summary");
    it->entry.content = store_json_str(o, "content");
    store_lists_from_json(&it->entry, o, l);
    return 0;
}

int
store_record_peek(const json_t *o, uint64_t *id, int64_t *date, uint64_t *hash)
{
    struct feed_item it;

    if (!json_is_object(o) || feed_id_parse(store_json_str(o, "id"), id) != 0)
        return -EINVAL;
    memset(&it, 0, sizeof it);
    it.stored = store_json_time(o, "stored");
    it.entry.published = store_json_time(o, "published");
    it.entry.updated = store_json_time(o, "updated");
    *date = feed_item_date(&it);
    *hash = store_json_hash(o);
    return 0;
}
