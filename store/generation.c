/* store/generation.c - a new generation of items/, as store_compact()
 * writes it in items.new/: the kept lines copied as they are, in
 * segments of store.seg_max like the log, with their index and
 * items/dropped, every file and the folder synced.
 *
 * Each line is checked on its way: one of format 2 by its checksum alone
 * (what the checksum covers is what store_record_encode() wrote), one of
 * format 1 by a parse and the record's check, after which it gets its
 * checksum, so that the new generation is all of format 2. A damaged
 * line is left out with a warning; its ID is forgotten, not dropped. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "store_int.h"

/* The lines of the old generation, read ahead in one buffer. */
struct store_reader {
    char *buf;
    size_t cap, len;
    uint32_t seg; /* index in s->segs of what buf holds, or UINT32_MAX */
    uint64_t at;  /* where buf[0] is in it */
};

/* Writes what g holds back, when there is more than flush_at of it. 0 or
 * -errno with s->err set. */
static int
store_gen_flush(struct store *s, struct store_gen *g, size_t flush_at)
{
    int rc;

    if (g->out.len > flush_at) {
        rc = store_write_all(g->segs[g->nsegs - 1].fd, g->out.data, g->out.len,
                             g->out_at);
        if (rc != 0) {
            store_fail(s, "items.new/%06" PRIu32 ".jsonl: write: %s",
                       g->segs[g->nsegs - 1].no, strerror(-rc));
            return rc;
        }
        g->out_at += g->out.len;
        feed_buf_reset(&g->out);
    }
    if (g->idx.len > flush_at) {
        rc = store_write_all(g->idx_fd, g->idx.data, g->idx.len, g->idx_at);
        if (rc != 0) {
            store_fail(s, "items.new/index: write: %s", strerror(-rc));
            return rc;
        }
        g->idx_at += g->idx.len;
        feed_buf_reset(&g->idx);
    }
    return 0;
}

/* Writes and syncs the last segment of g; it stays open. */
static int
store_gen_seg_end(struct store *s, struct store_gen *g)
{
    struct store_seg *seg = &g->segs[g->nsegs - 1];
    int rc;

    if ((rc = store_gen_flush(s, g, 0)) != 0)
        return rc;
    if (fsync(seg->fd) != 0) {
        store_fail(s, "items.new/%06" PRIu32 ".jsonl: fsync: %s", seg->no,
                   strerror(errno));
        return -errno;
    }
    seg->size = g->size;
    return 0;
}

/* Ends the last segment of g and starts the next, with its header. */
static int
store_gen_seg_new(struct store *s, struct store_gen *g)
{
    struct store_irec ir;
    char name[32];
    void *p;
    int rc;

    if (g->nsegs > 0) {
        if ((rc = store_gen_seg_end(s, g)) != 0)
            return rc;
        close(g->segs[g->nsegs - 1].fd);
        g->segs[g->nsegs - 1].fd = -1;
    }
    p = store_array_grow(g->segs, &g->segs_cap, g->nsegs, sizeof *g->segs);
    if (p == NULL) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    g->segs = p;
    g->segs[g->nsegs].no = (uint32_t)g->nsegs + 1;
    g->segs[g->nsegs].size = 0;
    g->segs[g->nsegs].format = STORE_FORMAT;
    store_seg_name(name, (uint32_t)g->nsegs + 1);
    g->segs[g->nsegs].fd =
        openat(g->dir_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (g->segs[g->nsegs].fd < 0) {
        store_fail(s, "items.new/%s: create: %s", name, strerror(errno));
        return -errno;
    }
    g->nsegs++;
    g->size = g->out_at = 0;
    memset(&ir, 0, sizeof ir);
    ir.kind = STORE_IK_HEADER;
    ir.date = STORE_FORMAT;
    ir.len = sizeof STORE_SEG_HEADER - 2;
    ir.seg = (uint32_t)g->nsegs;
    ir.line = g->lines = 1;
    if (feed_buf_puts(&g->out, STORE_SEG_HEADER) != 0 ||
        store_irec_emit(&g->idx, &ir) != 0) {
        store_fail(s, "items.new: out of memory");
        return -ENOMEM;
    }
    g->size = sizeof STORE_SEG_HEADER - 1;
    g->idx_size += STORE_IDX_REC;
    return 0;
}

/* A STORE_DMG_* when line[0, len), of a segment of format format, is not
 * the record of id at version hash, else 0. */
static int
store_line_check(const char *line, size_t len, unsigned format, uint64_t id,
                 uint64_t hash)
{
    json_error_t jerr;
    json_t *o;
    uint64_t got_id, got_hash;
    int64_t date;
    int why;

    if ((why = store_record_verify(line, len, format)) != 0)
        return why;
    if (format >= 2)
        return 0;
    if ((o = json_loadb(line, len, 0, &jerr)) == NULL)
        return STORE_DMG_JSON;
    if (store_record_peek(o, &got_id, &date, &got_hash) != 0)
        why = STORE_DMG_RECORD;
    else if (got_id != id || got_hash != hash)
        why = STORE_DMG_INDEX;
    json_decref(o);
    return why;
}

/* The line of rec r (of ID id), read through rd, checked, and appended
 * to out with its checksum and its '\n'; *len is then its new length. 0;
 * a STORE_DMG_* when it is damaged (nothing appended); or a negative
 * errno, with s->err set. */
static int
store_line_copy(struct store *s, struct store_reader *rd,
                const struct store_rec *r, uint64_t id, struct feed_buf *out,
                uint32_t *len)
{
    size_t want = (size_t)r->len + 1, start = out->len, body = r->len;
    const char *p;
    char *nb;
    ssize_t n;
    int fd, why;

    if (rd->seg != r->seg || r->off < rd->at ||
        r->off - rd->at + want > rd->len) {
        if (want > rd->cap) {
            if ((nb = realloc(rd->buf, want)) == NULL) {
                store_fail(s, "items: out of memory");
                return -ENOMEM;
            }
            rd->buf = nb;
            rd->cap = want;
        }
        if ((fd = store_seg_fd(s, r->seg)) < 0)
            return fd;
        rd->seg = r->seg;
        rd->at = r->off;
        for (rd->len = 0; rd->len < rd->cap; rd->len += (size_t)n) {
            n = pread(fd, rd->buf + rd->len, rd->cap - rd->len,
                      (off_t)(rd->at + rd->len));
            if (n < 0 && errno == EINTR) {
                n = 0;
                continue;
            }
            if (n < 0) {
                rd->seg = UINT32_MAX;
                store_fail(s, "items/%06" PRIu32 ".jsonl: read: %s",
                           s->segs[r->seg].no, strerror(errno));
                return -errno;
            }
            if (n == 0)
                break;
        }
    }
    p = rd->buf + (r->off - rd->at);
    /* The line must still end where its place says. */
    if (want > rd->len - (size_t)(r->off - rd->at) || p[r->len] != '\n')
        return STORE_DMG_EOL;
    if ((why = store_line_check(p, r->len, s->segs[r->seg].format, id,
                                r->hash)) != 0)
        return why;
    if (s->segs[r->seg].format >= 2 ||
        store_record_verify(p, r->len, STORE_FORMAT) == 0) {
        if (feed_buf_append(out, p, want) != 0)
            goto oom;
        *len = r->len;
        return 0;
    }
    /* A record of format 1, checked above: it ends with '}' (and maybe
     * blanks), which its checksum goes before. */
    while (body > 0 &&
           (p[body - 1] == ' ' || p[body - 1] == '\t' || p[body - 1] == '\r'))
        body--;
    if (body == 0 || p[body - 1] != '}')
        return STORE_DMG_RECORD;
    if (feed_buf_append(out, p, body - 1) != 0 ||
        store_record_seal(out, start) != 0)
        goto oom;
    *len = (uint32_t)(out->len - start - 1);
    return 0;
oom:
    out->len = start;
    if (out->data != NULL)
        out->data[start] = '\0';
    store_fail(s, "items.new: out of memory");
    return -ENOMEM;
}

int
store_gen_write(struct store *s, struct store_gen *g,
                const struct store_keep *keep, size_t nkeep,
                const uint64_t *ids, uint32_t *map)
{
    const struct store_rec *r;
    struct store_reader rd;
    struct store_irec ir;
    uint32_t len = 0;
    size_t i;
    int rc;

    memset(&rd, 0, sizeof rd);
    rd.seg = UINT32_MAX;
    if ((rc = store_dir_remove(s->dir_fd, "items.new")) != 0 ||
        mkdirat(s->dir_fd, "items.new", 0755) != 0) {
        rc = rc ? rc : -errno;
        store_fail(s, "%s/items.new: %s", s->dir, strerror(-rc));
        goto fail;
    }
    g->dir_fd =
        openat(s->dir_fd, "items.new", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    g->idx_fd = g->dir_fd < 0
                    ? -1
                    : openat(g->dir_fd, "index",
                             O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (g->idx_fd < 0) {
        rc = -errno;
        store_fail(s, "%s/items.new: %s", s->dir, strerror(errno));
        goto fail;
    }
    if (store_file_header(&g->idx, STORE_IDX_MAGIC, STORE_IDX_VERSION,
                          STORE_IDX_REC) != 0 ||
        (g->recs = malloc((nkeep ? nkeep : 1) * sizeof *g->recs)) == NULL ||
        (rd.buf = malloc(STORE_COPY_BUF)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items.new: out of memory");
        goto fail;
    }
    rd.cap = STORE_COPY_BUF;
    g->idx_size = STORE_IDX_HDR;
    memset(&ir, 0, sizeof ir);
    for (i = 0; i < nkeep; i++) {
        r = &s->recs[keep[i].rec];
        if ((g->nsegs == 0 || g->size >= s->seg_max) &&
            (rc = store_gen_seg_new(s, g)) != 0)
            goto fail;
        rc = store_line_copy(s, &rd, r, ids[keep[i].rec], &g->out, &len);
        if (rc < 0)
            goto fail;
        if (rc > 0) {
            /* Not dropped: forgotten, so that its feed stores it again. */
            store_warn_damage(s, s->segs[r->seg].no, r->off, 0, rc);
            store_rec_kill(s, keep[i].rec);
            s->ndamaged++;
            continue;
        }
        map[keep[i].rec] = (uint32_t)g->nrecs + 1;
        g->recs[g->nrecs] = *r;
        g->recs[g->nrecs].seg = (uint32_t)g->nsegs - 1;
        g->recs[g->nrecs].len = len;
        g->recs[g->nrecs++].off = g->size;
        ir.kind = STORE_IK_ITEM;
        ir.id = ids[keep[i].rec];
        ir.date = r->date;
        ir.hash = r->hash;
        ir.off = g->size;
        ir.len = len;
        ir.seg = (uint32_t)g->nsegs;
        ir.line = g->lines < UINT32_MAX ? ++g->lines : g->lines;
        if (store_irec_emit(&g->idx, &ir) != 0) {
            rc = -ENOMEM;
            store_fail(s, "items.new: out of memory");
            goto fail;
        }
        g->size += (uint64_t)len + 1;
        g->idx_size += STORE_IDX_REC;
        if ((rc = store_gen_flush(s, g, STORE_COPY_BUF)) != 0)
            goto fail;
    }
    if (g->nsegs > 0 && (rc = store_gen_seg_end(s, g)) != 0)
        goto fail;
    if ((rc = store_gen_flush(s, g, 0)) != 0)
        goto fail;
    /* Synced like the rest: the index is only a cache, but rebuilding
     * it costs a full scan. */
    if (fsync(g->idx_fd) != 0) {
        rc = -errno;
        store_fail(s, "items.new/index: fsync: %s", strerror(errno));
    }
fail: /* also the way out when all went well */
    free(rd.buf);
    return rc;
}

int
store_gen_finish(struct store *s, struct store_gen *g, const uint64_t *dropped,
                 size_t ndropped)
{
    struct feed_buf b;
    int fd = -1, rc = 0;

    feed_buf_init(&b, 0);
    if (ndropped > 0) {
        if (store_dropped_encode(&b, dropped, ndropped) != 0)
            goto oom;
        fd = openat(g->dir_fd, "dropped",
                    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (fd < 0) {
            rc = -errno;
            store_fail(s, "items.new/dropped: %s", strerror(errno));
            goto fail;
        }
        if ((rc = store_write_all(fd, b.data, b.len, 0)) == 0 && fsync(fd) != 0)
            rc = -errno;
        if (rc != 0) {
            store_fail(s, "items.new/dropped: %s", strerror(-rc));
            goto fail;
        }
    }
    if ((rc = store_dir_sync(g->dir_fd)) != 0)
        store_fail(s, "items.new: fsync: %s", strerror(-rc));
    goto fail;
oom:
    rc = -ENOMEM;
    store_fail(s, "items.new: out of memory");
fail: /* also the way out when all went well */
    if (fd >= 0)
        close(fd);
    feed_buf_free(&b);
    return rc;
}

void
store_gen_free(struct store_gen *g)
{
    size_t i;

    for (i = 0; i < g->nsegs; i++)
        if (g->segs[i].fd >= 0)
            close(g->segs[i].fd);
    if (g->idx_fd >= 0)
        close(g->idx_fd);
    if (g->dir_fd >= 0)
        close(g->dir_fd);
    free(g->segs);
    free(g->recs);
    feed_buf_free(&g->out);
    feed_buf_free(&g->idx);
}
