/* daemon/poller_commit.c - the group commit of a poller's polls
 * (poller_int.h): polls that end close together share one commit, whose
 * fdatasync runs on libuv's thread pool while the loop goes on; then
 * each poll's state and report, and one save of feeds.state. */
#include <string.h>

#include <uv.h>

#include "poller_int.h"
#include "store.h"

/* Polls that end within this many ms of the first share one commit, and
 * no more than this many bytes of records. */
#define GROUP_MS 20
#define GROUP_MAX_BYTES ((size_t)1 << 20)

static void group_commit(struct poller *p);

/* The polls of the group up to end are committed (rc says how): their
 * ingests are told. */
static void
group_committed(struct poller *p, size_t end, int rc)
{
    size_t i;

    for (i = p->ncommitted; i < end; i++)
        if (p->group[i]->out->stage_rc == 0)
            ingest_committed(p->group[i]->ing, rc, &p->group[i]->out->res);
    p->ncommitted = end;
}

/* On libuv's thread pool: the wait for the disk. Only the files the
 * batch in flight was written to are touched (store_commit_sync()). */
static void
on_sync(uv_work_t *req)
{
    struct poller *p = req->data;
    int rc = store_commit_sync(p->store);

    uv_mutex_lock(&p->sync_mu);
    p->sync_rc = rc;
    p->sync_ran = 1;
    uv_cond_signal(&p->sync_cv);
    uv_mutex_unlock(&p->sync_mu);
}

/* The sync of the commit in flight ran (rc): it is finished. */
static void
sync_finish(struct poller *p, int rc)
{
    p->syncing = 0;
    group_committed(p, p->nsync, store_commit_finish(p->store, rc));
}

static void on_group_timer(uv_timer_t *t);

static void
on_synced(uv_work_t *req, int status)
{
    struct poller *p = req->data;

    /* poller_close() may have waited for it and finished it already. */
    if (p->syncing) {
        sync_finish(p, status != 0 ? status : p->sync_rc);
        /* Documents held while the store was behind may begin. */
        if (p->held != NULL && !p->closing)
            poller_on_room(p);
        /* Its polls are reported now; those that ended meanwhile wait
         * for the group timer as usual (a commit at once after each sync
         * made three times as many of them), or for the early commit of
         * a large batch. */
        if (p->flush_wanted)
            poller_group_flush(p, p->flush_report, 0);
        if (store_pending(p->store) >= GROUP_MAX_BYTES)
            group_commit(p);
        else if (p->ngroup > p->ncommitted && !p->closing &&
                 !uv_is_active((uv_handle_t *)&p->group_timer))
            (void)uv_timer_start(&p->group_timer, on_group_timer, GROUP_MS, 0);
    }
    poller_closed(p);
}

/* Commits what the polls of the group not yet committed staged: one
 * write, then one fdatasync on libuv's thread pool while the loop goes on
 * (fetching, parsing, staging the next polls); on_synced() tells their
 * ingests how it went. One commit at a time: polls that end meanwhile
 * wait for the next. When closing, all of it at once. */
static void
group_commit(struct poller *p)
{
    size_t i;
    int rc = 0, pending = 0;

    if (p->syncing || p->ncommitted == p->ngroup)
        return;
    for (i = p->ncommitted; i < p->ngroup; i++)
        if (p->group[i]->out->stage_rc == 0 &&
            p->group[i]->out->res.fresh + p->group[i]->out->res.changed > 0)
            pending = 1;
    if (pending && (rc = store_commit_write(p->store)) == 0 &&
        store_in_flight(p->store)) {
        p->syncing = 1;
        p->sync_ran = 0;
        p->nsync = p->ngroup;
        p->sync_req.data = p;
        if (!p->closing &&
            uv_queue_work(p->loop, &p->sync_req, on_sync, on_synced) == 0) {
            p->open++;
            return;
        }
        /* Closing, or no thread pool: the wait is here. */
        sync_finish(p, store_commit_sync(p->store));
        return;
    }
    group_committed(p, p->ngroup, rc);
}

/* Waits for the commit in flight, if one is, and finishes it. */
static void
sync_wait(struct poller *p)
{
    if (!p->syncing)
        return;
    uv_mutex_lock(&p->sync_mu);
    while (!p->sync_ran)
        uv_cond_wait(&p->sync_cv, &p->sync_mu);
    uv_mutex_unlock(&p->sync_mu);
    sync_finish(p, p->sync_rc);
}

/* The group commit: one commit (with commit set) for every poll that
 * ended since the last (or more, when the batch grew past
 * GROUP_MAX_BYTES first), then each committed poll's state and report,
 * then one save of feeds.state. Polls whose commit is still in flight
 * are reported when it ends. */
void
poller_group_flush(struct poller *p, int report, int commit)
{
    size_t i, n;

    if (p->flushing || p->ngroup == 0)
        return;
    if (commit) {
        (void)uv_timer_stop(&p->group_timer);
        if (p->closing)
            sync_wait(p);
        group_commit(p);
    }
    p->flush_wanted = 0;
    if ((n = p->ncommitted) == 0) {
        p->flush_wanted = 1; /* on_synced() comes back */
        p->flush_report = report;
        return;
    }
    p->flushing = 1;
    /* The feeds leave the group one by one, so that each report's count
     * of polls still under way includes those after it. */
    for (i = 0; i < n; i++) {
        struct poller_feed *f = p->group[i];

        p->nflushed = i + 1;
        poller_poll_result(f, report);
        poller_outcome_free(f);
        if (f->removed)
            poller_feed_drop(f);
    }
    /* Those not yet committed move up. */
    memmove(p->group, p->group + n, (p->ngroup - n) * sizeof(*p->group));
    p->ngroup -= n;
    p->nsync = p->nsync > n ? p->nsync - n : 0;
    p->nflushed = p->ncommitted = 0;
    if (p->ngroup > 0) {
        p->flush_wanted = 1;
        p->flush_report = report;
    }
    poller_save_state(p);
    p->flushing = 0;
}

static void
on_group_timer(uv_timer_t *t)
{
    poller_group_flush(t->data, 1, 1);
}

/* f's poll joins the next group commit: within GROUP_MS, or at once when
 * no other poll is under way to share it. */
void
poller_group_add(struct poller_feed *f)
{
    struct poller *p = f->p;

    /* The group has room for every feed, and a feed is in it once. */
    p->group[p->ngroup++] = f;
    /* Memory follows the polls in flight: a batch that grew large is
     * committed now, though its reports wait for the timer. */
    if (store_pending(p->store) >= GROUP_MAX_BYTES)
        group_commit(p);
    if (p->closing)
        return; /* poller_close() flushes */
    if (sched_running(p->sched) + sched_waiting(p->sched) == 0)
        (void)uv_timer_start(&p->group_timer, on_group_timer, 0, 0);
    else if (!uv_is_active((uv_handle_t *)&p->group_timer))
        (void)uv_timer_start(&p->group_timer, on_group_timer, GROUP_MS, 0);
}

int
poller_save_rc(const struct poller *p)
{
    return p->save_rc;
}

void
poller_counts(const struct poller *p, struct poller_counts *c)
{
    *c = p->counts;
}
