/* feeds/item.h - the entry model: what a parsed entry, a
 * document and a stored item are. */
#ifndef FEEDS_ITEM_H
#define FEEDS_ITEM_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/date.h"
#include "feeds/id.h"

enum feed_format {
    FEED_FORMAT_UNKNOWN,
    FEED_FORMAT_RSS090,
    FEED_FORMAT_RSS091,
    FEED_FORMAT_RSS092,
    FEED_FORMAT_RSS093,
    FEED_FORMAT_RSS094,
    FEED_FORMAT_RSS10,
    FEED_FORMAT_RSS11,
    FEED_FORMAT_RSS20,
    FEED_FORMAT_ATOM03,
    FEED_FORMAT_ATOM10,
    FEED_FORMAT_JSON10, /* JSON Feed */
    FEED_FORMAT_JSON11,
    FEED_FORMAT_CDF, /* Microsoft's Channel Definition Format */
};

/* "rss20", "atom10", ... ("unknown"). */
const char *feed_format_name(enum feed_format);

/* A file attached to an entry: RSS <enclosure>, Atom rel="enclosure",
 * media:content. */
struct feed_enclosure {
    const char *url;  /* absolute when it could be resolved */
    const char *type; /* MIME type, or NULL */
    int64_t length;   /* bytes, or -1 when unknown */
};

/* One entry. Strings are UTF-8, NULL when absent; title is plain text,
 * summary and content are HTML; link is absolute when it could be
 * resolved. */
struct feed_entry {
    const char *guid; /* the entry's own guid / atom:id */
    const char *link;
    const char *title;
    const char *author;
    const char *summary;
    const char *content;
    const char *image; /* a thumbnail (media:thumbnail, itunes:image) */
    int64_t published;
    int64_t updated;
    const struct feed_enclosure *enclosures;
    size_t nenclosures;
    const char *const *categories; /* RSS category, Atom term, dc:subject */
    size_t ncategories;
};

/* What the document says about itself. */
struct feed_info {
    enum feed_format format;
    const char *title;
    const char *link;
    /* WebSub discovery (W3C WebSub §4): the feed's first
     * <link rel="hub"> and <link rel="self"> (Atom links, also atom:link
     * in an RSS channel), absolute; NULL when it has none. */
    const char *hub;
    const char *self;
    const char *encoding; /* what the bytes were read as: "utf-8", ... */
    size_t bad_dates;     /* dates that could not be read (null instead) */
    const char *bad_date; /* the first of them, as written */
    /* What the parser's limits (struct feed_limits in feeds/parse.h) kept
     * out. None of it is an error: the document is read to its end and
     * everything within the limits is handed on. */
    size_t max_entries; /* the limits in force */
    size_t max_field;
    size_t over_entries;    /* entries past the first max_entries: dropped */
    size_t big_entries;     /* entries with a field over max_field: dropped */
    size_t big_feed_fields; /* the feed's own fields (title, link, author)
                             * over max_field: dropped, NULL instead */
    /* When to ask again, as the feed says (RSS 2.0's ttl, skipHours and
     * skipDays, RSS 1.0's syndication module); 0 where it says nothing
     * (or nothing that reads). */
    int64_t ttl;              /* seconds (ttl is in minutes) */
    int64_t update_period;    /* sy:updatePeriod, seconds */
    int64_t update_frequency; /* sy:updateFrequency: times a period */
    uint32_t skip_hours;      /* bit h: hour h (0-23, UTC) */
    uint32_t skip_days;       /* bit d: day d (0 Sunday to 6 Saturday) */
};

/* An entry as the store and the merged outputs see it. */
struct feed_item {
    char id[FEED_ID_LEN + 1];
    struct feed_entry entry;
    const char *feed;        /* the first feed that carried it (config name) */
    const char *feed_title;  /* that feed's own title, or NULL */
    const char *feed_url;    /* where that feed was fetched from */
    const char *const *also; /* names of other feeds that carried it */
    size_t nalso;
    int64_t stored;  /* when feedd first stored it */
    int64_t changed; /* when feedd last stored an edited version of it, or
                      * FEED_TIME_NONE when never */
    uint64_t hash;   /* feed_entry_hash() of this version */
    /* Its ID was once shared by different entries of its feed (two items
     * with one guid): it keeps the ID only while it is the same entry
     * (the same link, else the same title). */
    int shared;
};

/* A deep copy of it in one allocation: the caller frees it with free().
 * NULL when out of memory. */
struct feed_item *feed_item_copy(const struct feed_item *it);

/* The date an item sorts by: published, else updated, else stored; a
 * date more than a day after stored is taken as stored. */
int64_t feed_item_date(const struct feed_item *);

#endif
