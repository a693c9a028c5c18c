/* daemon/ingest.c - the entries of one poll, resolved and stored
 * (ingest.h).
 *
 * Entries stream in (a copy of each, with its stable ID). At the end the
 * batch is resolved as a whole: entries of this document that share an ID
 * but differ are told apart (never merged), and each is then new, edited,
 * carried by one more feed, or the same as before. Then one commit. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"

struct ingest_entry {
    char base[FEED_ID_LEN + 1]; /* the ID its rule gives */
    struct feed_item *item;     /* a copy; item->id is the final ID */
    int drop;                   /* an exact repeat within the document */
    /* Its store record (made_len bytes), made by ingest_prepare(); item
     * is then a slim copy (no summary, content, enclosures, categories),
     * as rec has the rest. rec_len is made_len while the record fits the
     * item as it is, else 0 (its record is made when stored). */
    char *rec;
    size_t rec_len, made_len;
};

/* A poll's entries: made by its first entry, freed when it is staged. */
struct ingest_batch {
    size_t n, cap;
    struct ingest_entry v[];
};

/* A feed has one from its start to its end, so what it holds between
 * polls is kept to a few words: no batch, and of the last poll only a
 * digest of its IDs. */
struct ingest {
    struct store *store;
    const char *feed;
    const regex_t *id_re;
    struct ingest_batch *b; /* the poll's; NULL between polls */
    /* A digest of the IDs this feed carried at its last whole poll (all
     * of them stored): when a document has the same IDs, an entry the
     * same as its stored version needs no look at the store. */
    uint64_t known;
    uint64_t staged; /* of the poll staged and not yet committed */
    enum feed_id_rule rule;
    unsigned char has_known, has_staged;
    unsigned char identified; /* the batch has its IDs and hashes */
};

static uint64_t
id_value(const char *id)
{
    uint64_t v = 0;

    (void)feed_id_parse(id, &v);
    return v;
}

/* One ID's share of a digest of a set of IDs: the digest is their sum,
 * so that it does not depend on their order (splitmix64's finalizer,
 * as the IDs are chosen by publishers). */
static uint64_t
id_mix(uint64_t x)
{
    x ^= x >> 30;
    x *= UINT64_C(0xbf58476d1ce4e5b9);
    x ^= x >> 27;
    x *= UINT64_C(0x94d049bb133111eb);
    return x ^ (x >> 31);
}

void
ingest_spent_free(void *spent)
{
    struct ingest_batch *b = spent;
    size_t i;

    if (b == NULL)
        return;
    for (i = 0; i < b->n; i++) {
        free(b->v[i].item);
        free(b->v[i].rec);
    }
    free(b);
}

/* Frees the batch and the entries it holds. */
static void
batch_free(struct ingest *ing)
{
    ingest_spent_free(ing->b);
    ing->b = NULL;
    ing->identified = 0;
}

struct ingest *
ingest_new(struct store *s, const char *feed, enum feed_id_rule rule,
           const regex_t *id_re)
{
    struct ingest *ing = calloc(1, sizeof(*ing));

    if (ing == NULL)
        return NULL;
    ing->store = s;
    ing->feed = feed;
    ing->rule = rule;
    ing->id_re = id_re;
    return ing;
}

void
ingest_free(struct ingest *ing)
{
    if (ing == NULL)
        return;
    batch_free(ing);
    free(ing);
}

size_t
ingest_pending(const struct ingest *ing)
{
    return ing->b ? ing->b->n : 0;
}

int
ingest_add(struct ingest *ing, const struct feed_entry *e,
           const char *feed_title, const char *feed_url, int64_t now)
{
    struct ingest_entry *pe;
    struct feed_item it;

    if (ing->b == NULL || ing->b->n == ing->b->cap) {
        size_t cap = ing->b ? ing->b->cap * 2 : 16;
        struct ingest_batch *b =
            realloc(ing->b, sizeof(*b) + cap * sizeof(b->v[0]));

        if (b == NULL)
            return -ENOMEM;
        if (ing->b == NULL)
            b->n = 0;
        b->cap = cap;
        ing->b = b;
    }
    pe = &ing->b->v[ing->b->n];
    memset(pe, 0, sizeof(*pe));
    memset(&it, 0, sizeof(it));
    it.entry = *e;
    it.feed = ing->feed;
    it.feed_title = feed_title;
    it.feed_url = feed_url;
    it.stored = now;
    it.changed = FEED_TIME_NONE;
    if ((pe->item = feed_item_copy(&it)) == NULL)
        return -ENOMEM;
    ing->b->n++;
    return 0;
}

/* Each entry's ID (by the feed's rule) and content hash, worked out for
 * the whole batch at its end (ingest_prepare(), or ingest_stage() when
 * that did not). 0 or -ENOMEM. */
static int
identify(struct ingest *ing)
{
    size_t i;

    for (i = 0; i < ing->b->n; i++) {
        struct ingest_entry *pe = &ing->b->v[i];
        const struct feed_entry *e = &pe->item->entry;

        if (!(ing->id_re &&
              feed_entry_id_pattern(e, ing->id_re, pe->base) > 0) &&
            feed_entry_id(e, ing->feed, ing->rule, pe->base) < 0)
            return -ENOMEM;
        memcpy(pe->item->id, pe->base, sizeof(pe->item->id));
        pe->item->hash = feed_entry_hash(e);
    }
    ing->identified = 1;
    return 0;
}

/* pe's item, with its record made (in scratch first, then in a block of
 * its own, so that what a document holds until it is staged is its
 * records' size): the copy kept is slim, as the record holds the rest.
 * 0 or -ENOMEM (pe as it was). */
static int
prepare_entry(struct ingest_entry *pe, struct feed_buf *scratch)
{
    struct feed_item it = *pe->item, *slim;
    char *rec;
    int rc;

    scratch->len = 0;
    if ((rc = store_record_prepare(scratch, pe->item)) != 0)
        return rc;
    it.entry.summary = it.entry.content = NULL;
    it.entry.enclosures = NULL;
    it.entry.nenclosures = 0;
    it.entry.categories = NULL;
    it.entry.ncategories = 0;
    if ((rec = malloc(scratch->len)) == NULL)
        return -ENOMEM;
    if ((slim = feed_item_copy(&it)) == NULL) {
        free(rec);
        return -ENOMEM;
    }
    memcpy(rec, scratch->data, scratch->len);
    free(pe->item);
    pe->item = slim;
    pe->rec = rec;
    pe->rec_len = pe->made_len = scratch->len;
    return 0;
}

size_t
ingest_prepared(const struct ingest *ing)
{
    size_t i, n = 0;

    for (i = 0; ing->b != NULL && i < ing->b->n; i++)
        n += ing->b->v[i].rec != NULL;
    return n;
}

int
ingest_prepare(struct ingest *ing)
{
    struct feed_buf scratch;
    size_t i;
    int rc;

    if (ing->b == NULL || ing->identified)
        return 0;
    if ((rc = identify(ing)) != 0)
        return rc;
    /* A feed polled before since the start has most of what it brings
     * stored already: its records are made when stored, for the few new
     * ones. At its first poll, all may be new (all are, in a cold start):
     * they are made here, beside the loop. */
    if (ing->has_known)
        return 0;
    feed_buf_init(&scratch, 0);
    /* Out of memory, the rest are made when they are stored. */
    for (i = 0; i < ing->b->n && rc == 0; i++)
        rc = prepare_entry(&ing->b->v[i], &scratch);
    feed_buf_free(&scratch);
    return rc;
}

/* ---- entries of one document that share an ID ---- */

static int
by_base(const void *a, const void *b)
{
    const struct ingest_entry *x = *(struct ingest_entry *const *)a,
                              *y = *(struct ingest_entry *const *)b;
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
derive(struct ingest_entry *m, int level)
{
    const struct feed_entry *e = &m->item->entry;
    char hash[FEED_ID_LEN + 1];

    m->rec_len = 0; /* its record has the ID it had */
    feed_id_format(m->item->hash, hash);
    if (level == 0 && e->link)
        feed_id_derive(m->base, 'l', e->link, m->item->id);
    else if (level <= 1 && e->title)
        feed_id_derive(m->base, 't', e->title, m->item->id);
    else
        feed_id_derive(m->base, 'h', hash, m->item->id);
}

static int
keep_copy(const struct feed_item *it, void *arg)
{
    struct feed_item **out = arg;

    *out = feed_item_copy(it);
    return *out ? 0 : -ENOMEM;
}

/* The stored version of id into *out (the caller frees it): 0, -ENOENT
 * when there is none (never stored, or dropped by retention), -EBADMSG
 * when its record is damaged (the store forgot the ID: it is to be
 * stored again), or another negative errno (out of memory, a read that
 * failed). */
static int
stored_version(struct store *s, const char *id, struct feed_item **out)
{
    int rc;

    *out = NULL;
    if ((rc = store_get(s, id, keep_copy, out)) != 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

/* Two or more entries of one document share an ID. Exact repeats are
 * dropped; the rest are different entries and are all kept: the one that
 * is the stored entry (same link, else title) keeps the ID, or the first
 * when none is stored; the others get IDs derived from themselves. The
 * keeper is marked shared, so that a lone entry under that ID later is
 * compared with it instead of taken for an edit of it. */
static int
resolve_group(struct store *s, struct ingest_entry **g, size_t n)
{
    struct feed_item *stored;
    size_t i, j, keeper = n;
    int level, rc;

    rc = stored_version(s, g[0]->base, &stored);
    if (rc == -ENOMEM)
        return rc;
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
    if (keeper < n) {
        g[keeper]->item->shared = 1;
        g[keeper]->rec_len = 0;
    }
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
                if (stored_version(s, g[i]->item->id, &stored) == -ENOMEM)
                    return -ENOMEM;
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
    return 0;
}

static int
resolve(struct ingest *ing)
{
    struct ingest_entry **idx;
    size_t i, j, n = ing->b->n;
    int rc = 0;

    if (n < 2)
        return 0;
    if ((idx = malloc(n * sizeof(*idx))) == NULL)
        return -ENOMEM;
    for (i = 0; i < n; i++)
        idx[i] = &ing->b->v[i];
    qsort(idx, n, sizeof(*idx), by_base);
    for (i = 0; i < n && rc == 0; i = j) {
        for (j = i + 1; j < n && strcmp(idx[j]->base, idx[i]->base) == 0; j++)
            ;
        if (j - i > 1)
            rc = resolve_group(ing->store, idx + i, j - i);
    }
    free(idx);
    return rc;
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

/* Stores a new version of old: fresh's content when this feed owns the
 * entry and it changed, else old's with this feed added to its list. */
static int
store_version(struct ingest *ing, const struct feed_item *old,
              const struct feed_item *fresh, int edited, int64_t now)
{
    const char **also = NULL;
    struct feed_item v = edited ? *fresh : *old;
    size_t n = old->nalso;
    int rc;

    v.feed = old->feed;
    v.feed_title = old->feed_title;
    v.feed_url = old->feed_url;
    v.stored = old->stored;
    v.changed = edited ? now : old->changed;
    v.shared = old->shared || fresh->shared;
    v.also = old->also;
    v.nalso = old->nalso;
    if (!carries(old, ing->feed)) {
        if ((also = malloc((n + 1) * sizeof(*also))) == NULL)
            return -ENOMEM;
        if (n > 0)
            memcpy(also, old->also, n * sizeof(*also));
        also[n] = ing->feed;
        v.also = also;
        v.nalso = n + 1;
    }
    rc = store_add(ing->store, &v);
    free(also);
    return rc;
}

/* pe's item in whole again, when ingest_prepare() kept a slim copy: read
 * back from its record, with the ID and mark resolve() may have given
 * it since. 0 or a negative errno. */
static int
unslim(struct ingest *ing, struct ingest_entry *pe)
{
    struct feed_item *full = NULL;
    int rc;

    if (pe->rec == NULL)
        return 0;
    rc = store_record_item(pe->rec, pe->made_len, keep_copy, &full);
    if (rc != 0) {
        free(full);
        return rc;
    }
    memcpy(full->id, pe->item->id, sizeof(full->id));
    full->shared = pe->item->shared;
    free(pe->item);
    pe->item = full;
    free(pe->rec);
    pe->rec = NULL;
    pe->rec_len = 0;
    return 0;
}

/* Stores pe's item as it is, with the record ingest_prepare() made when
 * it has one. */
static int
add_new(struct ingest *ing, struct ingest_entry *pe)
{
    int rc;

    if (pe->rec_len > 0)
        return store_add_line(ing->store, pe->item, pe->rec, pe->rec_len);
    if ((rc = unslim(ing, pe)) != 0)
        return rc;
    return store_add(ing->store, pe->item);
}

/* Puts one resolved entry where it belongs; same says the document has
 * the IDs of the feed's last whole poll. Returns 1 when it was stored as
 * new, 2 when stored again (edited, or one more feed), 0 when nothing
 * needed to be, or a negative errno. */
static int
store_entry(struct ingest *ing, struct ingest_entry *pe, int64_t now, int same)
{
    struct feed_item *it = pe->item, *old;
    uint64_t hash = 0;
    int rc, edited;

    rc = store_lookup(ing->store, it->id, &hash);
    if (rc < 0)
        return rc;
    if (rc == 0)
        return (rc = add_new(ing, pe)) == 0 ? 1 : rc;
    /* The same as this feed had it last time: nothing to look at. */
    if (hash == it->hash && same && !it->shared)
        return 0;
    rc = stored_version(ing->store, it->id, &old);
    if (rc == -EBADMSG) {
        /* Its record is damaged: the store warned and forgot it, and the
         * feed still has it. Stored again, as new. */
        return (rc = add_new(ing, pe)) == 0 ? 1 : rc;
    }
    if (rc == -ENOENT) {
        /* Seen, but no version: dropped by retention, and it stays
         * gone. */
        return 0;
    }
    if (rc != 0)
        return rc;
    /* An ID once shared by different entries is kept only by the same
     * entry: another one alone under it now is not its edit. */
    if (old->shared && !same_entry(it, old) && strcmp(it->id, pe->base) == 0) {
        free(old);
        derive(pe, 0);
        return store_entry(ing, pe, now, same);
    }
    /* Only the feed that brought an entry first edits it: two feeds that
     * carry one article differently must not flip it back and forth. */
    edited = hash != it->hash && strcmp(old->feed, ing->feed) == 0;
    rc = 0;
    /* An edit stores the content that a slim copy left in its record. */
    if (edited && (rc = unslim(ing, pe)) != 0) {
        free(old);
        return rc;
    }
    it = pe->item;
    if (edited || !carries(old, ing->feed) || (it->shared && !old->shared))
        rc = (rc = store_version(ing, old, it, edited, now)) == 0 ? 2 : rc;
    free(old);
    return rc;
}

int
ingest_stage(struct ingest *ing, int whole, int64_t now,
             struct ingest_result *res)
{
    uint64_t doc = 0, ok = 0;
    size_t i, n;
    int rc, same;

    memset(res, 0, sizeof(*res));
    ing->has_staged = 0;
    if (ing->b == NULL || ing->b->n == 0) {
        batch_free(ing);
        return 0;
    }
    if ((!ing->identified && (rc = identify(ing)) != 0) ||
        (rc = resolve(ing)) != 0) {
        batch_free(ing);
        return rc;
    }
    n = ing->b->n;
    for (i = 0; i < n; i++)
        if (!ing->b->v[i].drop)
            doc += id_mix(id_value(ing->b->v[i].item->id));
    /* The document has the IDs of the last whole poll, each of which
     * this feed carries in the store: an entry whose version is the
     * stored one is nothing new. */
    same = ing->has_known && doc == ing->known;
    for (i = 0; i < n; i++) {
        struct ingest_entry *pe = &ing->b->v[i];

        if (pe->drop)
            continue;
        rc = store_entry(ing, pe, now, same);
        if (rc == -EFBIG) {
            /* Its record would be over the store's limit: this entry is
             * left out (any older version stays), the others committed. */
            if (++res->too_big == 1)
                memcpy(res->too_big_id, pe->item->id, sizeof(res->too_big_id));
            continue;
        }
        if (rc < 0) {
            if (++res->failed == 1) {
                memcpy(res->failed_id, pe->item->id, sizeof(res->failed_id));
                res->failed_rc = rc;
            }
            continue;
        }
        if (rc > 0)
            ++*(rc == 1 ? &res->fresh : &res->changed);
        ok += id_mix(id_value(pe->item->id));
    }
    /* Between polls a feed holds no batch: idle memory is per feed, and
     * a feed has polls far apart. The caller frees it. */
    res->spent = ing->b;
    ing->b = NULL;
    ing->identified = 0;
    /* The IDs now in the store with this feed: an entry left out is not
     * among them, so a document that has it again is not the same. */
    if (whole) {
        ing->staged = ok;
        ing->has_staged = 1;
    }
    return 0;
}

void
ingest_committed(struct ingest *ing, int commit_rc, struct ingest_result *res)
{
    if (commit_rc != 0) {
        /* Nothing of it is stored and its new IDs are unseen again:
         * nothing may be taken as known either. */
        res->commit_rc = commit_rc;
        res->lost = res->fresh + res->changed;
        res->fresh = res->changed = 0;
        ing->has_staged = ing->has_known = 0;
        return;
    }
    if (ing->has_staged) {
        ing->known = ing->staged;
        ing->has_known = 1;
        ing->has_staged = 0;
    }
}

int
ingest_finish(struct ingest *ing, int whole, int64_t now,
              struct ingest_result *res)
{
    int rc = ingest_stage(ing, whole, now, res);

    if (rc != 0)
        return rc;
    ingest_spent_free(res->spent);
    res->spent = NULL;
    /* One commit per poll; the batch holds this poll's entries only. */
    ingest_committed(
        ing, res->fresh + res->changed > 0 ? store_commit(ing->store) : 0, res);
    return 0;
}
