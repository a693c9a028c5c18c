/* feeds/write.c - the merged output writers. */
#include "feeds.h"

int64_t
feed_item_date(const struct feed_item *it)
{
    if (it->entry.published != FEED_TIME_NONE)
        return it->entry.published;
    if (it->entry.updated != FEED_TIME_NONE)
        return it->entry.updated;
    return it->stored;
}
