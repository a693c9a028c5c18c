/* daemon/poll.c - one poll of one feed: fetch, parse, decide what is new,
 * what changed and what is the same, store, schedule the next poll.
 *
 * Entries stream from the parser into the poll's batch (a copy of each,
 * with its stable ID). When the response ends, the batch is resolved as a
 * whole: entries of this document that share an ID but differ are told
 * apart (never merged), and each is then new (stored), edited (stored
 * again under its ID: an update, never a second entry), carried by one
 * more feed (its list of feeds grows), or the same as before (nothing
 * written). Then one commit: one fsync per poll. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "daemon.h"
#include "fetch.h"
#include "log.h"

/* The largest response feedd reads; a feed larger than this is broken or
 * hostile. */
#define MAX_RESPONSE (32u << 20)
/* Back-off after errors never waits longer than this. */
#define MAX_BACKOFF ((int64_t)24 * 3600)

struct poll_entry {
    char base[FEED_ID_LEN + 1]; /* the ID its rule gives */
    struct feed_item *item;     /* a copy; item->id is the final ID */
    int drop;                   /* an exact repeat within the document */
};

struct poll_batch {
    struct poll_entry *v;
    size_t n, cap;
};

static void
batch_free(struct poll_batch *b)
{
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->n; i++)
        free(b->v[i].item);
    free(b->v);
    free(b);
}

static uint64_t
id_value(const char *id)
{
    return strtoull(id, NULL, 16);
}

static int
u64_cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

    return x < y ? -1 : x > y;
}

static int
known(const struct feed_rt *fr, const char *id)
{
    uint64_t v = id_value(id);

    return fr->nknown &&
           bsearch(&v, fr->known, fr->nknown, sizeof(v), u64_cmp) != NULL;
}

/* ---- the entries of one document ---- */

static enum feed_id_rule
id_rule(enum config_id_rule r)
{
    switch (r) {
    case CONFIG_ID_SLUG: return FEED_ID_SLUG;
    case CONFIG_ID_GUID: return FEED_ID_GUID;
    case CONFIG_ID_LINK: return FEED_ID_LINK;
    case CONFIG_ID_CONTENT: return FEED_ID_CONTENT;
    default: return FEED_ID_AUTO;
    }
}

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct feed_rt *fr = arg;
    struct poll_batch *b = fr->batch;
    struct poll_entry *pe;
    struct feed_item it;

    fr->entries++;
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        struct poll_entry *v = realloc(b->v, cap * sizeof(*v));

        if (v == NULL)
            return -1;
        b->v = v;
        b->cap = cap;
    }
    pe = &b->v[b->n];
    memset(pe, 0, sizeof(*pe));
    if (!(fr->have_re && feed_entry_id_pattern(e, &fr->id_re, pe->base) > 0) &&
        feed_entry_id(e, fr->cf->name, id_rule(fr->cf->id_rule), pe->base) < 0)
        return -1;
    memset(&it, 0, sizeof(it));
    memcpy(it.id, pe->base, sizeof(it.id));
    it.entry = *e;
    it.feed = fr->cf->name;
    it.feed_title = feed_parser_info(fr->parser)->title;
    it.feed_url = fr->cf->location;
    it.stored = now_s();
    it.changed = FEED_TIME_NONE;
    it.hash = feed_entry_hash(e);
    if ((pe->item = feed_item_copy(&it)) == NULL)
        return -1;
    b->n++;
    return 0;
}

static int
by_base(const void *a, const void *b)
{
    const struct poll_entry *x = *(struct poll_entry *const *)a,
                            *y = *(struct poll_entry *const *)b;
    int c = strcmp(x->base, y->base);

    /* Document order within a group. */
    return c ? c : (x < y ? -1 : x > y);
}

/* What tells m apart from the other members of its group: its link when
 * no other member has that link, else its title when unique, else its
 * content hash. Stable under edits of the rest of the entry. */
static void
discriminator(struct poll_entry **g, size_t n, size_t m, char *out,
              size_t size)
{
    const struct feed_entry *e = &g[m]->item->entry;
    int link_unique = e->link != NULL, title_unique = e->title != NULL;
    size_t i;

    for (i = 0; i < n; i++) {
        const struct feed_entry *o = &g[i]->item->entry;

        if (i == m || g[i]->drop)
            continue;
        if (e->link && o->link && strcmp(e->link, o->link) == 0)
            link_unique = 0;
        if (e->title && o->title && strcmp(e->title, o->title) == 0)
            title_unique = 0;
    }
    if (link_unique)
        snprintf(out, size, "l:%s", e->link);
    else if (title_unique)
        snprintf(out, size, "t:%s", e->title);
    else
        snprintf(out, size, "h:%016llx", (unsigned long long)g[m]->item->hash);
}

/* Two or more entries of one document share an ID. Exact repeats are
 * dropped; the rest are different entries and are all kept: the one that
 * matches what is stored under the ID (else the first) keeps it, the
 * others get IDs derived from it and from what tells them apart. */
static void
resolve_group(struct daemon *d, struct poll_entry **g, size_t n)
{
    uint64_t stored = 0;
    size_t i, j, keeper = 0;
    char disc[1024];

    for (i = 1; i < n; i++)
        for (j = 0; j < i; j++)
            if (!g[j]->drop && g[j]->item->hash == g[i]->item->hash) {
                g[i]->drop = 1;
                break;
            }
    if (store_lookup(d->store, g[0]->base, &stored) == 1)
        for (i = 0; i < n; i++)
            if (!g[i]->drop && g[i]->item->hash == stored) {
                keeper = i;
                break;
            }
    for (i = 0; i < n; i++) {
        if (g[i]->drop || i == keeper)
            continue;
        discriminator(g, n, i, disc, sizeof(disc));
        feed_id_derive(g[i]->base, disc, g[i]->item->id);
    }
}

static int
resolve(struct daemon *d, struct poll_batch *b)
{
    struct poll_entry **idx;
    size_t i, j;

    if (b->n < 2)
        return 0;
    if ((idx = malloc(b->n * sizeof(*idx))) == NULL)
        return -ENOMEM;
    for (i = 0; i < b->n; i++)
        idx[i] = &b->v[i];
    qsort(idx, b->n, sizeof(*idx), by_base);
    for (i = 0; i < b->n; i = j) {
        for (j = i + 1; j < b->n && strcmp(idx[j]->base, idx[i]->base) == 0;
             j++)
            ;
        if (j - i > 1)
            resolve_group(d, idx + i, j - i);
    }
    free(idx);
    return 0;
}

/* ---- storing ---- */

struct stored {
    struct feed_item *item; /* a copy of the stored version */
};

static int
keep_stored(const struct feed_item *it, void *arg)
{
    struct stored *s = arg;

    s->item = feed_item_copy(it);
    return s->item ? 0 : -ENOMEM;
}

static int
carries(const struct feed_item *it, const char *feed)
{
    size_t i;

    if (strcmp(it->feed, feed) == 0)
        return 1;
    for (i = 0; i < it->nalso; i++)
        if (strcmp(it->also[i], feed) == 0)
            return 1;
    return 0;
}

/* Stores a new version of old: e's content when this feed owns the
 * entry and it changed, else old's with this feed added to its list. */
static int
store_version(struct daemon *d, const struct feed_item *old,
              const struct feed_item *fresh, int edited, const char *feed)
{
    const char **also = NULL;
    struct feed_item v = edited ? *fresh : *old;
    size_t n = old->nalso;
    int rc;

    v.feed = old->feed;
    v.feed_title = old->feed_title;
    v.feed_url = old->feed_url;
    v.stored = old->stored;
    v.changed = edited ? now_s() : old->changed;
    v.also = old->also;
    v.nalso = old->nalso;
    if (!carries(old, feed)) {
        if ((also = malloc((n + 1) * sizeof(*also))) == NULL)
            return -ENOMEM;
        if (n > 0)
            memcpy(also, old->also, n * sizeof(*also));
        also[n] = feed;
        v.also = also;
        v.nalso = n + 1;
    }
    rc = store_add(d->store, &v);
    free(also);
    return rc;
}

/* Puts one resolved entry where it belongs. Returns 1 when something was
 * stored, 0 when nothing needed to be, or a negative errno. */
static int
store_entry(struct feed_rt *fr, const struct feed_item *it)
{
    struct daemon *d = fr->d;
    struct stored s = {NULL};
    uint64_t hash = 0;
    int rc, edited;

    rc = store_lookup(d->store, it->id, &hash);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return store_add(d->store, it) == 0 ? 1 : -ENOMEM;
    /* Dropped by retention: it stays gone (hash 0). */
    if (hash == 0)
        return 0;
    /* The same as this feed had it last time: nothing to look at. */
    if (hash == it->hash && known(fr, it->id))
        return 0;
    if ((rc = store_get(d->store, it->id, keep_stored, &s)) != 0 ||
        s.item == NULL)
        return rc < 0 ? rc : -EIO;
    /* Only the feed that brought an entry first edits it: two feeds that
     * carry one article differently must not flip it back and forth. */
    edited = hash != it->hash && strcmp(s.item->feed, fr->cf->name) == 0;
    rc = 0;
    if (edited || !carries(s.item, fr->cf->name))
        rc = store_version(d, s.item, it, edited, fr->cf->name) == 0 ? 1
                                                                     : -ENOMEM;
    free(s.item);
    return rc;
}

/* Resolves the batch and stores it; *fresh, *edited count what changed.
 * Remembers the IDs for the next poll. */
static int
store_batch(struct feed_rt *fr, size_t *fresh, size_t *changed)
{
    struct poll_batch *b = fr->batch;
    uint64_t *ids;
    size_t i, n = 0;
    int rc;

    *fresh = *changed = 0;
    if ((rc = resolve(fr->d, b)) != 0)
        return rc;
    if ((ids = malloc((b->n ? b->n : 1) * sizeof(*ids))) == NULL)
        return -ENOMEM;
    for (i = 0; i < b->n; i++) {
        const struct feed_item *it = b->v[i].item;
        int seen;

        if (b->v[i].drop)
            continue;
        seen = store_lookup(fr->d->store, it->id, NULL) == 1;
        rc = store_entry(fr, it);
        if (rc < 0) {
            free(ids);
            return rc;
        }
        if (rc > 0)
            ++*(seen ? changed : fresh);
        ids[n++] = id_value(it->id);
    }
    qsort(ids, n, sizeof(*ids), u64_cmp);
    free(fr->known);
    fr->known = ids;
    fr->nknown = n;
    return 0;
}

/* ---- the poll ---- */

static void
on_feed_timer(uv_timer_t *t)
{
    poll_feed(t->data);
}

/* Arms the feed's timer for its next poll: its interval, longer after
 * consecutive errors (doubling, up to a day), with a little jitter so
 * feeds with one interval do not all fire together. */
static void
schedule(struct feed_rt *fr, int errors)
{
    int64_t delay = fr->cf->interval;
    struct store_feed_state st;
    const struct store_feed_state *old;
    uint64_t jitter;

    if (fr->d->once || fr->d->stopping)
        return;
    for (int i = 1; i < errors && delay < MAX_BACKOFF; i++)
        delay *= 2;
    if (errors > 0 && delay > MAX_BACKOFF)
        delay = MAX_BACKOFF > fr->cf->interval ? MAX_BACKOFF
                                               : fr->cf->interval;
    jitter = (uint64_t)delay * 1000 / 20; /* up to 5% */
    jitter = jitter ? (uint64_t)rand() % jitter : 0;
    uv_timer_start(&fr->timer, on_feed_timer,
                   (uint64_t)delay * 1000 + jitter, 0);
    old = store_feed_state_get(fr->d->store, fr->cf->name);
    if (old) {
        st = *old;
        st.next_poll = now_s() + delay;
        if (store_feed_state_set(fr->d->store, fr->cf->name, &st) != 0)
            log_warnx("%s: out of memory", fr->cf->name);
    }
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

static int
on_data(const char *p, size_t n, const char *content_type,
        const char **error, void *arg)
{
    struct feed_rt *fr = arg;
    char charset[64];

    /* RFC 7303 §3: the HTTP charset beats the XML declaration. */
    if (!fr->pushed && content_type_charset(content_type, charset,
                                            sizeof(charset)) &&
        feed_parser_charset(fr->parser, charset) != 0) {
        *error = "out of memory";
        return -1;
    }
    fr->pushed = 1;
    if (feed_parser_push(fr->parser, p, n, 0) != 0) {
        *error = feed_parser_error(fr->parser);
        return -1;
    }
    return 0;
}

static void
poll_end(struct feed_rt *fr)
{
    feed_parser_free(fr->parser);
    fr->parser = NULL;
    batch_free(fr->batch);
    fr->batch = NULL;
}

/* The poll of fr ended, well or not: finish the parse, store what it
 * brought, record the feed's state, and schedule the next poll. */
static void
on_done(const struct fetch_result *r, void *arg)
{
    struct feed_rt *fr = arg;
    struct daemon *d = fr->d;
    const struct store_feed_state *old;
    struct store_feed_state st;
    const char *error = r->error;
    size_t fresh = 0, changed = 0;
    char msg[512];
    int rc;

    fr->busy = 0;
    if (r->ok && !r->not_modified &&
        feed_parser_push(fr->parser, NULL, 0, 1) != 0)
        error = feed_parser_error(fr->parser);
    /* Entries parsed before an error are kept, as on a clean end. */
    if ((rc = store_batch(fr, &fresh, &changed)) != 0) {
        errno = -rc;
        log_warn("%s: cannot store its entries", fr->cf->name);
        error = "the store could not take its entries";
    }
    if (fresh + changed > 0 && store_commit(d->store) != 0) {
        log_warnx("%s: cannot store %zu entries: %s", fr->cf->name,
                  fresh + changed, store_error(d->store));
        d->lost_batches++;
    }
    if (d->lost_batches != fr->lost_at_start) {
        /* Nothing of the failed batch is stored and its IDs are unseen
         * again: forget the validators so the next poll brings it all
         * back. */
        error = "the store could not save its entries";
        free(fr->known);
        fr->known = NULL;
        fr->nknown = 0;
        fresh = changed = 0;
        r = NULL;
    }
    if (r && r->cancelled) {
        poll_end(fr);
        return;
    }
    memset(&st, 0, sizeof(st));
    old = store_feed_state_get(d->store, fr->cf->name);
    if (old)
        st = *old;
    else
        st.next_poll = FEED_TIME_NONE;
    st.last_poll = now_s();
    if (fr->parser && feed_parser_info(fr->parser)->bad_dates > 0) {
        const struct feed_info *fi = feed_parser_info(fr->parser);

        log_warnx("%s: %zu date%s could not be read, e.g. \"%.80s\"",
                  fr->cf->name, fi->bad_dates, fi->bad_dates == 1 ? "" : "s",
                  fi->bad_date ? fi->bad_date : "");
    }
    if (error == NULL) {
        st.errors = 0;
        st.last_error = NULL;
        /* Validators are kept only from a whole, clean response: after a
         * failure the next poll must fetch everything again. */
        if (!r->not_modified) {
            st.etag = (char *)r->etag;
            st.last_modified = (char *)r->last_modified;
        }
        if (r->not_modified)
            log_debug("%s: not modified", fr->cf->name);
        else if (fresh + changed > 0)
            log_info("%s: %zu new, %zu updated (%zu in the feed)",
                     fr->cf->name, fresh, changed, fr->entries);
        else
            log_debug("%s: no new entries (%zu)", fr->cf->name, fr->entries);
    } else {
        st.errors++;
        if (r && r->status >= 400)
            snprintf(msg, sizeof(msg), "HTTP %ld from %s", r->status, r->url);
        else if (fr->entries > 0)
            snprintf(msg, sizeof(msg), "%s (after %zu entr%s)", error,
                     fr->entries, fr->entries == 1 ? "y" : "ies");
        else
            snprintf(msg, sizeof(msg), "%s", error);
        st.last_error = msg;
        st.etag = NULL;
        st.last_modified = NULL;
        log_warnx("%s: %s", fr->cf->name, msg);
    }
    if (store_feed_state_set(d->store, fr->cf->name, &st) != 0)
        log_warnx("%s: out of memory", fr->cf->name);
    poll_end(fr);
    schedule(fr, st.errors);
    if ((rc = store_feed_state_save(d->store)) != 0) {
        errno = -rc;
        log_warn("feeds.state: cannot save");
    }
    if (fresh + changed > 0)
        publish_soon(d);
    if (d->once && fetcher_active(d->fetcher) == 0)
        daemon_stop(d);
}

void
poll_feed(struct feed_rt *fr)
{
    struct daemon *d = fr->d;
    const struct store_feed_state *st;
    struct feed_limits lim;
    struct fetch_req req;
    int rc;

    if (fr->busy || d->stopping)
        return;
    feed_limits_default(&lim);
    fr->entries = 0;
    fr->pushed = 0;
    fr->lost_at_start = d->lost_batches;
    fr->parser = feed_parser_new(&lim, fr->cf->location, on_entry, fr);
    fr->batch = calloc(1, sizeof(*fr->batch));
    if (fr->parser == NULL || fr->batch == NULL) {
        log_warnx("%s: out of memory", fr->cf->name);
        poll_end(fr);
        schedule(fr, 1);
        return;
    }
    st = store_feed_state_get(d->store, fr->cf->name);
    memset(&req, 0, sizeof(req));
    req.url = fr->cf->location;
    req.etag = st ? st->etag : NULL;
    req.last_modified = st ? st->last_modified : NULL;
    req.max_bytes = MAX_RESPONSE;
    req.timeout_s = 120;
    req.on_data = on_data;
    req.on_done = on_done;
    req.arg = fr;
    if ((rc = fetcher_start(d->fetcher, &req)) != 0) {
        errno = -rc;
        log_warn("%s: cannot start the fetch", fr->cf->name);
        poll_end(fr);
        schedule(fr, 1);
        return;
    }
    fr->busy = 1;
}

void
poll_first(struct feed_rt *fr, uint64_t delay_ms)
{
    uv_timer_start(&fr->timer, on_feed_timer, delay_ms, 0);
}

int
feed_rt_init(struct feed_rt *fr, struct daemon *d,
             const struct config_feed *cf)
{
    memset(fr, 0, sizeof(*fr));
    fr->d = d;
    fr->cf = cf;
    if (cf->id_pattern) {
        if (regcomp(&fr->id_re, cf->id_pattern, REG_EXTENDED) != 0) {
            log_warnx("%s: id_pattern does not compile", cf->name);
            return -1;
        }
        fr->have_re = 1;
    }
    uv_timer_init(&d->loop, &fr->timer);
    fr->timer.data = fr;
    return 0;
}

void
feed_rt_close(struct feed_rt *fr)
{
    if (!uv_is_closing((uv_handle_t *)&fr->timer)) {
        uv_timer_stop(&fr->timer);
        uv_close((uv_handle_t *)&fr->timer, NULL);
    }
    if (fr->have_re)
        regfree(&fr->id_re);
    fr->have_re = 0;
    poll_end(fr);
    free(fr->known);
    fr->known = NULL;
}
