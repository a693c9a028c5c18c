/* tests/unit/test_segment.c - the segments (segment.c): torn last lines,
 * corrupt lines, headers, new segments at the size limit, and the scan in
 * linear time. Each test gets a fresh folder under /tmp. */
#include "store_fixture.h"

#include "linear.h"
#include "store_int.h"

static void
test_torn_last_line(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct collect c;
    off_t good;
    char *w;

    add_ok(s, "0000000000000001", "a", 1);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    good = file_size(path(f, "items/000001.jsonl"));
    /* A kill -9 in the middle of a write; even a whole object is torn
     * without its '\n'. */
    append_file(path(f, "items/000001.jsonl"),
                "{\"id\":\"0000000000000003\",\"title\":\"c\"}");

    s = open_ok(f);
    w = store_warnings(s);
    assert_non_null(w);
    assert_non_null(strstr(w, "items/000001.jsonl:4: torn last line cut off"));
    free(w);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000003"), 0);
    assert_int_equal(file_size(path(f, "items/000001.jsonl")), good);
    add_ok(s, "0000000000000004", "d", 4);
    assert_int_equal(store_commit(s), 0);
    store_close(s);

    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].title, "d");
    assert_string_equal(c.items[2].title, "a");
    store_close(s);
}

static void
test_torn_header(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    char *w, *seg;

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"), "{\"feedd_st");
    s = open_ok(f);
    w = store_warnings(s);
    assert_non_null(strstr(w, "items/000001.jsonl:1: torn last line"));
    free(w);
    assert_int_equal(file_size(path(f, "items/000001.jsonl")), 0);
    add_ok(s, "0000000000000001", "a", 1);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    /* The emptied segment got its header with the first batch. */
    seg = read_file(path(f, "items/000001.jsonl"));
    assert_true(strncmp(seg, "{\"feedd_store\":2}\n", 18) == 0);
    free(seg);
    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 1);
    store_close(s);
}

/* Lines in the middle of a segment of format 1 (no checksums) that are no
 * record: each skipped with a warning naming its place, and not seen. */
static void
test_corrupt_middle(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    char *w;

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(
        path(f, "items/000001.jsonl"),
        "{\"feedd_store\":1}\n" RECORD(
            "0000000000000001", "\"a\"",
            "1") "\n"
                 "garbage\n"
                 "{\"feed\":\"no id\"}\n"
                 "{\"id\":\"0000000000000xyz\"}\n"
                 "\n"
                 "{\"id\":\"0000000000000009\",\"feedXXXX\":\"lwn\"}\n" RECORD(
                     "0000000000000002", "\"b\"", "null") "\n");
    s = open_ok(f);
    free(store_warnings(s));
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    /* Appends never go to a segment of format 1. */
    assert_int_equal(count_segments(path(f, "items")), 2);

    s = open_ok(f);
    w = store_warnings(s);
    assert_non_null(w);
    assert_string_equal(
        w, "items/000001.jsonl at byte 220 (line 3): damaged record (not "
           "JSON, or a member missing or mistyped), skipped: the entry will "
           "be stored again from its feed\n"
           "items/000001.jsonl at byte 228 (line 4): damaged record (not "
           "JSON, or a member missing or mistyped), skipped: the entry will "
           "be stored again from its feed\n"
           "items/000001.jsonl at byte 245 (line 5): damaged record (not "
           "JSON, or a member missing or mistyped), skipped: the entry will "
           "be stored again from its feed\n"
           "items/000001.jsonl at byte 271 (line 6): damaged record (not "
           "JSON, or a member missing or mistyped), skipped: the entry will "
           "be stored again from its feed\n"
           "items/000001.jsonl at byte 272 (line 7): damaged record (not "
           "JSON, or a member missing or mistyped), skipped: the entry will "
           "be stored again from its feed");
    free(w);
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_seen(s, "0000000000000001"), 1);
    assert_int_equal(store_seen(s, "0000000000000002"), 1);
    assert_int_equal(store_seen(s, "0000000000000003"), 1);
    /* A record without a member every record has is no item: not seen,
     * so that the next poll stores it again. */
    assert_int_equal(store_seen(s, "0000000000000009"), 0);
    store_close(s);
}

/* Three items, committed; the store closed. */
static void
three_items(struct fixture *f)
{
    struct store *s = open_ok(f);

    add_ok(s, "0000000000000001", "a", 1);
    add_ok(s, "0000000000000002", "b", 2);
    add_ok(s, "0000000000000003", "c", 3);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
}

/* The store of three_items() holds each of them once, and nothing
 * else, with no warning. */
static void
three_once(struct fixture *f)
{
    struct store *s = open_ok(f);
    struct collect c;

    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 3);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 3);
    assert_string_equal(c.items[0].id, "0000000000000003");
    assert_string_equal(c.items[1].id, "0000000000000002");
    assert_string_equal(c.items[2].id, "0000000000000001");
    assert_null(store_warnings(s));
    store_close(s);
}

/* A byte changed in a record of format 2, found by the scan at open (no
 * index): skipped with a warning, not seen; stored again, it is there
 * once, at that open and the next. */
static void
test_damaged_scan(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    off_t at;

    three_items(f);
    at = find_in_file(path(f, "items/000001.jsonl"), "\"title\":\"b\"");
    poke(path(f, "items/000001.jsonl"), at + 9, "B", 1);
    assert_int_equal(unlink(path(f, "items/index")), 0);
    s = open_ok(f);
    warnings_have(s, "(line 3): damaged record (checksum), skipped: the entry "
                     "will be stored again from its feed");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_damaged(s), 1);
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    add_ok(s, "0000000000000002", "b", 2);
    assert_int_equal(store_commit(s), 0);
    store_close(s);
    s = open_ok(f);
    /* The damaged line stays until a compaction, and warns at each open. */
    warnings_have(s, "(line 3): damaged record (checksum)");
    store_close(s);
    s = open_ok(f);
    assert_int_equal(store_compact(s, 0, 0, 0), 0);
    free(store_warnings(s));
    store_close(s);
    three_once(f);
}

/* A line of format 2 without its checksum is damaged, even when it is a
 * good record otherwise. */
static void
test_missing_sum(void **state)
{
    struct fixture *f = *state;
    struct store *s;

    three_items(f);
    append_file(path(f, "items/000001.jsonl"),
                RECORD("0000000000000004", "\"d\"", "4") "\n");
    s = open_ok(f);
    warnings_have(s, "(line 5): damaged record (checksum)");
    assert_int_equal(store_seen(s, "0000000000000004"), 0);
    assert_int_equal(store_count(s), 3);
    store_close(s);
}

/* A line end moved (a byte inside a line became '\n', or a '\n' became
 * something else), through the index: each line it touches is damaged;
 * the rest reads. */
static void
test_damaged_newline(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    struct collect c;
    off_t at;

    three_items(f);
    at = find_in_file(path(f, "items/000001.jsonl"),
                      "{\"id\":\"0000000000000003");
    poke(path(f, "items/000001.jsonl"), at - 1, "x", 1);
    s = open_ok(f);
    assert_null(store_warnings(s)); /* the index still fits */
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 2);
    assert_string_equal(c.items[0].id, "0000000000000003");
    assert_string_equal(c.items[1].id, "0000000000000001");
    warnings_have(s, "damaged record (line end)");
    assert_int_equal(store_seen(s, "0000000000000002"), 0);
    assert_int_equal(store_count(s), 2);
    store_close(s);
}

static void
test_missing_header_and_many_warnings(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    char *w, *p;
    size_t lines = 1;
    int i, fd;

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    fd = open(path(f, "items/000001.jsonl"), O_WRONLY | O_CREAT, 0644);
    assert_true(fd >= 0);
    assert_true(dprintf(fd, RECORD("0000000000000001", "null", "null") "\n") >
                0);
    for (i = 0; i < 150; i++)
        assert_true(dprintf(fd, "bad %d\n", i) > 0);
    assert_true(dprintf(fd, RECORD("0000000000000002", "null", "null") "\n") >
                0);
    close(fd);

    s = open_ok(f);
    assert_int_equal(store_count(s), 2);
    w = store_warnings(s);
    assert_non_null(w);
    assert_true(strncmp(w, "items/000001.jsonl:1: no store header\n", 38) == 0);
    for (p = w; (p = strchr(p, '\n')) != NULL; p++)
        lines++;
    /* 100 kept, then one line that counts the rest. */
    assert_int_equal(lines, 101);
    assert_non_null(strstr(w, "\n51 more warnings not shown"));
    free(w);
    store_close(s);
}

static void
test_newer_format(void **state)
{
    struct fixture *f = *state;
    char err[256];

    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"),
               "{\"feedd_store\":1}\n{\"id\":\"0000000000000001\"}\n");
    write_file(path(f, "items/000003.jsonl"),
               "{\"feedd_store\":3}\n{\"id\":\"0000000000000002\"}\n");
    memset(err, 'x', sizeof err);
    assert_null(store_open(f->dir, err, sizeof err));
    assert_string_equal(err, "items/000003.jsonl: written by a newer feedd "
                             "(store format 3); this one reads format 2");
    /* Refusing touches nothing. */
    assert_int_equal(file_size(path(f, "items/000003.jsonl")), 44);
}

static void
test_rollover(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    size_t big_len = (size_t)22 << 20;
    char *big = malloc(big_len + 1), *seg2;
    struct collect c;
    struct feed_item it;
    char id[FEED_ID_LEN + 1];
    int i;

    assert_non_null(big);
    memset(big, 'y', big_len);
    big[big_len] = '\0';
    /* Three lines of 22 MiB fill the first segment past 64 MiB. */
    for (i = 1; i <= 4; i++) {
        snprintf(id, sizeof id, "%016x", i);
        it = item(id, "big", i);
        if (i < 4)
            it.entry.content = big;
        assert_int_equal(store_add(s, &it), 0);
        assert_int_equal(store_commit(s), 0);
    }
    free(big);
    store_close(s);
    assert_int_equal(count_segments(path(f, "items")), 2);
    seg2 = read_file(path(f, "items/000002.jsonl"));
    assert_true(strncmp(seg2,
                        "{\"feedd_store\":2}\n{\"id\":\"0000000000000004\"",
                        42) == 0);
    free(seg2);

    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 4);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.items[0].id, "0000000000000004");
    assert_int_equal(c.items[0].content_len, 0);
    assert_string_equal(c.items[3].id, "0000000000000001");
    assert_int_equal(c.items[3].content_len, big_len);

    /* A compaction that drops the old version of item 4 writes the rest
     * in segments of the same size: the three big lines fill the first
     * one, and the new version of 4 starts the second. */
    add_ok(s, "0000000000000004", "big v2", 4);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_compact(s, 0, 0, 0), 0);
    assert_int_equal(count_segments(path(f, "items")), 2);
    seg2 = read_file(path(f, "items/000002.jsonl"));
    assert_true(strncmp(seg2,
                        "{\"feedd_store\":2}\n{\"id\":\"0000000000000004\"",
                        42) == 0);
    assert_non_null(strstr(seg2, "big v2"));
    free(seg2);
    store_close(s);
    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 4);
    memset(&c, 0, sizeof c);
    assert_int_equal(store_recent(s, 10, collect_fn, &c), 0);
    assert_int_equal(c.n, 4);
    assert_string_equal(c.items[0].title, "big v2");
    assert_int_equal(c.items[3].content_len, big_len);
    store_close(s);
}

/* ---- directly ----------------------------------------------------------- */

/* A batch goes to the last segment while it is under seg_max, else to a
 * new one that starts with the header; the limit is checked before a
 * batch, so a batch never splits. */
static void
test_new_segments(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    char id[FEED_ID_LEN + 1], name[32], rel[64];
    uint64_t before;
    size_t i, nsegs;
    char *seg;

    s->seg_max = 1000;
    for (i = 1; i <= 12; i++) {
        nsegs = s->nsegs;
        before = s->tail;
        snprintf(id, sizeof id, "%016zx", i);
        add_ok(s, id, "a title of some length to fill the segment", 1);
        add_ok(s, "00000000000000ff", "and an update in the same batch", 1);
        assert_int_equal(store_commit(s), 0);
        if (nsegs > 0 && before < s->seg_max) {
            assert_int_equal(s->nsegs, nsegs);
            assert_true(s->tail > before);
        } else {
            assert_int_equal(s->nsegs, nsegs + 1);
            assert_true(s->tail > sizeof STORE_SEG_HEADER);
        }
        assert_int_equal(s->segs[s->nsegs - 1].no, s->nsegs);
    }
    nsegs = s->nsegs;
    assert_true(nsegs >= 3);
    store_close(s);
    assert_int_equal(count_segments(path(f, "items")), nsegs);
    for (i = 1; i <= nsegs; i++) {
        store_seg_name(name, (uint32_t)i);
        assert_int_equal(strlen(name), 12);
        snprintf(rel, sizeof rel, "items/%s", name);
        seg = read_file(path(f, rel));
        assert_true(
            strncmp(seg, STORE_SEG_HEADER, sizeof STORE_SEG_HEADER - 1) == 0);
        /* Full segments are past the limit, by less than a batch. */
        if (i < nsegs)
            assert_true(strlen(seg) >= 1000 && strlen(seg) < 1000 + 1000);
        free(seg);
    }
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_count(s), 13);
    /* The default limit again: the last segment takes the appends. */
    assert_true(s->seg_max == STORE_SEG_MAX);
    add_ok(s, "0000000000000100", "x", 1);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(s->nsegs, nsegs);
    store_close(s);
}

/* A segment of n bytes of one hostile shape: the scan at open must be
 * linear in it. */
struct shape {
    struct fixture *f;
    int kind;
};

enum {
    SHAPE_SHORT_LINES, /* "{\n" over and over: every line corrupt */
    SHAPE_TORN,        /* one line of n bytes, no '\n': cut off */
    SHAPE_LONG_TITLE,  /* one record whose title is n bytes of "\u00e9&lt;" */
    SHAPE_NESTING,     /* one line of n '[' */
};

static void
scan_n(size_t n, void *arg)
{
    struct shape *sh = arg;
    struct fixture *f = sh->f;
    struct store *s;
    size_t i, len;
    char *buf = malloc(n + 512), *p, *rec;
    struct feed_buf sealed;
    int fd;

    assert_non_null(buf);
    p = buf + sprintf(buf, "%s", STORE_SEG_HEADER);
    switch (sh->kind) {
    case SHAPE_SHORT_LINES:
        for (i = 0; i + 2 <= n; i += 2)
            p += sprintf(p, "{\n");
        break;
    case SHAPE_TORN:
        memset(p, 'x', n);
        p += n;
        break;
    case SHAPE_LONG_TITLE:
        rec = p;
        len = sprintf(p, "%s", RECORD("0000000000000001", "\"\"", "1"));
        /* The title's value goes where RECORD() closed it. */
        p = strstr(p, "\"title\":\"") + 9;
        memmove(p + n, p, strlen(p) + 1);
        for (i = 0; i + 10 <= n; i += 10)
            memcpy(p + i, "\\u00e9&lt;", 10);
        memset(p + i, ' ', n - i);
        p += strlen(p);
        /* Sealed with its sum, which the scan checks first. */
        feed_buf_init(&sealed, 0);
        assert_int_equal(feed_buf_append(&sealed, rec, (size_t)(p - rec) - 1),
                         0);
        assert_int_equal(store_record_seal(&sealed, 0), 0);
        buf = realloc(buf, (size_t)(rec - buf) + sealed.len + 1);
        assert_non_null(buf);
        rec = buf + strlen(STORE_SEG_HEADER);
        memcpy(rec, sealed.data, sealed.len);
        p = rec + sealed.len;
        feed_buf_free(&sealed);
        (void)len;
        break;
    default:
        memset(p, '[', n);
        p += n;
        *p++ = '\n';
        break;
    }
    (void)unlink(path(f, "items/index"));
    fd =
        open(path(f, "items/000001.jsonl"), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, buf, (size_t)(p - buf)), p - buf);
    close(fd);
    free(buf);
    s = open_ok(f);
    free(store_warnings(s));
    assert_int_equal(store_count(s), sh->kind == SHAPE_LONG_TITLE);
    store_close(s);
}

static void
test_scan_linear(void **state)
{
    static const char *const names[] = {
        "segment scan, n bytes of \"{\\n\"",
        "segment scan, a torn line of n bytes",
        "segment scan, a title of n bytes of escapes",
        "segment scan, a line of n '['",
    };
    /* Sizes past the caches at n already, so that 4n does not pay for
     * leaving them (a noisy machine makes that look superlinear). */
    static const size_t start[] = {1 << 16, 1 << 20, 1 << 22, 1 << 20};
    struct shape sh = {*state, 0};

    assert_int_equal(mkdir(path(sh.f, "items"), 0755), 0);
    for (sh.kind = 0; sh.kind < 4; sh.kind++)
        assert_linear(names[sh.kind], scan_n, &sh, start[sh.kind], 1 << 25);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_new_segments),    T(test_scan_linear),
        T(test_torn_last_line),  T(test_torn_header),
        T(test_corrupt_middle),  T(test_missing_header_and_many_warnings),
        T(test_newer_format),    T(test_rollover),
        T(test_damaged_scan),    T(test_missing_sum),
        T(test_damaged_newline),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
