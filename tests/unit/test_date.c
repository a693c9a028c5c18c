/* tests/unit/test_date.c - feed dates into UTC, and back out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "feeds/date.h"
#include "linear.h"

/* 1994-11-06T08:49:37Z, RFC 9110 §5.6.7's example. */
#define T1994 784111777

static const struct {
    const char *in;
    const char *utc; /* NULL: must not parse */
} cases[] = {
    /* RFC 822 / 1123 and the variants feeds send. */
    {"Fri, 17 May 2024 12:14:00 +0300", "2024-05-17T09:14:00Z"},
    {"Fri, 17 May 2024 12:14:00 GMT", "2024-05-17T12:14:00Z"},
    {"17 May 2024 12:14:00 -0000", "2024-05-17T12:14:00Z"},
    {"Fri, 17 May 24 12:14 EST", "2024-05-17T17:14:00Z"},
    {"Sat, 1 Jun 1996 23:59:59 PDT", "1996-06-02T06:59:59Z"},
    {"Mon, 06 Sep 2010 00:01:00 MSK", "2010-09-05T21:01:00Z"},
    {"Tue,10 Jun 2003 04:00:00 UT", "2003-06-10T04:00:00Z"},
    {"Thu, 01 Jan 2004 19:48:21 Z", "2004-01-01T19:48:21Z"},
    {"Thu, 09 Feb 2006 16:59:45 G", "2006-02-09T16:59:45Z"},
    {"Wed, 02 Oct 2002 13:00:00", "2002-10-02T13:00:00Z"},
    {"02 Oct 2002", "2002-10-02T00:00:00Z"},
    {"Sun, 31 Dec 2023 23:00:00 +01:00", "2023-12-31T22:00:00Z"},
    {"  Fri, 17 May 2024 12:14:00 GMT  ", "2024-05-17T12:14:00Z"},
    {"Friday, 17-May-2024 12:14:00 GMT", "2024-05-17T12:14:00Z"},
    /* RFC 3339, ISO 8601 and W3C-DTF. */
    {"2024-05-17T12:14:00Z", "2024-05-17T12:14:00Z"},
    {"2024-05-17T12:14:00+03:00", "2024-05-17T09:14:00Z"},
    {"2024-05-17T12:14:00.123456-0500", "2024-05-17T17:14:00Z"},
    {"2024-05-17T12:14Z", "2024-05-17T12:14:00Z"},
    {"2024-05-17 12:14:00", "2024-05-17T12:14:00Z"},
    {"2003-07-01 T 01:55:07-05:00", "2003-07-01T06:55:07Z"},
    {"2003-07-01T 01:55:07-05:00", "2003-07-01T06:55:07Z"},
    {"Mon, 21 Jan 2008 8:56 am PST", "2008-01-21T16:56:00Z"},
    {"Mon, 21 Jan 2008 12:05 AM GMT", "2008-01-21T00:05:00Z"},
    {"Mon, 21 Jan 2008 12:05 pm GMT", "2008-01-21T12:05:00Z"},
    {"Mon, 21 Jan 2008 13:05 pm GMT", NULL},
    {"2024-05-17T", NULL},
    {"2024-05-17", "2024-05-17T00:00:00Z"},
    {"2024-05", "2024-05-01T00:00:00Z"},
    {"2024", "2024-01-01T00:00:00Z"},
    {"20240517T121400Z", "2024-05-17T12:14:00Z"},
    {"2024-02-29T00:00:00Z", "2024-02-29T00:00:00Z"},
    {"1969-12-31T23:59:59Z", "1969-12-31T23:59:59Z"},
    {"2016-12-31T23:59:60Z", "2016-12-31T23:59:59Z"},
    /* Not dates: never guessed. */
    {"", NULL},
    {"not a date", NULL},
    {"2023-02-29T00:00:00Z", NULL},
    {"2024-13-01", NULL},
    {"2024-05-17T25:00:00Z", NULL},
    {"32 May 2024 00:00:00 GMT", NULL},
    {"17 Foo 2024 00:00:00 GMT", NULL},
    {"Fri, 17 May 2024 12:14:00 XYZ", NULL},
    {"Fri, 17 May 2024 12:14:00 GMT trailing", NULL},
    {"2024-05-17T12:14:00+25:00", NULL},
    {"17 May 202 12:00", NULL},
};

static void
test_parse(void **state)
{
    char out[FEED_DATE_LEN + 1];
    size_t i;

    (void)state;
    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t t = feed_date_parse(cases[i].in);

        if (cases[i].utc == NULL) {
            if (t != FEED_TIME_NONE)
                fail_msg("\"%s\" parsed as %s", cases[i].in,
                         feed_date_format(t, out));
            continue;
        }
        if (t == FEED_TIME_NONE)
            fail_msg("\"%s\" did not parse", cases[i].in);
        assert_string_equal(feed_date_format(t, out), cases[i].utc);
    }
    assert_true(feed_date_parse(NULL) == FEED_TIME_NONE);
}

static void
test_format(void **state)
{
    char iso[FEED_DATE_LEN + 1], http[FEED_HTTPDATE_LEN + 1];

    (void)state;
    assert_string_equal(feed_date_format(0, iso), "1970-01-01T00:00:00Z");
    assert_string_equal(feed_date_format_http(0, http),
                        "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_string_equal(feed_date_format_http(1715948040, http),
                        "Fri, 17 May 2024 12:14:00 GMT");
    /* The HTTP form reads back as the same instant. */
    assert_true(feed_date_parse(http) == 1715948040);
    assert_string_equal(feed_date_format(-1, iso), "1969-12-31T23:59:59Z");
}

static void
test_parse_http(void **state)
{
    static const struct {
        const char *in;
        int64_t t; /* FEED_TIME_NONE: refused */
    } http[] = {
        /* The three forms of RFC 9110 §5.6.7. */
        {"Sun, 06 Nov 1994 08:49:37 GMT", T1994},
        {"Sunday, 06-Nov-94 08:49:37 GMT", T1994},
        {"Sun Nov  6 08:49:37 1994", T1994},
        {"Sun Nov 06 08:49:37 1994", T1994},
        /* The weekday must be one, but need not be the date's. */
        {"Mon, 06 Nov 1994 08:49:37 GMT", T1994},
        {"Monday, 06-Nov-94 08:49:37 GMT", T1994},
        {"Sux, 06 Nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        {"Sundae, 06-Nov-94 08:49:37 GMT", FEED_TIME_NONE},
        {"Sun, 06-Nov-94 08:49:37 GMT", FEED_TIME_NONE},
        {"Sunday, 06 Nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        {"Xyz Nov  6 08:49:37 1994", FEED_TIME_NONE},
        {"sun, 06 Nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        /* Two-digit years: 70 to 99 are 19xx, 00 to 69 20xx. */
        {"Thursday, 01-Jan-70 00:00:00 GMT", 0},
        {"Friday, 01-Jan-38 00:00:00 GMT", 2145916800},
        /* Dates and times that do not exist. */
        {"Mon, 29 Feb 1993 00:00:00 GMT", FEED_TIME_NONE},
        {"Thu, 29 Feb 1996 00:00:00 GMT", 825552000},
        {"Tue, 29 Feb 2000 00:00:00 GMT", 951782400},
        {"Thu, 29 Feb 1900 00:00:00 GMT", FEED_TIME_NONE},
        {"Sun, 31 Apr 1994 00:00:00 GMT", FEED_TIME_NONE},
        {"Sun, 00 Nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 24:00:00 GMT", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 23:60:00 GMT", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 23:59:61 GMT", FEED_TIME_NONE},
        {"Sunday, 06-Nov-94 24:00:00 GMT", FEED_TIME_NONE},
        {"Sun Nov  6 24:00:00 1994", FEED_TIME_NONE},
        /* Anything more, less or other. */
        {"Sun, 06 Nov 1994 08:49:37 GMT ", FEED_TIME_NONE},
        {" Sun, 06 Nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 08:49:37 GMTx", FEED_TIME_NONE},
        {"Sunday, 06-Nov-94 08:49:37 GMT;", FEED_TIME_NONE},
        {"Sun Nov  6 08:49:37 1994 ", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 08:49:37 UTC", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 08:49:37 +0000", FEED_TIME_NONE},
        {"Sun, 06 nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        {"Sun, 6 Nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        {"Sun, 06 Nov 94 08:49:37 GMT", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 8:49:37 GMT", FEED_TIME_NONE},
        {"Sun, 06 Nov 1994 08.49.37 GMT", FEED_TIME_NONE},
        {"Sun, 0x Nov 1994 08:49:37 GMT", FEED_TIME_NONE},
        {"2024-05-17T12:14:00Z", FEED_TIME_NONE},
        {"", FEED_TIME_NONE},
        {",", FEED_TIME_NONE},
    };
    char out[FEED_HTTPDATE_LEN + 1];

    (void)state;
    for (size_t i = 0; i < sizeof(http) / sizeof(http[0]); i++) {
        int64_t t = feed_date_parse_http(http[i].in);

        if (t != http[i].t)
            fail_msg("\"%s\" gave %lld, not %lld", http[i].in, (long long)t,
                     (long long)http[i].t);
    }
    assert_true(feed_date_parse_http(NULL) == FEED_TIME_NONE);
    /* What feed_date_format_http() writes reads back, any day. */
    for (int64_t t = -86400LL * 365; t < 86400LL * 365 * 200;
         t += 86400LL * 7 + 3601) {
        feed_date_format_http(t, out);
        assert_int_equal(strlen(out), FEED_HTTPDATE_LEN);
        assert_true(feed_date_parse_http(out) == t);
    }
}

/* ---- linear in the text ---- */

struct shape {
    int http; /* feed_date_parse_http(), else feed_date_parse() */
    const char *head, *unit, *tail;
};

static void
run_shape(size_t n, void *arg)
{
    const struct shape *sh = arg;
    size_t lu = strlen(sh->unit), k = n / lu + 1, lh = strlen(sh->head);
    char *s = malloc(lh + k * lu + strlen(sh->tail) + 1), *w = s;

    assert_non_null(s);
    memcpy(w, sh->head, lh);
    w += lh;
    for (size_t i = 0; i < k; i++, w += lu)
        memcpy(w, sh->unit, lu);
    strcpy(w, sh->tail);
    if (sh->http)
        assert_true(feed_date_parse_http(s) == FEED_TIME_NONE);
    else
        assert_true(feed_date_parse(s) == FEED_TIME_NONE);
    free(s);
}

static void
test_linear(void **state)
{
    static const struct shape shapes[] = {
        {0, "", " ", "!"},
        {0, "Fri, 17 May 2024 12:14:00 ", " ", "!"},
        {0, "", "a", ""},
        {0, "1", "1", ""},
        {0, "2024-05-17T12:14:00.", "1", "!"},
        {0, "17 May 2024 12:14:00.", "1", "!"},
        {0, "17 May 2024 12:14:00 ", "A", ""},
        {0, "17 May 2024 12:14:00 GMT", " ", "!"},
        {0, "Fri,", " ", "!"},
        {0, "17 ", "-", "!"},
        {0, "17 ", "M", ""},
        {1, "", "Sunday", ", 06-Nov-94 08:49:37 GMT"},
        {1, "Sun, 06 Nov 1994 08:49:37 GMT", " ", ""},
        {1, "", ",", ""},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
        char name[64];

        snprintf(name, sizeof(name), "%s %s|%s|%s",
                 shapes[i].http ? "http" : "feed", shapes[i].head,
                 shapes[i].unit, shapes[i].tail);
        assert_linear(name, run_shape, (void *)&shapes[i], LINEAR_N0, 1u << 20);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_parse_http),
        cmocka_unit_test(test_linear),
    };

    linear_setup();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
