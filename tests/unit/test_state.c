/* tests/unit/test_state.c - feeds.state (state.c): the per-feed state saved
 * and read back, corrupt lines, and the load in linear time. Each test gets
 * a fresh folder under /tmp. */
#include "store_fixture.h"

#include <limits.h>
#include <sys/stat.h>

#include "linear.h"
#include "store_int.h"

static void
test_feed_state(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_feed_state *got;
    struct store_feed_state st;
    char etag[] = "\"abc\"";
    char *file;

    assert_null(store_feed_state_get(s, "lwn"));
    memset(&st, 0, sizeof st);
    st.etag = etag;
    st.last_modified = (char *)"Fri, 17 May 2024 10:00:00 GMT";
    st.last_poll = 1715940000;
    st.next_poll = 1715941800;
    assert_int_equal(store_feed_state_set(s, "lwn", &st), 0);
    /* A copy: changing the caller's strings changes nothing. */
    etag[1] = 'X';
    memset(&st, 0, sizeof st);
    st.last_poll = FEED_TIME_NONE;
    st.next_poll = FEED_TIME_NONE;
    st.errors = 3;
    st.last_error = (char *)"HTTP 503\nretry";
    assert_int_equal(store_feed_state_set(s, "moscow-times", &st), 0);
    assert_int_equal(store_feed_state_set(s, "gone", &st), 0);
    assert_int_equal(store_feed_state_set(s, "gone", NULL), 0);
    assert_null(store_feed_state_get(s, "gone"));
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);

    file = read_file(path(f, "feeds.state"));
    assert_non_null(strstr(file, "\"feed\":\"lwn\""));
    assert_null(strstr(file, "gone"));
    free(file);
    s = open_ok(f);
    assert_null(store_warnings(s));
    got = store_feed_state_get(s, "lwn");
    assert_non_null(got);
    assert_string_equal(got->etag, "\"abc\"");
    assert_string_equal(got->last_modified, "Fri, 17 May 2024 10:00:00 GMT");
    assert_int_equal(got->last_poll, 1715940000);
    assert_int_equal(got->next_poll, 1715941800);
    assert_int_equal(got->errors, 0);
    assert_null(got->last_error);
    got = store_feed_state_get(s, "moscow-times");
    assert_non_null(got);
    assert_null(got->etag);
    assert_null(got->last_modified);
    assert_int_equal(got->last_poll, FEED_TIME_NONE);
    assert_int_equal(got->next_poll, FEED_TIME_NONE);
    assert_int_equal(got->errors, 3);
    assert_string_equal(got->last_error, "HTTP 503\nretry");
    assert_null(store_feed_state_get(s, "gone"));
    store_close(s);
}

static void
test_feed_state_corrupt(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    const struct store_feed_state *got;
    char *w;

    write_file(path(f, "feeds.state"), "{\"feed\":\"a\",\"errors\":1}\n"
                                       "{not json\n"
                                       "{\"etag\":\"no feed name\"}\n"
                                       "{\"feed\":\"b\",\"errors\":2}");
    s = open_ok(f);
    w = store_warnings(s);
    assert_string_equal(w, "feeds.state:2: corrupt record skipped\n"
                           "feeds.state:3: corrupt record skipped");
    free(w);
    got = store_feed_state_get(s, "a");
    assert_non_null(got);
    assert_int_equal(got->errors, 1);
    got = store_feed_state_get(s, "b");
    assert_non_null(got);
    assert_int_equal(got->errors, 2);
    assert_int_equal(got->last_poll, FEED_TIME_NONE);
    store_close(s);
}

/* Many feeds, set, found, forgotten in the middle and set again: every
 * one is found where it is, the forgotten ones are not. */
static void
test_feed_state_many(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_feed_state *got;
    struct store_feed_state st;
    char name[32];
    size_t i;

    memset(&st, 0, sizeof st);
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "feed-%zu", i);
        st.errors = (int)i;
        assert_int_equal(store_feed_state_set(s, name, &st), 0);
    }
    for (i = 0; i < 5000; i += 7) {
        snprintf(name, sizeof name, "feed-%zu", i);
        assert_int_equal(store_feed_state_set(s, name, NULL), 0);
    }
    for (i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "feed-%zu", i);
        got = store_feed_state_get(s, name);
        if (i % 7 == 0) {
            assert_null(got);
        } else {
            assert_non_null(got);
            assert_int_equal(got->errors, (int)i);
        }
    }
    assert_int_equal(s->nfeeds, 5000 - 715);
    /* An update keeps the feed where it is: a get stays valid. */
    got = store_feed_state_get(s, "feed-1");
    st.errors = 99;
    assert_int_equal(store_feed_state_set(s, "feed-1", &st), 0);
    assert_ptr_equal(store_feed_state_get(s, "feed-1"), got);
    assert_int_equal(got->errors, 99);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(s->nfeeds, 5000 - 715);
    assert_null(store_feed_state_get(s, "feed-7"));
    assert_int_equal(store_feed_state_get(s, "feed-4999")->errors, 4999);
    store_close(s);
}

/* Values feeds.state clamps or takes as none. */
static void
test_feed_state_odd_values(void **state)
{
    struct fixture *f = *state;
    const struct store_feed_state *got;
    struct store *s;

    write_file(path(f, "feeds.state"),
               "{\"feed\":\"a\",\"errors\":-3,\"etag\":5}\n"
               "\n"
               "{\"feed\":\"b\",\"errors\":99999999999,\"last_poll\":\"x\"}\n"
               "{\"feed\":\"a\",\"errors\":1,\"etag\":\"e\"}\n");
    s = open_ok(f);
    warnings_have(s, NULL);
    got = store_feed_state_get(s, "b");
    assert_int_equal(got->errors, INT_MAX);
    assert_int_equal(got->last_poll, FEED_TIME_NONE);
    /* The later line of a feed wins. */
    got = store_feed_state_get(s, "a");
    assert_int_equal(got->errors, 1);
    assert_string_equal(got->etag, "e");
    assert_int_equal(s->nfeeds, 2);
    store_close(s);
}

static struct store_feed_state
state_of(int errors, int64_t next)
{
    struct store_feed_state st;

    memset(&st, 0, sizeof st);
    st.last_poll = FEED_TIME_NONE;
    st.last_ok = FEED_TIME_NONE;
    st.next_poll = next;
    st.errors = errors;
    return st;
}

/* A save writes the feeds whose state changed, and only them: one line
 * appended for one feed of a thousand, none for a state set to what it
 * was. */
static void
test_feed_state_save_changed(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_feed_state st;
    char name[32], *file;
    size_t i, before, line;

    for (i = 0; i < 1000; i++) {
        snprintf(name, sizeof name, "feed-%zu", i);
        st = state_of((int)i, 1000);
        assert_int_equal(store_feed_state_set(s, name, &st), 0);
    }
    assert_int_equal(store_feed_state_save(s), 0);
    before = (size_t)file_size(path(f, "feeds.state"));
    /* The same state again: nothing to write. */
    st = state_of(5, 1000);
    assert_int_equal(store_feed_state_set(s, "feed-5", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    assert_int_equal((size_t)file_size(path(f, "feeds.state")), before);
    /* One feed changed: one line appended, with its sum. */
    st = state_of(5, 2000);
    assert_int_equal(store_feed_state_set(s, "feed-5", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    file = read_file(path(f, "feeds.state"));
    line = strlen(file) - before;
    assert_true(line > 20 && line < 200);
    assert_non_null(strstr(file + before, "\"feed\":\"feed-5\""));
    assert_non_null(strstr(file + before, "\"next_poll\":2000"));
    assert_memory_equal(file + strlen(file) - 19, ",\"sum\":\"", 8);
    assert_memory_equal(file, "{\"feedd_state\":2}\n", 18);
    free(file);
    /* Forgotten: one "gone" line. */
    assert_int_equal(store_feed_state_set(s, "feed-9", NULL), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    file = read_file(path(f, "feeds.state"));
    assert_non_null(strstr(file + before + line, "\"gone\":true"));
    free(file);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(s->nfeeds, 999);
    assert_null(store_feed_state_get(s, "feed-9"));
    assert_int_equal(store_feed_state_get(s, "feed-5")->next_poll, 2000);
    assert_int_equal(store_feed_state_get(s, "feed-999")->errors, 999);
    store_close(s);
}

/* fdatasync() of feeds.state, counted: the linker sends the store's calls
 * here (tests/CMakeLists.txt). */
int __real_fdatasync(int fd);
int __wrap_fdatasync(int fd);
static int synced_fd = -1, syncs;

int
__wrap_fdatasync(int fd)
{
    if (fd == synced_fd)
        syncs++;
    return __real_fdatasync(fd);
}

/* A save writes its lines at once and syncs none: the loop does not wait
 * for the disk. At a stop, store_feed_state_sync() syncs them: all of
 * them for `run`, and for poll --once only when one says more than
 * times. */
static void
test_feed_state_times_unsynced(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_feed_state st = state_of(0, 1000);
    char *file;

    synced_fd = s->state_fd;
    syncs = 0;
    st.etag = (char *)"\"v1\"";
    st.last_poll = 900;
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    /* The first save writes the file whole (a rewrite, synced). */
    synced_fd = s->state_fd;
    syncs = 0;
    /* Times alone: written, not synced, not even by a stop of --once. */
    st.last_poll = 960;
    st.next_poll = 2000;
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    assert_int_equal(syncs, 0);
    file = read_file(path(f, "feeds.state"));
    assert_non_null(strstr(file, "\"next_poll\":2000"));
    free(file);
    assert_int_equal(store_feed_state_sync(s, 0), 0);
    assert_int_equal(syncs, 0);
    assert_int_equal(store_feed_state_sync(s, 1), 0);
    assert_int_equal(syncs, 1);
    assert_int_equal(store_feed_state_sync(s, 1), 0);
    assert_int_equal(syncs, 1);
    /* A new ETag: written, not synced by the save; a stop syncs it. */
    st.etag = (char *)"\"v2\"";
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    assert_int_equal(syncs, 1);
    file = read_file(path(f, "feeds.state"));
    assert_non_null(strstr(file, "v2"));
    free(file);
    assert_int_equal(store_feed_state_sync(s, 0), 0);
    assert_int_equal(syncs, 2);
    assert_int_equal(store_feed_state_sync(s, 0), 0);
    assert_int_equal(syncs, 2);
    /* Times, then an error in a later save: a stop of --once syncs both. */
    st.next_poll = 3000;
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    st.errors = 1;
    st.last_error = (char *)"HTTP 503";
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    assert_int_equal(syncs, 2);
    assert_int_equal(store_feed_state_sync(s, 0), 0);
    assert_int_equal(syncs, 3);
    /* A new feed is more than times. */
    assert_int_equal(store_feed_state_set(s, "b", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    assert_int_equal(syncs, 3);
    assert_int_equal(store_feed_state_sync(s, 0), 0);
    assert_int_equal(syncs, 4);
    synced_fd = -1;
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_feed_state_get(s, "a")->next_poll, 3000);
    assert_string_equal(store_feed_state_get(s, "a")->etag, "\"v2\"");
    assert_int_equal(store_feed_state_get(s, "a")->errors, 1);
    store_close(s);
}

/* A feed saved again and again: the file is written whole now and then
 * and stays within about twice what counts. */
static void
test_feed_state_log_bounded(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_feed_state st;
    size_t i, max = 0, size;

    for (i = 0; i < 5000; i++) {
        st = state_of(0, (int64_t)i);
        assert_int_equal(store_feed_state_set(s, "a", &st), 0);
        st = state_of(1, 7);
        assert_int_equal(store_feed_state_set(s, "b", &st), 0);
        assert_int_equal(store_feed_state_save(s), 0);
        size = (size_t)file_size(path(f, "feeds.state"));
        if (size > max)
            max = size;
    }
    /* Two lines of under 150 bytes live; a header; one save's lines. */
    assert_true(max < 3 * 300 + STORE_STATE_SLACK);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_feed_state_get(s, "a")->next_poll, 4999);
    assert_int_equal(store_feed_state_get(s, "b")->errors, 1);
    store_close(s);
}

/* Lines that do not read: a damaged one (its sum), an unfinished last
 * one. Each warns once, the feed's earlier line counts, and the next save
 * writes the file clean. */
static void
test_feed_state_damaged(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_feed_state st;
    char *file, *at;
    FILE *fp;
    char *w;

    st = state_of(1, 100);
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_set(s, "b", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    st = state_of(2, 200);
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);
    /* a's newer line gets one byte changed (same length, still JSON). */
    file = read_file(path(f, "feeds.state"));
    at = strstr(file, "\"next_poll\":200");
    assert_non_null(at);
    at[strlen("\"next_poll\":2")] = '9';
    write_file(path(f, "feeds.state"), file);
    free(file);
    /* And an unfinished line at the end. */
    fp = fopen(path(f, "feeds.state"), "a");
    assert_non_null(fp);
    fputs("{\"feed\":\"b\",\"errors\":7", fp);
    fclose(fp);
    s = open_ok(f);
    w = store_warnings(s);
    assert_non_null(w);
    assert_non_null(strstr(w, "feeds.state:4: damaged record skipped"));
    assert_non_null(strstr(w, "feeds.state:5: an unfinished last line"));
    free(w);
    assert_int_equal(store_feed_state_get(s, "a")->next_poll, 100);
    assert_int_equal(store_feed_state_get(s, "b")->errors, 1);
    st = state_of(3, 300);
    assert_int_equal(store_feed_state_set(s, "b", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_feed_state_get(s, "a")->next_poll, 100);
    assert_int_equal(store_feed_state_get(s, "b")->next_poll, 300);
    store_close(s);
}

/* A file of the form before the log (no header, no sums) is read, and
 * written whole with both at the next save; a header of another format
 * warns and none of the file counts. */
static void
test_feed_state_formats(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    char *file, *w;

    write_file(path(f, "feeds.state"),
               "{\"feed\":\"a\",\"etag\":\"x\",\"errors\":0}\n");
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_string_equal(store_feed_state_get(s, "a")->etag, "x");
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);
    file = read_file(path(f, "feeds.state"));
    assert_memory_equal(file, "{\"feedd_state\":2}\n{\"feed\":\"a\"", 28);
    assert_non_null(strstr(file, "\"sum\":\""));
    free(file);

    write_file(path(f, "feeds.state"), "{\"feedd_state\":7}\n"
                                       "{\"feed\":\"a\",\"x\":[1]}\n");
    s = open_ok(f);
    w = store_warnings(s);
    assert_string_equal(w, "feeds.state: format 7, not 2: every feed's poll "
                           "state starts afresh");
    free(w);
    assert_int_equal(s->nfeeds, 0);
    store_close(s);
}

/* feeds.state of about n bytes, of one shape, loaded at open. */
struct shape {
    struct fixture *f;
    int kind; /* 0: one feed per line; 1: garbage lines; 2: one long line */
};

static void
load_n(size_t n, void *arg)
{
    struct shape *sh = arg;
    struct feed_buf b;
    struct store *s;
    size_t i;

    feed_buf_init(&b, 0);
    if (sh->kind == 2)
        assert_int_equal(feed_buf_puts(&b, "{\"feed\":\"a\",\"last_error\":\""),
                         0);
    for (i = 0; b.len < n; i++) {
        if (sh->kind == 0)
            assert_int_equal(
                feed_buf_printf(&b, "{\"feed\":\"f%zu\",\"errors\":1}\n", i),
                0);
        else if (sh->kind == 1)
            assert_int_equal(feed_buf_puts(&b, "{&lt;a\n"), 0);
        else
            assert_int_equal(feed_buf_puts(&b, "\\u00e9&lt;"), 0);
    }
    if (sh->kind == 2)
        assert_int_equal(feed_buf_puts(&b, "\"}\n"), 0);
    write_file(path(sh->f, "feeds.state"), b.data);
    feed_buf_free(&b);
    s = open_ok(sh->f);
    free(store_warnings(s));
    /* A line over STORE_STATE_LINE_MAX is skipped. */
    assert_true(s->nfeeds == (sh->kind == 1 ? 0 : sh->kind == 2 ? 0 : i));
    store_close(s);
}

static void
test_feed_state_linear(void **state)
{
    static const char *const names[] = {
        "feeds.state load, n bytes of one feed per line",
        "feeds.state load, n bytes of garbage lines",
        "feeds.state load, one line of n bytes of escapes",
    };
    struct shape sh = {*state, 0};

    /* Up to n = 2 MiB: the input of 4n is then built in a buffer under
     * glibc's largest mmap threshold (32 MiB), reused from run to run.
     * At n = 4 MiB it was built in fresh pages every run, and their
     * faults alone made 4n 15-22x n (seen on a CI run, then here). */
    for (sh.kind = 0; sh.kind < 3; sh.kind++)
        assert_linear(names[sh.kind], load_n, &sh,
                      sh.kind == 2 ? 1 << 20 : 1 << 16, 1 << 21);
}

/* last_ok is saved and read back; a line written before it was kept
 * reads as none. */
static void
test_feed_state_last_ok(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_feed_state st;

    st = state_of(0, 2000);
    st.last_poll = 1500;
    st.last_ok = 1500;
    assert_int_equal(store_feed_state_set(s, "ok", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    /* Only last_ok changes: that is a change, and a line is written. */
    st.last_ok = 1400;
    assert_int_equal(store_feed_state_set(s, "ok", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);
    assert_true(file_has(path(f, "feeds.state"), "\"last_ok\":1400"));
    s = open_ok(f);
    warnings_have(s, NULL);
    assert_int_equal(store_feed_state_get(s, "ok")->last_ok, 1400);
    assert_int_equal(store_feed_state_get(s, "ok")->last_poll, 1500);
    store_close(s);

    write_file(path(f, "feeds.state"),
               "{\"feed\":\"old\",\"last_poll\":7,\"errors\":0}\n");
    s = open_ok(f);
    assert_int_equal(store_feed_state_get(s, "old")->last_poll, 7);
    assert_int_equal(store_feed_state_get(s, "old")->last_ok, FEED_TIME_NONE);
    store_close(s);
}

/* The bytes and the names of the state folder, to see that a reader
 * changed nothing. */
static char *
snapshot(struct fixture *f)
{
    char *file = exists(path(f, "feeds.state"))
                     ? read_file(path(f, "feeds.state"))
                     : strdup("");
    size_t len = strlen(file) + 32;
    char *out = malloc(len);

    assert_non_null(out);
    snprintf(out, len, "%zu|%s", count_entries(f->dir), file);
    free(file);
    return out;
}

/* feeds.state read while a store holds the lock: the latest line of each
 * feed counts, a gone feed is gone, a damaged line leaves the earlier one
 * in force, and nothing is written. */
static void
test_states_open_beside(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f), *other;
    const struct store_feed_state *got;
    struct store_states *r;
    struct store_feed_state st;
    char err[256], *before, *after, *file, *at;

    st = state_of(0, 100);
    st.last_ok = 90;
    st.last_poll = 90;
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    st = state_of(2, 300);
    st.last_error = (char *)"HTTP 404 from http://x/";
    st.why = 2;
    assert_int_equal(store_feed_state_set(s, "b", &st), 0);
    assert_int_equal(store_feed_state_set(s, "c", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    st = state_of(0, 200);
    st.last_ok = 190;
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_set(s, "c", NULL), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    /* The lock is held: a second store is refused, the reader is not. */
    assert_null(store_open(f->dir, err, sizeof err));
    assert_non_null(strstr(err, "in use"));
    before = snapshot(f);
    r = store_states_open(f->dir, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(err, "");
    got = store_states_find(r, "a");
    assert_non_null(got);
    assert_int_equal(got->next_poll, 200);
    assert_int_equal(got->last_ok, 190);
    assert_int_equal(got->errors, 0);
    assert_null(got->last_error);
    got = store_states_find(r, "b");
    assert_non_null(got);
    assert_int_equal(got->errors, 2);
    assert_int_equal(got->last_ok, FEED_TIME_NONE);
    assert_string_equal(got->last_error, "HTTP 404 from http://x/");
    assert_int_equal(got->why, 2);
    assert_int_equal(store_states_find(r, "a")->why, 0);
    assert_null(store_states_find(r, "c"));
    assert_null(store_states_find(r, "nobody"));
    store_states_close(r);
    after = snapshot(f);
    assert_string_equal(before, after);
    free(before);
    free(after);
    /* The store still saves as before: the reader took nothing. */
    st = state_of(5, 500);
    assert_int_equal(store_feed_state_set(s, "b", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);

    /* a's newer line damaged: its line before counts. */
    file = read_file(path(f, "feeds.state"));
    at = strstr(file, "\"next_poll\":200");
    assert_non_null(at);
    at[strlen("\"next_poll\":2")] = '9';
    write_file(path(f, "feeds.state"), file);
    free(file);
    r = store_states_open(f->dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(store_states_find(r, "a")->next_poll, 100);
    assert_int_equal(store_states_find(r, "b")->errors, 5);
    store_states_close(r);
    other = open_ok(f);
    assert_int_equal(store_feed_state_get(other, "a")->next_poll, 100);
    store_close(other);
}

/* A line being appended as the reader reads: while it is unfinished it is
 * left out (the feed's line before counts, nothing is said, nothing
 * cut); once its '\n' is there it counts. */
static void
test_states_open_torn(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct store_states *r;
    struct store_feed_state st;
    char err[256], *file, *line, *nl;
    off_t size;

    st = state_of(1, 100);
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    size = file_size(path(f, "feeds.state"));
    st = state_of(2, 200);
    assert_int_equal(store_feed_state_set(s, "a", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);
    /* Cut the last line in two: the file as a reader may find it while
     * the save's write is under way. */
    file = read_file(path(f, "feeds.state"));
    line = strdup(file + size);
    assert_non_null(line);
    file[size + 20] = '\0';
    write_file(path(f, "feeds.state"), file);
    r = store_states_open(f->dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(store_states_find(r, "a")->errors, 1);
    store_states_close(r);
    assert_int_equal(file_size(path(f, "feeds.state")), size + 20);
    /* The rest of it arrives. */
    nl = strchr(line, '\n');
    assert_non_null(nl);
    append_file(path(f, "feeds.state"), line + 20);
    r = store_states_open(f->dir, err, sizeof err);
    assert_non_null(r);
    assert_int_equal(store_states_find(r, "a")->errors, 2);
    assert_int_equal(store_states_find(r, "a")->next_poll, 200);
    store_states_close(r);
    free(line);
    free(file);
}

/* No state_dir yet, or no feeds.state in it: no feed has a state, and
 * nothing is made. */
static void
test_states_open_missing(void **state)
{
    struct fixture *f = *state;
    struct store_states *r;
    char err[256];

    r = store_states_open(path(f, "not/yet"), err, sizeof err);
    assert_non_null(r);
    assert_null(store_states_find(r, "a"));
    store_states_close(r);
    assert_false(exists(path(f, "not")));
    r = store_states_open(f->dir, err, sizeof err);
    assert_non_null(r);
    assert_null(store_states_find(r, "a"));
    store_states_close(r);
    assert_int_equal(count_entries(f->dir), 0);
    store_states_close(NULL);
}

static void
read_n(size_t n, void *arg)
{
    struct shape *sh = arg;
    struct feed_buf b;
    struct store_states *r;
    char err[256], name[32];
    size_t i;

    feed_buf_init(&b, 0);
    assert_int_equal(feed_buf_puts(&b, "{\"feedd_state\":2}\n"), 0);
    for (i = 0; b.len < n; i++) {
        size_t start = b.len;

        if (sh->kind == 0) {
            /* Feeds many times over: every line a new state of one. */
            snprintf(name, sizeof name, "f%zu", i % 1000);
            assert_int_equal(feed_buf_puts(&b, "{\"feed\":"), 0);
            assert_int_equal(feed_buf_json(&b, name), 0);
            assert_int_equal(
                feed_buf_printf(&b, ",\"last_ok\":%zu,\"errors\":0", i), 0);
            assert_int_equal(store_record_seal(&b, start), 0);
        } else {
            assert_int_equal(feed_buf_puts(&b, "{\"feed\":\"x\",\"sum\":1\n"),
                             0);
        }
    }
    /* And an unfinished last line. */
    assert_int_equal(feed_buf_puts(&b, "{\"feed\":\"f0\",\"errors\""), 0);
    write_file(path(sh->f, "feeds.state"), b.data);
    feed_buf_free(&b);
    r = store_states_open(sh->f->dir, err, sizeof err);
    assert_non_null(r);
    if (sh->kind == 0)
        assert_non_null(store_states_find(r, "f0"));
    else
        assert_null(store_states_find(r, "x"));
    store_states_close(r);
}

static void
test_states_open_linear(void **state)
{
    struct shape sh = {*state, 0};

    assert_linear("feeds.state read beside, n bytes of feeds", read_n, &sh,
                  1 << 16, 1 << 24);
    sh.kind = 1;
    assert_linear("feeds.state read beside, n bytes of damaged lines", read_n,
                  &sh, 1 << 16, 1 << 24);
}

/* A feed's state is one block: its name, then its strings, right after
 * the struct (a daemon holds one per feed for ever, and five mallocs cost
 * five headers). Strings that change make a new block, which takes the
 * old one's place on the list of feeds to save; times change in place;
 * a state set from the one in place copies it right. */
static void
test_feed_state_one_block(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_feed_state *got;
    const struct store_feed *sf;
    struct store_feed_state st;
    char *file;

    memset(&st, 0, sizeof st);
    st.etag = (char *)"\"e1\"";
    st.last_modified = (char *)"Fri, 17 May 2024 10:00:00 GMT";
    st.last_error = (char *)"HTTP 503";
    st.last_poll = st.last_ok = st.next_poll = FEED_TIME_NONE;
    assert_int_equal(store_feed_state_set(s, "one", &st), 0);
    assert_int_equal(store_feed_state_set(s, "two", &st), 0);
    assert_int_equal(s->nfeeds, 2);
    sf = s->feeds[0];
    assert_string_equal(sf->name, "one");
    assert_ptr_equal(sf->st.etag, sf->name + 4);
    assert_ptr_equal(sf->st.last_modified, sf->st.etag + 5);
    assert_ptr_equal(sf->st.last_error, sf->st.last_modified + 30);
    assert_true(sizeof(struct store_feed) <= 64);
    assert_true(sizeof *s->feed_slots <= 4);

    /* The same strings: in place. */
    got = store_feed_state_get(s, "one");
    st = *got;
    st.last_poll = 100;
    assert_int_equal(store_feed_state_set(s, "one", &st), 0);
    assert_ptr_equal(store_feed_state_get(s, "one"), got);
    assert_int_equal(got->last_poll, 100);
    /* New strings, from the state in place (st points into it): a new
     * block, still on the list of feeds to save. */
    st = *store_feed_state_get(s, "one");
    st.etag = (char *)"\"e2-longer\"";
    st.last_error = NULL;
    assert_int_equal(store_feed_state_set(s, "one", &st), 0);
    got = store_feed_state_get(s, "one");
    assert_string_equal(got->etag, "\"e2-longer\"");
    assert_string_equal(got->last_modified, "Fri, 17 May 2024 10:00:00 GMT");
    assert_null(got->last_error);
    assert_int_equal(got->last_poll, 100);
    assert_int_equal(s->ndirty, 2);
    assert_true(&s->state_dirty[0]->st == got || &s->state_dirty[1]->st == got);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);

    file = read_file(path(f, "feeds.state"));
    assert_non_null(strstr(file, "e2-longer"));
    free(file);
    s = open_ok(f);
    got = store_feed_state_get(s, "one");
    assert_non_null(got);
    assert_string_equal(got->etag, "\"e2-longer\"");
    assert_int_equal(got->last_poll, 100);
    assert_null(got->last_error);
    got = store_feed_state_get(s, "two");
    assert_non_null(got);
    assert_string_equal(got->last_error, "HTTP 503");
    store_close(s);
}

/* A rewrite of feeds.state goes out in pieces of 256 KiB (a daemon
 * holds no copy of the whole file): 5,000 feeds make about 1 MB, and
 * every line reads back, with the lengths the next saves count on. */
static void
test_feed_state_rewrite_pieces(void **state)
{
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    const struct store_feed_state *got;
    struct store_feed_state st;
    char name[32], etag[64];
    struct stat sb;
    size_t i, n = 5000;

    memset(&st, 0, sizeof st);
    st.last_modified = (char *)"Fri, 17 May 2024 10:00:00 GMT";
    st.last_error = (char *)"an error long enough to make the lines long, "
                            "so that a few thousand feeds are a megabyte";
    st.last_ok = FEED_TIME_NONE;
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "feed-%zu", i);
        snprintf(etag, sizeof etag, "\"%zu-%zu\"", i, i * 7919);
        st.etag = etag;
        st.last_poll = (int64_t)i;
        st.next_poll = (int64_t)i + 3600;
        assert_int_equal(store_feed_state_set(s, name, &st), 0);
    }
    s->state_rewrite = 1;
    assert_int_equal(store_feed_state_save(s), 0);
    assert_int_equal(stat(path(f, "feeds.state"), &sb), 0);
    assert_true((uint64_t)sb.st_size > 4 * ((uint64_t)256 << 10));
    assert_int_equal(s->state_size, (uint64_t)sb.st_size);
    assert_int_equal(s->state_live, s->state_size - strlen(STATE_HEADER));
    /* An append after it lands at the end of the rewritten file. */
    st.etag = NULL;
    assert_int_equal(store_feed_state_set(s, "feed-17", &st), 0);
    assert_int_equal(store_feed_state_save(s), 0);
    store_close(s);

    s = open_ok(f);
    assert_null(store_warnings(s));
    for (i = 0; i < n; i++) {
        snprintf(name, sizeof name, "feed-%zu", i);
        snprintf(etag, sizeof etag, "\"%zu-%zu\"", i, i * 7919);
        got = store_feed_state_get(s, name);
        assert_non_null(got);
        if (i == 17) {
            assert_null(got->etag);
            continue;
        }
        assert_string_equal(got->etag, etag);
        assert_int_equal(got->last_poll, (int64_t)i);
    }
    store_close(s);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_feed_state),
        T(test_feed_state_corrupt),
        T(test_feed_state_many),
        T(test_feed_state_one_block),
        T(test_feed_state_rewrite_pieces),
        T(test_feed_state_odd_values),
        T(test_feed_state_linear),
        T(test_feed_state_save_changed),
        T(test_feed_state_times_unsynced),
        T(test_feed_state_log_bounded),
        T(test_feed_state_damaged),
        T(test_feed_state_formats),
        T(test_feed_state_last_ok),
        T(test_states_open_beside),
        T(test_states_open_torn),
        T(test_states_open_missing),
        T(test_states_open_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
