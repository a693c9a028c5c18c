/* daemon/poller_push.c - documents a WebSub hub pushed, taken as if a
 * poll had fetched them (poller_push()), and the long fallback interval
 * of a feed whose hub pushes (poller_websub()).
 *
 * A push is a poll without a fetch: its body goes through the fetch's
 * callbacks (poller_on_data(), poller_on_done()) in one chunk, so that it
 * is parsed, ingested and committed with the group like any poll's. It
 * takes no connection: the feed leaves the schedule while it runs, and
 * its next poll is armed again when it is committed. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "poller.h"
#include "poller_int.h"

static struct poller_feed *
feed_named(const struct poller *p, const char *name)
{
    size_t i;

    for (i = 0; i < p->cap; i++)
        if (p->feeds[i] != NULL && !p->feeds[i]->removed &&
            strcmp(p->feeds[i]->cf->name, name) == 0)
            return p->feeds[i];
    return NULL;
}

int
poller_push(struct poller *p, const char *feed, const char *body, size_t len,
            const char *content_type)
{
    struct poller_feed *f = feed_named(p, feed);
    struct fetch_chunk c;
    struct fetch_result r;
    const char *error = NULL;

    if (f == NULL || p->closing || p->once)
        return -ENOENT;
    /* Its poll under way, or waiting for the group commit, holds its
     * parser and batch: a poll right after it fetches what was pushed. */
    if (f->busy || f->out != NULL) {
        f->repoll = 1;
        return 1;
    }
    if (f->stale && poller_feed_rules(f) == 0)
        f->stale = 0;
    if ((f->out = calloc(1, sizeof(*f->out))) == NULL ||
        (f->out->location = strdup(f->cf->location)) == NULL) {
        poller_outcome_free(f);
        return -ENOMEM;
    }
    sched_cancel(p->sched, f->slot);
    f->out->doc.arg = f;
    f->out->push = 1;
    f->busy = 1;
    memset(&c, 0, sizeof(c));
    c.content_type = content_type;
    c.url = f->out->location;
    c.length = (int64_t)len;
    c.can_hold = 0;
    memset(&r, 0, sizeof(r));
    r.ok = 1;
    r.status = 200;
    r.url = f->out->location;
    r.content_type = content_type;
    r.retry_after = r.fresh_for = -1;
    if (len > 0 && poller_on_data(body, len, &c, &error, f) != 0) {
        r.ok = 0;
        r.error = error;
    }
    poller_on_done(&r, f);
    return 0;
}

void
poller_push_result(struct poller_feed *f, int report)
{
    struct poller *p = f->p;
    const struct poll_outcome *o = f->out;
    const struct ingest_result *res = &o->res;
    const struct store_feed_state *st;
    const char *error = o->error, *failed;
    struct poller_report rep;
    char what[400];
    int unstored = 0;

    if ((failed = poller_unstored_why(f, what, sizeof(what))) != NULL) {
        error = failed;
        unstored = 1;
    }
    if (o->cancelled && res->commit_rc == 0)
        return;
    f->stored += (uint32_t)res->fresh;
    /* A bad push is the hub's, not the feed's: its polls go on as they
     * were, without a back-off. */
    if (error != NULL)
        log_warnx("%s: pushed content not taken: %s", f->cf->name, error);
    else if (res->fresh + res->changed > 0)
        log_info("%s: %zu new, %zu updated, pushed (%zu in the push)",
                 f->cf->name, res->fresh, res->changed, o->entries);
    else
        log_debug("%s: pushed, no new entries (%zu)", f->cf->name, o->entries);
    st = store_feed_state_get(p->store, f->cf->name);
    poller_schedule(f, st ? st->errors : 0, -1, POLLER_WHY_INTERVAL);
    poller_repoll(f);
    if (!report)
        return;
    memset(&rep, 0, sizeof(rep));
    rep.feed = f->cf->name;
    rep.fresh = res->fresh;
    rep.changed = res->changed;
    rep.unstored = unstored;
    rep.active = poller_active(p);
    p->report(&rep, p->arg);
}

void
poller_repoll(struct poller_feed *f)
{
    struct poller *p = f->p;

    if (!f->repoll || f->removed || p->once || p->closing)
        return;
    f->repoll = 0;
    sched_at(p->sched, f->slot, uv_now(p->loop));
    poller_rearm(p);
}

void
poller_websub(struct poller *p, const char *feed, int on)
{
    struct poller_feed *f = feed_named(p, feed);
    uint64_t due, now, within;

    if (f == NULL || f->websub == (on != 0))
        return;
    f->websub = on != 0;
    if (on || f->busy || f->out != NULL)
        return;
    /* Back to polls at its interval: the next one within it. */
    now = uv_now(p->loop);
    within = now + (uint64_t)f->cf->interval * 1000;
    due = sched_due_at(p->sched, f->slot);
    if (due != SCHED_NEVER && due > within) {
        sched_at(p->sched, f->slot, within);
        poller_rearm(p);
    }
}
