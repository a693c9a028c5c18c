/* daemon/poller.c - the polls of every feed (poller.h).
 *
 * The schedule (schedule.h) says when each feed is due and which due
 * polls may start now; one libuv timer wakes the poller for the earliest.
 * A started feed's response goes
 * chunk by chunk from curl to its own parser, on the loop or the parse
 * thread (poller_body.c), and each entry the parser hands out into the
 * feed's ingest (ingest.h). When the response ends its connection is free; once
 * the thread has parsed the end too, the ingest resolves and stages the batch
 * for the group commit; then the feed's state is saved, its next poll
 * armed, and the owner told.
 *
 * Each feed is allocated on its own and the poller keeps pointers to
 * them, indexed by the feed's number in the schedule: the fetcher, the
 * parser and the group commit hold a feed's address while it polls, so a
 * feed must never move when feeds are added, and a removed one lives on
 * until its poll is committed. A reload re-points every feed to the new
 * config at once (the old one is freed after); what a poll under way
 * reads of its feed (its location, its ID rules) is its own until the
 * poll is committed, so a change applies from the next poll. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "feeds/parse.h"
#include "fetch.h"
#include "ingest.h"
#include "log.h"
#include "parsing.h"
#include "poller.h"
#include "poller_int.h"
#include "schedule.h"

static int64_t
now_s(void)
{
    return (int64_t)time(NULL);
}

/* ---- the schedule ---- */

static void poll_feed(struct poller_feed *f);
static void on_timer(uv_timer_t *t);

static size_t
feed_index(const struct poller_feed *f)
{
    return f->slot;
}

/* Sets the timer for what comes next: at once when a due poll may start
 * (a connection came free), else the earliest due time. */
void
poller_rearm(struct poller *p)
{
    uint64_t next = sched_next(p->sched), now = uv_now(p->loop);
    int rc;

    if (p->closing)
        return;
    if (sched_ready(p->sched))
        next = now;
    if (next == SCHED_NEVER) {
        (void)uv_timer_stop(&p->timer);
        return;
    }
    rc = uv_timer_start(&p->timer, on_timer, next > now ? next - now : 0, 0);
    if (rc != 0)
        log_warnx("cannot arm the timer of the next poll: %s", uv_strerror(rc));
}

/* Starts every due poll that may start now. */
static void
on_timer(uv_timer_t *t)
{
    struct poller *p = t->data;
    size_t i;

    sched_due(p->sched, uv_now(p->loop));
    while (!p->closing && sched_take(p->sched, &i))
        poll_feed(p->feeds[i]);
    poller_rearm(p);
}

/* f is due ms from now. */
static void
arm(struct poller_feed *f, uint64_t ms)
{
    sched_at(f->p->sched, feed_index(f), uv_now(f->p->loop) + ms);
    poller_rearm(f->p);
}

/* Arms the feed's timer for its next poll: its interval, longer after
 * consecutive errors (doubling, up to MAX_BACKOFF), and not before wait
 * seconds when the server said so (-1: it did not), with up to 10% of
 * jitter so that feeds drift apart. */
void
poller_schedule(struct poller_feed *f, int errors, int64_t wait, int why)
{
    int64_t delay = f->cf->interval;
    struct store_feed_state st;
    const struct store_feed_state *old;
    uint64_t jitter, ms, now = uv_now(f->p->loop);
    int64_t skip;

    if (f->p->once || f->p->closing || f->removed)
        return;
    /* Its hub pushes what is new: polls are only the fallback. */
    if (f->websub && delay < POLLER_WEBSUB_INTERVAL)
        delay = POLLER_WEBSUB_INTERVAL;
    for (int i = 1; i < errors && delay < MAX_BACKOFF; i++)
        delay *= 2;
    if (errors > 0 && delay > MAX_BACKOFF)
        delay = MAX_BACKOFF > f->cf->interval ? MAX_BACKOFF : f->cf->interval;
    if (wait > MAX_BACKOFF)
        wait = MAX_BACKOFF;
    jitter = (uint64_t)(wait > delay ? wait : delay) * 1000 / 10;
    jitter = jitter ? (uint64_t)rand() % jitter : 0;
    /* A healthy feed keeps its place in its host's cycle, so that the
     * feeds of one host stay spread over the interval. */
    ms = (uint64_t)delay * 1000;
    if (errors == 0)
        ms = sched_spread(f->p->sched, feed_index(f), now, ms) - now;
    if (wait >= 0 && (uint64_t)wait * 1000 > ms)
        ms = (uint64_t)wait * 1000;
    else
        why = errors > 0 ? POLLER_WHY_BACKOFF
              : f->websub != 0 && f->cf->interval < POLLER_WEBSUB_INTERVAL
                  ? POLLER_WHY_WEBSUB
                  : POLLER_WHY_INTERVAL;
    /* The feed's own ttl: never sooner than the interval. */
    if (errors == 0 && (uint64_t)f->hint_minutes * 60000 > ms) {
        ms = (uint64_t)f->hint_minutes * 60000;
        why = POLLER_WHY_TTL;
    }
    skip = poller_skip_to(f, now_s() + (int64_t)((ms + jitter) / 1000));
    if (skip > now_s() + (int64_t)((ms + jitter) / 1000)) {
        ms = (uint64_t)(skip - now_s()) * 1000;
        jitter = 0;
        why = POLLER_WHY_SKIP;
    }
    arm(f, ms + jitter);
    old = store_feed_state_get(f->p->store, f->cf->name);
    if (old) {
        st = *old;
        st.next_poll = now_s() + (int64_t)((ms + jitter) / 1000);
        st.why = why;
        if (store_feed_state_set(f->p->store, f->cf->name, &st) != 0)
            log_warnx("%s: out of memory", f->cf->name);
    }
}

/* The first poll of feed i: when the last run set a next poll still in
 * the future, then (a restart is no reason to poll early); otherwise
 * now (the schedule starts no more at once than the caps allow). */
static uint64_t
first_delay(const struct poller *p, size_t i)
{
    const struct config_feed *cf = p->feeds[i]->cf;
    const struct store_feed_state *st =
        store_feed_state_get(p->store, cf->name);
    int64_t now = now_s();

    if (st && st->next_poll != FEED_TIME_NONE && st->next_poll > now) {
        int64_t wait = st->next_poll - now;
        /* A failing feed keeps its back-off across restarts: a restart
         * loop must not hammer the servers back-off protects. */
        int64_t cap = st->errors > 0 ? MAX_BACKOFF : cf->interval;

        if (wait > cap)
            wait = cap;
        return (uint64_t)wait * 1000;
    }
    return 0;
}

/* ---- the end of a poll ---- */

/* ---- stalled polls ---- */

/* A poll that has had no byte for this long stops counting against its
 * host's per_host: one hung feed holds its own connection, not the
 * host's other feeds. */
#define STALL_MS 5000

static void on_stall_timer(uv_timer_t *t);

/* f's transfer has begun: in the list of running ones, and the stall
 * check armed. */
static void
running_add(struct poller_feed *f)
{
    struct poller *p = f->p;

    f->out->run_next = p->running;
    f->out->run_prev = NULL;
    if (p->running != NULL)
        p->running->out->run_prev = f;
    p->running = f;
    if (!uv_is_active((uv_handle_t *)&p->stall_timer))
        (void)uv_timer_start(&p->stall_timer, on_stall_timer, STALL_MS / 5,
                             STALL_MS / 5);
}

static void
running_remove(struct poller_feed *f)
{
    struct poll_outcome *o = f->out;

    if (o == NULL || (o->run_prev == NULL && f->p->running != f))
        return;
    if (o->run_prev != NULL)
        o->run_prev->out->run_next = o->run_next;
    else
        f->p->running = o->run_next;
    if (o->run_next != NULL)
        o->run_next->out->run_prev = o->run_prev;
    o->run_prev = o->run_next = NULL;
    if (f->p->running == NULL)
        (void)uv_timer_stop(&f->p->stall_timer);
}

/* Each running poll silent for STALL_MS leaves its host's count, and the
 * polls that were waiting for that host may start; one that feedd holds
 * (the parse thread has no room for it) is not silent, it is waited for. */
static void
on_stall_timer(uv_timer_t *t)
{
    struct poller *p = t->data;
    uint64_t now = uv_now(p->loop);
    struct poller_feed *f;
    int freed = 0;

    for (f = p->running; f != NULL; f = f->out->run_next)
        if (!f->out->stalled && !f->out->held &&
            now - f->out->last_byte >= STALL_MS) {
            f->out->stalled = 1;
            sched_stalled(p->sched, feed_index(f));
            log_debug("%s: no byte for %d s: its host's other feeds go on",
                      f->cf->name, STALL_MS / 1000);
            freed = 1;
        }
    if (freed)
        poller_rearm(p);
}

/* f's transfer is over: its connection is free for the next poll. */
static void
transfer_end(struct poller_feed *f)
{
    running_remove(f);
    if (f->out == NULL || !f->out->push)
        sched_done(f->p->sched, feed_index(f));
    /* Its location changed during the poll: the next goes to the new
     * host. Out of memory, it stays in the old host's turn. */
    if (f->rehost && !f->removed &&
        sched_set_host(f->p->sched, feed_index(f), f->cf->location) == 0)
        f->rehost = 0;
    poller_rearm(f->p);
}

/* Frees ptr with fn on the thread that parsed f's document, whose
 * mallocs made most of what the parse left (parsing_release()); on the
 * loop when the loop parsed it, or when the job cannot be queued. */
static void
free_where_parsed(struct poller_feed *f, void (*fn)(void *), void *ptr)
{
    if (ptr != NULL && (!f->out->threaded || f->p->parsing == NULL ||
                        parsing_release(f->p->parsing, fn, ptr) != 0))
        fn(ptr);
}

static void
parser_free(void *parser)
{
    feed_parser_free(parser);
}

/* f's poll is over but for its group commit. */
static void
poll_end(struct poller_feed *f)
{
    if (f->out != NULL) {
        free_where_parsed(f, parser_free, f->out->parser);
        f->out->parser = NULL;
        f->out->doc.parser = NULL;
    }
    f->busy = 0;
}

/* Saves feeds.state; a failure is logged once, not after every poll
 * while it lasts (a full disk is one line per feed, not two). */
void
poller_save_state(struct poller *p)
{
    int rc = store_feed_state_save(p->store);

    if (rc != 0 && rc != p->save_rc) {
        errno = -rc;
        log_warn("feeds.state: cannot save");
    }
    p->save_rc = rc;
}

/* Why the poll's entries could not all be stored, made up in what (the
 * one line the poll logs: nothing is logged here), or NULL when they
 * were. */
const char *
poller_unstored_why(const struct poller_feed *f, char *what, size_t size)
{
    const struct ingest_result *res = &f->out->res;
    int rc = f->out->stage_rc;

    if (rc != 0) {
        snprintf(what, size, "cannot store its entries: %s",
                 rc == -ENOMEM ? "out of memory" : strerror(-rc));
        return what;
    }
    if (res->commit_rc != 0) {
        /* Nothing of it is stored and its new IDs are unseen again:
         * without validators, the next poll brings it all back. */
        snprintf(what, size, "cannot store %zu entr%s: %s", res->lost,
                 res->lost == 1 ? "y" : "ies", store_error(f->p->store));
        return what;
    }
    if (res->failed > 0) {
        snprintf(what, size, "cannot store %zu entr%s, the first %s: %s",
                 res->failed, res->failed == 1 ? "y" : "ies", res->failed_id,
                 res->failed_rc == -EIO      ? store_error(f->p->store)
                 : res->failed_rc == -ENOMEM ? "out of memory"
                                             : strerror(-res->failed_rc));
        return what;
    }
    return NULL;
}

/* What the limits left out of this poll, in one line: the parser's
 * (past max_entries, fields over max_field) and the store's (records over
 * its 32 MiB). None of it fails the poll. */
static void
log_limits(const struct poller_feed *f, const struct ingest_result *res)
{
    char note[384];
    size_t len;

    note[0] = '\0';
    if (f->out->parser != NULL)
        (void)feed_parser_limits_note(f->out->parser, note, sizeof(note));
    len = strlen(note);
    if (res->too_big > 0)
        snprintf(note + len, sizeof(note) - len,
                 "%s%zu entr%s skipped, a record over the store's 32 MiB "
                 "(the first: %s)",
                 len ? "; " : "", res->too_big, res->too_big == 1 ? "y" : "ies",
                 res->too_big_id);
    if (note[0])
        log_warnx("%s: %s", f->cf->name, note);
}

/* Frees f's outcome: a feed between polls holds none. */
void
poller_outcome_free(struct poller_feed *f)
{
    struct poll_outcome *o = f->out;

    if (o == NULL)
        return;
    poller_loop_doc_end(f);
    running_remove(f);
    free(o->error);
    free(o->url);
    free(o->etag);
    free(o->last_modified);
    free(o->location);
    free(o->hub);
    free(o->self);
    free(o);
    f->out = NULL;
}

static char *
dup_or_null(const char *s, int *nomem)
{
    char *d = s ? strdup(s) : NULL;

    if (s && !d)
        *nomem = 1;
    return d;
}

/* After the group commit: records the feed's state, logs the poll's one
 * line, schedules the next poll and (with report set) reports it. */
void
poller_poll_result(struct poller_feed *f, int report)
{
    struct poller *p = f->p;
    const struct poll_outcome *o = f->out;
    const struct ingest_result *res = &o->res;
    const struct store_feed_state *old;
    struct store_feed_state st;
    struct poller_report rep;
    const char *error = o->error, *failed;
    int64_t wait;
    int why;
    char msg[512], what[400];
    int unstored = 0, server = 1;

    if (o->push) {
        poller_push_result(f, report);
        return;
    }
    if ((failed = poller_unstored_why(f, what, sizeof(what))) != NULL) {
        error = failed;
        unstored = 1;
    }
    /* A failed commit is the poll's failure, cancelled or not, and not
     * the server's. */
    if (res->commit_rc != 0)
        server = 0;
    if (server && o->cancelled)
        return;
    memset(&st, 0, sizeof(st));
    if ((old = store_feed_state_get(p->store, f->cf->name)) != NULL)
        st = *old;
    else
        st.next_poll = st.last_ok = FEED_TIME_NONE;
    st.last_poll = now_s();
    f->status =
        server && o->status > 0 && o->status < 1000 ? (uint16_t)o->status : 0;
    f->stored += (uint32_t)res->fresh;
    if (error != NULL)
        p->counts.failed++;
    else if (o->not_modified)
        p->counts.not_modified++;
    else
        p->counts.ok++;
    if (error == NULL) {
        st.last_ok = st.last_poll;
        st.errors = 0;
        st.last_error = NULL;
        /* Validators are kept only from a whole, clean response: after a
         * failure the next poll must fetch everything again. */
        if (!o->not_modified) {
            st.etag = o->etag;
            st.last_modified = o->last_modified;
        }
        if (o->not_modified)
            log_debug("%s: not modified", f->cf->name);
        else if (res->fresh + res->changed > 0)
            log_info("%s: %zu new, %zu updated (%zu in the feed)", f->cf->name,
                     res->fresh, res->changed, o->entries);
        else
            log_debug("%s: no new entries (%zu)", f->cf->name, o->entries);
    } else {
        st.errors++;
        if (server && o->status >= 400)
            snprintf(msg, sizeof(msg), "HTTP %ld from %s", o->status,
                     o->url ? o->url : f->cf->location);
        else if (o->entries > 0 && !unstored)
            snprintf(msg, sizeof(msg), "%s (after %zu entr%s)", error,
                     o->entries, o->entries == 1 ? "y" : "ies");
        else
            snprintf(msg, sizeof(msg), "%s", error);
        st.last_error = msg;
        st.etag = NULL;
        st.last_modified = NULL;
        /* One line: the feed, where it was fetched from (an HTTP error
         * names it already; entries the store could not take are not the
         * server's doing), the cause. */
        if ((server && o->status >= 400) || unstored || !server)
            log_warnx("%s: %s", f->cf->name, msg);
        else
            log_warnx("%s: %s: %s", f->cf->name,
                      o->url ? o->url : f->cf->location, msg);
    }
    if (store_feed_state_set(p->store, f->cf->name, &st) != 0)
        log_warnx("%s: out of memory", f->cf->name);
    wait = poller_server_wait(f, error != NULL, &why);
    poller_schedule(f, st.errors, wait, why);
    poller_repoll(f);
    if (!report)
        return;
    rep.feed = f->cf->name;
    rep.fresh = res->fresh;
    rep.changed = res->changed;
    rep.unstored = unstored;
    rep.active = poller_active(p);
    rep.moved_to = poller_moved_for_good(f, error == NULL);
    rep.hub = o->hub;
    rep.self = o->self;
    rep.whole = o->ok && error == NULL && !o->hub_unknown;
    p->report(&rep, p->arg);
}

/* The parse of f's document is over (f's parser is the loop's again):
 * stage what it brought for the group commit. */
/* On the parse thread, at the end of f's document. */
static void
on_doc_ended(struct parsing_doc *doc)
{
    struct poller_feed *f = doc->arg;

    (void)ingest_prepare(f->ing); /* out of memory, staging makes it */
}

static void
on_parsed(struct parsing_doc *doc, void *arg)
{
    struct poller_feed *f = doc->arg;
    struct poll_outcome *o = f->out;
    const struct feed_info *fi;
    int whole;

    (void)arg;
    /* Entries parsed before an error are kept, as on a clean end. */
    if (doc->failed && o->error == NULL &&
        (o->error = strdup(poller_parse_error(f))) == NULL)
        o->error = strdup("out of memory");
    whole = o->ok && o->error == NULL;
    if (!whole) {
        free(o->etag);
        free(o->last_modified);
        o->etag = o->last_modified = NULL;
    }
    fi = f->out->parser ? feed_parser_info(f->out->parser) : NULL;
    if (fi && whole) {
        poller_take_hints(f, fi);
        /* Out of memory, the feed is not subscribed to this time, nor
         * taken for one that names no hub. */
        if (fi->hub && fi->self &&
            ((o->hub = strdup(fi->hub)) == NULL ||
             (o->self = strdup(fi->self)) == NULL)) {
            free(o->hub);
            o->hub = NULL;
            o->hub_unknown = 1;
        }
    }
    if (fi && fi->bad_dates > 0)
        log_warnx("%s: %zu date%s could not be read, e.g. \"%.80s\"",
                  f->cf->name, fi->bad_dates, fi->bad_dates == 1 ? "" : "s",
                  fi->bad_date ? fi->bad_date : "");
    o->stage_rc = ingest_stage(f->ing, whole, now_s(), &o->res);
    free_where_parsed(f, ingest_spent_free, o->res.spent);
    o->res.spent = NULL;
    log_limits(f, &o->res);
    transfer_end(f);
    poll_end(f);
    poller_group_add(f);
}

/* The transfer of f ended, well or not: the end of its document goes to
 * the parse thread, after its last chunk. Its connection is taken until
 * then, so that no more documents are parsed at once than the caps let
 * transfers run. */
void
poller_on_done(const struct fetch_result *r, void *arg)
{
    struct poller_feed *f = arg;
    struct poll_outcome *o = f->out;
    int nomem = 0;

    poller_unhold(f);
    o->not_modified = r->not_modified;
    o->cancelled = r->cancelled;
    o->status = r->status;
    o->retry_after = r->retry_after;
    o->moved = r->moved;
    o->fresh_for = r->fresh_for;
    o->ok = r->ok && !r->not_modified && r->error == NULL;
    o->error = dup_or_null(r->error, &nomem);
    o->url = dup_or_null(r->url, &nomem);
    if (o->ok) {
        o->etag = dup_or_null(r->etag, &nomem);
        o->last_modified = dup_or_null(r->last_modified, &nomem);
    }
    if (nomem) {
        /* Without its validators or reason, the poll counts as failed. */
        free(o->error);
        o->error = strdup("out of memory");
        o->ok = 0;
    }
    /* Nothing went to the thread: the parser is the loop's. The end of
     * a document (an empty one, too) is parsed where its chunks were. */
    if (!f->out->threaded) {
        poller_loop_doc_end(f);
        if (o->ok && (poller_parser_make(f) != 0 ||
                      feed_parser_push(f->out->parser, "", 0, 1) != 0))
            f->out->doc.failed = 1;
        on_parsed(&f->out->doc, NULL);
    } else if (parsing_end(f->p->parsing, &f->out->doc, o->ok) != 0) {
        /* The thread may still parse its chunks: wait for them. */
        parsing_drain(f->p->parsing);
        f->out->doc.failed = 1;
        f->out->entry_rc = -ENOMEM;
        on_parsed(&f->out->doc, NULL);
    }
}

/* A poll that could not even start: an error like any other, recorded
 * and backed off from. */
static void
poll_failed(struct poller_feed *f, const char *why)
{
    f->out->error = strdup(why);
    transfer_end(f);
    poll_end(f);
    poller_group_add(f);
}

static void
poll_feed(struct poller_feed *f)
{
    struct poller *p = f->p;
    const struct store_feed_state *st;
    const struct config_fetch *fx;
    struct fetch_req req;
    int rc;

    if (f->busy || p->closing)
        return;
    /* Its ID rules changed since the last poll (which is committed: its
     * ingest is free). Out of memory, the old ones serve once more. */
    if (f->stale && poller_feed_rules(f) == 0)
        f->stale = 0;
    /* What the poll says is kept until its group commit. Out of memory
     * even for that, the poll is put off as after an error. */
    if ((f->out = calloc(1, sizeof(*f->out))) == NULL ||
        (f->out->location = strdup(f->cf->location)) == NULL) {
        log_warnx("%s: out of memory, the poll is put off", f->cf->name);
        poller_outcome_free(f);
        transfer_end(f);
        poll_end(f);
        poller_schedule(f, 1, -1, POLLER_WHY_BACKOFF);
        return;
    }
    f->out->doc.arg = f;
    f->out->doc.ended = on_doc_ended;
    st = store_feed_state_get(p->store, f->cf->name);
    memset(&req, 0, sizeof(req));
    req.url = f->out->location;
    req.etag = st ? st->etag : NULL;
    req.last_modified = st ? st->last_modified : NULL;
    fx = config_feed_fetch(p->cfg, f->cf);
    req.max_bytes = (size_t)fx->max_size;
    req.timeout_s = (long)fx->timeout;
    req.connect_timeout_s = (long)fx->connect_timeout;
    req.user_agent = fx->user_agent;
    req.on_data = poller_on_data;
    req.on_done = poller_on_done;
    req.arg = f;
    if ((rc = fetcher_start(p->fetcher, &req)) != 0) {
        char why[128];

        snprintf(why, sizeof(why), "cannot start the fetch: %s",
                 rc == -ENOMEM ? "out of memory" : strerror(-rc));
        poll_failed(f, why);
        return;
    }
    f->busy = 1;
    f->out->last_byte = uv_now(p->loop);
    running_add(f);
}

/* ---- start and end ---- */

static void
poller_free(struct poller *p)
{
    size_t i;

    for (i = 0; p->feeds && i < p->cap; i++)
        poller_feed_free(p->feeds[i]);
    free(p->feeds);
    free(p->group);
    sched_free(p->sched);
    if (p->sync_init) {
        uv_mutex_destroy(&p->sync_mu);
        uv_cond_destroy(&p->sync_cv);
    }
    free(p);
}

/* One handle of p is closed; the last one frees p. */
void
poller_closed(struct poller *p)
{
    if (--p->open == 0)
        poller_free(p);
}

static void
on_timer_closed(uv_handle_t *h)
{
    poller_closed(h->data);
}

static void
on_part_closed(void *arg)
{
    poller_closed(arg);
}

void
poller_close(struct poller *p)
{
    p->closing = 1;
    /* One count for this call, so that nothing frees p before its end. */
    p->open++;
    if (p->timer.data != NULL) {
        (void)uv_timer_stop(&p->timer);
        uv_close((uv_handle_t *)&p->timer, on_timer_closed);
    }
    if (p->stall_timer.data != NULL) {
        (void)uv_timer_stop(&p->stall_timer);
        uv_close((uv_handle_t *)&p->stall_timer, on_timer_closed);
    }
    if (p->prepare.data != NULL) {
        (void)uv_prepare_stop(&p->prepare);
        uv_close((uv_handle_t *)&p->prepare, on_timer_closed);
    }
    /* Cancelled polls store what they parsed, as finished ones do: they
     * join the group, which is committed now (no reports: the owner is
     * closing). */
    if (p->fetcher != NULL) {
        fetcher_close(p->fetcher, on_part_closed, p);
        p->fetcher = NULL;
    }
    if (p->parsing != NULL) {
        parsing_close(p->parsing, on_part_closed, p);
        p->parsing = NULL;
    }
    poller_group_flush(p, 0, 1);
    if (p->group_timer.data != NULL) {
        (void)uv_timer_stop(&p->group_timer);
        uv_close((uv_handle_t *)&p->group_timer, on_timer_closed);
    }
    poller_closed(p);
}

/* One of the poller's timers on loop, counted in p->open; -1, logged,
 * when it cannot be made. */
static int
poller_timer(struct poller *p, uv_loop_t *loop, uv_timer_t *t)
{
    int rc = uv_timer_init(loop, t);

    if (rc != 0) {
        log_warnx("cannot make a timer: %s", uv_strerror(rc));
        return -1;
    }
    t->data = p;
    p->open++;
    return 0;
}

struct poller *
poller_new(uv_loop_t *loop, struct store *s, const struct config *cfg, int once,
           poller_report_fn *report, void *arg)
{
    struct poller *p = calloc(1, sizeof(*p));
    char err[256];
    size_t i;
    int rc;

    if (p == NULL) {
        log_warnx("out of memory");
        return NULL;
    }
    if (uv_mutex_init(&p->sync_mu) != 0) {
        log_warnx("cannot make a mutex");
        free(p);
        return NULL;
    }
    if (uv_cond_init(&p->sync_cv) != 0) {
        log_warnx("cannot make a condition variable");
        uv_mutex_destroy(&p->sync_mu);
        free(p);
        return NULL;
    }
    p->sync_init = 1;
    p->held_tail = &p->held;
    p->loop = loop;
    p->store = s;
    p->cfg = cfg;
    p->once = once;
    p->report = report;
    p->arg = arg;
    p->cap = cfg->nfeeds ? cfg->nfeeds : 1;
    p->feeds = calloc(p->cap, sizeof(*p->feeds));
    p->group = calloc(p->cap, sizeof(*p->group));
    p->sched = sched_new(cfg->nfeeds, cfg->parallel, cfg->per_host);
    if (p->feeds == NULL || p->group == NULL || p->sched == NULL) {
        log_warnx("out of memory");
        poller_free(p);
        return NULL;
    }
    if (poller_timer(p, loop, &p->timer) != 0) {
        poller_free(p);
        return NULL;
    }
    if (poller_timer(p, loop, &p->group_timer) != 0 ||
        poller_timer(p, loop, &p->stall_timer) != 0) {
        poller_close(p);
        return NULL;
    }
    /* The handle alone does not keep the loop alive. */
    if ((rc = uv_prepare_init(loop, &p->prepare)) != 0) {
        log_warnx("cannot make a prepare handle: %s", uv_strerror(rc));
        poller_close(p);
        return NULL;
    }
    p->prepare.data = p;
    p->open++;
    (void)uv_prepare_start(&p->prepare, poller_on_prepare);
    uv_unref((uv_handle_t *)&p->prepare);
    p->fetcher =
        /* per_host is the scheduler's to keep (a stalled poll leaves its
         * host's count); curl's own host cap must not queue behind it. */
        fetcher_new(loop, cfg->parallel, cfg->parallel, err, sizeof(err));
    if (p->fetcher == NULL) {
        log_warnx("%s", err);
        poller_close(p);
        return NULL;
    }
    if (cfg->ca_file != NULL && fetcher_ca(p->fetcher, cfg->ca_file) != 0) {
        log_warnx("libcurl refused ca_file %s", cfg->ca_file);
        poller_close(p);
        return NULL;
    }
    p->open++;
    p->parsing =
        parsing_new(loop, on_parsed, poller_on_room, p, err, sizeof(err));
    if (p->parsing == NULL) {
        log_warnx("%s", err);
        poller_close(p);
        return NULL;
    }
    p->open++;
    for (i = 0; i < cfg->nfeeds; i++) {
        struct poller_feed *f = poller_feed_new(p, &cfg->feeds[i]);

        if (f == NULL) {
            poller_close(p);
            return NULL;
        }
        f->slot = i;
        p->feeds[i] = f;
        if (sched_host(p->sched, i, cfg->feeds[i].location) != 0) {
            log_warnx("%s: out of memory", cfg->feeds[i].name);
            poller_close(p);
            return NULL;
        }
    }
    return p;
}

int
poller_start(struct poller *p)
{
    size_t i;

    for (i = 0; i < p->cap; i++)
        if (p->feeds[i] != NULL)
            sched_at(p->sched, i,
                     uv_now(p->loop) + (p->once ? 0 : first_delay(p, i)));
    poller_rearm(p);
    return 0;
}

size_t
poller_active(const struct poller *p)
{
    /* Once, every feed not yet polled is still to come; polls waiting
     * for the group commit are not done either. */
    return sched_running(p->sched) + sched_waiting(p->sched) +
           (p->once ? sched_scheduled(p->sched) : 0) +
           (p->ngroup - p->nflushed);
}
