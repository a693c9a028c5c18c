/* feeds/tags.c - the stack of open elements of tags.h. An end tag that
 * names an element is found by a filter (a count of open names for each
 * last bits of their hashes) and, when the filter says it may be open, a
 * walk from the innermost element out. The walk ends at the element named
 * (and each element walked past is closed: the caller pays for it once),
 * or at the stack's bottom only when the filter erred. */
#include "tags.h"

#include <string.h>

#include "utf8.h"

/* What the byte b may be in an XML name: 1 its first byte or any other,
 * 2 any other but the first, 0 neither. */
#define NAME_CLASS(b)                                                          \
    ((b) >= 0x80 || ((b) >= 'a' && (b) <= 'z') ||                              \
             ((b) >= 'A' && (b) <= 'Z') || (b) == '_' || (b) == ':'            \
         ? 1                                                                   \
     : ((b) >= '0' && (b) <= '9') || (b) == '-' || (b) == '.' ? 2              \
                                                              : 0)
#define NAME_R4(b)                                                             \
    NAME_CLASS(b), NAME_CLASS((b) + 1), NAME_CLASS((b) + 2), NAME_CLASS((b) + 3)
#define NAME_R16(b)                                                            \
    NAME_R4(b), NAME_R4((b) + 4), NAME_R4((b) + 8), NAME_R4((b) + 12)
#define NAME_R64(b)                                                            \
    NAME_R16(b), NAME_R16((b) + 16), NAME_R16((b) + 32), NAME_R16((b) + 48)
const unsigned char feed_tags_class_[256] = {NAME_R64(0), NAME_R64(64),
                                             NAME_R64(128), NAME_R64(192)};

int
feed_tags_name(const unsigned char *s, size_t n, int last, uint32_t *hash,
               unsigned *high)
{
    uint32_t x = 2166136261u; /* FNV-1a */
    unsigned any = 0;
    size_t i;

    for (i = 0; i < n && i <= TAGS_NAME && feed_tags_class_[s[i]]; i++) {
        x = (x ^ s[i]) * 16777619u;
        any |= s[i];
    }
    *hash = x;
    *high = any & 0x80;
    return i == n && i <= TAGS_NAME && !last ? -1 : (int)i;
}

/* 1 when s[0..n) is valid UTF-8 without U+FFFE or U+FFFF: what the
 * repairs pass as it is, so that an end tag made from it is what expat
 * saw. */
static int
valid_name(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len;

        if (s[i] < 0x80) {
            i++;
            continue;
        }
        len = feed_utf8_decode(s + i, n - i, &cp);
        if (len == 0 || cp == 0xfffe || cp == 0xffff)
            return 0;
        i += len;
    }
    return 1;
}

void
feed_tags_push(struct feed_tags *t, const unsigned char *s, size_t n,
               uint32_t hash)
{
    struct feed_tag *e;

    if (t->depth == TAGS_DEPTH) {
        t->over++;
        return;
    }
    e = &t->open[t->depth++];
    e->hash = hash;
    e->off = (uint16_t)t->nnames;
    e->len = 0;
    e->unsure = n <= TAGS_NAME;
    if (n <= TAGS_NAME && n <= TAGS_NAMES - t->nnames && valid_name(s, n)) {
        memcpy(t->names + t->nnames, s, n);
        t->nnames += n;
        e->len = (uint8_t)n;
        e->unsure = 0;
        t->filter[hash % TAGS_FILTER]++;
    } else {
        t->nameless++;
        t->unsure += e->unsure;
    }
}

void
feed_tags_pop(struct feed_tags *t)
{
    const struct feed_tag *e;

    if (t->over > 0) {
        t->over--;
        return;
    }
    if (t->depth == 0)
        return;
    e = &t->open[--t->depth];
    if (e->len > 0) {
        t->filter[e->hash % TAGS_FILTER]--;
        t->nnames = e->off;
    } else {
        t->nameless--;
        t->unsure -= e->unsure;
    }
}

size_t
feed_tags_is_top(const struct feed_tags *t, const unsigned char *s, size_t n)
{
    const struct feed_tag *e;

    if (t->over > 0 || t->depth == 0)
        return 0;
    e = &t->open[t->depth - 1];
    if (e->len == 0 || n <= e->len ||
        memcmp(s, t->names + e->off, e->len) != 0 ||
        feed_tags_class_[s[e->len]] != 0)
        return 0;
    return e->len;
}

size_t
feed_tags_close(const struct feed_tags *t, const unsigned char *s, size_t n,
                uint32_t hash)
{
    size_t i = t->depth;
    int between = 0; /* an element without a name stands between */

    if (t->over > 0) /* one of the deepest, whose names are not kept */
        return TAGS_UNKNOWN;
    if (n > TAGS_NAME) {
        /* Only an element whose name was long may match: the innermost. */
        if (t->nameless == t->unsure)
            return 0;
        while (t->open[--i].len > 0 || t->open[i].unsure)
            between |= t->open[i].len == 0;
        return between ? TAGS_UNKNOWN : t->depth - i;
    }
    if (t->filter[hash % TAGS_FILTER] > 0) {
        while (i-- > 0) {
            const struct feed_tag *e = &t->open[i];

            between |= e->len == 0;
            if (e->hash == hash && e->len == n &&
                memcmp(t->names + e->off, s, n) == 0)
                return between ? TAGS_UNKNOWN : t->depth - i;
        }
    }
    return t->unsure > 0 ? TAGS_UNKNOWN : 0;
}
