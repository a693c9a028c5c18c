/* daemon/poller_feeds.c - a poller's feeds (poller_int.h): each made
 * with its own ingest and ID rules, freed, and added, removed or changed
 * when a reload gives the poller a new config (poller_reload(),
 * poller.h).
 *
 * Feeds are told apart by name. A removed feed whose poll is under way
 * (running, or waiting for its group commit) is let finish: what it
 * brought is stored, and the feed is freed after the group commit. A
 * changed feed takes its new line at once; what its poll under way reads
 * of it (its location, its ingest) is the poll's own, so the change
 * applies from its next poll. */
#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "poller_int.h"

static enum feed_id_rule
id_rule(enum config_id_rule r)
{
    switch (r) {
    case CONFIG_ID_SLUG:
        return FEED_ID_SLUG;
    case CONFIG_ID_GUID:
        return FEED_ID_GUID;
    case CONFIG_ID_LINK:
        return FEED_ID_LINK;
    case CONFIG_ID_CONTENT:
        return FEED_ID_CONTENT;
    default:
        return FEED_ID_AUTO;
    }
}

void
poller_feed_free(struct poller_feed *f)
{
    if (f == NULL)
        return;
    if (f->id_re) {
        regfree(f->id_re);
        free(f->id_re);
    }
    if (f->out != NULL)
        feed_parser_free(f->out->parser);
    ingest_free(f->ing);
    poller_outcome_free(f);
    free(f);
}

void
poller_feed_drop(struct poller_feed *f)
{
    struct poller *p = f->p;

    sched_remove(p->sched, f->slot);
    p->feeds[f->slot] = NULL;
    poller_feed_free(f);
}

int
poller_feed_rules(struct poller_feed *f)
{
    const struct config_feed *cf = f->cf;
    regex_t *re = NULL;
    struct ingest *ing;

    if (cf->id_pattern) {
        if ((re = malloc(sizeof(*re))) == NULL) {
            log_warnx("%s: out of memory", cf->name);
            return -1;
        }
        if (regcomp(re, cf->id_pattern, REG_EXTENDED) != 0) {
            log_warnx("%s: id_pattern does not compile", cf->name);
            free(re);
            return -1;
        }
    }
    if ((ing = ingest_new(f->p->store, f->name, id_rule(cf->id_rule), re)) ==
        NULL) {
        log_warnx("%s: out of memory", cf->name);
        if (re) {
            regfree(re);
            free(re);
        }
        return -1;
    }
    ingest_free(f->ing);
    if (f->id_re) {
        regfree(f->id_re);
        free(f->id_re);
    }
    f->ing = ing;
    f->id_re = re;
    return 0;
}

struct poller_feed *
poller_feed_new(struct poller *p, const struct config_feed *cf)
{
    size_t n = strlen(cf->name) + 1;
    struct poller_feed *f = calloc(1, sizeof(*f) + n);

    if (f == NULL) {
        log_warnx("%s: out of memory", cf->name);
        return NULL;
    }
    memcpy(f->name, cf->name, n);
    f->p = p;
    f->cf = cf;
    if (poller_feed_rules(f) != 0) {
        poller_feed_free(f);
        return NULL;
    }
    return f;
}

/* ---- reload ---- */

static int
feed_name_cmp(const void *a, const void *b)
{
    const struct poller_feed *x = *(struct poller_feed *const *)a;
    const struct poller_feed *y = *(struct poller_feed *const *)b;

    return strcmp(x->name, y->name);
}

/* bsearch()'s comparison of a name with a feed. */
static int
feed_name_key(const void *key, const void *b)
{
    const struct poller_feed *y = *(struct poller_feed *const *)b;

    return strcmp(key, y->name);
}

static int
str_eq(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* 1 when a feed's lines a and b differ in what the poller or a reader
 * sees (not where in the file they stand). */
static int
feed_differs(const struct config_feed *a, const struct config_feed *b)
{
    size_t i;

    if (strcmp(a->location, b->location) != 0 || a->interval != b->interval ||
        a->id_rule != b->id_rule || !str_eq(a->id_pattern, b->id_pattern) ||
        a->ntags != b->ntags)
        return 1;
    for (i = 0; i < a->ntags; i++)
        if (strcmp(a->tags[i], b->tags[i]) != 0)
            return 1;
    return 0;
}

/* p's arrays of feeds and of the group, room for every feed number the
 * schedule has given: 0 or -1 (out of memory; what grew keeps its
 * contents, and p->cap counts the smaller). */
static int
arrays_grow(struct poller *p)
{
    size_t cap = sched_slots(p->sched);
    struct poller_feed **feeds, **group;

    if (cap <= p->cap)
        return 0;
    if ((feeds = realloc(p->feeds, cap * sizeof(*feeds))) == NULL)
        return -1;
    p->feeds = feeds;
    memset(feeds + p->cap, 0, (cap - p->cap) * sizeof(*feeds));
    if ((group = realloc(p->group, cap * sizeof(*group))) == NULL)
        return -1;
    p->group = group;
    p->cap = cap;
    return 0;
}

/* f, in the config no more: dropped now when it is idle; else it lives on
 * until its poll is committed (the poll is let finish, and what it
 * brought is stored), with its own copy of what that reads. */
static void
feed_remove(struct poller_feed *f)
{
    struct config_feed *own;

    if (f->out == NULL) {
        poller_feed_drop(f);
        return;
    }
    own = &f->out->own;
    memset(own, 0, sizeof(*own));
    own->name = f->name;
    own->location = f->out->location;
    own->interval = f->cf->interval;
    f->cf = own;
    f->removed = 1;
}

/* f (in the config before, or removed with its poll under way) takes
 * its line cf of the new config. Its ID rules and location apply from
 * its next poll; a shorter interval brings a healthy feed's next poll
 * forward to within the new one. */
static void
feed_update(struct poller_feed *f, const struct config_feed *cf)
{
    struct poller *p = f->p;
    const struct config_feed *old = f->cf;
    const struct store_feed_state *st;
    uint64_t now = uv_now(p->loop), due, at, iv;

    if (f->removed || old->id_rule != cf->id_rule ||
        !str_eq(old->id_pattern, cf->id_pattern))
        f->stale = 1;
    if (f->removed || strcmp(old->location, cf->location) != 0) {
        /* A running feed moves once its poll is done (poll_end()). */
        int rc = sched_set_host(p->sched, f->slot, cf->location);

        f->rehost = rc == -EBUSY;
        if (rc == -ENOMEM)
            log_warnx("%s: out of memory: polled in its old host's turn",
                      cf->name);
    }
    if (!f->removed && cf->interval < old->interval &&
        ((st = store_feed_state_get(p->store, cf->name)) == NULL ||
         st->errors == 0)) {
        iv = (uint64_t)cf->interval * 1000;
        due = sched_due_at(p->sched, f->slot);
        at = sched_spread(p->sched, f->slot, now, iv);
        if (due != SCHED_NEVER && at < due)
            sched_at(p->sched, f->slot, at);
    }
    f->removed = 0;
    f->cf = cf;
}

int
poller_reload(struct poller *p, const struct config *cfg,
              struct poller_changes *ch)
{
    struct poller_feed **old = NULL, **match = NULL;
    size_t i, nold = 0;
    uint64_t now = uv_now(p->loop);
    int rc = -1;

    memset(ch, 0, sizeof(*ch));
    /* What can fail comes first, and undoes itself: the feeds there are
     * (removed ones whose poll is under way too), sorted by name; each
     * line of cfg's existing feed, or a new feed with its number. */
    old = malloc((p->cap ? p->cap : 1) * sizeof(*old));
    match = calloc(cfg->nfeeds ? cfg->nfeeds : 1, sizeof(*match));
    if (old == NULL || match == NULL) {
        log_warnx("reload: out of memory");
        goto out;
    }
    for (i = 0; i < p->cap; i++)
        if (p->feeds[i] != NULL)
            old[nold++] = p->feeds[i];
    qsort(old, nold, sizeof(*old), feed_name_cmp);
    for (i = 0; i < cfg->nfeeds; i++) {
        struct poller_feed **hit;
        size_t slot;

        hit = nold ? bsearch(cfg->feeds[i].name, old, nold, sizeof(*old),
                             feed_name_key)
                   : NULL;
        if (hit != NULL) {
            match[i] = *hit;
            continue;
        }
        if ((match[i] = poller_feed_new(p, &cfg->feeds[i])) == NULL)
            goto undo;
        match[i]->kept = -1; /* new */
        if (sched_add(p->sched, cfg->feeds[i].location, &slot) != 0) {
            log_warnx("%s: out of memory", cfg->feeds[i].name);
            poller_feed_free(match[i]);
            match[i] = NULL;
            goto undo;
        }
        match[i]->slot = slot;
    }
    if (arrays_grow(p) != 0) {
        log_warnx("reload: out of memory");
        goto undo;
    }

    /* From here on nothing fails. */
    for (i = 0; i < nold; i++)
        old[i]->kept = 0;
    for (i = 0; i < cfg->nfeeds; i++)
        if (match[i]->kept != -1)
            match[i]->kept = 1;
    for (i = 0; i < nold; i++)
        if (!old[i]->kept && !old[i]->removed) {
            feed_remove(old[i]);
            ch->removed++;
        }
    for (i = 0; i < cfg->nfeeds; i++) {
        struct poller_feed *f = match[i];
        const struct config_feed *cf = &cfg->feeds[i];

        if (f->kept == -1) {
            /* New: polled at once. */
            f->kept = 0;
            p->feeds[f->slot] = f;
            sched_at(p->sched, f->slot, now);
            ch->added++;
        } else if (f->removed) {
            /* Removed by a reload and back before its poll was
             * committed: the same feed, added again. */
            feed_update(f, cf);
            ch->added++;
        } else {
            if (feed_differs(f->cf, cf))
                ch->changed++;
            feed_update(f, cf);
        }
    }
    if (cfg->parallel != p->cfg->parallel ||
        cfg->per_host != p->cfg->per_host) {
        sched_caps(p->sched, cfg->parallel, cfg->per_host);
        if (fetcher_caps(p->fetcher, cfg->parallel, cfg->parallel) != 0)
            log_warnx("reload: libcurl refused the new connection caps");
    }
    if ((cfg->ca_file == NULL) != (p->cfg->ca_file == NULL) ||
        (cfg->ca_file != NULL && strcmp(cfg->ca_file, p->cfg->ca_file) != 0)) {
        if (fetcher_ca(p->fetcher, cfg->ca_file) != 0)
            log_warnx("reload: libcurl refused ca_file %s", cfg->ca_file);
    }
    p->cfg = cfg;
    poller_rearm(p);
    rc = 0;
    goto out;
undo:
    for (i = 0; i < cfg->nfeeds; i++)
        if (match[i] != NULL && match[i]->kept == -1) {
            sched_remove(p->sched, match[i]->slot);
            poller_feed_free(match[i]);
        }
out:
    free(old);
    free(match);
    return rc;
}

void
poller_each(const struct poller *p,
            void (*fn)(const struct poller_feed_info *, void *arg), void *arg)
{
    struct poller_feed_info info;
    size_t i;

    for (i = 0; i < p->cap; i++) {
        const struct poller_feed *f = p->feeds[i];

        if (f == NULL || f->removed)
            continue;
        info.name = f->cf->name;
        info.location = f->cf->location;
        info.status = f->status;
        info.stored = f->stored;
        fn(&info, arg);
    }
}
