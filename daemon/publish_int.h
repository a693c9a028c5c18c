/* daemon/publish_int.h - what the publisher's files share (publisher.c:
 * the merged outputs; publish_tags.c: the same per tag; archive.c: the
 * merged feed's archive pages; publish_util.c: the helpers below).
 * Internal to daemon/. */
#ifndef FEEDD_PUBLISH_INT_H
#define FEEDD_PUBLISH_INT_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "feeds/buf.h"
#include "feeds/item.h"
#include "feeds/write.h"
#include "store.h"

/* The longest base URL: public_url is at most this long. */
#define PUBLISH_BASE_MAX (CONFIG_URL_MAX + 2)
/* The start of an FNV-1a fold (publish_digest()). */
#define PUBLISH_FNV UINT64_C(0xcbf29ce484222325)

typedef int publish_writer_fn(struct feed_buf *, const struct feed_meta *,
                              const struct feed_item *, size_t);

/* h with n bytes at p folded in (FNV-1a). */
uint64_t publish_digest(uint64_t h, const void *p, size_t n);
/* h with the bytes of str folded in, and its end. */
uint64_t publish_digest_str(uint64_t h, const char *str);
/* h with the 8 bytes of v folded in. */
uint64_t publish_digest_u64(uint64_t h, uint64_t v);

/* Where readers find the outputs, with a '/' at its end: public_url,
 * else the listen address (the machine's name for a wildcard one). */
void publish_base_url(const struct config *, char base[PUBLISH_BASE_MAX]);

/* Items handed over by the store, each copied (feed_item_copy()). */
struct publish_items {
    struct feed_item **items;
    size_t n, cap;
};

/* A store_item_fn: appends a copy of it to arg, a struct publish_items
 * (zeroed to begin with). 0 or -ENOMEM. */
int publish_collect(const struct feed_item *it, void *arg);
void publish_items_free(struct publish_items *);

/* ---- publish_cache.c: the sanitized HTML of the items last published,
 * by ID and content hash, so that a publish sanitizes only what is new
 * or changed since. ---- */
struct publish_cache;

/* NULL when out of memory. */
struct publish_cache *publish_cache_new(void);
void publish_cache_free(struct publish_cache *);
/* 1, with *summary and *content (each NULL when the item has none)
 * pointing into the cache until the next publish_cache_sweep(), when pc
 * has this version of it (its ID and hash); and with mark, it stays
 * through that sweep. 0 when not (pc may be NULL). */
int publish_cache_get(struct publish_cache *pc, const struct feed_item *it,
                      int mark, const char **summary, const char **content);
/* Keeps it's sanitized summary and content, taken from the buffers
 * (which are left empty), marked: 0; or -ENOMEM, or -EEXIST when another
 * version of it is marked already (the buffers keep them then). */
int publish_cache_put(struct publish_cache *pc, const struct feed_item *it,
                      struct feed_buf *summary, struct feed_buf *content);
/* Drops what the publish under way did not mark, and clears the marks:
 * at the end of each publish that prepared the merged feed. */
void publish_cache_sweep(struct publish_cache *pc);
/* The entries it holds; those put since the last sweep. */
size_t publish_cache_count(const struct publish_cache *pc);
size_t publish_cache_made(const struct publish_cache *pc);

/* The items of c as an array, their HTML (summary, content) sanitized
 * once for every output: *flat (n shallow copies pointing into *safe or
 * into cache) and *safe (2 n buffers), both freed with
 * publish_prepared_free(). With cache (may be NULL), what it has is
 * taken from it, and with keep what is sanitized now goes into it and
 * all of c is marked (the merged feed's publish; tags and archive pages
 * only read it). 0 or -ENOMEM (nothing to free). */
int publish_prepare(const struct publish_items *c, struct publish_cache *cache,
                    int keep, struct feed_item **flat, struct feed_buf **safe);
void publish_prepared_free(struct feed_item *flat, struct feed_buf *safe,
                           size_t n);

/* The date of a document of items[0, n): the latest date or change of
 * any, from the entries alone (the same entries make the same bytes);
 * 0 for none. */
int64_t publish_updated(const struct feed_item *items, size_t n);

/* 1 when the file at path holds exactly len bytes at data; 0 when not,
 * or when it cannot be read. */
int publish_file_same(const char *path, const void *data, size_t len);

/* dir/name, in a new string; NULL when out of memory. */
char *publish_path(const char *dir, const char *name);

/* ---- archive.c: the merged feed's archive pages (RFC 5005) ---- */

struct httpd;
struct store;
struct archive;

/* The archive in public_dir/archive/ of the store s (nothing is read
 * yet); its pages are made of s's entries with *cfg as it is when a
 * reader asks (the publisher's, which a reload replaces). Both must
 * outlive it. NULL when out of memory. */
struct archive *archive_new(const char *public_dir, struct store *s,
                            const struct config **cfg);
void archive_free(struct archive *);

/* Brings the pages up to date with the store s: removes the oldest pages
 * whose entries are all gone, writes each page that is now complete
 * (max_items of cfg entries in commit order), sets the pages on httpd
 * (when not NULL), and collects into open (zeroed) the items in no page,
 * fewer than max_items, oldest first. *newest gets the number of the
 * newest page, or -1 when there is none. 0 or a negative errno
 * (logged); *newest is right then too. */
int archive_update(struct archive *, struct store *s, const struct config *cfg,
                   struct httpd *httpd, struct publish_items *open,
                   long *newest);

/* Sets the pages there are on httpd, without reading the store: the
 * number of the newest, or -1. */
long archive_served(struct archive *, struct httpd *httpd);

/* The server changed: every page is to be set on it again. */
void archive_unserve(struct archive *);

/* ---- publish_tags.c: the outputs of each tag ---- */

struct publish_tags;

/* The tags' outputs in public_dir/tag/ (nothing is read yet). NULL when
 * out of memory. */
struct publish_tags *publish_tags_new(const char *public_dir);
void publish_tags_free(struct publish_tags *);
/* The sanitized HTML of the merged feed's items (borrowed; NULL for
 * none), which the tags' documents take instead of sanitizing again. */
void publish_tags_use_cache(struct publish_tags *, struct publish_cache *);

/* Makes, for each tag of cfg's feeds, the four outputs of the newest
 * max_items entries of its feeds, and writes each whose bytes changed;
 * removes the files of tags no feed has any more. settings is a digest
 * of what else the bytes depend on (feedd's version, the title, the
 * base URL): with it and the entries as they were, a tag is not made
 * again. Every tag's outputs are set on httpd (when not NULL), served
 * from their files. 0 or a negative errno (logged). */
int publish_tags_update(struct publish_tags *, struct store *s,
                        const struct config *cfg, struct httpd *httpd,
                        uint64_t settings);

/* Sets every tag's outputs on httpd, without reading the store. */
void publish_tags_serve(struct publish_tags *, const struct config *cfg,
                        struct httpd *httpd);

/* The config changed: the next update looks for files of tags that are
 * gone. */
void publish_tags_sweep(struct publish_tags *);

/* The server changed: every tag is to be set on it again. */
void publish_tags_unserve(struct publish_tags *);

#endif
