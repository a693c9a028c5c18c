/* tests/unit/test_record.c - the record codec (record.c): every field of an
 * item written and read back, lists, old records, and the codec called
 * directly. Each test gets a fresh folder under /tmp. */
#include "store_fixture.h"

#include <inttypes.h>
#include <jansson.h>
#include <zlib.h>

#include "linear.h"
#include "store_int.h"

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
                                "\"categories\":[],\"sum\":\""));
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

    /* Lines from before the keys existed read back as none; lines whose
     * keys hold what the writer never writes (edited by hand) are no
     * items: skipped, with a warning. */
    assert_int_equal(mkdir(path(f, "items"), 0755), 0);
    write_file(
        path(f, "items/000001.jsonl"),
        "{\"feedd_store\":1}\n"
        "{\"id\":\"0000000000000001\",\"feed\":\"lwn\","
        "\"feed_title\":null,\"feed_url\":\"https://lwn.net/\","
        "\"stored\":1700000000,\"guid\":null,\"link\":null,"
        "\"title\":\"old\",\"author\":null,\"published\":5,"
        "\"updated\":null,\"summary\":null,\"content\":null}\n" RECORD(
            "0000000000000002", "null",
            "4") "\n"
                 "{\"id\":\"0000000000000003\",\"image\":7,"
                 "\"enclosures\":[\"x\",{\"url\":null},{\"type\":\"a/b\"}],"
                 "\"categories\":[1,null,{}]}\n"
                 "{\"id\":\"0000000000000004\",\"enclosures\":["
                 "{\"url\":\"u\",\"length\":-5},"
                 "{\"url\":\"v\",\"type\":3,\"length\":\"7\"}]}\n");
    s = open_ok(f);
    warnings_have(s, "items/000001.jsonl at byte 439 (line 4): damaged "
                     "record (not JSON, or a member missing or mistyped), "
                     "skipped: the entry will be stored again from its feed\n"
                     "items/000001.jsonl at byte 547 (line 5): damaged record "
                     "(not JSON");
    assert_int_equal(store_count(s), 2);
    assert_int_equal(store_seen(s, "0000000000000003"), 0);
    assert_int_equal(store_recent(s, 10, old_fn, &calls), 0);
    assert_int_equal(calls, 2);
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

/* ---- the codec, directly ------------------------------------------------ */

static const struct feed_enclosure full_enc[] = {
    {"https://e.org/a.mp3", "audio/mpeg", 1234},
    {"https://e.org/b", NULL, -1},
};
static const char *const full_cats[] = {"c1", "caf\xc3\xa9"};
static const char *const full_also[] = {"hn", "lobsters"};

/* An item with every field set, strings that need escaping included. */
static struct feed_item
full_item(void)
{
    struct feed_item it;

    memset(&it, 0, sizeof it);
    strcpy(it.id, "0123456789abcdef");
    it.feed = "lwn";
    it.feed_title = "LWN \"net\"";
    it.feed_url = "https://lwn.net/headlines/rss";
    it.also = full_also;
    it.nalso = 2;
    it.stored = 1700000000;
    it.changed = 1700000500;
    it.hash = UINT64_C(0xfedcba9876543210);
    it.shared = 1;
    it.entry.guid = "urn:x:1";
    it.entry.link = "https://lwn.net/a";
    it.entry.title = "tab\there, line\nbreak, back\\slash, \x01";
    it.entry.author = "A. Uthor";
    it.entry.published = 1699999000;
    it.entry.updated = -5;
    it.entry.summary = "<p>s</p>";
    it.entry.content = "<p>c &amp; d</p>";
    it.entry.image = "https://e.org/i.png";
    it.entry.enclosures = full_enc;
    it.entry.nenclosures = 2;
    it.entry.categories = full_cats;
    it.entry.ncategories = 2;
    return it;
}

/* The line of it, parsed. */
static json_t *
encode_parse(const struct feed_item *it, struct feed_buf *b)
{
    json_error_t jerr;
    uint64_t id;
    json_t *o;

    assert_int_equal(feed_id_parse(it->id, &id), 0);
    feed_buf_reset(b);
    assert_int_equal(store_record_encode(b, id, it), 0);
    /* One line, ending in its '\n' and holding no other. */
    assert_true(b->len > 1 && b->data[b->len - 1] == '\n');
    assert_null(memchr(b->data, '\n', b->len - 1));
    /* Sealed with its checksum, last. */
    assert_int_equal(store_record_verify(b->data, b->len - 1, 2), 0);
    o = json_loadb(b->data, b->len, 0, &jerr);
    if (o == NULL)
        fail_msg("not JSON: %s: %s", jerr.text, b->data);
    return o;
}

static void
test_codec_roundtrip(void **state)
{
    const struct feed_item in = full_item();
    struct store_lists l;
    struct feed_item out;
    struct feed_buf b;
    uint64_t id, hash;
    int64_t date;
    json_t *o;

    (void)state;
    feed_buf_init(&b, 0);
    o = encode_parse(&in, &b);
    assert_int_equal(store_record_decode(&out, o, &l), 0);
    assert_string_equal(out.id, in.id);
    assert_string_equal(out.feed, in.feed);
    assert_string_equal(out.feed_title, in.feed_title);
    assert_string_equal(out.feed_url, in.feed_url);
    assert_int_equal(out.nalso, 2);
    assert_string_equal(out.also[0], "hn");
    assert_string_equal(out.also[1], "lobsters");
    assert_int_equal(out.stored, in.stored);
    assert_int_equal(out.changed, in.changed);
    assert_true(out.hash == in.hash);
    assert_int_equal(out.shared, 1);
    assert_string_equal(out.entry.guid, in.entry.guid);
    assert_string_equal(out.entry.link, in.entry.link);
    assert_string_equal(out.entry.title, in.entry.title);
    assert_string_equal(out.entry.author, in.entry.author);
    assert_int_equal(out.entry.published, in.entry.published);
    assert_int_equal(out.entry.updated, in.entry.updated);
    assert_string_equal(out.entry.summary, in.entry.summary);
    assert_string_equal(out.entry.content, in.entry.content);
    assert_string_equal(out.entry.image, in.entry.image);
    assert_int_equal(out.entry.nenclosures, 2);
    assert_string_equal(out.entry.enclosures[0].url, "https://e.org/a.mp3");
    assert_string_equal(out.entry.enclosures[0].type, "audio/mpeg");
    assert_int_equal(out.entry.enclosures[0].length, 1234);
    assert_string_equal(out.entry.enclosures[1].url, "https://e.org/b");
    assert_null(out.entry.enclosures[1].type);
    assert_int_equal(out.entry.enclosures[1].length, -1);
    assert_int_equal(out.entry.ncategories, 2);
    assert_string_equal(out.entry.categories[0], "c1");
    assert_string_equal(out.entry.categories[1], "caf\xc3\xa9");
    /* The scan's view of the same record. */
    assert_int_equal(store_record_peek(o, &id, &date, &hash), 0);
    assert_true(id == UINT64_C(0x0123456789abcdef));
    assert_int_equal(date, feed_item_date(&in));
    assert_true(hash == in.hash);
    json_decref(o);
    feed_buf_free(&b);
}

/* NULLs and "none" come back as such; the ID and hash in lower case. */
static void
test_codec_empty(void **state)
{
    struct feed_item in, out;
    struct store_lists l;
    struct feed_buf b;
    json_t *o;

    (void)state;
    memset(&in, 0, sizeof in);
    strcpy(in.id, "00000000000000AB");
    in.feed = "f"; /* the one string a record must hold */
    in.stored = in.changed = FEED_TIME_NONE;
    in.entry.published = in.entry.updated = FEED_TIME_NONE;
    feed_buf_init(&b, 0);
    o = encode_parse(&in, &b);
    assert_non_null(strstr(b.data, "\"id\":\"00000000000000ab\""));
    assert_non_null(strstr(b.data, "\"hash\":\"0000000000000000\""));
    assert_null(strstr(b.data, "shared"));
    assert_int_equal(store_record_decode(&out, o, &l), 0);
    assert_string_equal(out.id, "00000000000000ab");
    assert_string_equal(out.feed, "f");
    assert_null(out.feed_title);
    assert_null(out.entry.title);
    assert_null(out.also);
    assert_null(out.entry.enclosures);
    assert_null(out.entry.categories);
    assert_int_equal(out.stored, FEED_TIME_NONE);
    assert_int_equal(out.entry.published, FEED_TIME_NONE);
    assert_int_equal(out.shared, 0);
    json_decref(o);
    feed_buf_free(&b);
}

/* Strings go through the one JSON writer: bytes that are not UTF-8 come
 * back as U+FFFD, never as a line that does not parse. */
static void
test_codec_bad_utf8(void **state)
{
    struct feed_item in = full_item(), out;
    struct store_lists l;
    struct feed_buf b;
    json_t *o;

    (void)state;
    in.entry.title = "a\xff"
                     "b\xc3";
    feed_buf_init(&b, 0);
    o = encode_parse(&in, &b);
    assert_int_equal(store_record_decode(&out, o, &l), 0);
    assert_string_equal(out.entry.title, "a\xef\xbf\xbd"
                                         "b\xef\xbf\xbd");
    json_decref(o);
    feed_buf_free(&b);
}

/* Every member, missing and mistyped: refused where the writer always
 * writes it or never writes that type, accepted where it may be missing
 * (a record from before the key existed). Unknown keys are ignored. */
static void
test_codec_refuses(void **state)
{
    static const struct {
        const char *key;
        int required;
        const char *bad; /* a value of a type the writer never gives it */
    } keys[] = {
        {"id", 1, "\"0123\""},
        {"feed", 1, "1"},
        {"feed", 1, "null"}, /* it names a feed, which is compared */
        {"feed_title", 1, "[]"},
        {"feed_url", 1, "{}"},
        {"also", 0, "[\"a\",1]"},
        {"stored", 1, "\"1700000000\""},
        {"changed", 0, "1.5"},
        {"hash", 0, "\"xyz\""},
        {"shared", 0, "1"},
        {"guid", 1, "true"},
        {"link", 1, "2"},
        {"title", 1, "[\"t\"]"},
        {"author", 1, "false"},
        {"published", 1, "\"yesterday\""},
        {"updated", 1, "[]"},
        {"summary", 1, "3"},
        {"content", 1, "{}"},
        {"image", 0, "7"},
        {"enclosures", 0, "[{\"url\":null}]"},
        {"enclosures", 0, "[{\"url\":\"u\",\"length\":-5}]"},
        {"enclosures", 0, "[{\"url\":\"u\",\"type\":3}]"},
        {"enclosures", 0, "[\"u\"]"},
        {"categories", 0, "[1,null,{}]"},
    };
    const struct feed_item in = full_item();
    struct store_lists l;
    struct feed_item out;
    struct feed_buf b;
    json_t *o, *c, *v;
    uint64_t id, hash;
    int64_t date;
    size_t i;

    (void)state;
    feed_buf_init(&b, 0);
    o = encode_parse(&in, &b);
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        c = json_deep_copy(o);
        assert_int_equal(json_object_del(c, keys[i].key), 0);
        if (store_record_decode(&out, c, &l) !=
            (keys[i].required ? -EINVAL : 0))
            fail_msg("without \"%s\": wrong verdict", keys[i].key);
        assert_int_equal(store_record_peek(c, &id, &date, &hash),
                         keys[i].required ? -EINVAL : 0);
        v = json_loads(keys[i].bad, JSON_DECODE_ANY, NULL);
        assert_non_null(v);
        assert_int_equal(json_object_set_new(c, keys[i].key, v), 0);
        if (store_record_decode(&out, c, &l) != -EINVAL)
            fail_msg("\"%s\":%s accepted", keys[i].key, keys[i].bad);
        assert_int_equal(store_record_peek(c, &id, &date, &hash), -EINVAL);
        json_decref(c);
    }
    c = json_deep_copy(o);
    assert_int_equal(json_object_set_new(c, "from_the_future", json_true()), 0);
    assert_int_equal(store_record_decode(&out, c, &l), 0);
    json_decref(c);
    c = json_array();
    assert_int_equal(store_record_decode(&out, c, &l), -EINVAL);
    json_decref(c);
    json_decref(o);
    feed_buf_free(&b);
}

/* The checksum of a line: every byte it covers, and every byte of the sum
 * itself, changed to any other value is damage in format 2; a line of
 * format 1 has none, but one that has a wrong one is damaged too. */
static void
test_checksum(void **state)
{
    const struct feed_item in = full_item();
    struct feed_buf b;
    char *line;
    size_t len, i;
    uint64_t id;
    char *nl;

    (void)state;
    feed_buf_init(&b, 0);
    assert_int_equal(feed_id_parse(in.id, &id), 0);
    assert_int_equal(store_record_encode(&b, id, &in), 0);
    len = b.len - 1;
    line = b.data;
    assert_int_equal(store_record_verify(line, len, 2), 0);
    assert_int_equal(store_record_verify(line, len, 1), 0);
    for (i = 0; i < len; i++) {
        char was = line[i];

        line[i] = (char)(was ^ (char)(1 + i % 255));
        if (store_record_verify(line, len, 2) == 0)
            fail_msg("byte %zu changed, the checksum still holds", i);
        /* In format 1, a line without the shape of a sum has none. */
        if ((i < len - STORE_SUM_LEN || (i >= len - 10 && i < len - 2)) &&
            store_record_verify(line, len, 1) != STORE_DMG_SUM)
            fail_msg("byte %zu changed: no damage in format 1", i);
        line[i] = was;
    }
    /* Upper-case hex is not what the writer writes. */
    nl = line + len - 10;
    assert_true(nl[0] >= '0');
    for (i = 0; i < 8; i++)
        if (nl[i] >= 'a' && nl[i] <= 'f')
            break;
    if (i < 8) {
        nl[i] = (char)(nl[i] - 'a' + 'A');
        assert_int_equal(store_record_verify(line, len, 2), STORE_DMG_NOSUM);
        nl[i] = (char)(nl[i] - 'A' + 'a');
    }
    /* Without its sum: fine in format 1, not in format 2. */
    assert_int_equal(store_record_verify(line, len - STORE_SUM_LEN, 2),
                     STORE_DMG_NOSUM);
    assert_int_equal(store_record_verify(line, len - STORE_SUM_LEN, 1), 0);
    assert_int_equal(store_record_verify("{}", 2, 2), STORE_DMG_NOSUM);
    assert_int_equal(store_record_verify("", 0, 2), STORE_DMG_NOSUM);
    feed_buf_free(&b);
}

/* The seal is the line's crc32 (zlib's) as 8 lowercase hex digits, zeros
 * in front kept: checked against printf's rendering for lines whose sums
 * start with a zero nibble and with a letter. */
static void
test_seal_digits(void **state)
{
    struct feed_buf b;
    char want[64], body[32];
    int i, zero = 0, letter = 0;

    (void)state;
    feed_buf_init(&b, 0);
    for (i = 0; i < 1000 && !(zero && letter); i++) {
        uint32_t sum;
        int n = snprintf(body, sizeof body, "{\"n\":%d", i);

        sum = (uint32_t)crc32(0L, (const Bytef *)body, (uInt)n);
        zero |= sum >> 28 == 0;
        letter |= sum >> 28 >= 10;
        feed_buf_reset(&b);
        assert_int_equal(feed_buf_append(&b, body, (size_t)n), 0);
        assert_int_equal(store_record_seal(&b, 0), 0);
        snprintf(want, sizeof want, "%s,\"sum\":\"%08" PRIx32 "\"}\n", body,
                 sum);
        assert_string_equal(b.data, want);
        assert_int_equal(b.len, strlen(want));
        assert_int_equal(store_record_verify(b.data, b.len - 1, 2), 0);
    }
    assert_true(zero && letter);
    feed_buf_free(&b);
}

/* A key renamed in place ("feed" to "feedXXXXXXXX", which is what damage
 * made of a store that then crashed every poll in strcmp): the line is
 * still JSON, and even sealed again its record is refused, so that
 * nothing reads a NULL feed. */
static void
test_renamed_key(void **state)
{
    const struct feed_item in = full_item();
    struct store_lists l;
    struct feed_item out;
    struct feed_buf b, r;
    const char *at;
    json_error_t jerr;
    json_t *o;
    uint64_t id, hash;
    int64_t date;

    (void)state;
    feed_buf_init(&b, 0);
    feed_buf_init(&r, 0);
    assert_int_equal(feed_id_parse(in.id, &id), 0);
    assert_int_equal(store_record_encode(&b, id, &in), 0);
    at = strstr(b.data, "\"feed\":");
    assert_non_null(at);
    assert_int_equal(feed_buf_append(&r, b.data, (size_t)(at - b.data) + 5), 0);
    assert_int_equal(feed_buf_puts(&r, "XXXXXXXX"), 0);
    /* Up to its sum, which is made again. */
    assert_int_equal(
        feed_buf_append(&r, at + 5, strlen(at + 5) - STORE_SUM_LEN - 1), 0);
    assert_int_equal(store_record_seal(&r, 0), 0);
    assert_non_null(strstr(r.data, "\"feedXXXXXXXX\":"));
    assert_int_equal(store_record_verify(r.data, r.len - 1, 2), 0);
    o = json_loadb(r.data, r.len - 1, 0, &jerr);
    assert_non_null(o);
    assert_int_equal(store_record_decode(&out, o, &l), -EINVAL);
    assert_int_equal(store_record_peek(o, &id, &date, &hash), -EINVAL);
    json_decref(o);
    feed_buf_free(&b);
    feed_buf_free(&r);
}

/* store_record_verify() on a line of n bytes. */
static void
verify_n(size_t n, void *arg)
{
    static const char sum[] = ",\"sum\":\"00000000\"}";
    char *line = arg;

    /* A sum in its place, so that the whole line is summed. */
    memcpy(line + n - (sizeof sum - 1), sum, sizeof sum - 1);
    assert_int_equal(store_record_verify(line, n, 2), STORE_DMG_SUM);
    memset(line + n - (sizeof sum - 1), 'a', sizeof sum - 1);
}

static void
test_checksum_linear(void **state)
{
    char *line = malloc(4 << 20);

    (void)state;
    assert_non_null(line);
    memset(line, 'a', 4 << 20);
    assert_linear("store_record_verify, n bytes", verify_n, line, 1 << 18,
                  1 << 20);
    free(line);
}

/* The records check_n() reads: built on the first call for a size and
 * kept, so that the best of the timed runs is the decode alone (the
 * building is jansson's, and its allocations would be timed too). */
struct wide {
    struct store_lists l;
    json_t *o[2];
    size_t n[2], next;
};

/* A record with n categories (the writer keeps only the first
 * STORE_CATEGORIES_MAX: a longer array is one written by hand, which the
 * reader must still walk in O(n)). */
static json_t *
wide_record(size_t n)
{
    const struct feed_item it = full_item();
    struct feed_buf b;
    json_t *o, *a = json_array();
    size_t i;

    feed_buf_init(&b, 0);
    o = encode_parse(&it, &b);
    feed_buf_free(&b);
    for (i = 0; i < n; i++)
        assert_int_equal(json_array_append_new(a, json_string("&lt;a")), 0);
    assert_int_equal(json_object_set_new(o, "categories", a), 0);
    return o;
}

static void
check_n(size_t n, void *arg)
{
    struct wide *w = arg;
    struct feed_item out;
    size_t k;

    for (k = 0; k < 2 && w->n[k] != n; k++)
        ;
    if (k == 2) {
        k = w->next;
        w->next ^= 1;
        json_decref(w->o[k]);
        w->o[k] = wide_record(n);
        w->n[k] = n;
    }
    assert_int_equal(store_record_decode(&out, w->o[k], &w->l), 0);
    assert_int_equal(out.entry.ncategories,
                     n < STORE_CATEGORIES_MAX ? n : STORE_CATEGORIES_MAX);
}

static void
test_codec_linear(void **state)
{
    static struct wide w;

    (void)state;
    assert_linear("store_record_decode, n categories", check_n, &w, 50000,
                  1 << 20);
    json_decref(w.o[0]);
    json_decref(w.o[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_roundtrip),
        T(test_lists),
        T(test_lists_capped),
        T(test_lists_old_records),
        T(test_new_fields),
        cmocka_unit_test(test_codec_roundtrip),
        cmocka_unit_test(test_codec_empty),
        cmocka_unit_test(test_codec_bad_utf8),
        cmocka_unit_test(test_codec_refuses),
        cmocka_unit_test(test_codec_linear),
        cmocka_unit_test(test_checksum),
        cmocka_unit_test(test_seal_digits),
        cmocka_unit_test(test_renamed_key),
        cmocka_unit_test(test_checksum_linear),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
