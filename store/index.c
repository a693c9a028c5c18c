/* store/index.c - items/index, the side index: a cache of what the scan
 * of the segments finds, so that start-up reads 48 bytes per line
 * instead of parsing every record.
 *
 * Its format: a 16-byte header ("feeddidx", version, record size), then
 * one record per line of the segments, in log order (struct store_irec).
 * It is appended after each commit's fsync, without an fsync of its own.
 * At open its records must tile the segments as they are, from their
 * first byte on, with no gap; the bytes past the last record are scanned
 * as before and their records appended. A torn last record is cut off;
 * anything else that does not fit makes the index rebuilt from the
 * segments, with a warning. The record of a segment's header holds its
 * format, and the header is read back at open: a header changed on disk
 * makes the index rebuilt too. The log stays the truth: the worst a bad
 * index can do is cost a full scan.
 *
 * When its last record ends where the last segment ends and every
 * segment starts with a header feedd writes (store_idx_covers(), a few
 * small reads), the open leaves all of that to the first call that needs
 * the items (store_load()): nothing is appended before then, so the load
 * finds the files as the open did. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store_int.h"

/* Item lines of items/index put in the seen set together
 * (store_recs_put()). */
#define STORE_IDX_BATCH 32

/* ---- records ------------------------------------------------------------ */

/* The check of an index record: a multiply-xorshift mix of its fields.
 * Its seed makes the check of a record of zeros non-zero. */
static uint32_t
store_irec_check(const struct store_irec *r)
{
    const uint64_t w[6] = {
        r->id,
        (uint64_t)r->date,
        r->hash,
        r->off,
        (uint64_t)r->len | (uint64_t)r->seg << 32,
        (uint64_t)r->line | (uint64_t)r->kind << 32,
    };
    uint64_t h = UINT64_C(0x6a09e667f3bcc909);
    size_t i;

    for (i = 0; i < 6; i++) {
        h = (h ^ w[i]) * UINT64_C(0x9e3779b97f4a7c15);
        h ^= h >> 32;
    }
    return (uint32_t)(h >> 40);
}

void
store_irec_encode(unsigned char *p, const struct store_irec *r)
{
    store_put_le(p, r->id, 8);
    store_put_le(p + 8, (uint64_t)r->date, 8);
    store_put_le(p + 16, r->hash, 8);
    store_put_le(p + 24, r->off, 8);
    store_put_le(p + 32, r->len, 4);
    store_put_le(p + 36, r->seg, 4);
    store_put_le(p + 40, r->line, 4);
    p[44] = (unsigned char)r->kind;
    store_put_le(p + 45, store_irec_check(r), 3);
}

int
store_irec_decode(const unsigned char *p, struct store_irec *r)
{
    r->id = store_get_le(p, 8);
    r->date = (int64_t)store_get_le(p + 8, 8);
    r->hash = store_get_le(p + 16, 8);
    r->off = store_get_le(p + 24, 8);
    r->len = (uint32_t)store_get_le(p + 32, 4);
    r->seg = (uint32_t)store_get_le(p + 36, 4);
    r->line = (uint32_t)store_get_le(p + 40, 4);
    r->kind = p[44];
    return store_get_le(p + 45, 3) == store_irec_check(r) ? 0 : -1;
}

int
store_irec_emit(struct feed_buf *b, const struct store_irec *r)
{
    unsigned char p[STORE_IDX_REC];

    store_irec_encode(p, r);
    return feed_buf_append(b, p, sizeof p);
}

void
store_line_warn(struct store *s, const struct store_irec *r)
{
    if (r->kind & STORE_IK_NOHDR)
        store_warn(s, "items/%06" PRIu32 ".jsonl:1: no store header", r->seg);
    switch (r->kind & ~STORE_IK_NOHDR) {
    case STORE_IK_BADHDR:
        store_warn(s, "items/%06" PRIu32 ".jsonl:1: bad store header", r->seg);
        break;
    case STORE_IK_CORRUPT:
        store_warn_damage(s, r->seg, r->off, r->line, STORE_DMG_CORRUPT);
        break;
    case STORE_IK_BADSUM:
        store_warn_damage(s, r->seg, r->off, r->line, STORE_DMG_SUM);
        break;
    case STORE_IK_LONG:
        store_warn(s,
                   "items/%06" PRIu32 ".jsonl:%" PRIu32 ": corrupt record "
                   "skipped (longer than %zu bytes)",
                   r->seg, r->line, STORE_LINE_MAX);
        break;
    default:
        break;
    }
}

/* ---- loading ------------------------------------------------------------ */

/* 1 when ir is a record the scan could have written. */
static int
store_irec_valid(const struct store_irec *ir)
{
    unsigned kind = ir->kind & ~(unsigned)STORE_IK_NOHDR;

    if (kind < STORE_IK_HEADER || kind > STORE_IK_BADSUM)
        return 0;
    if (ir->kind & STORE_IK_NOHDR)
        return (kind == STORE_IK_ITEM || kind == STORE_IK_CORRUPT ||
                kind == STORE_IK_BADSUM) &&
               ir->off == 0;
    if (kind == STORE_IK_HEADER)
        return ir->off == 0 && ir->date >= 0 && ir->date <= STORE_FORMAT;
    if (kind == STORE_IK_BADHDR)
        return ir->off == 0;
    return 1;
}

/* 1 when segment segi holds want[0, n) at byte off, 0 when not, or
 * -errno. */
static int
store_seg_holds(struct store *s, size_t segi, uint64_t off, const char *want,
                size_t n)
{
    char name[32], got[32];
    int fd, rc;

    store_seg_name(name, s->segs[segi].no);
    if ((fd = openat(s->items_fd, name, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    rc = store_read_all(fd, got, n, off);
    close(fd);
    return rc != 0 ? rc : memcmp(got, want, n) == 0;
}

int
store_idx_load(struct store *s, char *buf, size_t *segi, uint64_t *off,
               uint32_t *line)
{
    const size_t warn_len = s->warn.len, nwarn = s->nwarn,
                 nwarn_dropped = s->nwarn_dropped;
    const size_t chunk = STORE_SCAN_BUF / STORE_IDX_REC * STORE_IDX_REC;
    unsigned char hdr[STORE_IDX_HDR];
    const unsigned char *p;
    struct store_irec ir;
    struct store_rec r[STORE_IDX_BATCH];
    uint64_t ids[STORE_IDX_BATCH];
    size_t nb = 0;
    char why[160];
    uint64_t size, nrec, i = 0, pos, cov = 0, end;
    size_t cur = 0, want, at, j;
    uint32_t lines = 0;
    int fd, rc, started = 0;
    char hdr_line[32];
    size_t hlen;
    unsigned fmt;
    struct stat st;

    *segi = 0;
    *off = 0;
    *line = 0;
    why[0] = '\0';
    fd = openat(s->items_fd, "index", O_RDWR | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 1; /* a new store, or one from before the index */
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(why, sizeof why, "%s", strerror(errno));
        goto bad;
    }
    size = (uint64_t)st.st_size;
    if (size < STORE_IDX_HDR || store_read_all(fd, hdr, sizeof hdr, 0) != 0 ||
        memcmp(hdr, STORE_IDX_MAGIC, 8) != 0) {
        snprintf(why, sizeof why, "not an index");
        goto bad;
    }
    if (store_get_le(hdr + 8, 4) != STORE_IDX_VERSION ||
        store_get_le(hdr + 12, 4) != STORE_IDX_REC) {
        snprintf(why, sizeof why, "an index of another version");
        goto bad;
    }
    nrec = (size - STORE_IDX_HDR) / STORE_IDX_REC;
    /* Each record stands for a line of at least one byte. */
    for (j = 0, end = 0; j < s->nsegs; j++)
        end += s->segs[j].size;
    if (nrec > end) {
        snprintf(why, sizeof why, "lists more lines than the segments hold");
        goto bad;
    }
    /* Sized once, so that a large store loads without a regrowth. Records
     * of superseded lines make it a bound, not a count; and a failure
     * here is no failure: the tables grow as they go. */
    if (nrec < STORE_REC_MAX && store_recs_reserve(s, (size_t)nrec) == 0)
        (void)store_set_reserve(&s->ids, (size_t)nrec);
    for (pos = STORE_IDX_HDR; i < nrec; pos += want) {
        want = (size_t)(nrec - i) * STORE_IDX_REC;
        if (want > chunk)
            want = chunk;
        if ((rc = store_read_all(fd, buf, want, pos)) != 0) {
            snprintf(why, sizeof why, "read: %s", strerror(-rc));
            goto bad;
        }
        for (at = 0; at < want; at += STORE_IDX_REC, i++) {
            p = (const unsigned char *)buf + at;
            if (store_irec_decode(p, &ir) != 0 || !store_irec_valid(&ir)) {
                snprintf(why, sizeof why, "record %" PRIu64 " is damaged",
                         i + 1);
                goto bad;
            }
            if (!started || ir.seg != s->segs[cur].no) {
                if (started && cov != s->segs[cur].size) {
                    snprintf(why, sizeof why,
                             "items/%06" PRIu32 ".jsonl has lines it "
                             "does not list",
                             s->segs[cur].no);
                    goto bad;
                }
                cur += started;
                /* Segments it skips must be empty (made, never used). */
                while (cur < s->nsegs && s->segs[cur].no < ir.seg &&
                       s->segs[cur].size == 0)
                    cur++;
                if (cur == s->nsegs || s->segs[cur].no != ir.seg) {
                    snprintf(why, sizeof why,
                             "record %" PRIu64 " is for items/%06" PRIu32
                             ".jsonl, out of order or not there",
                             i + 1, ir.seg);
                    goto bad;
                }
                started = 1;
                cov = 0;
            }
            /* Lines follow each other with no gap, inside the segment. */
            if (ir.off != cov || ir.len >= s->segs[cur].size - cov) {
                snprintf(why, sizeof why,
                         "record %" PRIu64 " does not fit items/%06" PRIu32
                         ".jsonl",
                         i + 1, ir.seg);
                goto bad;
            }
            cov += (uint64_t)ir.len + 1;
            lines = ir.line;
            if ((ir.kind & ~STORE_IK_NOHDR) == STORE_IK_HEADER) {
                /* Read back, as written: so that a header changed on
                 * disk is seen (and the segment's format known). */
                fmt = ir.date > 0 ? (unsigned)ir.date : 1;
                hlen = store_seg_header(hdr_line, fmt);
                if (ir.len + 1 == hlen &&
                    store_seg_holds(s, cur, 0, hdr_line, hlen) != 1) {
                    snprintf(why, sizeof why,
                             "items/%06" PRIu32 ".jsonl does not match it",
                             s->segs[cur].no);
                    goto bad;
                }
                s->segs[cur].format = fmt;
            }
            if ((ir.kind & ~STORE_IK_NOHDR) == STORE_IK_ITEM) {
                ids[nb] = ir.id;
                r[nb].date = ir.date;
                r[nb].hash = ir.hash;
                r[nb].off = ir.off;
                r[nb].seg = (uint32_t)cur;
                r[nb].len = ir.len;
                if (++nb == STORE_IDX_BATCH) {
                    if ((rc = store_recs_put(s, ids, r, nb)) != 0) {
                        store_fail(s, "items/index: %s", strerror(-rc));
                        goto fail;
                    }
                    nb = 0;
                }
            }
            store_line_warn(s, &ir);
        }
    }
    /* Every segment listed still ends its last listed line where the
     * index says: a cheap check that it is the same file. */
    for (j = 0; started && j <= cur; j++) {
        end = j < cur ? s->segs[j].size : cov;
        if (end > 0 && store_seg_holds(s, j, end - 1, "\n", 1) != 1) {
            snprintf(why, sizeof why,
                     "items/%06" PRIu32 ".jsonl does not match it",
                     s->segs[j].no);
            goto bad;
        }
    }
    if ((rc = store_recs_put(s, ids, r, nb)) != 0) {
        store_fail(s, "items/index: %s", strerror(-rc));
        goto fail;
    }
    if ((size - STORE_IDX_HDR) % STORE_IDX_REC != 0) {
        if (ftruncate(fd, (off_t)(STORE_IDX_HDR + nrec * STORE_IDX_REC)) != 0) {
            snprintf(why, sizeof why, "cutting off a torn record: %s",
                     strerror(errno));
            goto bad;
        }
        store_warn(s, "items/index: torn last record cut off");
    }
    s->idx_fd = fd;
    s->idx_size = STORE_IDX_HDR + nrec * STORE_IDX_REC;
    if (started) {
        *segi = cur;
        *off = cov;
        *line = lines;
    }
    return 0;
bad:
    /* Back to nothing loaded, and none of its warnings. */
    s->nrecs = 0;
    for (j = 0; j < s->nsegs; j++)
        s->segs[j].format = 0;
    store_set_clear(&s->ids);
    s->warn.len = warn_len;
    if (s->warn.data != NULL)
        s->warn.data[warn_len] = '\0';
    s->nwarn = nwarn;
    s->nwarn_dropped = nwarn_dropped;
    store_warn(s, "items/index: %s; rebuilt from the segments", why);
    if (fd >= 0)
        close(fd);
    return 1;
fail:
    close(fd);
    return rc;
}

/* 1 when segment segi starts with a header this version writes, else 0
 * (also when it cannot be read). */
static int
store_seg_has_header(struct store *s, size_t segi)
{
    char name[32], got[32], want[32];
    size_t n = sizeof got, hlen;
    unsigned fmt;
    ssize_t r;
    int fd;

    if (s->segs[segi].size < n)
        n = (size_t)s->segs[segi].size;
    store_seg_name(name, s->segs[segi].no);
    if ((fd = openat(s->items_fd, name, O_RDONLY | O_CLOEXEC)) < 0)
        return 0;
    r = pread(fd, got, n, 0);
    close(fd);
    for (fmt = 1; r > 0 && fmt <= STORE_FORMAT; fmt++) {
        hlen = store_seg_header(want, fmt);
        if (hlen <= (size_t)r && memcmp(got, want, hlen) == 0)
            return 1;
    }
    return 0;
}

int
store_idx_covers(struct store *s)
{
    unsigned char hdr[STORE_IDX_HDR], rec[STORE_IDX_REC];
    struct store_irec ir;
    struct stat st;
    uint64_t nrec, total = 0;
    size_t j, last = s->nsegs;
    int fd, rc = 0;

    for (j = 0; j < s->nsegs; j++) {
        total += s->segs[j].size;
        if (s->segs[j].size > 0)
            last = j;
    }
    if (last == s->nsegs)
        return 0;
    fd = openat(s->items_fd, "index", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    if (fstat(fd, &st) != 0 || (uint64_t)st.st_size < STORE_IDX_HDR ||
        ((uint64_t)st.st_size - STORE_IDX_HDR) % STORE_IDX_REC != 0)
        goto out;
    nrec = ((uint64_t)st.st_size - STORE_IDX_HDR) / STORE_IDX_REC;
    if (nrec == 0 || nrec > total ||
        store_read_all(fd, hdr, sizeof hdr, 0) != 0 ||
        memcmp(hdr, STORE_IDX_MAGIC, 8) != 0 ||
        store_get_le(hdr + 8, 4) != STORE_IDX_VERSION ||
        store_get_le(hdr + 12, 4) != STORE_IDX_REC ||
        store_read_all(fd, rec, sizeof rec,
                       (uint64_t)st.st_size - sizeof rec) != 0 ||
        store_irec_decode(rec, &ir) != 0 || !store_irec_valid(&ir) ||
        ir.seg != s->segs[last].no || ir.off + ir.len + 1 != s->segs[last].size)
        goto out;
    for (j = 0; j <= last; j++)
        if (s->segs[j].size > 0 && !store_seg_has_header(s, j))
            goto out;
    rc = 1;
out:
    close(fd);
    return rc;
}

/* A failure leaves what the index holds a gapless prefix of the log. */
void
store_idx_save(struct store *s, const struct feed_buf *out, int rebuild)
{
    size_t plen = strlen(s->dir) + sizeof "/items/index";
    char *path = NULL;
    int rc = 0;

    if (s->idx_unusable) {
        store_warn(s, "items/index: a line is too long to be listed; "
                      "each start scans the segments");
        /* Not a stale index either: it would be rebuilt at each start. */
        if (rebuild)
            (void)unlinkat(s->items_fd, "index", 0);
        rc = -EFBIG;
        goto fail;
    }
    if (!rebuild) {
        if (out->len == 0)
            return;
        if ((rc = store_write_all(s->idx_fd, out->data, out->len,
                                  s->idx_size)) != 0)
            goto warn;
        s->idx_size += out->len;
        return;
    }
    if ((path = malloc(plen)) == NULL) {
        rc = -ENOMEM;
        goto warn;
    }
    snprintf(path, plen, "%s/items/index", s->dir);
    /* Whole or not at all: a rebuild cut short must not look like an
     * index that covers less than it says. */
    if ((rc = store_file_replace(path, out->data, out->len)) != 0)
        goto warn;
    s->idx_fd = openat(s->items_fd, "index", O_RDWR | O_CLOEXEC);
    if (s->idx_fd < 0) {
        rc = -errno;
        goto warn;
    }
    s->idx_size = out->len;
    free(path);
    return;
warn:
    store_warn(s, "items/index: %s; the next start scans the segments",
               strerror(-rc));
fail:
    free(path);
    if (s->idx_fd >= 0)
        close(s->idx_fd);
    s->idx_fd = -1;
}

/* A failure leaves what the index holds a gapless prefix of the log: the
 * next open scans what it does not list. */
void
store_idx_append(struct store *s, const struct feed_buf *b, int ok)
{
    int rc;

    if (s->idx_fd < 0)
        return;
    rc =
        ok ? store_write_all(s->idx_fd, b->data, b->len, s->idx_size) : -ENOMEM;
    if (rc == 0) {
        s->idx_size += b->len;
        return;
    }
    store_warn(s, "items/index: %s; the next start scans the segments",
               strerror(-rc));
    close(s->idx_fd);
    s->idx_fd = -1;
}
