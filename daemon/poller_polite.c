/* daemon/poller_polite.c - what a server or a feed says of the next
 * request, as the poller keeps and applies it: Retry-After and the cache
 * headers, a feed's ttl, syndication period, skipHours and skipDays, and
 * permanent redirects seen poll after poll. Internal to the poller. */
#include <inttypes.h>
#include <stdint.h>

#include "log.h"
#include "poller_int.h"
#include "schedule.h"

/* What a whole document said of when to ask it again, kept for the polls
 * after it (a 304 carries none): ttl, else the syndication module's
 * period over its frequency, at most a day; skipHours and skipDays. */
void
poller_take_hints(struct poller_feed *f, const struct feed_info *fi)
{
    int64_t every = fi->ttl;

    if (every == 0 && fi->update_period > 0)
        every = fi->update_period /
                (fi->update_frequency > 0 ? fi->update_frequency : 1);
    if (every > MAX_BACKOFF)
        every = MAX_BACKOFF;
    f->hint_minutes = (uint16_t)(every / 60);
    f->skip_hours = fi->skip_hours & 0xffffff;
    f->skip_days = (unsigned char)(fi->skip_days & 0x7f);
}

/* The first time at or after t (seconds) that f's skipHours and skipDays
 * allow, at most a day and a week on; t itself when they allow it or
 * allow no hour at all. */
int64_t
poller_skip_to(const struct poller_feed *f, int64_t t)
{
    int64_t at = t;
    int i;

    if ((f->skip_hours == 0 && f->skip_days == 0) ||
        f->skip_hours == 0xffffff || f->skip_days == 0x7f)
        return t;
    for (i = 0; i < 8 * 24; i++) {
        int hour = (int)((at / 3600) % 24);
        int day = (int)((at / 86400 + 4) % 7); /* 1970-01-01: Thursday */

        if (!(f->skip_hours >> hour & 1) && !(f->skip_days >> day & 1))
            return at;
        at = (at / 3600 + 1) * 3600;
    }
    return t;
}

/* 32-bit FNV-1a of s. */
static uint32_t
hash32(const char *s)
{
    uint32_t h = 2166136261u;

    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 16777619u;
    return h;
}

/* The URL f moved to when this poll, which went well, is the third in a
 * row permanently redirected to it (a temporary redirect, a failure or
 * another target starts the count again); else NULL. */
const char *
poller_moved_for_good(struct poller_feed *f, int ok)
{
    const struct poll_outcome *o = f->out;
    uint32_t h;

    if (!ok || !o->moved || o->url == NULL || f->removed) {
        f->moved_polls = 0;
        return NULL;
    }
    h = hash32(o->url);
    if (f->moved_polls == 0 || f->moved_hash != h) {
        f->moved_hash = h;
        f->moved_polls = 0;
    }
    if (++f->moved_polls < 3)
        return NULL;
    f->moved_polls = 0;
    return o->url;
}

/* How long the server asked f to wait, in seconds, or -1: Retry-After on
 * a 429 or 503 (when other feeds of its host are told so too, the whole
 * host waits), or, after a poll that went well, how long the response
 * stays fresh (Cache-Control max-age, Expires) when that is longer than
 * the interval. */
int64_t
poller_server_wait(struct poller_feed *f, int failed, int *why)
{
    const struct poll_outcome *o = f->out;
    uint64_t now = uv_now(f->p->loop), held;
    int64_t wait;

    if ((o->status == 429 || o->status == 503) && o->retry_after >= 0) {
        wait = o->retry_after < MAX_BACKOFF ? o->retry_after : MAX_BACKOFF;
        held = sched_host_wait(f->p->sched, f->slot, now,
                               now + (uint64_t)wait * 1000);
        if (held)
            log_info("%s: its host asks to wait: none of its feeds is "
                     "polled for %" PRIu64 " s",
                     f->cf->name, (held - now + 999) / 1000);
        *why = POLLER_WHY_RETRY_AFTER;
        return wait;
    }
    *why = POLLER_WHY_CACHE;
    if (!failed && o->fresh_for > f->cf->interval)
        return o->fresh_for;
    return -1;
}
