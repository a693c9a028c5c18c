/* daemon/parsing.c - the parse thread (parsing.h).
 *
 * One queue of jobs (a chunk of a document, or its end) under one mutex,
 * in the order the loop queued them, so that each document's chunks
 * reach its parser in order. Ended documents go on a list of their own,
 * which the loop takes when the async handle wakes it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parsing.h"

struct job {
    struct job *next;
    struct parsing_doc *doc;
    void (*release)(void *); /* a job of parsing_release() */
    void *ptr;
    int end, finish;
    size_t n;
    char data[]; /* n bytes */
};

struct parsing {
    uv_async_t async;
    uv_thread_t thread;
    uv_mutex_t mu;
    uv_cond_t work; /* a job was queued, or stop */
    uv_cond_t idle; /* the last job was run */
    struct job *head, *tail;
    size_t bytes; /* of chunks queued or being parsed */
    size_t jobs;  /* queued or being parsed */
    size_t docs;  /* admitted, their end not yet parsed */
    struct job *done, *done_tail;
    int full; /* a chunk was refused: room() is owed */
    int room; /* room() is due */
    int stop;
    parsing_done_fn *on_done;
    parsing_room_fn *on_room;
    void *arg;
    void (*closed)(void *);
    void *closed_arg;
};

static void
run_job(struct job *j)
{
    struct parsing_doc *doc = j->doc;

    if (j->release) {
        j->release(j->ptr);
        return;
    }
    /* Only the thread writes failed while the document is queued. */
    if (j->end) {
        if (!doc->failed && j->finish &&
            feed_parser_push(doc->parser, "", 0, 1) != 0)
            doc->failed = 1;
        if (doc->ended)
            doc->ended(doc);
    } else if (!doc->failed &&
               feed_parser_push(doc->parser, j->data, j->n, 0) != 0) {
        doc->failed = 1;
    }
}

/* The most a thread takes from the queue at once: the queue's bytes
 * count down (and room() is told) after each such batch. */
#define BATCH_MAX (PARSING_QUEUE_MAX / 4)

static void
thread_main(void *arg)
{
    struct parsing *w = arg;
    struct job *batch, *j, *next, *freed;
    size_t took;

    uv_mutex_lock(&w->mu);
    for (;;) {
        int wake = 0;

        while (w->head == NULL && !w->stop)
            uv_cond_wait(&w->work, &w->mu);
        if (w->head == NULL)
            break; /* stop, and nothing left */
        /* A batch off the queue's head, parsed without the mutex, which
         * the loop takes for every chunk. */
        batch = j = w->head;
        for (took = j->n; j->next && took + j->next->n <= BATCH_MAX;
             j = j->next)
            took += j->next->n;
        if ((w->head = j->next) == NULL)
            w->tail = NULL;
        j->next = NULL;
        uv_mutex_unlock(&w->mu);
        for (j = batch; j; j = j->next)
            run_job(j);
        freed = NULL;
        uv_mutex_lock(&w->mu);
        for (j = batch; j; j = next) {
            next = j->next;
            w->bytes -= j->n;
            w->jobs--;
            if (!j->end) {
                j->next = freed;
                freed = j;
                continue;
            }
            if (j->doc->admitted) {
                j->doc->admitted = 0;
                w->docs--;
            }
            /* An ended document's job is the loop's from here on. */
            j->next = NULL;
            if (w->done_tail)
                w->done_tail->next = j;
            else
                w->done = j;
            w->done_tail = j;
            wake = 1;
        }
        if (w->jobs == 0)
            uv_cond_broadcast(&w->idle);
        if (w->full && w->bytes <= PARSING_QUEUE_MAX / 2) {
            w->full = 0;
            w->room = 1;
            wake = 1;
        }
        /* The wake-up (a system call) and the frees are made without the
         * mutex. */
        uv_mutex_unlock(&w->mu);
        for (j = freed; j; j = next) {
            next = j->next;
            free(j);
        }
        if (wake)
            (void)uv_async_send(&w->async); /* fails only when closing */
        uv_mutex_lock(&w->mu);
    }
    uv_mutex_unlock(&w->mu);
}

/* Hands the ended documents back, and says when there is room: on the
 * loop. */
static void
take_done(struct parsing *w)
{
    struct job *j, *next;
    int room;

    uv_mutex_lock(&w->mu);
    j = w->done;
    w->done = w->done_tail = NULL;
    room = w->room;
    w->room = 0;
    uv_mutex_unlock(&w->mu);
    if (room)
        w->on_room(w->arg);
    for (; j; j = next) {
        next = j->next;
        w->on_done(j->doc, w->arg);
        free(j);
    }
}

static void
on_async(uv_async_t *h)
{
    take_done(h->data);
}

/* Stops the thread, once it has run every job queued. */
static void
thread_stop(struct parsing *w)
{
    uv_mutex_lock(&w->mu);
    w->stop = 1;
    uv_cond_signal(&w->work);
    uv_mutex_unlock(&w->mu);
    (void)uv_thread_join(&w->thread);
}

struct parsing *
parsing_new(uv_loop_t *loop, parsing_done_fn *done, parsing_room_fn *room,
            void *arg, char *err, size_t errlen)
{
    struct parsing *w = calloc(1, sizeof(*w));
    int rc;

    if (w == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->on_done = done;
    w->on_room = room;
    w->arg = arg;
    if ((rc = uv_mutex_init(&w->mu)) != 0)
        goto fail;
    if ((rc = uv_cond_init(&w->work)) != 0)
        goto fail_mu;
    if ((rc = uv_cond_init(&w->idle)) != 0)
        goto fail_work;
    if ((rc = uv_thread_create(&w->thread, thread_main, w)) != 0)
        goto fail_idle;
    /* Last: a handle that could not be closed at once. The thread sends
     * nothing before a job is queued. */
    if ((rc = uv_async_init(loop, &w->async, on_async)) != 0) {
        thread_stop(w);
        goto fail_idle;
    }
    w->async.data = w;
    return w;
fail_idle:
    uv_cond_destroy(&w->idle);
fail_work:
    uv_cond_destroy(&w->work);
fail_mu:
    uv_mutex_destroy(&w->mu);
fail:
    snprintf(err, errlen, "cannot start the parse thread: %s", uv_strerror(rc));
    free(w);
    return NULL;
}

/* Queues j, with w->mu held, and releases the mutex; then wakes the
 * thread if it may be waiting (the queue was empty): the signal is made
 * without the mutex, so that the thread woken does not wait for it. */
static void
queue_unlock(struct parsing *w, struct job *j)
{
    int was_empty = w->head == NULL;

    if (w->tail)
        w->tail->next = j;
    else
        w->head = j;
    w->tail = j;
    w->bytes += j->n;
    w->jobs++;
    uv_mutex_unlock(&w->mu);
    if (was_empty)
        uv_cond_signal(&w->work);
}

int
parsing_push(struct parsing *w, struct parsing_doc *doc, const char *p,
             size_t n, int must_take)
{
    struct job *j;
    int failed, full;

    /* Made before the mutex is taken, so that the loop takes it once: a
     * chunk refused (the queue full) is rare, and its copy wasted. */
    if ((j = malloc(sizeof(*j) + n)) == NULL)
        return -ENOMEM;
    j->next = NULL;
    j->doc = doc;
    j->release = NULL;
    j->end = j->finish = 0;
    j->n = n;
    memcpy(j->data, p, n);
    uv_mutex_lock(&w->mu);
    failed = doc->failed;
    full = !must_take && ((w->bytes > 0 && w->bytes + n > PARSING_QUEUE_MAX) ||
                          (!doc->admitted && w->docs >= PARSING_DOCS_MAX));
    if (full && !failed)
        w->full = 1;
    if (full || failed) {
        uv_mutex_unlock(&w->mu);
        free(j);
        return failed ? -1 : PARSING_FULL;
    }
    if (!doc->admitted) {
        doc->admitted = 1;
        w->docs++;
    }
    queue_unlock(w, j);
    return 0;
}

void
parsing_want_room(struct parsing *w)
{
    uv_mutex_lock(&w->mu);
    w->full = 1;
    uv_mutex_unlock(&w->mu);
}

int
parsing_may_take(struct parsing *w, const struct parsing_doc *doc)
{
    int ok;

    uv_mutex_lock(&w->mu);
    ok = w->bytes <= PARSING_QUEUE_MAX / 2 &&
         (doc->admitted || w->docs < PARSING_DOCS_MAX);
    uv_mutex_unlock(&w->mu);
    return ok;
}

int
parsing_end(struct parsing *w, struct parsing_doc *doc, int finish)
{
    struct job *j = calloc(1, sizeof(*j));

    if (j == NULL)
        return -ENOMEM;
    j->doc = doc;
    j->end = 1;
    j->finish = finish;
    uv_mutex_lock(&w->mu);
    queue_unlock(w, j);
    return 0;
}

int
parsing_release(struct parsing *w, void (*fn)(void *), void *ptr)
{
    struct job *j = calloc(1, sizeof(*j));

    if (j == NULL)
        return -ENOMEM;
    j->release = fn;
    j->ptr = ptr;
    uv_mutex_lock(&w->mu);
    queue_unlock(w, j);
    return 0;
}

void
parsing_drain(struct parsing *w)
{
    uv_mutex_lock(&w->mu);
    while (w->jobs > 0)
        uv_cond_wait(&w->idle, &w->mu);
    uv_mutex_unlock(&w->mu);
    take_done(w);
}

static void
async_closed(uv_handle_t *h)
{
    struct parsing *w = h->data;
    void (*closed)(void *) = w->closed;
    void *arg = w->closed_arg;

    free(w);
    if (closed)
        closed(arg);
}

void
parsing_close(struct parsing *w, void (*closed)(void *), void *arg)
{
    parsing_drain(w);
    thread_stop(w);
    uv_mutex_destroy(&w->mu);
    uv_cond_destroy(&w->work);
    uv_cond_destroy(&w->idle);
    w->closed = closed;
    w->closed_arg = arg;
    uv_close((uv_handle_t *)&w->async, async_closed);
}
