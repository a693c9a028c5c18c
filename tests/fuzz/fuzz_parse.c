/* tests/fuzz/fuzz_parse.c - libFuzzer target for the streaming parser.
 *
 * Each input is parsed twice with the default limits: whole, then again in
 * two or three chunks split at points derived from its first bytes and its
 * size. The entry callback reads every field of every entry (strlen on each
 * string, every enclosure and category, JSON-escapes the strings as `feedd
 * parse` does) so that AddressSanitizer sees a pointer that is stale or a
 * string that is not terminated, and computes the entry's stable ID under
 * every rule.
 *
 * feeds/parse.h says chunks may split anywhere, so the two parses must
 * agree: the same number of entries, the same error code, the same entries
 * (a digest of their fields). When they do not, the target prints both
 * and aborts. The one legitimate disagreement is FEED_E_LIMIT on
 * max_bytes, which refuses the whole push before parsing any of it; with
 * the default 32 MiB cap and the -max_len of tests/fuzz/README.md (16 MiB)
 * no fuzz input is that large. tests/fuzz/replay.c runs this target
 * without libFuzzer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "feeds/buf.h"
#include "feeds/date.h"
#include "feeds/id.h"
#include "feeds/item.h"
#include "feeds/parse.h"

#define BASE_URL "http://fuzz.example/feed"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct run {
    struct feed_parser *p;
    size_t entries;  /* seen by the callback */
    uint64_t digest; /* FNV-1a over every field of every entry */
    struct feed_buf json;
};

static uint64_t
mix(uint64_t h, const void *s, size_t n)
{
    const unsigned char *c = s;

    while (n-- > 0)
        h = (h ^ *c++) * 0x100000001b3u;
    return h;
}

/* Reads s to its end (the point of the exercise under ASan), escapes it
 * as `feedd parse` would, and folds it, its length and its NULL-ness
 * into the digest. */
static uint64_t
touch(struct run *r, uint64_t h, const char *s)
{
    size_t n;

    if (s == NULL)
        return mix(h, "\0N", 2);
    n = strlen(s);
    feed_buf_reset(&r->json);
    if (feed_buf_json(&r->json, s) != 0)
        abort(); /* no cap: only out of memory, which ASan reports first */
    h = mix(h, &n, sizeof(n));
    return mix(h, s, n);
}

static uint64_t
touch_date(uint64_t h, int64_t t)
{
    char d[FEED_DATE_LEN + 1];

    if (t != FEED_TIME_NONE && strlen(feed_date_format(t, d)) != FEED_DATE_LEN)
        abort();
    return mix(h, &t, sizeof(t));
}

static int
on_entry(const struct feed_entry *e, void *arg)
{
    struct run *r = arg;
    const struct feed_info *info = feed_parser_info(r->p);
    char id[FEED_ID_LEN + 1];
    uint64_t h = r->digest;
    size_t i;
    int rule, rc;

    h = touch(r, h, e->guid);
    h = touch(r, h, e->link);
    h = touch(r, h, e->title);
    h = touch(r, h, e->author);
    h = touch(r, h, e->summary);
    h = touch(r, h, e->content);
    h = touch(r, h, e->image);
    h = touch_date(h, e->published);
    h = touch_date(h, e->updated);
    if (e->nenclosures > 0 && e->enclosures == NULL)
        abort();
    h = mix(h, &e->nenclosures, sizeof(e->nenclosures));
    for (i = 0; i < e->nenclosures; i++) {
        h = touch(r, h, e->enclosures[i].url);
        h = touch(r, h, e->enclosures[i].type);
        h = mix(h, &e->enclosures[i].length, sizeof(e->enclosures[i].length));
    }
    if (e->ncategories > 0 && e->categories == NULL)
        abort();
    h = mix(h, &e->ncategories, sizeof(e->ncategories));
    for (i = 0; i < e->ncategories; i++)
        h = touch(r, h, e->categories[i]);
    h = touch(r, h, info->title);
    h = touch(r, h, info->link);

    /* The ID under AUTO and under each rule forced (a rule that does not
     * apply falls back to AUTO's order). */
    for (rule = FEED_ID_AUTO; rule <= FEED_ID_CONTENT; rule++) {
        memset(id, 'x', sizeof(id));
        rc = feed_entry_id(e, "fuzz", (enum feed_id_rule)rule, id);
        if (rc == FEED_E_NOMEM)
            continue;
        if (rc < FEED_ID_SLUG || rc > FEED_ID_CONTENT ||
            strlen(id) != FEED_ID_LEN ||
            strspn(id, "0123456789abcdef") != FEED_ID_LEN) {
            fprintf(stderr, "feed_entry_id(rule %d) = %d, \"%.*s\"\n", rule, rc,
                    (int)sizeof(id), id);
            abort();
        }
        h = mix(h, id, FEED_ID_LEN);
    }
    r->digest = h;
    r->entries++;
    return 0;
}

/* Pushes data[0..size) cut at the given offsets (ascending, at most size);
 * after the first error nothing more is pushed, as the daemon does. When
 * empty_last is set the data go in with last = 0 and an empty push ends
 * the document, as `feedd parse` does at EOF. Returns the first error,
 * or 0. */
static int
parse(struct run *r, const uint8_t *data, size_t size, const size_t *cuts,
      size_t ncuts, int empty_last)
{
    size_t i, from = 0;
    int rc = 0;

    memset(r, 0, sizeof(*r));
    feed_buf_init(&r->json, 0);
    r->digest = 0xcbf29ce484222325u;
    r->p = feed_parser_new(NULL, BASE_URL, on_entry, r);
    if (r->p == NULL)
        return FEED_E_NOMEM;
    for (i = 0; i <= ncuts && rc == 0; i++) {
        size_t to = i < ncuts ? cuts[i] : size;
        int last = i == ncuts && !empty_last;

        rc = feed_parser_push(r->p, (const char *)data + from, to - from, last);
        from = to;
    }
    if (rc == 0 && empty_last)
        rc = feed_parser_push(r->p, "", 0, 1);
    /* The error message and the info must be readable whatever happened. */
    (void)strlen(feed_parser_error(r->p));
    if ((rc != 0) != (*feed_parser_error(r->p) != '\0') ||
        feed_parser_entries(r->p) != r->entries) {
        fprintf(stderr, "rc %d, error \"%s\", %zu entries, %zu seen\n", rc,
                feed_parser_error(r->p), feed_parser_entries(r->p), r->entries);
        abort();
    }
    r->digest = touch(r, r->digest, feed_parser_info(r->p)->title);
    r->digest = touch(r, r->digest, feed_parser_info(r->p)->link);
    r->digest = mix(r->digest, &feed_parser_info(r->p)->format,
                    sizeof(feed_parser_info(r->p)->format));
    return rc;
}

static void
done(struct run *r)
{
    feed_parser_free(r->p);
    feed_buf_free(&r->json);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct run whole, split;
    size_t cuts[2], ncuts;
    uint64_t h;
    int rc_whole, rc_split, empty_last;

    /* The split is a function of the input so that a crash reproduces
     * from the input alone. The first bytes of a seed are nearly always
     * "<?xm", so the size goes into the hash too. */
    h = mix(0xcbf29ce484222325u, data, size < 4 ? size : 4);
    h = mix(h, &size, sizeof(size));
    ncuts = 1 + (h & 1);
    empty_last = (h >> 1) & 1;
    cuts[0] = (size_t)((h >> 8) % (size + 1));
    cuts[1] = cuts[0] + (size_t)((h >> 36) % (size - cuts[0] + 1));

    rc_whole = parse(&whole, data, size, NULL, 0, 0);
    rc_split = parse(&split, data, size, cuts, ncuts, empty_last);
    if (whole.p == NULL || split.p == NULL)
        goto out; /* feed_parser_new() out of memory: nothing to compare */
    if (rc_whole != rc_split || whole.entries != split.entries ||
        whole.digest != split.digest) {
        fprintf(stderr,
                "streaming invariance broken (%zu bytes)\n"
                "  whole: rc %d, %zu entries, digest %016llx, error \"%s\"\n"
                "  split: rc %d, %zu entries, digest %016llx, error \"%s\"\n"
                "  split at %zu",
                size, rc_whole, whole.entries, (unsigned long long)whole.digest,
                feed_parser_error(whole.p), rc_split, split.entries,
                (unsigned long long)split.digest, feed_parser_error(split.p),
                cuts[0]);
        if (ncuts > 1)
            fprintf(stderr, " and %zu", cuts[1]);
        fprintf(stderr, "%s\n", empty_last ? ", then an empty last push" : "");
        abort();
    }
out:
    done(&whole);
    done(&split);
    return 0;
}
