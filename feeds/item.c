/* feeds/item.c - copying an item whole, for callers that keep one past
 * the callback that lent it. */
#include <stdlib.h>
#include <string.h>

#include "feeds/item.h"

static size_t
str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Copies s to *at and advances it; NULL stays NULL. */
static const char *
put(char **at, const char *s)
{
    size_t n;
    char *d;

    if (s == NULL)
        return NULL;
    n = strlen(s) + 1;
    d = memcpy(*at, s, n);
    *at += n;
    return d;
}

struct feed_item *
feed_item_copy(const struct feed_item *it)
{
    const struct feed_entry *e = &it->entry;
    /* The long strings, measured once: the summary and content are
     * kilobytes, and an entry is copied as the parser hands it out. */
    const char *const src[] = {e->guid,        e->link,     e->title, e->author,
                               e->summary,     e->content,  e->image, it->feed,
                               it->feed_title, it->feed_url};
    size_t len[sizeof src / sizeof src[0]];
    const char *dst[sizeof src / sizeof src[0]];
    struct feed_item *c;
    struct feed_enclosure *enc;
    const char **cats, **also;
    size_t size, i;
    char *at;

    /* One block: the item, its pointer arrays (aligned as malloc
     * aligns), then every string. */
    size = sizeof(*c) + e->nenclosures * sizeof(*enc) +
           (e->ncategories + it->nalso) * sizeof(char *);
    for (i = 0; i < sizeof src / sizeof src[0]; i++) {
        len[i] = str_size(src[i]);
        size += len[i];
    }
    for (i = 0; i < e->nenclosures; i++)
        size +=
            str_size(e->enclosures[i].url) + str_size(e->enclosures[i].type);
    for (i = 0; i < e->ncategories; i++)
        size += str_size(e->categories[i]);
    for (i = 0; i < it->nalso; i++)
        size += str_size(it->also[i]);
    if ((c = malloc(size)) == NULL)
        return NULL;
    *c = *it;
    enc = (struct feed_enclosure *)(void *)(c + 1);
    cats = (const char **)(void *)(enc + e->nenclosures);
    also = cats + e->ncategories;
    at = (char *)(also + it->nalso);
    for (i = 0; i < e->nenclosures; i++) {
        enc[i] = e->enclosures[i];
        enc[i].url = put(&at, e->enclosures[i].url);
        enc[i].type = put(&at, e->enclosures[i].type);
    }
    for (i = 0; i < e->ncategories; i++)
        cats[i] = put(&at, e->categories[i]);
    for (i = 0; i < it->nalso; i++)
        also[i] = put(&at, it->also[i]);
    for (i = 0; i < sizeof src / sizeof src[0]; i++) {
        dst[i] = src[i] ? memcpy(at, src[i], len[i]) : NULL;
        at += len[i];
    }
    c->entry.enclosures = e->nenclosures ? enc : NULL;
    c->entry.categories = e->ncategories ? cats : NULL;
    c->also = it->nalso ? also : NULL;
    c->entry.guid = dst[0];
    c->entry.link = dst[1];
    c->entry.title = dst[2];
    c->entry.author = dst[3];
    c->entry.summary = dst[4];
    c->entry.content = dst[5];
    c->entry.image = dst[6];
    c->feed = dst[7];
    c->feed_title = dst[8];
    c->feed_url = dst[9];
    return c;
}
