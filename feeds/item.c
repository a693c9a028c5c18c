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
    struct feed_item *c;
    struct feed_enclosure *enc;
    const char **cats, **also;
    size_t size, i;
    char *at;

    /* One block: the item, its pointer arrays (aligned as malloc
     * aligns), then every string. */
    size = sizeof(*c) + e->nenclosures * sizeof(*enc) +
           (e->ncategories + it->nalso) * sizeof(char *);
    size += str_size(e->guid) + str_size(e->link) + str_size(e->title) +
            str_size(e->author) + str_size(e->summary) + str_size(e->content) +
            str_size(e->image) + str_size(it->feed) + str_size(it->feed_title) +
            str_size(it->feed_url);
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
    c->entry.enclosures = e->nenclosures ? enc : NULL;
    c->entry.categories = e->ncategories ? cats : NULL;
    c->also = it->nalso ? also : NULL;
    c->entry.guid = put(&at, e->guid);
    c->entry.link = put(&at, e->link);
    c->entry.title = put(&at, e->title);
    c->entry.author = put(&at, e->author);
    c->entry.summary = put(&at, e->summary);
    c->entry.content = put(&at, e->content);
    c->entry.image = put(&at, e->image);
    c->feed = put(&at, it->feed);
    c->feed_title = put(&at, it->feed_title);
    c->feed_url = put(&at, it->feed_url);
    return c;
}
