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
#include "feeds/id.h"
#include "feeds/parse.h"
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

/* 1 when a and b are one entry (what an ID shared by several entries is
 * kept by): the same link, else the same title, else the same content. */
static int
same_entry(const struct feed_item *a, const struct feed_item *b)
{
    const struct feed_entry *x = &a->entry, *y = &b->entry;

    if (x->link && y->link)
        return strcmp(x->link, y->link) == 0;
    if (x->title && y->title)
        return strcmp(x->title, y->title) == 0;
    return a->hash == b->hash;
}

/* 1 when a and b, which share a link, are one entry: the same title,
 * else the same content. */
static int
same_content_name(const struct feed_item *a, const struct feed_item *b)
{
    if (a->entry.title && b->entry.title)
        return strcmp(a->entry.title, b->entry.title) == 0;
    return a->hash == b->hash;
}

/* The ID of an entry that shares its base ID with others but is not the
 * one that keeps it: from the base and the entry alone (its link, else
 * its title, else its content), so that it does not change with what
 * else the feed carries. level 1 and 2 go further down that list, for
 * two entries that share the link too. */
static void
derive(struct poll_entry *m, int level)
{
    const struct feed_entry *e = &m->item->entry;
    char hash[FEED_ID_LEN + 1];

    snprintf(hash, sizeof(hash), "%016llx", (unsigned long long)m->item->hash);
    if (level == 0 && e->link)
        feed_id_derive(m->base, 'l', e->link, m->item->id);
    else if (level <= 1 && e->title)
        feed_id_derive(m->base, 't', e->title, m->item->id);
    else
        feed_id_derive(m->base, 'h', hash, m->item->id);
}

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

/* The stored version of id, copied (the caller frees it), or NULL when
 * there is none (never stored, or dropped by retention). */
static struct feed_item *
stored_version(struct daemon *d, const char *id)
{
    struct stored s = {NULL};

    if (store_get(d->store, id, keep_stored, &s) != 0) {
        free(s.item);
        return NULL;
    }
    return s.item;
}

/* Two or more entries of one document share an ID. Exact repeats are
 * dropped; the rest are different entries and are all kept: the one that
 * is the stored entry (same link, else title) keeps the ID, or the first
 * when none is stored; the others get IDs derived from themselves. The
 * keeper is marked shared, so that a lone entry under that ID later is
 * compared with it instead of taken for an edit of it. */
static void
resolve_group(struct daemon *d, struct poll_entry **g, size_t n)
{
    struct feed_item *stored = stored_version(d, g[0]->base);
    size_t i, j, keeper = n;
    int level;

    for (i = 1; i < n; i++)
        for (j = 0; j < i; j++)
            if (!g[j]->drop && g[j]->item->hash == g[i]->item->hash) {
                g[i]->drop = 1;
                break;
            }
    for (i = 0; i < n && keeper == n; i++)
        if (!g[i]->drop && (stored ? same_entry(g[i]->item, stored) : 1))
            keeper = i;
    free(stored);
    if (keeper < n)
        g[keeper]->item->shared = 1;
    for (i = 0; i < n; i++)
        if (!g[i]->drop && i != keeper)
            derive(g[i], 0);
    /* Two that share the link as well: the one already stored under the
     * ID they both got keeps it, the other goes further down the list
     * (both, when neither is stored). */
    for (level = 1; level <= 2; level++)
        for (i = 0; i < n; i++) {
            if (g[i]->drop || i == keeper)
                continue;
            for (j = i + 1; j < n; j++) {
                if (g[j]->drop || j == keeper ||
                    strcmp(g[i]->item->id, g[j]->item->id) != 0)
                    continue;
                stored = stored_version(d, g[i]->item->id);
                if (stored && same_content_name(g[i]->item, stored)) {
                    derive(g[j], level);
                } else if (stored && same_content_name(g[j]->item, stored)) {
                    derive(g[i], level);
                } else {
                    derive(g[i], level);
                    derive(g[j], level);
                }
                free(stored);
            }
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
    v.shared = old->shared || fresh->shared;
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
store_entry(struct feed_rt *fr, struct poll_entry *pe)
{
    struct daemon *d = fr->d;
    struct feed_item *it = pe->item, *old;
    uint64_t hash = 0;
    int rc, edited;

    rc = store_lookup(d->store, it->id, &hash);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return (rc = store_add(d->store, it)) == 0 ? 1 : rc;
    /* The same as this feed had it last time: nothing to look at. */
    if (hash == it->hash && known(fr, it->id) && !it->shared)
        return 0;
    if ((old = stored_version(d, it->id)) == NULL) {
        /* Seen, but no version: dropped by retention, and it stays
         * gone (the feed still carries it). */
        return store_seen(d->store, it->id) ? 0 : -EIO;
    }
    /* An ID once shared by different entries is kept only by the same
     * entry: another one alone under it now is not its edit. */
    if (old->shared && !same_entry(it, old) &&
        strcmp(it->id, pe->base) == 0) {
        free(old);
        derive(pe, 0);
        return store_entry(fr, pe);
    }
    /* Only the feed that brought an entry first edits it: two feeds that
     * carry one article differently must not flip it back and forth. */
    edited = hash != it->hash && strcmp(old->feed, fr->cf->name) == 0;
    rc = 0;
    if (edited || !carries(old, fr->cf->name) || (it->shared && !old->shared))
        rc = (rc = store_version(d, old, it, edited, fr->cf->name)) == 0 ? 1
                                                                         : rc;
    free(old);
    return rc;
}

/* Resolves the batch and stores it; *fresh and *changed count what was
 * written, *failed the entries that could not be (each is logged; the
 * poll then counts as failed, so that its entries come again). The IDs
 * are remembered for the next poll when the document was whole. */
static int
store_batch(struct feed_rt *fr, int whole, size_t *fresh, size_t *changed,
            size_t *failed)
{
    struct poll_batch *b = fr->batch;
    uint64_t *ids = NULL;
    size_t i, n = 0;
    int rc;

    *fresh = *changed = *failed = 0;
    if (b->n == 0)
        return 0;
    if ((rc = resolve(fr->d, b)) != 0)
        return rc;
    if (whole && (ids = malloc(b->n * sizeof(*ids))) == NULL)
        return -ENOMEM;
    for (i = 0; i < b->n; i++) {
        struct poll_entry *pe = &b->v[i];
        int seen;

        if (pe->drop)
            continue;
        seen = store_lookup(fr->d->store, pe->item->id, NULL) == 1;
        rc = store_entry(fr, pe);
        if (rc < 0) {
            if (++*failed == 1)
                log_warnx("%s: cannot store entry %s: %s", fr->cf->name,
                          pe->item->id,
                          rc == -EIO ? store_error(fr->d->store)
                                     : strerror(-rc));
            continue;
        }
        if (rc > 0)
            ++*(seen ? changed : fresh);
        if (ids)
            ids[n++] = id_value(pe->item->id);
    }
    if (ids) {
        qsort(ids, n, sizeof(*ids), u64_cmp);
        free(fr->known);
        fr->known = ids;
        fr->nknown = n;
    }
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
on_data(const char *p, size_t n, const char *content_type, const char *url,
        const char **error, void *arg)
{
    struct feed_rt *fr = arg;
    char charset[64];

    /* RFC 7303 §3: the HTTP charset beats the XML declaration. After a
     * redirect, relative links are relative to where the feed is. */
    if (!fr->pushed &&
        ((content_type_charset(content_type, charset, sizeof(charset)) &&
          feed_parser_charset(fr->parser, charset) != 0) ||
         (url && strcmp(url, fr->cf->location) != 0 &&
          feed_parser_base(fr->parser, url) != 0))) {
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
    size_t fresh = 0, changed = 0, failed = 0;
    char msg[512], what[64];
    int rc;

    fr->busy = 0;
    if (r->ok && !r->not_modified &&
        feed_parser_push(fr->parser, NULL, 0, 1) != 0)
        error = feed_parser_error(fr->parser);
    /* Entries parsed before an error are kept, as on a clean end. */
    if ((rc = store_batch(fr, error == NULL && r->ok && !r->not_modified,
                          &fresh, &changed, &failed)) != 0) {
        errno = -rc;
        log_warn("%s: cannot store its entries", fr->cf->name);
        error = "the store could not take its entries";
    } else if (failed > 0) {
        snprintf(what, sizeof(what), "%zu entr%s could not be stored",
                 failed, failed == 1 ? "y" : "ies");
        error = what;
    }
    /* One commit per poll; the batch holds this poll's entries only. */
    if (fresh + changed > 0 && store_commit(d->store) != 0) {
        /* Nothing of it is stored and its new IDs are unseen again:
         * without validators, the next poll brings it all back. */
        log_warnx("%s: cannot store %zu entries: %s", fr->cf->name,
                  fresh + changed, store_error(d->store));
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

/* A poll that could not even start: an error like any other, recorded
 * and backed off from. */
static void
poll_failed(struct feed_rt *fr, const char *why)
{
    const struct store_feed_state *old =
        store_feed_state_get(fr->d->store, fr->cf->name);
    struct store_feed_state st;

    memset(&st, 0, sizeof(st));
    if (old)
        st = *old;
    else
        st.next_poll = FEED_TIME_NONE;
    st.last_poll = now_s();
    st.errors++;
    st.last_error = (char *)why;
    if (store_feed_state_set(fr->d->store, fr->cf->name, &st) != 0)
        log_warnx("%s: out of memory", fr->cf->name);
    poll_end(fr);
    schedule(fr, st.errors);
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
    fr->parser = feed_parser_new(&lim, fr->cf->location, on_entry, fr);
    fr->batch = calloc(1, sizeof(*fr->batch));
    if (fr->parser == NULL || fr->batch == NULL) {
        log_warnx("%s: out of memory", fr->cf->name);
        poll_failed(fr, "out of memory");
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
        poll_failed(fr, "cannot start the fetch");
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
    /* The timer first: feed_rt_close() closes it whatever came after. */
    uv_timer_init(&d->loop, &fr->timer);
    fr->timer.data = fr;
    if (cf->id_pattern) {
        if (regcomp(&fr->id_re, cf->id_pattern, REG_EXTENDED) != 0) {
            log_warnx("%s: id_pattern does not compile", cf->name);
            return -1;
        }
        fr->have_re = 1;
    }
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
