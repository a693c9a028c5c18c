/* store/segment.c - the segments of the item log.
 *
 * A segment is items/NNNNNN.jsonl: a header line {"feedd_store":2} (its
 * format, STORE_FORMAT), then one record per item (record.c), each ending
 * with its checksum. Segments of format 1, whose records have none, are
 * still read; the appends never go to one (a new segment starts). A line
 * only counts once its '\n' is on disk: a last line without one is a torn
 * write and is cut off at open, never parsed into garbage. When an ID
 * appears twice in the log (an update), the later line wins. The last
 * segment takes the appends until it has grown past store.seg_max; the
 * next batch starts a new one.
 *
 * A line is checked whenever it is read (the scan at open, a record read
 * back): its checksum, then its JSON and members. A damaged line is
 * skipped with a warning naming its segment and byte. */
#include <dirent.h>
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

/* ---- the scan at open --------------------------------------------------- */

/* Indexes one line of segment segi, number lineno, at off: an item goes
 * into the index, a bad line gives its warning, and the line's record
 * goes to s->idx_out when the scan gathers them. 0, or a negative errno
 * when the store cannot be used. */
static int
store_line_index(struct store *s, uint32_t segi, uint32_t lineno, uint64_t off,
                 const char *line, size_t len)
{
    struct store_seg *seg = &s->segs[segi];
    struct store_irec ir;
    const json_t *v;
    json_error_t jerr;
    struct store_rec r;
    json_t *o = NULL;
    int rc = 0;

    memset(&ir, 0, sizeof ir);
    ir.off = off;
    ir.len = (uint32_t)len;
    ir.seg = seg->no;
    ir.line = lineno;
    if (lineno == 1) {
        seg->format = 0;
        o = json_loadb(line, len, 0, &jerr);
    }
    if (lineno == 1 && json_is_object(o)) {
        v = json_object_get(o, "feedd_store");
        if (json_is_integer(v) && json_integer_value(v) > STORE_FORMAT) {
            store_fail(s,
                       "items/%06" PRIu32 ".jsonl: written by a newer feedd "
                       "(store format %lld); this one reads format %d",
                       ir.seg, (long long)json_integer_value(v), STORE_FORMAT);
            rc = -ENOTSUP;
            goto fail;
        }
        if (json_is_integer(v) && json_integer_value(v) >= 1) {
            ir.kind = STORE_IK_HEADER;
            seg->format = (unsigned)json_integer_value(v);
            ir.date = seg->format;
            goto done;
        }
        if (v != NULL) {
            ir.kind = STORE_IK_BADHDR;
            goto done;
        }
        ir.kind = STORE_IK_NOHDR;
    }
    /* The checksum first: it costs no parse. */
    if (store_record_verify(line, len, seg->format) != 0) {
        ir.kind |= STORE_IK_BADSUM;
        goto done;
    }
    if (lineno != 1)
        o = json_loadb(line, len, 0, &jerr);
    if (store_record_peek(o, &ir.id, &ir.date, &ir.hash) != 0) {
        ir.id = 0;
        ir.date = 0;
        ir.hash = 0;
        ir.kind |= STORE_IK_CORRUPT;
        goto done;
    }
    ir.kind |= STORE_IK_ITEM;
    r.date = ir.date;
    r.hash = ir.hash;
    r.off = off;
    r.seg = segi;
    r.len = ir.len;
    if ((rc = store_rec_put(s, ir.id, &r)) != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: %s", ir.seg, strerror(-rc));
        goto fail;
    }
done:
    if ((ir.kind & ~STORE_IK_NOHDR) == STORE_IK_CORRUPT ||
        (ir.kind & ~STORE_IK_NOHDR) == STORE_IK_BADSUM)
        s->ndamaged++;
    store_line_warn(s, &ir);
    if (s->idx_out != NULL && store_irec_emit(s->idx_out, &ir) != 0) {
        rc = -ENOMEM;
        store_fail(s, "items/index: out of memory");
    }
fail: /* also the way out when all went well */
    json_decref(o);
    return rc;
}

/* A line of segment segi longer than STORE_LINE_MAX: skipped, with a
 * warning. 0 or -ENOMEM. */
static int
store_line_long(struct store *s, uint32_t segi, uint32_t lineno, uint64_t off,
                uint64_t len)
{
    struct store_irec ir;

    memset(&ir, 0, sizeof ir);
    ir.off = off;
    ir.len = (uint32_t)len;
    ir.seg = s->segs[segi].no;
    ir.line = lineno;
    ir.kind = STORE_IK_LONG;
    s->ndamaged++;
    store_line_warn(s, &ir);
    if (len > UINT32_MAX) {
        /* No record can say how long it is: the index would have a gap. */
        s->idx_unusable = 1;
        return 0;
    }
    if (s->idx_out != NULL && store_irec_emit(s->idx_out, &ir) != 0) {
        store_fail(s, "items/index: out of memory");
        return -ENOMEM;
    }
    return 0;
}

int
store_seg_scan(struct store *s, uint32_t segi, char *buf, uint64_t start,
               uint32_t lineno, uint64_t *size, uint32_t *lines)
{
    const struct store_seg *seg = &s->segs[segi];
    uint64_t pos = start, line_off = start; /* the line being read */
    uint64_t line_len = 0;
    struct feed_buf carry; /* its start, when it spans reads */
    const char *p, *end, *nl;
    size_t chunk;
    ssize_t n;
    int rc = 0;

    feed_buf_init(&carry, 0);
    for (;;) {
        n = pread(seg->fd, buf, STORE_SCAN_BUF, (off_t)pos);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = -errno;
            store_fail(s, "items/%06" PRIu32 ".jsonl: read: %s", seg->no,
                       strerror(errno));
            goto fail;
        }
        if (n == 0)
            break;
        pos += (uint64_t)n;
        for (p = buf, end = buf + n; p < end; p = nl + 1) {
            nl = memchr(p, '\n', (size_t)(end - p));
            chunk = (size_t)((nl ? nl : end) - p);
            /* A line that spans reads is gathered in carry; one that
             * grows past STORE_LINE_MAX is only counted. */
            if (nl == NULL || line_len > 0) {
                if (line_len + chunk <= STORE_LINE_MAX &&
                    feed_buf_append(&carry, p, chunk) != 0) {
                    rc = -ENOMEM;
                    store_fail(s, "items/%06" PRIu32 ".jsonl: out of memory",
                               seg->no);
                    goto fail;
                }
                line_len += chunk;
                if (nl == NULL)
                    break;
                p = carry.data ? carry.data : "";
                chunk = carry.len;
            } else {
                line_len = chunk;
            }
            if (lineno < UINT32_MAX)
                lineno++;
            if (line_len > STORE_LINE_MAX)
                rc = store_line_long(s, segi, lineno, line_off, line_len);
            else
                rc = store_line_index(s, segi, lineno, line_off, p, chunk);
            if (rc != 0)
                goto fail;
            line_off += line_len + 1;
            line_len = 0;
            feed_buf_reset(&carry);
        }
    }
    if (line_len > 0) {
        /* The write of the last line was cut short: DESIGN.md says such
         * a line is cut off, never parsed. */
        if (ftruncate(seg->fd, (off_t)line_off) != 0 || fsync(seg->fd) != 0) {
            rc = -errno;
            store_fail(s,
                       "items/%06" PRIu32 ".jsonl: cutting off a torn "
                       "last line: %s",
                       seg->no, strerror(errno));
            goto fail;
        }
        s->ndamaged++;
        store_warn(s,
                   "items/%06" PRIu32 ".jsonl:%" PRIu64 ": torn last line "
                   "cut off (%" PRIu64 " bytes)",
                   seg->no, (uint64_t)lineno + 1, line_len);
    }
    *size = line_off;
    *lines = lineno;
fail: /* also the way out when all went well */
    feed_buf_free(&carry);
    return rc;
}

static int
store_seg_cmp(const void *a, const void *b)
{
    const struct store_seg *x = a, *y = b;

    return x->no < y->no ? -1 : x->no > y->no;
}

/* Finds the segments in items/, sorted by number, with their sizes. 0 or
 * a negative errno, with s->err set. */
static int
store_segs_find(struct store *s)
{
    char name[32];
    struct dirent *de;
    uint32_t no;
    struct stat st;
    DIR *d = NULL;
    void *p;
    int fd, rc = 0;

    if ((fd = dup(s->items_fd)) < 0 || (d = fdopendir(fd)) == NULL) {
        rc = -errno;
        if (fd >= 0)
            close(fd);
        store_fail(s, "items: %s", strerror(-rc));
        goto fail;
    }
    while ((errno = 0, de = readdir(d)) != NULL) {
        if (!store_seg_parse(de->d_name, &no))
            continue;
        store_seg_name(name, no);
        if (fstatat(s->items_fd, name, &st, 0) != 0) {
            rc = -errno;
            store_fail(s, "items/%s: %s", name, strerror(errno));
            goto fail;
        }
        p = store_array_grow(s->segs, &s->segs_cap, s->nsegs, sizeof *s->segs);
        if (p == NULL) {
            rc = -ENOMEM;
            store_fail(s, "items: out of memory");
            goto fail;
        }
        s->segs = p;
        s->segs[s->nsegs].no = (uint32_t)no;
        s->segs[s->nsegs].size = (uint64_t)st.st_size;
        s->segs[s->nsegs].format = 0; /* its header says, once read */
        s->segs[s->nsegs++].fd = -1;
    }
    if (errno != 0) {
        rc = -errno;
        store_fail(s, "items: %s", strerror(errno));
        goto fail;
    }
    if (s->nsegs > 1)
        qsort(s->segs, s->nsegs, sizeof *s->segs, store_seg_cmp);
fail: /* also the way out when all went well */
    if (d != NULL)
        closedir(d);
    return rc;
}

int
store_segs_read(struct store *s)
{
    char name[32], *buf = NULL;
    struct feed_buf out;
    struct store_seg *seg;
    uint64_t from_off = 0;
    uint32_t from_line = 0, lines = 0;
    size_t i, from = 0;
    int rc = 0, rebuild;

    s->items_later = 0;
    feed_buf_init(&out, 0);
    if ((buf = malloc(STORE_SCAN_BUF)) == NULL) {
        rc = -ENOMEM;
        store_fail(s, "items: out of memory");
        goto fail;
    }
    if ((rc = store_idx_load(s, buf, &from, &from_off, &from_line)) < 0)
        goto fail;
    rebuild = rc == 1;
    rc = 0;
    if (rebuild && store_file_header(&out, STORE_IDX_MAGIC, STORE_IDX_VERSION,
                                     STORE_IDX_REC) != 0) {
        rc = -ENOMEM;
        store_fail(s, "items/index: out of memory");
        goto fail;
    }
    /* The rest, from where the index ends: the whole store when there is
     * none, else the lines of the last batches, whose records a crash
     * kept from the index; and always the end of the last segment, where
     * a torn line may be. */
    s->idx_out = &out;
    for (i = from; i < s->nsegs; i++) {
        seg = &s->segs[i];
        store_seg_name(name, seg->no);
        seg->fd = openat(s->items_fd, name, O_RDWR | O_CLOEXEC);
        if (seg->fd < 0) {
            rc = -errno;
            store_fail(s, "items/%s: %s", name, strerror(errno));
            goto fail;
        }
        if ((rc = store_seg_scan(s, (uint32_t)i, buf, i == from ? from_off : 0,
                                 i == from ? from_line : 0, &seg->size,
                                 &lines)) != 0)
            goto fail;
        /* Only the last one stays open: it takes the appends. */
        if (i + 1 < s->nsegs) {
            close(seg->fd);
            seg->fd = -1;
        }
    }
    s->idx_out = NULL;
    if (s->nsegs > 0) {
        s->tail = s->segs[s->nsegs - 1].size;
        s->tail_lines = lines;
    }
    store_idx_save(s, &out, rebuild);
fail: /* also the way out when all went well */
    s->idx_out = NULL;
    feed_buf_free(&out);
    free(buf);
    return rc;
}

int
store_segs_load(struct store *s)
{
    int rc;

    if ((rc = store_segs_find(s)) != 0)
        return rc;
    /* An index that lists every line, as a clean stop leaves it: what it
     * lists is loaded when first needed (store_load()). */
    if ((rc = store_idx_covers(s)) < 0)
        return rc;
    if (rc == 1) {
        s->items_later = 1;
        return 0;
    }
    return store_segs_read(s);
}

int
store_seg_new(struct store *s)
{
    uint32_t no = s->nsegs ? s->segs[s->nsegs - 1].no + 1 : 1;
    char name[32];
    void *p;
    int fd;

    if (no == UINT32_MAX) {
        store_fail(s, "items: out of segment numbers");
        return -EOVERFLOW;
    }
    p = store_array_grow(s->segs, &s->segs_cap, s->nsegs, sizeof *s->segs);
    if (p == NULL) {
        store_fail(s, "items: out of memory");
        return -ENOMEM;
    }
    s->segs = p;
    store_seg_name(name, no);
    fd = openat(s->items_fd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) {
        store_fail(s, "items/%s: create: %s", name, strerror(errno));
        return -errno;
    }
    /* The full one is read from now on, through an fd opened when
     * needed. */
    if (s->nsegs > 0) {
        s->segs[s->nsegs - 1].size = s->tail;
        if (s->segs[s->nsegs - 1].fd >= 0) {
            close(s->segs[s->nsegs - 1].fd);
            s->segs[s->nsegs - 1].fd = -1;
        }
    }
    s->segs[s->nsegs].no = no;
    s->segs[s->nsegs].size = 0;
    s->segs[s->nsegs].format = STORE_FORMAT;
    s->segs[s->nsegs++].fd = fd;
    s->tail = 0;
    s->tail_lines = 0;
    s->tail_dirty = 0;
    s->items_unsynced = 1;
    return 0;
}

int
store_seg_fd(struct store *s, uint32_t segi)
{
    struct store_seg *seg = &s->segs[segi];
    char name[32];

    if (seg->fd >= 0)
        return seg->fd;
    store_seg_name(name, seg->no);
    seg->fd = openat(s->items_fd, name, O_RDONLY | O_CLOEXEC);
    if (seg->fd < 0) {
        store_fail(s, "items/%s: %s", name, strerror(errno));
        return -errno;
    }
    return seg->fd;
}

size_t
store_seg_header(char buf[32], unsigned format)
{
    return (size_t)snprintf(buf, 32, "{\"feedd_store\":%u}\n", format);
}

/* ---- reading a line back ------------------------------------------------ */

int
store_rec_line(struct store *s, const struct store_rec *r)
{
    char *p;
    int fd, rc;

    if ((fd = store_seg_fd(s, r->seg)) < 0)
        return fd;
    /* The line and its '\n': a line end that moved is damage too. */
    if ((size_t)r->len + 1 > s->line_cap) {
        p = realloc(s->line, (size_t)r->len + 1);
        if (p == NULL) {
            store_fail(s, "items: out of memory");
            return -ENOMEM;
        }
        s->line = p;
        s->line_cap = (size_t)r->len + 1;
    }
    rc = store_read_all(fd, s->line, (size_t)r->len + 1, r->off);
    if (rc == -EIO)
        return STORE_DMG_EOL; /* the segment ends before it */
    if (rc != 0) {
        store_fail(s, "items/%06" PRIu32 ".jsonl: read: %s", s->segs[r->seg].no,
                   strerror(-rc));
        return rc;
    }
    if (s->line[r->len] != '\n')
        return STORE_DMG_EOL;
    return store_record_verify(s->line, r->len, s->segs[r->seg].format);
}

int
store_rec_read(struct store *s, const struct store_rec *r, const uint64_t *id,
               struct feed_item *it, struct store_lists *l, json_t **o)
{
    json_error_t jerr;
    uint64_t got;
    int rc;

    *o = NULL;
    if ((rc = store_rec_line(s, r)) != 0)
        return rc;
    if ((*o = json_loadb(s->line, r->len, 0, &jerr)) == NULL)
        return STORE_DMG_JSON;
    if (store_record_decode(it, *o, l) != 0)
        rc = STORE_DMG_RECORD;
    /* What the index says of it: a format 1 line has no sum, but a
     * change of its ID or its version shows here. (Not its date: an index
     * made by an older feedd may have sorted by another rule.) */
    else if ((id != NULL && (feed_id_parse(it->id, &got) != 0 || got != *id)) ||
             it->hash != r->hash)
        rc = STORE_DMG_INDEX;
    if (rc != 0) {
        json_decref(*o);
        *o = NULL;
    }
    return rc;
}
