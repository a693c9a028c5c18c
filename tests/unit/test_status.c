/* tests/unit/test_status.c - the status documents (daemon/status.c):
 * Prometheus samples and their label escaping, the JSON (read back with
 * jansson), the HTML escaped, healthz; each linear in its input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "feeds/buf.h"
#include "feeds/date.h"
#include "linear.h"
#include "status.h"

static const struct status_totals totals = {
    .polls_ok = 5,
    .polls_not_modified = 15,
    .polls_failed = 5,
    .entries = 42,
    .store_bytes = 123456,
    .started = 1715900000,
    .now = 1715948040,
};

/* One feed of each health: ok, failing (an error with what must be
 * escaped), not yet polled. */
static void
three(struct status_feed f[3])
{
    memset(f, 0, 3 * sizeof(*f));
    f[0].name = "lwn";
    f[0].location = "https://lwn.net/headlines/rss";
    f[0].last_poll = f[0].last_ok = 1715948000;
    f[0].next_poll = 1715949800;
    f[0].status = 200;
    f[0].stored = 7;
    f[1].name = "odd \"name\"\\x";
    f[1].location = "https://bad.example/<feed>";
    f[1].last_poll = 1715948000;
    f[1].last_ok = FEED_TIME_NONE;
    f[1].next_poll = 1715951600;
    f[1].errors = 3;
    f[1].error = "HTTP 503 from <https://bad.example/> \"busy\"";
    f[1].status = 503;
    f[2].name = "new";
    f[2].location = "feeds/new.xml";
    f[2].last_poll = f[2].last_ok = f[2].next_poll = FEED_TIME_NONE;
}

static char *
render(int (*fn)(struct feed_buf *, const struct status_totals *,
                 const struct status_feed *, size_t))
{
    struct status_feed f[3];
    struct feed_buf out;
    char *s;

    three(f);
    feed_buf_init(&out, 0);
    assert_int_equal(fn(&out, &totals, f, 3), 0);
    assert_int_equal(feed_buf_append(&out, "", 0), 0);
    s = strdup(feed_buf_str(&out));
    feed_buf_free(&out);
    assert_non_null(s);
    return s;
}

static void
test_metrics(void **state)
{
    char *m = render(status_metrics);

    (void)state;
    assert_non_null(strstr(m,
                           "# TYPE feedd_feed_last_success_timestamp_seconds "
                           "gauge\n"));
    assert_non_null(strstr(m, "feedd_feed_last_success_timestamp_seconds"
                              "{feed=\"lwn\"} 1715948000\n"));
    /* No sample for what is not known. */
    assert_null(strstr(m, "feedd_feed_last_success_timestamp_seconds"
                          "{feed=\"new\"}"));
    assert_null(strstr(m, "feedd_feed_last_http_status{feed=\"new\"}"));
    assert_non_null(strstr(m, "feedd_feed_consecutive_failures{feed=\"odd "
                              "\\\"name\\\"\\\\x\"} 3\n"));
    assert_non_null(
        strstr(m, "feedd_feed_last_http_status{feed=\"lwn\"} 200\n"));
    assert_non_null(strstr(m, "feedd_feed_entries_stored_total{feed=\"lwn\"} "
                              "7\n"));
    assert_non_null(strstr(m, "feedd_feeds{state=\"ok\"} 1\n"
                              "feedd_feeds{state=\"failing\"} 1\n"
                              "feedd_feeds{state=\"pending\"} 1\n"));
    assert_non_null(
        strstr(m, "feedd_polls_total{result=\"not_modified\"} 15\n"));
    assert_non_null(strstr(m, "feedd_polls_not_modified_ratio 0.6000\n"));
    assert_non_null(strstr(m, "feedd_store_entries 42\n"));
    assert_non_null(strstr(m, "feedd_store_bytes 123456\n"));
    /* Every line is a comment or a sample "name{labels} value". */
    for (char *line = m; *line; line = strchr(line, '\n') + 1) {
        assert_true(line[0] == '#' || strncmp(line, "feedd_", 6) == 0);
        assert_non_null(strchr(line, '\n'));
    }
    free(m);
}

static void
test_json(void **state)
{
    char *s = render(status_json);
    json_error_t err;
    json_t *doc, *list, *f;

    (void)state;
    doc = json_loads(s, 0, &err);
    assert_non_null(doc);
    assert_int_equal(json_integer_value(json_object_get(doc, "feeds")), 3);
    assert_int_equal(json_integer_value(json_object_get(doc, "failing")), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(doc, "polls"), "not_modified")),
                     15);
    list = json_object_get(doc, "feed_list");
    assert_int_equal(json_array_size(list), 3);
    f = json_array_get(list, 1);
    assert_string_equal(json_string_value(json_object_get(f, "name")),
                        "odd \"name\"\\x");
    assert_string_equal(json_string_value(json_object_get(f, "health")),
                        "failing");
    assert_string_equal(json_string_value(json_object_get(f, "error")),
                        "HTTP 503 from <https://bad.example/> \"busy\"");
    assert_true(json_is_null(json_object_get(f, "last_success")));
    f = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(f, "last_success")),
                        "2024-05-17T12:13:20Z");
    assert_int_equal(json_integer_value(json_object_get(f, "http_status")),
                     200);
    json_decref(doc);
    free(s);
}

static int
html3(struct feed_buf *out, const struct status_totals *t,
      const struct status_feed *f, size_t n)
{
    return status_html(out, "River <&>", t, f, n);
}

static void
test_html(void **state)
{
    char *s = render(html3);

    (void)state;
    assert_non_null(strstr(s, "<title>Status: River &lt;&amp;&gt;</title>"));
    assert_non_null(strstr(s, "\">odd &quot;name&quot;\\x</td>"));
    assert_non_null(strstr(s, "HTTP 503 from &lt;https://bad.example/&gt; "
                              "&quot;busy&quot;"));
    assert_non_null(strstr(s, "<tr class=\"failing\">"));
    assert_null(strstr(s, "<feed>"));
    free(s);
}

static void
test_healthz(void **state)
{
    struct feed_buf out;

    (void)state;
    feed_buf_init(&out, 0);
    assert_int_equal(status_healthz(&out, 1, 1, 1, 1715948040), 0);
    assert_int_equal(feed_buf_append(&out, "", 0), 0);
    assert_string_equal(feed_buf_str(&out),
                        "{\"status\":\"ok\",\"feeds\":3,\"ok\":1,"
                        "\"failing\":1,\"pending\":1,\"updated\":"
                        "\"2024-05-17T12:14:00Z\"}\n");
    feed_buf_free(&out);
}

/* ---- linear: one feed whose name and error are n bytes of what must be
 * escaped ---- */

static void
run_doc(size_t n, void *arg)
{
    int which = *(int *)arg;
    struct status_feed f[3];
    struct feed_buf text, out;
    size_t i;

    three(f);
    feed_buf_init(&text, 0);
    feed_buf_init(&out, 0);
    for (i = 0; i < n / 2 + 1; i++)
        assert_int_equal(feed_buf_puts(&text, "\"<"), 0);
    f[1].name = f[1].error = f[1].location = feed_buf_str(&text);
    if (which == 0)
        assert_int_equal(status_metrics(&out, &totals, f, 3), 0);
    else if (which == 1)
        assert_int_equal(status_json(&out, &totals, f, 3), 0);
    else
        assert_int_equal(status_html(&out, "t", &totals, f, 3), 0);
    feed_buf_free(&text);
    feed_buf_free(&out);
}

static void
test_linear(void **state)
{
    static int which[] = {0, 1, 2};
    static const char *const names[] = {"metrics", "json", "html"};

    (void)state;
    for (size_t i = 0; i < 3; i++)
        assert_linear(names[i], run_doc, &which[i], LINEAR_N0, 1u << 20);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_metrics), cmocka_unit_test(test_json),
        cmocka_unit_test(test_html),    cmocka_unit_test(test_healthz),
        cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
