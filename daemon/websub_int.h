/* daemon/websub_int.h - the parts of WebSub (websub.h) that need no loop:
 * the check of a push's signature (websub_sig.c) and the subscriptions'
 * state file, read and written as text (websub_state.c). No I/O, no
 * logging: unit-tested through this header. */
#ifndef FEEDD_WEBSUB_INT_H
#define FEEDD_WEBSUB_INT_H

#include <stddef.h>
#include <stdint.h>

#include "feeds/buf.h"

/* A token names a subscription in its callback URL; a secret signs its
 * pushes. Both are random bytes in lower-case hex. */
#define WEBSUB_TOKEN_LEN 32
#define WEBSUB_SECRET_LEN 64

/* What feedd believes of a subscription. */
enum websub_state {
    WEBSUB_PENDING,  /* asked for, not verified yet */
    WEBSUB_VERIFIED, /* the hub verified it: pushes come */
    WEBSUB_DENIED,   /* the hub said no: not asked again for a while */
    WEBSUB_UNSUB,    /* its feed is gone: an unsubscribe was asked for */
    WEBSUB_NSTATES
};

/* One subscription: a feed of the config at a hub for a topic. */
struct websub_sub {
    struct websub_sub *next;
    char *feed;  /* its config name */
    char *hub;   /* the hub's URL */
    char *topic; /* the feed's self URL */
    char token[WEBSUB_TOKEN_LEN + 1];
    char secret[WEBSUB_SECRET_LEN + 1];
    enum websub_state state;
    /* A subscribe (or, in WEBSUB_UNSUB, an unsubscribe) was sent and the
     * hub has not verified it yet: its challenge gets an answer. */
    int asked;
    int64_t lease_end; /* when the verified lease ends; 0 when none */
    int64_t due;       /* when to send the next request (renew, retry);
                        * 0 when none is to be sent */
    int errors;        /* failed requests in a row, for the back-off */
    /* Not in the file: a request to the hub is under way. */
    int busy;
    /* Not in the file: the next in its bucket of websub.c's index of the
     * subscriptions by feed (those not in WEBSUB_UNSUB). */
    struct websub_sub *hnext;
};

/* A new subscription of feed at hub for topic, its strings copied, its
 * token and secret empty: NULL when out of memory. Freed with
 * websub_sub_free() (which frees only the one, not the ones after it). */
struct websub_sub *websub_sub_new(const char *feed, const char *hub,
                                  const char *topic);
void websub_sub_free(struct websub_sub *);

/* Whether header, an X-Hub-Signature's value ("sha256=" and the HMAC's
 * hex, W3C WebSub §8: sha1, sha256, sha384 or sha512), is the HMAC of
 * body with secret as the key. The compare takes the same time wherever
 * the digests differ. 1 when it is; 0 when it is not, or header is NULL
 * or of another form. */
int websub_sig_check(const char *header, const char *secret, const void *body,
                     size_t len);

/* The state file: a first line "feedd-websub 1", then one line per
 * subscription of tab-separated fields: feed, hub, topic, token, secret,
 * state (pending, verified, denied, unsub), asked (0 or 1), lease_end,
 * due, errors. Tab, newline, CR and '%' in the three strings are written
 * %09, %0A, %0D and %25. */

/* Appends the whole file for list to out: the first line, then a line
 * for each subscription. 0 or FEED_E_NOMEM. */
int websub_state_format(const struct websub_sub *list, struct feed_buf *out);

/* Called for each line that does not read: its number (from 1) and why. */
typedef void websub_bad_fn(size_t line, const char *why, void *arg);

/* Reads text (len bytes, not NUL-terminated), in one pass: the
 * subscriptions of its lines that read are put at the head of *list, in
 * the file's order; bad(arg) is told of each line that does not (it is
 * skipped: the others still count), and of a first line that is not the
 * header (then nothing is read). A feed named on two lines is in
 * *list twice: the first (the file's earlier line) is the one found. 0, or
 * FEED_E_NOMEM (what was read so far stays in *list). */
int websub_state_parse(const char *text, size_t len, struct websub_sub **list,
                       websub_bad_fn *bad, void *arg);

#endif
