/* tests/unit/test_state.c - feeds.state (state.c): the per-feed state saved
 * and read back, corrupt lines, and the load in linear time. Each test gets
 * a fresh folder under /tmp. */
#include "store_fixture.h"

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

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_feed_state),
        T(test_feed_state_corrupt),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
