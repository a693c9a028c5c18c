/* feeds/id.h - stable entry IDs (DESIGN.md "Stable IDs"). */
#ifndef FEEDS_ID_H
#define FEEDS_ID_H

#include <regex.h>
#include <stdint.h>

#include "feeds/buf.h"

struct feed_entry;

enum feed_id_rule {
    FEED_ID_AUTO,    /* the first rule below that applies */
    FEED_ID_SLUG,    /* host + the article ID at the end of the link */
    FEED_ID_GUID,    /* the guid, scoped to the feed unless URL-shaped */
    FEED_ID_LINK,    /* the normalized link */
    FEED_ID_CONTENT, /* title + date + content */
};

#define FEED_ID_LEN 16

/* The one hex codec of IDs. h as FEED_ID_LEN lower-case hex digits into
 * id. */
void feed_id_format(uint64_t h, char id[FEED_ID_LEN + 1]);
/* The value of an ID of exactly FEED_ID_LEN hex digits (either case) and
 * nothing after them into *out. 0, or FEED_E_INVAL when s is not one. */
int feed_id_parse(const char *s, uint64_t *out);

/* The stable ID of e, as FEED_ID_LEN lower-case hex digits, into id. feed
 * scopes non-URL GUIDs and content hashes to their feed. Returns the rule
 * that was used (never FEED_ID_AUTO), or FEED_E_NOMEM. */
int feed_entry_id(const struct feed_entry *e, const char *feed,
                  enum feed_id_rule rule, char id[FEED_ID_LEN + 1]);

/* Rule FEED_ID_SLUG with a feed's own pattern (config "id_pattern"): re is
 * matched against e's link; its first group (else the whole match) is the
 * article ID, keyed with the link's host as the built-in rule keys it, so
 * that both give one article one ID. FEED_ID_SLUG, FEED_E_INVAL when the
 * link does not match (fall back to feed_entry_id()), or FEED_E_NOMEM. */
int feed_entry_id_pattern(const struct feed_entry *e, const regex_t *re,
                          char id[FEED_ID_LEN + 1]);

/* The ID of one of several different entries that share the ID base
 * (two items with one guid): base and what tells this one apart, kind
 * ('l' link, 't' title, 'h' content hash) and its value, hashed. */
void feed_id_derive(const char *base, char kind, const char *value,
                    char id[FEED_ID_LEN + 1]);

/* The article ID at the end of an http(s) link's last path segment, and
 * its host: the key of rule FEED_ID_SLUG, appended to out as
 * "host/article-id". 0 when found, FEED_E_INVAL when the link has none. */
int feed_slug_key(const char *link, struct feed_buf *out) FEEDS_WUR;
/* A hash of what a reader sees of e (title, link, dates, author,
 * summary, content, image, enclosures, categories): a stored entry whose
 * hash changes has been edited. */
uint64_t feed_entry_hash(const struct feed_entry *e);

#endif
