/* daemon/poller_body.c - a poll's body on its way to the parser
 * (poller_int.h): the parser made at the first byte, with the HTTP
 * charset and the URL after redirects; each chunk parsed on the loop (a
 * small document, or one the loop takes while the thread is busy)
 * or queued for the parse thread (parsing.h), the transfer held while
 * the thread's queue is full and resumed when it has room; each entry
 * into the feed's ingest. */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "feeds/parse.h"
#include "fetch.h"
#include "ingest.h"
#include "parsing.h"
#include "poller_int.h"

/* A document whose Content-Length is at most this is parsed on the loop,
 * a larger one or one of unknown length on the parse thread. */
#define INLINE_MAX ((size_t)16 << 10)
/* Documents the loop parses at once, in whole, while the thread is busy
 * (poller_on_prepare()). */
#define LOOP_DOCS 1
/* While a commit is in flight, a document begins only while the next
 * batch holds less than this: the batch grows as fast as documents end,
 * and a sync may take long (tens of ms, more on a slow disk). */
#define PENDING_MAX ((size_t)1 << 20)

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct poller_feed *f = arg;

    f->out->entries++;
    f->out->entry_rc =
        ingest_add(f->ing, e, feed_parser_info(f->out->parser)->title,
                   f->out->location, now_s());
    return f->out->entry_rc;
}

/* Why the parser failed: out of memory when on_entry() stopped it so,
 * or when there is none. */
const char *
poller_parse_error(const struct poller_feed *f)
{
    if (f->out->entry_rc == -ENOMEM || f->out->parser == NULL)
        return "out of memory";
    return feed_parser_error(f->out->parser);
}

/* The charset parameter of a Content-Type (RFC 9110 §8.3), into out;
 * 0 when there is none. */
static int
content_type_charset(const char *ct, char *out, size_t size)
{
    const char *p = ct;
    size_t n;

    while (p && (p = strchr(p, ';')) != NULL) {
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (strncasecmp(p, "charset=", 8) != 0)
            continue;
        p += 8;
        if (*p == '"')
            p++;
        n = strcspn(p, "\"; \t");
        if (n == 0 || n >= size)
            return 0;
        memcpy(out, p, n);
        out[n] = '\0';
        return 1;
    }
    return 0;
}

/* f's parser, made when the poll's first byte comes (a poll answered
 * 304, or failed, needs none): 0, or -1 when out of memory. */
int
poller_parser_make(struct poller_feed *f)
{
    struct feed_limits lim;

    if (f->out->parser != NULL)
        return 0;
    feed_limits_default(&lim);
    f->out->parser = feed_parser_new(&lim, f->out->location, on_entry, f);
    f->out->doc.parser = f->out->parser;
    return f->out->parser != NULL ? 0 : -1;
}

/* 1 while a commit is in flight and PENDING_MAX waits behind it: a
 * document not yet begun waits for the commit's end (on_synced()). */
static int
store_behind(struct poller *p)
{
    return p->syncing && store_pending(p->store) >= PENDING_MAX;
}

/* Holds f's transfer (FETCH_PAUSE) until room() or the commit's end. */
static int
hold(struct poller_feed *f)
{
    if (!f->out->held) {
        f->out->held = 1;
        f->out->held_next = NULL;
        *f->p->held_tail = f;
        f->p->held_tail = &f->out->held_next;
    }
    return FETCH_PAUSE;
}

int
poller_on_data(const char *p, size_t n, const struct fetch_chunk *c,
               const char **error, void *arg)
{
    struct poller_feed *f = arg;
    char charset[64];
    int rc;

    /* A document not yet begun waits while the store is behind. */
    if (!f->out->begun && c->can_hold && store_behind(f->p))
        return hold(f);
    /* RFC 7303 §3: the HTTP charset beats the XML declaration. After a
     * redirect, relative links are relative to where the feed is. */
    if (!f->out->pushed &&
        (poller_parser_make(f) != 0 ||
         (content_type_charset(c->content_type, charset, sizeof(charset)) &&
          feed_parser_charset(f->out->parser, charset) != 0) ||
         (c->url && strcmp(c->url, f->out->location) != 0 &&
          feed_parser_base(f->out->parser, c->url) != 0))) {
        *error = "out of memory";
        return -1;
    }
    f->out->pushed = 1;
    f->out->last_byte = uv_now(f->p->loop);
    /* A document the response says is small is parsed here: most feeds
     * are, and for them the hand-offs to the thread and back cost more
     * than they spare the loop. So is one the loop took while the thread
     * was busy (poller_on_prepare()). */
    if (f->out->on_loop || (!f->out->threaded && c->length >= 0 &&
                            (uint64_t)c->length <= INLINE_MAX &&
                            f->out->inline_bytes + n <= INLINE_MAX)) {
        f->out->inline_bytes += n;
        if (feed_parser_push(f->out->parser, p, n, 0) != 0) {
            *error = poller_parse_error(f);
            return -1;
        }
        f->out->begun = 1;
        return 0;
    }
    rc = parsing_push(f->p->parsing, &f->out->doc, p, n, !c->can_hold);
    if (rc == PARSING_FULL)
        return hold(f);
    if (rc == 0)
        f->out->threaded = 1;
    if (rc != 0) {
        /* The thread is done with a failed document's parser. */
        *error = rc == -ENOMEM ? "out of memory" : poller_parse_error(f);
        return -1;
    }
    f->out->begun = 1;
    return 0;
}

/* Takes f out of the list of held feeds. */
void
poller_unhold(struct poller_feed *f)
{
    struct poller *p = f->p;
    struct poller_feed **pp;

    if (!f->out->held)
        return;
    for (pp = &p->held; *pp != f; pp = &(*pp)->out->held_next)
        ;
    if ((*pp = f->out->held_next) == NULL)
        p->held_tail = pp;
    f->out->held = 0;
    /* Its silence while held was feedd's, not its server's. */
    f->out->last_byte = uv_now(p->loop);
}

/* f's document, if the loop parsed it in whole, no longer counts. */
void
poller_loop_doc_end(struct poller_feed *f)
{
    if (f->out->on_loop) {
        f->out->on_loop = 0;
        f->p->on_loop--;
    }
}

/* Before each turn of the loop. While documents are held for the busy
 * parse thread, the loop parses one of them, the first not yet begun,
 * rather than wait for the thread; the thread has the others, and what
 * the loop must do for them comes between the loop's chunks. */
void
poller_on_prepare(uv_prepare_t *h)
{
    struct poller *p = h->data;
    struct poller_feed *f;

    if (p->held == NULL || p->on_loop >= LOOP_DOCS || p->fetcher == NULL ||
        p->closing || store_behind(p))
        return;
    for (f = p->held; f; f = f->out->held_next)
        if (!f->out->begun && !f->out->threaded && f->out->inline_bytes == 0) {
            f->out->on_loop = 1;
            p->on_loop++;
            poller_unhold(f);
            (void)fetcher_resume(p->fetcher, f);
            return;
        }
}

/* The parse thread caught up: the held transfers it would take now go
 * on, oldest first; those it would refuse again wait for the next room
 * (resuming every held transfer each time made 4.6 million refusals in
 * a cold poll of 100,000 one-chunk feeds). A transfer resumed may be
 * held again, at the end of the list: each is looked at once. */
void
poller_on_room(void *arg)
{
    struct poller *p = arg;
    struct poller_feed *f, *next;
    int behind = store_behind(p), want = 0;
    size_t n = 0;

    for (f = p->held; f; f = f->out->held_next)
        n++;
    for (f = p->held; f && n > 0; f = next, n--) {
        next = f->out->held_next;
        if (p->fetcher == NULL)
            continue;
        /* Held for the store: the commit's end lets it go, not room. */
        if (behind && !f->out->begun)
            continue;
        if (!parsing_may_take(p->parsing, &f->out->doc)) {
            want = 1;
            continue;
        }
        poller_unhold(f);
        (void)fetcher_resume(p->fetcher, f);
    }
    /* A transfer resumed and refused again asked for room itself. */
    if (want)
        parsing_want_room(p->parsing);
}
