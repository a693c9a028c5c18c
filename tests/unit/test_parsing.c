/* tests/unit/test_parsing.c - the parse thread (daemon/parsing.c) on a
 * libuv loop: documents parsed in the order their chunks came, each
 * handed back once its end is parsed; a failed one; the limits on bytes
 * and on documents at once, and room() after; drain and close; a job
 * of parsing_release(), run on the thread in its turn. The
 * thread is held still where a test needs the queue to fill: the entry
 * callback, which runs on the thread, waits on a semaphore. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <uv.h>

#include "feeds/item.h"
#include "feeds/parse.h"
#include "parsing.h"

#define GUARD_MS 10000
#define NDOCS PARSING_DOCS_MAX

struct doc {
    struct parsing_doc pd;
    char titles[256];       /* the entries' titles, '|' after each */
    int done;               /* done() calls */
    int ended;              /* ended() calls, on the thread */
    int ended_at_done;      /* ended, as done() found it */
    char ended_titles[256]; /* titles, as ended() found them */
};

struct fixture {
    uv_loop_t loop;
    uv_timer_t guard;
    int timed_out;
    struct parsing *w;
    struct doc docs[PARSING_DOCS_MAX + 2];
    int ndone; /* done() calls, all documents */
    int order[PARSING_DOCS_MAX + 2];
    int rooms;   /* room() calls */
    int closed;  /* closed() calls */
    uv_sem_t go; /* posted to let an entry through, when hold is set */
    int hold;
};

static struct fixture *fx_now; /* for on_entry(), which has only its doc */

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct doc *d = arg;
    size_t len = strlen(d->titles);

    if (fx_now->hold)
        uv_sem_wait(&fx_now->go);
    snprintf(d->titles + len, sizeof(d->titles) - len, "%s|",
             e->title ? e->title : "");
    return 0;
}

static void
on_done(struct parsing_doc *pd, void *arg)
{
    struct fixture *fx = arg;
    struct doc *d = pd->arg;

    d->done++;
    d->ended_at_done = d->ended;
    fx->order[fx->ndone++] = (int)(d - fx->docs);
}

/* parsing_doc.ended, on the thread. */
static void
on_ended(struct parsing_doc *pd)
{
    struct doc *d = pd->arg;

    d->ended++;
    memcpy(d->ended_titles, d->titles, sizeof(d->titles));
}

static void
on_room(void *arg)
{
    struct fixture *fx = arg;

    fx->rooms++;
}

static void
on_closed(void *arg)
{
    struct fixture *fx = arg;

    fx->closed++;
}

static void
on_guard(uv_timer_t *t)
{
    struct fixture *fx = t->data;

    fx->timed_out = 1;
}

/* Runs the loop until *n reaches want; fails the test after GUARD_MS. */
static void
run_until(struct fixture *fx, const int *n, int want)
{
    fx->timed_out = 0;
    assert_int_equal(uv_timer_start(&fx->guard, on_guard, GUARD_MS, 0), 0);
    while (*n < want && !fx->timed_out)
        uv_run(&fx->loop, UV_RUN_ONCE);
    uv_timer_stop(&fx->guard);
    assert_false(fx->timed_out);
}

static int
setup(void **state)
{
    struct fixture *fx = calloc(1, sizeof(*fx));
    struct feed_limits lim;
    char err[128];
    size_t i;

    assert_non_null(fx);
    assert_int_equal(uv_loop_init(&fx->loop), 0);
    assert_int_equal(uv_timer_init(&fx->loop, &fx->guard), 0);
    fx->guard.data = fx;
    assert_int_equal(uv_sem_init(&fx->go, 0), 0);
    feed_limits_default(&lim);
    for (i = 0; i < sizeof(fx->docs) / sizeof(fx->docs[0]); i++) {
        fx->docs[i].pd.parser =
            feed_parser_new(&lim, NULL, on_entry, &fx->docs[i]);
        assert_non_null(fx->docs[i].pd.parser);
        fx->docs[i].pd.arg = &fx->docs[i];
    }
    fx->w = parsing_new(&fx->loop, on_done, on_room, fx, err, sizeof(err));
    assert_non_null(fx->w);
    fx_now = fx;
    *state = fx;
    return 0;
}

static int
teardown(void **state)
{
    struct fixture *fx = *state;
    size_t i;

    /* Whatever a failed test left held goes through. */
    fx->hold = 0;
    for (i = 0; i < 64; i++)
        uv_sem_post(&fx->go);
    parsing_close(fx->w, on_closed, fx);
    uv_close((uv_handle_t *)&fx->guard, NULL);
    while (uv_run(&fx->loop, UV_RUN_DEFAULT) != 0)
        ;
    assert_int_equal(fx->closed, 1);
    assert_int_equal(uv_loop_close(&fx->loop), 0);
    for (i = 0; i < sizeof(fx->docs) / sizeof(fx->docs[0]); i++)
        feed_parser_free(fx->docs[i].pd.parser);
    uv_sem_destroy(&fx->go);
    free(fx);
    return 0;
}

/* An RSS document of entries named "PREFIX1" .. "PREFIXn". */
static void
rss(char *out, size_t size, const char *prefix, int n)
{
    size_t len = (size_t)snprintf(out, size, "<rss><channel><title>t</title>");

    for (int i = 1; i <= n; i++)
        len += (size_t)snprintf(out + len, size - len,
                                "<item><title>%s%d</title></item>", prefix, i);
    snprintf(out + len, size - len, "</channel></rss>");
}

/* An RSS document whose one entry "a" comes after 5,000 bytes of
 * comment, followed by tail: the parser holds the first 4 KiB until it
 * knows the encoding, so the entry is parsed by the push that carries it. */
static void
with_padding(char *out, size_t size, const char *tail)
{
    size_t len = (size_t)snprintf(out, size, "<rss><channel><!--");

    memset(out + len, ' ', 5000);
    len += 5000;
    snprintf(out + len, size - len, "--><item><title>a</title></item>%s", tail);
}

/* Chunks of several documents, interleaved 7 bytes at a time, reach each
 * parser in order; each document is handed back once, after its end. */
static void
test_interleaved(void **state)
{
    struct fixture *fx = *state;
    char text[NDOCS][512], want[64];
    size_t len[NDOCS], off[NDOCS] = {0}, left = NDOCS;
    int i;

    for (i = 0; i < NDOCS; i++) {
        char prefix[8];

        snprintf(prefix, sizeof(prefix), "d%d.", i);
        rss(text[i], sizeof(text[i]), prefix, 4);
        len[i] = strlen(text[i]);
    }
    while (left > 0)
        for (i = 0; i < NDOCS; i++) {
            size_t n = len[i] - off[i] < 7 ? len[i] - off[i] : 7;

            if (n == 0)
                continue;
            assert_int_equal(
                parsing_push(fx->w, &fx->docs[i].pd, text[i] + off[i], n, 0),
                0);
            off[i] += n;
            if (off[i] == len[i]) {
                assert_int_equal(parsing_end(fx->w, &fx->docs[i].pd, 1), 0);
                left--;
            }
        }
    run_until(fx, &fx->ndone, NDOCS);
    for (i = 0; i < NDOCS; i++) {
        snprintf(want, sizeof(want), "d%d.1|d%d.2|d%d.3|d%d.4|", i, i, i, i);
        assert_string_equal(fx->docs[i].titles, want);
        assert_int_equal(fx->docs[i].done, 1);
        assert_false(fx->docs[i].pd.failed);
    }
    /* In the order their ends were queued. */
    for (i = 0; i < NDOCS; i++)
        assert_int_equal(fx->order[i], i);
}

/* A document that fails is marked so; what it had is kept, the rest of
 * it is refused at once, and the other documents go on. An end without
 * finish is not parsed as the end of the document. */
static void
test_failed(void **state)
{
    struct fixture *fx = *state;
    char bad[6000], good[512];

    with_padding(bad, sizeof(bad), "<x a=1>");
    rss(good, sizeof(good), "g", 2);
    for (int i = 0; i < 3; i++)
        fx->docs[i].pd.ended = on_ended;
    assert_int_equal(parsing_push(fx->w, &fx->docs[0].pd, bad, strlen(bad), 0),
                     0);
    assert_int_equal(
        parsing_push(fx->w, &fx->docs[1].pd, good, strlen(good), 0), 0);
    parsing_drain(fx->w);
    assert_true(fx->docs[0].pd.failed);
    assert_string_equal(fx->docs[0].titles, "a|");
    assert_int_equal(parsing_push(fx->w, &fx->docs[0].pd, "<z/>", 4, 0), -1);
    assert_int_equal(parsing_end(fx->w, &fx->docs[0].pd, 1), 0);
    assert_int_equal(parsing_end(fx->w, &fx->docs[1].pd, 1), 0);
    /* An end that does not finish: the parser is not told. (The two
     * documents end first, so that a third may start.) */
    parsing_drain(fx->w);
    assert_int_equal(parsing_push(fx->w, &fx->docs[2].pd, "<rss>", 5, 0), 0);
    assert_int_equal(parsing_end(fx->w, &fx->docs[2].pd, 0), 0);
    run_until(fx, &fx->ndone, 3);
    assert_true(fx->docs[0].pd.failed);
    assert_false(fx->docs[1].pd.failed);
    assert_string_equal(fx->docs[1].titles, "g1|g2|");
    assert_false(fx->docs[2].pd.failed);
    assert_int_equal(feed_parser_push(fx->docs[2].pd.parser, "", 0, 1) != 0,
                     1); /* "<rss>" alone is no feed: the end was not seen */
    /* ended() ran once for each, failed or not, after its last entry and
     * before done(). */
    for (int i = 0; i < 3; i++) {
        assert_int_equal(fx->docs[i].ended, 1);
        assert_int_equal(fx->docs[i].ended_at_done, 1);
    }
    assert_string_equal(fx->docs[0].ended_titles, "a|");
    assert_string_equal(fx->docs[1].ended_titles, "g1|g2|");
}

/* With the thread held, the queue takes PARSING_QUEUE_MAX bytes and
 * refuses the next chunk; must_take queues it anyway; room() comes once
 * the thread catches up. */
static void
test_bytes_limit(void **state)
{
    struct fixture *fx = *state;
    size_t chunk = 16384, queued = 0;
    char *big = malloc(chunk), head[6000];
    int rc;

    assert_non_null(big);
    memset(big, ' ', chunk);
    with_padding(head, sizeof(head), "");
    fx->hold = 1;
    /* The first entry holds the thread on the first chunk. */
    assert_int_equal(
        parsing_push(fx->w, &fx->docs[0].pd, head, strlen(head), 0), 0);
    queued = strlen(head);
    while ((rc = parsing_push(fx->w, &fx->docs[0].pd, big, chunk, 0)) == 0)
        queued += chunk;
    assert_int_equal(rc, PARSING_FULL);
    assert_true(queued <= PARSING_QUEUE_MAX);
    assert_true(queued + chunk > PARSING_QUEUE_MAX);
    assert_int_equal(parsing_push(fx->w, &fx->docs[0].pd, big, chunk, 1), 0);
    assert_int_equal(fx->rooms, 0);
    fx->hold = 0;
    uv_sem_post(&fx->go);
    run_until(fx, &fx->rooms, 1);
    assert_int_equal(parsing_end(fx->w, &fx->docs[0].pd, 0), 0);
    run_until(fx, &fx->ndone, 1);
    assert_false(fx->docs[0].pd.failed);
    free(big);
}

/* No more than PARSING_DOCS_MAX documents at once: the next one's first
 * chunk is refused until one of them has ended, and room() says so. */
static void
test_docs_limit(void **state)
{
    struct fixture *fx = *state;
    const char *head = "<rss><channel>";
    const char *x = "<item><title>x</title></item>";
    int i;

    fx->hold = 1;
    for (i = 0; i < PARSING_DOCS_MAX; i++)
        assert_int_equal(
            parsing_push(fx->w, &fx->docs[i].pd, head, strlen(head), 0), 0);
    /* A document admitted takes more; one more document does not. */
    assert_int_equal(parsing_push(fx->w, &fx->docs[0].pd, x, strlen(x), 0), 0);
    assert_int_equal(parsing_push(fx->w, &fx->docs[PARSING_DOCS_MAX].pd, head,
                                  strlen(head), 0),
                     PARSING_FULL);
    for (i = 0; i < PARSING_DOCS_MAX; i++)
        assert_int_equal(parsing_end(fx->w, &fx->docs[i].pd, 0), 0);
    fx->hold = 0;
    uv_sem_post(&fx->go);
    run_until(fx, &fx->ndone, PARSING_DOCS_MAX);
    assert_true(fx->rooms >= 1);
    assert_int_equal(parsing_push(fx->w, &fx->docs[PARSING_DOCS_MAX].pd, head,
                                  strlen(head), 0),
                     0);
    assert_int_equal(parsing_end(fx->w, &fx->docs[PARSING_DOCS_MAX].pd, 0), 0);
    run_until(fx, &fx->ndone, PARSING_DOCS_MAX + 1);
}

/* parsing_may_take() says what a push would get: no while the queue is
 * over half full or the documents are all taken (for one not among
 * them); parsing_want_room() brings room() again once the thread has
 * parsed a job with the queue at most half full. */
static void
test_may_take(void **state)
{
    struct fixture *fx = *state;
    struct parsing_doc *other = &fx->docs[PARSING_DOCS_MAX].pd;
    size_t chunk = 16384;
    char *big = malloc(chunk), head[6000];
    int i, rc;

    assert_non_null(big);
    memset(big, ' ', chunk);
    with_padding(head, sizeof(head), "");
    assert_true(parsing_may_take(fx->w, &fx->docs[0].pd));
    fx->hold = 1;
    assert_int_equal(
        parsing_push(fx->w, &fx->docs[0].pd, head, strlen(head), 0), 0);
    while ((rc = parsing_push(fx->w, &fx->docs[0].pd, big, chunk, 0)) == 0)
        ;
    assert_int_equal(rc, PARSING_FULL);
    assert_false(parsing_may_take(fx->w, &fx->docs[0].pd));
    /* The other documents take their places. */
    for (i = 1; i < PARSING_DOCS_MAX; i++)
        assert_int_equal(parsing_push(fx->w, &fx->docs[i].pd, " ", 1, 1), 0);
    fx->hold = 0;
    uv_sem_post(&fx->go);
    run_until(fx, &fx->rooms, 1);
    parsing_drain(fx->w);
    assert_true(parsing_may_take(fx->w, &fx->docs[0].pd));
    assert_false(parsing_may_take(fx->w, other));
    /* Asked again: room() after the next job, here an end. */
    parsing_want_room(fx->w);
    assert_int_equal(fx->rooms, 1);
    assert_int_equal(parsing_end(fx->w, &fx->docs[1].pd, 0), 0);
    run_until(fx, &fx->rooms, 2);
    assert_true(parsing_may_take(fx->w, other));
    for (i = 0; i < PARSING_DOCS_MAX; i++)
        if (i != 1)
            assert_int_equal(parsing_end(fx->w, &fx->docs[i].pd, 0), 0);
    run_until(fx, &fx->ndone, PARSING_DOCS_MAX);
    free(big);
}

/* parsing_drain() returns with every document handed back. */
static void
test_drain(void **state)
{
    struct fixture *fx = *state;
    char text[512];

    rss(text, sizeof(text), "e", 3);
    for (int i = 0; i < 2; i++) {
        assert_int_equal(
            parsing_push(fx->w, &fx->docs[i].pd, text, strlen(text), 0), 0);
        assert_int_equal(parsing_end(fx->w, &fx->docs[i].pd, 1), 0);
    }
    parsing_drain(fx->w);
    assert_int_equal(fx->ndone, 2);
    assert_string_equal(fx->docs[1].titles, "e1|e2|e3|");
}

struct released {
    uv_thread_t thread; /* where release() ran */
    char titles[256];   /* doc 0's titles, as release() found them */
    int runs;
};

/* A job of parsing_release(), on the thread. */
static void
release(void *arg)
{
    struct released *r = arg;

    r->thread = uv_thread_self();
    memcpy(r->titles, fx_now->docs[0].titles, sizeof(r->titles));
    r->runs++;
}

/* parsing_release() runs its function once, on the thread, after what
 * was queued before it; parsing_drain() waits for it. */
static void
test_release(void **state)
{
    struct fixture *fx = *state;
    uv_thread_t self = uv_thread_self();
    struct released r;
    char text[512];

    memset(&r, 0, sizeof(r));
    rss(text, sizeof(text), "r", 2);
    assert_int_equal(
        parsing_push(fx->w, &fx->docs[0].pd, text, strlen(text), 0), 0);
    assert_int_equal(parsing_end(fx->w, &fx->docs[0].pd, 1), 0);
    assert_int_equal(parsing_release(fx->w, release, &r), 0);
    parsing_drain(fx->w);
    assert_int_equal(r.runs, 1);
    assert_false(uv_thread_equal(&r.thread, &self));
    assert_string_equal(r.titles, "r1|r2|");
    assert_int_equal(fx->ndone, 1);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_docs_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_may_take, setup, teardown),
        cmocka_unit_test_setup_teardown(test_drain, setup, teardown),
        cmocka_unit_test_setup_teardown(test_release, setup, teardown),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
