/* store/record.c - the record codec: an item to its line in a segment,
 * and the line (parsed by jansson) back to an item, side by side.
 *
 * A record is one JSON object on one line:
 *
 *   {"id":"<16 hex>","feed":..,"feed_title":..,"feed_url":..,"also":[..],
 *    "stored":T,"changed":T,"hash":"<16 hex>"[,"shared":true],"guid":..,
 *    "link":..,"title":..,"author":..,"published":T,"updated":T,
 *    "summary":..,"content":..,"image":..,"enclosures":[{"url":..,
 *    "type":..,"length":N}],"categories":[..],"sum":"<8 hex>"}
 *
 * where a string may be null (but feed, which names a feed) and a time T
 * is seconds since the epoch or null. "sum" (format 2) is the crc32 of
 * the line's bytes before ,"sum", in lowercase hex: it is always last, so
 * that it is checked from the line's fixed-size end, without a JSON
 * parse. A record read back is checked before anything uses it: its sum
 * (in a segment of format 2, where every record has one), then every
 * member present with the type the writer gives it (store_fields[]); one
 * that fails is no item, and is skipped with a warning.
 * Keys are only ever added to a record within one format: a reader takes
 * a missing added key as "none" and ignores keys it does not know, so
 * adding one does not change STORE_FORMAT. "image", "enclosures",
 * "categories", "also", "changed", "hash" and "shared" came that way.
 * Every string is written by feed_buf_json(), the one JSON string writer,
 * and every ID and hash by feed_id_format(), the one hex codec. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <jansson.h>
#include <zlib.h>

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
 * written before hashes were kept). */
static uint64_t
store_json_hash(const json_t *o)
{
    uint64_t h;

    return feed_id_parse(store_json_str(o, "hash"), &h) == 0 ? h : 0;
}

/* ,"key": appended to b (key needs no escaping): a copy, as printf()
 * of every key was a tenth of what encoding a record cost. */
static int
store_put_key(struct feed_buf *b, const char *key)
{
    return feed_buf_append(b, ",\"", 2) != 0 ||
           feed_buf_append(b, key, strlen(key)) != 0 ||
           feed_buf_append(b, "\":", 2) != 0;
}

int
store_put_str(struct feed_buf *b, const char *key, const char *s)
{
    return store_put_key(b, key) != 0 || feed_buf_json(b, s) != 0;
}

int
store_put_time(struct feed_buf *b, const char *key, int64_t t)
{
    char num[24], *p = num + sizeof num;
    uint64_t u = t < 0 ? 0 - (uint64_t)t : (uint64_t)t;

    if (store_put_key(b, key) != 0)
        return 1;
    if (t == FEED_TIME_NONE)
        return feed_buf_append(b, "null", 4) != 0;
    do
        *--p = (char)('0' + u % 10);
    while ((u /= 10) != 0);
    if (t < 0)
        *--p = '-';
    return feed_buf_append(b, p, (size_t)(num + sizeof num - p)) != 0;
}

/* ---- the checksum ------------------------------------------------------- */

static uint32_t
store_sum(const char *p, size_t len)
{
    return (uint32_t)crc32_z(crc32_z(0, Z_NULL, 0), (const unsigned char *)p,
                             len);
}

int
store_record_seal(struct feed_buf *b, size_t start)
{
    static const char hex[] = "0123456789abcdef";
    char tail[STORE_SUM_LEN + 1] = STORE_SUM_KEY;
    uint32_t sum = store_sum(b->data + start, b->len - start);
    char *d = tail + sizeof STORE_SUM_KEY - 1;
    int i;

    /* By hand, not with printf(): once per record, printf's set-up cost
     * as much as the checksum of a short one. */
    for (i = 7; i >= 0; i--, sum >>= 4)
        d[i] = hex[sum & 15];
    memcpy(d + 8, "\"}\n", 3);
    return feed_buf_append(b, tail, sizeof tail) != 0;
}

/* The value of 8 lowercase hex digits at p, or -1. */
static int64_t
store_hex8(const char *p)
{
    uint32_t v = 0;
    int i, d;

    for (i = 0; i < 8; i++) {
        if (p[i] >= '0' && p[i] <= '9')
            d = p[i] - '0';
        else if (p[i] >= 'a' && p[i] <= 'f')
            d = p[i] - 'a' + 10;
        else
            return -1;
        v = v << 4 | (uint32_t)d;
    }
    return v;
}

int
store_record_verify(const char *line, size_t len, unsigned format)
{
    const size_t key = sizeof STORE_SUM_KEY - 1;
    const char *end;
    int64_t sum;

    /* The shortest record is far longer: a line that cannot hold a sum
     * and an object around it has none. */
    if (len < STORE_SUM_LEN + 2 ||
        memcmp(line + len - STORE_SUM_LEN, STORE_SUM_KEY, key) != 0 ||
        memcmp(line + len - 2, "\"}", 2) != 0)
        return format >= 2 ? STORE_DMG_NOSUM : 0;
    end = line + len - STORE_SUM_LEN;
    sum = store_hex8(end + key);
    if (sum < 0)
        return format >= 2 ? STORE_DMG_NOSUM : STORE_DMG_SUM;
    return (uint32_t)sum == store_sum(line, (size_t)(end - line))
               ? 0
               : STORE_DMG_SUM;
}

const char *
store_damage_why(int why)
{
    switch (why) {
    case STORE_DMG_SUM:
        return "checksum";
    case STORE_DMG_NOSUM:
        return "no checksum";
    case STORE_DMG_EOL:
        return "line end";
    case STORE_DMG_JSON:
        return "not JSON";
    case STORE_DMG_RECORD:
        return "a member missing or mistyped";
    case STORE_DMG_CORRUPT:
        return "not JSON, or a member missing or mistyped";
    case STORE_DMG_INDEX:
        return "not the item the index lists";
    default:
        return "damaged";
    }
}

/* ---- an item to its line ----------------------------------------------- */

static int
store_put_strs(struct feed_buf *b, const char *key, const char *const *a,
               size_t n, size_t max)
{
    size_t i, k;

    if (store_put_key(b, key) != 0 || feed_buf_append(b, "[", 1) != 0)
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
    size_t start = b->len;

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
           store_put_lists(b, e) != 0 || store_record_seal(b, start) != 0;
}

/* ---- a line back to an item --------------------------------------------- */

/* The types of a record's members: what store_record_encode() can write. */
enum {
    STORE_T_HEX,  /* FEED_ID_LEN hex digits */
    STORE_T_NAME, /* a string */
    STORE_T_STR,  /* a string or null */
    STORE_T_TIME, /* an integer or null */
    STORE_T_BOOL,
    STORE_T_STRS, /* an array of strings */
    STORE_T_ENCS, /* an array of {"url":string,"type":string|null,
                   * "length":integer >= 0|null} */
};

/* Every member a record may have. The ones marked required are in every
 * record any version wrote; the others came later (see the top of this
 * file) and may be missing. */
static const struct store_field {
    const char *key;
    unsigned char type;
    unsigned char required;
} store_fields[] = {
    {"id", STORE_T_HEX, 1},          {"feed", STORE_T_NAME, 1},
    {"feed_title", STORE_T_STR, 1},  {"feed_url", STORE_T_STR, 1},
    {"also", STORE_T_STRS, 0},       {"stored", STORE_T_TIME, 1},
    {"changed", STORE_T_TIME, 0},    {"hash", STORE_T_HEX, 0},
    {"shared", STORE_T_BOOL, 0},     {"guid", STORE_T_STR, 1},
    {"link", STORE_T_STR, 1},        {"title", STORE_T_STR, 1},
    {"author", STORE_T_STR, 1},      {"published", STORE_T_TIME, 1},
    {"updated", STORE_T_TIME, 1},    {"summary", STORE_T_STR, 1},
    {"content", STORE_T_STR, 1},     {"image", STORE_T_STR, 0},
    {"enclosures", STORE_T_ENCS, 0}, {"categories", STORE_T_STRS, 0},
};

/* 1 when v is an enclosure as store_put_lists() writes one. */
static int
store_enc_ok(const json_t *v)
{
    const json_t *url = json_object_get(v, "url"),
                 *type = json_object_get(v, "type"),
                 *len = json_object_get(v, "length");

    return json_is_string(url) &&
           (type == NULL || json_is_null(type) || json_is_string(type)) &&
           (len == NULL || json_is_null(len) ||
            (json_is_integer(len) && json_integer_value(len) >= 0));
}

/* 1 when v, o's member of type type, has that type. One pass over its
 * members for the arrays. */
static int
store_member_ok(const json_t *v, unsigned type)
{
    uint64_t x;
    size_t i;

    switch (type) {
    case STORE_T_HEX:
        return feed_id_parse(json_string_value(v), &x) == 0;
    case STORE_T_NAME:
        return json_is_string(v);
    case STORE_T_STR:
        return json_is_null(v) || json_is_string(v);
    case STORE_T_TIME:
        return json_is_null(v) || json_is_integer(v);
    case STORE_T_BOOL:
        return json_is_boolean(v);
    case STORE_T_STRS:
    case STORE_T_ENCS:
        if (!json_is_array(v))
            return 0;
        for (i = 0; i < json_array_size(v); i++)
            if (type == STORE_T_STRS ? !json_is_string(json_array_get(v, i))
                                     : !store_enc_ok(json_array_get(v, i)))
                return 0;
        return 1;
    default:
        return 0;
    }
}

/* 0 when o is a record that store_record_encode() could have written
 * (members it does not know are allowed: a later version may add some),
 * else -EINVAL. */
static int
store_record_check(const json_t *o)
{
    const json_t *v;
    size_t i;

    if (!json_is_object(o))
        return -EINVAL;
    for (i = 0; i < sizeof store_fields / sizeof store_fields[0]; i++) {
        v = json_object_get(o, store_fields[i].key);
        if (v == NULL ? store_fields[i].required
                      : !store_member_ok(v, store_fields[i].type))
            return -EINVAL;
    }
    return 0;
}

/* The first max strings of the array o[key] (checked) into out, borrowed
 * from o. Their count. */
static size_t
store_strs_from_json(const json_t *o, const char *key, const char **out,
                     size_t max)
{
    const json_t *a = json_object_get(o, key);
    size_t i;

    for (i = 0; i < json_array_size(a) && i < max; i++)
        out[i] = json_string_value(json_array_get(a, i));
    return i;
}

/* e's image, enclosures and categories from o (checked), in l's arrays,
 * borrowing the strings from o. A missing key (a record written before
 * the keys existed) gives none: NULL and 0. Like store_put_lists(), keeps
 * at most the first STORE_*_MAX. */
static void
store_lists_from_json(struct feed_entry *e, const json_t *o,
                      struct store_lists *l)
{
    const json_t *a, *v, *len;
    size_t n;

    e->image = store_json_str(o, "image");
    a = json_object_get(o, "enclosures");
    for (n = 0; n < json_array_size(a) && n < STORE_ENCLOSURES_MAX; n++) {
        v = json_array_get(a, n);
        l->enc[n].url = store_json_str(v, "url");
        l->enc[n].type = store_json_str(v, "type");
        len = json_object_get(v, "length");
        l->enc[n].length =
            json_is_integer(len) ? (int64_t)json_integer_value(len) : -1;
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

    if (store_record_check(o) != 0 ||
        feed_id_parse(store_json_str(o, "id"), &id) != 0)
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

    if (store_record_check(o) != 0 ||
        feed_id_parse(store_json_str(o, "id"), id) != 0)
        return -EINVAL;
    memset(&it, 0, sizeof it);
    it.stored = store_json_time(o, "stored");
    it.entry.published = store_json_time(o, "published");
    it.entry.updated = store_json_time(o, "updated");
    *date = feed_item_date(&it);
    *hash = store_json_hash(o);
    return 0;
}
