/* daemon/parsing.h - the polls' documents parsed on a thread of their own,
 * so that parsing (half of a cold poll's CPU) runs beside the loop's
 * fetching and storing instead of between them.
 *
 * The loop hands each body chunk over as curl delivers it (a copy); the
 * thread feeds the chunks of every document to its parser in the order
 * they came, and tells the loop, through a uv_async_t, when a document's
 * end has been parsed. While a document is queued or being parsed the
 * thread alone uses its parser and whatever the parser's callbacks touch
 * (the poll's entries); once done is called the loop has them back.
 *
 * The queue holds at most PARSING_QUEUE_MAX bytes, of at most
 * PARSING_DOCS_MAX documents: a chunk that does not fit, or that would
 * start one document more, is refused, and room() is called on the loop
 * after the next chunk or end the thread parses with the queue at most
 * half full.
 * Few documents at once, each parsed to its end before the next begins,
 * keep what a poll holds until its end (its entries) to a few polls'
 * worth, however many transfers run. The loop never waits for the
 * thread, but to drain it. */
#ifndef FEEDD_PARSING_H
#define FEEDD_PARSING_H

#include <stddef.h>
#include <stdint.h>

#include <uv.h>

#include "feeds/parse.h"

#define PARSING_QUEUE_MAX ((size_t)1 << 19)
#define PARSING_DOCS_MAX 3

/* One document on its way through the thread: the caller's, for as long
 * as a chunk or the end of it is queued. */
struct parsing_doc {
    struct feed_parser *parser;
    void *arg; /* for done() and ended() */
    /* Called on the thread when it has parsed the end of doc (failed or
     * not), before done(): what is left to do with the document's own
     * data and nothing else. May be NULL. */
    void (*ended)(struct parsing_doc *doc);
    int failed;   /* feed_parser_push() failed: the rest is not parsed */
    int admitted; /* one of the PARSING_DOCS_MAX */
};

struct parsing;

/* Called on the loop once the end of doc has been handled: the parser is
 * the loop's again, and doc->failed says whether it failed. */
typedef void parsing_done_fn(struct parsing_doc *doc, void *arg);
/* Called on the loop when the queue has room again after a refusal. */
typedef void parsing_room_fn(void *arg);

/* Starts the thread. NULL, with the reason in err, when it cannot. */
struct parsing *parsing_new(uv_loop_t *loop, parsing_done_fn *done,
                            parsing_room_fn *room, void *arg, char *err,
                            size_t errlen);

/* Returned by parsing_push() when the queue is full. */
#define PARSING_FULL 1

/* Queues a copy of the n bytes at p for doc's parser (n > 0). 0;
 * PARSING_FULL (nothing queued: room() comes later), unless must_take is
 * set (the bytes cannot wait: they are queued over the limits); -1 when
 * doc failed already (feed_parser_error() says why: the thread no longer
 * touches it); -ENOMEM. */
int parsing_push(struct parsing *, struct parsing_doc *doc, const char *p,
                 size_t n, int must_take);

/* 1 when a chunk of doc would be taken now: doc is one of the documents
 * under way or there is room for one more, and the queue is at most half
 * full. For a caller that holds transfers and resumes only those. */
int parsing_may_take(struct parsing *, const struct parsing_doc *doc);

/* Asks for room() once more: the caller still holds transfers that
 * parsing_may_take() refused. */
void parsing_want_room(struct parsing *);

/* Queues the end of doc: with finish set, the parser is told the
 * document ended (a last feed_parser_push()); then done() comes, on the
 * loop. 0 or -ENOMEM (then nothing is queued). */
int parsing_end(struct parsing *, struct parsing_doc *doc, int finish);

/* Queues fn(ptr), to be run on the thread after what is queued: for
 * memory the thread allocated, which goes back to its own malloc arena
 * there. A free on the loop takes that arena's lock, which the thread's
 * mallocs hold meanwhile (glibc): the loop waited on it thousands of
 * times a cold poll. 0 or -ENOMEM (then nothing is queued). */
int parsing_release(struct parsing *, void (*fn)(void *), void *ptr);

/* Waits until every queued document is parsed, then calls their done()
 * at once, before it returns. */
void parsing_drain(struct parsing *);

/* Drains, stops the thread and closes the async handle; closed(arg) is
 * called from the loop once it is closed and the parsing freed. */
void parsing_close(struct parsing *, void (*closed)(void *), void *arg);

#endif
