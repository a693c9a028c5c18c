/* tests/unit/test_record.c - the record codec (record.c): every field of an
 * item written and read back, lists, old records, and the codec called
 * directly. Each test gets a fresh folder under /tmp. */
#include "store_fixture.h"

/* Checks every field of the one item in the store. */
static int
roundtrip_fn(const struct feed_item *it, void *arg)
{
    const char *tricky = arg;

    assert_string_equal(it->id, "0123456789abcdef");
    assert_string_equal(it->feed, "feed \"one\"");
    assert_null(it->feed_title);
    assert_string_equal(it->feed_url, "https://example.org/feed.xml");
    assert_int_equal(it->stored, 1716000000);
    assert_string_equal(it->entry.guid, "urn:uuid:1");
    assert_null(it->entry.link);
    assert_string_equal(it->entry.title, tricky);
    assert_null(it->entry.author);
    assert_int_equal(it->entry.published, FEED_TIME_NONE);
    assert_int_equal(it->entry.updated, -86400);
    assert_string_equal(it->entry.summary, "<p>a &amp; b</p>");
    assert_string_equal(it->entry.content, "");
    return 7;
}

static void
test_roundtrip(void **state)
{
    static const char tricky[] =
        "say \"hi\"\\ \n\ttab \r\x01 \xc3\xa9t\xc3\xa9 "
        "\xe2\x82\xac \xf0\x9f\x93\xb0 </script>";
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;

    memset(&it, 0, sizeof it);
    /* Upper case on the way in, lower case on the way out. */
    strcpy(it.id, "0123456789ABCDEF");
    it.feed = "feed \"one\"";
    it.feed_url = "https://example.org/feed.xml";
    it.stored = 1716000000;
    it.entry.guid = "urn:uuid:1";
    it.entry.title = tricky;
    it.entry.published = FEED_TIME_NONE;
    it.entry.updated = -86400;
    it.entry.summary = "<p>a &amp; b</p>";
    it.entry.content = "";
    assert_int_equal(store_add(s, &it), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_recent(s, 10, roundtrip_fn, (void *)tricky), 7);
    store_close(s);
    s = open_ok(f);
    assert_int_equal(store_recent(s, 10, roundtrip_fn, (void *)tricky), 7);
    store_close(s);
}

/* Checks the image and lists of the items of test_lists(). */
static int
lists_fn(const struct feed_item *it, void *arg)
{
    int *calls = arg;

    (*calls)++;
    if (strcmp(it->id, "00000000000000e1") == 0) {
        assert_string_equal(it->entry.image, "https://example.org/th\"umb.jpg");
        assert_int_equal(it->entry.nenclosures, 2);
        assert_non_null(it->entry.enclosures);
        assert_string_equal(it->entry.enclosures[0].url,
                            "https://example.org/ep1.mp3");
        assert_string_equal(it->entry.enclosures[0].type, "audio/mpeg");
        assert_int_equal(it->entry.enclosures[0].length, 12345678901LL);
        assert_string_equal(it->entry.enclosures[1].url,
                            "https://example.org/caf\xc3\xa9.pdf?a=1&b=\"2\"");
        assert_null(it->entry.enclosures[1].type);
        assert_int_equal(it->entry.enclosures[1].length, -1);
        assert_int_equal(it->entry.ncategories, 3);
        assert_non_null(it->entry.categories);
        assert_string_equal(it->entry.categories[0], "say \"hi\"\\");
        assert_string_equal(it->entry.categories[1],
                            "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0");
        assert_string_equal(it->entry.categories[2], "");
    } else {
        assert_string_equal(it->id, "00000000000000e2");
        assert_null(it->entry.image);
        assert_null(it->entry.enclosures);
        assert_int_equal(it->entry.nenclosures, 0);
        assert_null(it->entry.categories);
        assert_int_equal(it->entry.ncategories, 0);
    }
    /* The other fields are still there. */
    assert_string_equal(it->entry.title, "with lists");
    return 0;
}

static void
test_lists(void **state)
{
    static const struct feed_enclosure enc[] = {
        {"https://example.org/ep1.mp3", "audio/mpeg", 12345678901LL},
        {"https://example.org/caf\xc3\xa9.pdf?a=1&b=\"2\"", NULL, -1},
    };
    static const char *const cats[] = {
        "say \"hi\"\\",
        "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x93\xb0",
        "",
    };
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;
    char *seg;
    int pass, calls;

    it = item("00000000000000e1", "with lists", 200);
    it.entry.image = "https://example.org/th\"umb.jpg";
    it.entry.enclosures = enc;
    it.entry.nenclosures = 2;
    it.entry.categories = cats;
    it.entry.ncategories = 3;
    assert_int_equal(store_add(s, &it), 0);
    /* None at all, and a count of none with a pointer to some. */
    it = item("00000000000000e2", "with lists", 100);
    it.entry.categories = cats;
    assert_int_equal(store_add(s, &it), 0);
    assert_int_equal(store_commit(s), 0);
    for (pass = 0; pass < 2; pass++) {
        calls = 0;
        assert_int_equal(store_recent(s, 10, lists_fn, &calls), 0);
        assert_int_equal(calls, 2);
        store_close(s);
        s = open_ok(f);
        assert_null(store_warnings(s));
    }
    store_close(s);

    seg = read_file(path(f, "items/000001.jsonl"));
    assert_non_null(strstr(seg, "{\"url\":\"https://example.org/caf\xc3\xa9"
                                ".pdf?a=1&b=\\\"2\\\"\",\"type\":null,"
                                "\"length\":null}]"));
    assert_non_null(strstr(seg, "\"image\":null,\"enclosures\":[],"
                                "\"categories\":[]}\n"));
    free(seg);
}

/* Checks the lists of test_lists_capped()'s item. */
static int
capped_fn(const struct feed_item *it, void *arg)
{
    char want[32];
    size_t i;

    (void)arg;
    assert_int_equal(it->entry.nenclosures, 64);
    assert_int_equal(it->entry.ncategories, 256);
    /* The first ones are kept, less the one without a URL. */
    for (i = 0; i < 64; i++) {
        snprintf(want, sizeof want, "https://e.org/%zu", i + 1);
        assert_string_equal(it->entry.enclosures[i].url, want);
        assert_int_equal(it->entry.enclosures[i].length, (int64_t)i + 1);
    }
    for (i = 0; i < 256; i++) {
        snprintf(want, sizeof want, "c%zu", i);
        assert_string_equal(it->entry.categories[i], want);
    }
    return 0;
}

static void
test_lists_capped(void **state)
{
    static struct feed_enclosure enc[100];
    static char urls[100][32], names[300][8];
    static const char *cats[300];
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;
    size_t i;

    for (i = 0; i < 100; i++) {
        snprintf(urls[i], sizeof urls[i], "https://e.org/%zu", i);
        enc[i].url = i == 0 ? NULL : urls[i];
        enc[i].length = (int64_t)i;
    }
    for (i = 0; i < 300; i++) {
        snprintf(names[i], sizeof names[i], "c%zu", i);
        cats[i] = names[i];
    }
    it = item("00000000000000c1", "many", 1);
    it.entry.enclosures = enc;
    it.entry.nenclosures = 100;
    it.entry.categories = cats;
    it.entry.ncategories = 300;
    assert_int_equal(store_add(s, &it), 0);
    assert_int_equal(store_commit(s), 0);
    assert_int_equal(store_recent(s, 10, capped_fn, NULL), 0);
    store_close(s);
    s = open_ok(f);
    assert_int_equal(store_recent(s, 10, capped_fn, NULL), 0);
    store_close(s);
}

static void
test_lists_old_records(void **state)
{
    struct fixture *f = *state;
    struct store *s;
    int calls = 0;

    /* A line from before the keys existed, and one whose keys hold
     * nothing usable (edited by hand): both read back as none. */
    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(path(f, "items/000001.jsonl"),
               "{\"feedd_store\":1}\n"
               "{\"id\":\"0000000000000001\",\"feed\":\"lwn\","
               "\"feed_title\":null,\"feed_url\":\"https://lwn.net/\","
               "\"stored\":1700000000,\"guid\":null,\"link\":null,"
               "\"title\":\"old\",\"author\":null,\"published\":5,"
               "\"updated\":null,\"summary\":null,\"content\":null}\n"
               "{\"id\":\"0000000000000002\",\"image\":7,"
               "\"enclosures\":[\"x\",{\"url\":null},{\"type\":\"a/b\"}],"
               "\"categories\":[1,null,{}]}\n"
               "{\"id\":\"0000000000000003\",\"enclosures\":["
               "{\"url\":\"u\",\"length\":-5},"
               "{\"url\":\"v\",\"type\":3,\"length\":\"7\"}]}\n");
    s = open_ok(f);
    assert_null(store_warnings(s));
    assert_int_equal(store_count(s), 3);
    assert_int_equal(store_recent(s, 10, old_fn, &calls), 0);
    assert_int_equal(calls, 3);
    store_close(s);
}

/* ---- the fields of issue 4 ---------------------------------------------- */

static int
fields_fn(const struct feed_item *it, void *arg)
{
    int *calls = arg;

    (*calls)++;
    if (strcmp(it->id, "00000000000000f1") == 0) {
        assert_int_equal(it->nalso, 2);
        assert_non_null(it->also);
        assert_string_equal(it->also[0], "hn");
        assert_string_equal(it->also[1], "caf\xc3\xa9 \"feed\"");
        assert_int_equal(it->changed, 1716000123);
        assert_true(it->hash == UINT64_C(0xfedcba9876543210));
    } else {
        assert_string_equal(it->id, "00000000000000f2");
        assert_null(it->also);
        assert_int_equal(it->nalso, 0);
        assert_int_equal(it->changed, FEED_TIME_NONE);
        assert_true(it->hash == 1);
    }
    return 0;
}

static void
test_new_fields(void **state)
{
    static const char *const also[] = {"hn", NULL, "caf\xc3\xa9 \"feed\""};
    struct fixture *f = *state;
    struct store *s = open_ok(f);
    struct feed_item it;
    int pass, calls;

    it = item("00000000000000f1", "carried twice", 10);
    it.also = also;
    it.nalso = 3; /* the NULL carries nothing and is left out */
    it.changed = 1716000123;
    it.hash = UINT64_C(0xfedcba9876543210);
    assert_int_equal(store_add(s, &it), 0);
    add_v(s, "00000000000000f2", "plain", 5, 1);
    assert_int_equal(store_commit(s), 0);
    for (pass = 0; pass < 2; pass++) {
        calls = 0;
        assert_int_equal(store_recent(s, 10, fields_fn, &calls), 0);
        assert_int_equal(calls, 2);
        store_close(s);
        s = open_ok(f);
        warnings_have(s, NULL);
    }
    store_close(s);
    assert_true(file_has(path(f, "items/000001.jsonl"),
                         "\"also\":[\"hn\",\"caf\xc3\xa9 \\\"feed\\\"\"],"
                         "\"stored\":1700000000,\"changed\":1716000123,"
                         "\"hash\":\"fedcba9876543210\""));
    assert_true(file_has(path(f, "items/000001.jsonl"),
                         "\"also\":[],\"stored\":1700000000,\"changed\":null,"
                         "\"hash\":\"0000000000000001\""));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_roundtrip),         T(test_lists),      T(test_lists_capped),
        T(test_lists_old_records), T(test_new_fields),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
