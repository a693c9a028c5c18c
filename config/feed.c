/* config/feed.c - the feed lines of the config file, "feed NAME LOCATION"
 * then options as "KEY VALUE" pairs, each option checked by its entry in a
 * table; and the check that no two feeds share a name or a location. */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parser.h"
#include "path.h"

/* Checks an http(s) URL (path.h). 0, or -1 after reporting. */
static int
feed_url_check(struct parser *p, const char *label, const char *url,
               size_t scheme_len)
{
    char a[CONFIG_SHOW_SIZE];

    switch (config_url_check(url, scheme_len)) {
    case CONFIG_URL_OK:
        return 0;
    case CONFIG_URL_SPACE:
        config_parser_error(p,
                            "feed %s: URL %s has spaces or control "
                            "characters (write a space as %%20)",
                            label, config_show(a, url));
        return -1;
    case CONFIG_URL_NO_HOST:
        config_parser_error(p, "feed %s: URL %s has no host", label,
                            config_show(a, url));
        return -1;
    case CONFIG_URL_BRACKET:
        config_parser_error(p,
                            "feed %s: URL %s has an IPv6 address without "
                            "its closing ']' (e.g. http://[::1]:8080/feed)",
                            label, config_show(a, url));
        return -1;
    }
    return -1;
}

/* Sets f->location to the file:// URL of a path, taken from the config
 * file's folder when relative. */
static void
feed_path(struct parser *p, struct config_feed *f, const char *label,
          const char *path)
{
    char a[CONFIG_SHOW_SIZE], *abs, *url;

    if (config_has_control(path)) {
        config_parser_error(p, "feed %s: path %s has control characters", label,
                            config_show(a, path));
        return;
    }
    /* Without a folder an error is already reported. */
    if (path[0] != '/' && p->cfg->dir == NULL)
        return;
    abs = config_path_resolve(path[0] == '/' ? "/" : p->cfg->dir, path);
    url = abs ? config_path_to_url(abs) : NULL;
    if (url == NULL)
        p->nomem = 1;
    else
        f->location = config_parser_keep(p, url);
    free(url);
    free(abs);
}

/* Sets f->location from the word loc: an http(s) or file URL as it is, or
 * a path made a file:// URL from the config file's folder. */
static void
feed_location(struct parser *p, struct config_feed *f, const char *label,
              const char *loc)
{
    char a[CONFIG_SHOW_SIZE];
    size_t n;

    if (*loc == '\0') {
        config_parser_error(p, "feed %s: empty location", label);
        return;
    }
    if ((n = config_url_scheme_len(loc)) == 0) {
        /* "http:/x" and "https:x" are typos, not file names. */
        if (config_ascii_prefix(loc, "http:") ||
            config_ascii_prefix(loc, "https:")) {
            config_parser_error(p, "feed %s: bad URL %s (use http://HOST/...)",
                                label, config_show(a, loc));
            return;
        }
        /* "javascript:x" or "mailto:x": a URL of a scheme feedd does not
         * fetch, not a file name ("./a:b" is one). */
        if ((n = config_url_scheme_colon_len(loc)) > 0) {
            config_parser_error(p,
                                "feed %s: unsupported URL scheme %s (use "
                                "http://, https://, file:// or a path; "
                                "write a file name with ':' as ./NAME)",
                                label, config_show(a, loc));
            return;
        }
        feed_path(p, f, label, loc);
        return;
    }
    if ((n == 4 && config_ascii_prefix(loc, "http")) ||
        (n == 5 && config_ascii_prefix(loc, "https"))) {
        if (feed_url_check(p, label, loc, n) == 0)
            f->location = config_parser_keep(p, loc);
    } else if (n == 4 && config_ascii_prefix(loc, "file")) {
        if (loc[7] == '\0')
            config_parser_error(p, "feed %s: file URL %s has no path", label,
                                config_show(a, loc));
        else if (config_has_control(loc))
            config_parser_error(p,
                                "feed %s: URL %s has control characters "
                                "(write them %%-encoded)",
                                label, config_show(a, loc));
        else
            f->location = config_parser_keep(p, loc);
    } else {
        config_parser_error(p,
                            "feed %s: unsupported URL scheme %s (use http://, "
                            "https://, file:// or a path)",
                            label, config_show(a, loc));
    }
}

/* Orders pointers into an array of tags by the tag, then by position. */
static int
tag_cmp(const void *a, const void *b)
{
    char *const *x = *(char *const *const *)a;
    char *const *y = *(char *const *const *)b;
    int c = strcmp(*x, *y);

    return c ? c : (x > y) - (x < y);
}

/* Sets f->tags from a comma-separated list. The first fault in list order
 * is reported: a bad tag, or a tag equal to an earlier one. */
static void
feed_tags(struct parser *p, struct config_feed *f, const char *label,
          const char *v)
{
    char a[CONFIG_SHOW_SIZE];
    size_t n = 1, i, len, bad, dup;
    char **tags, ***order = NULL;
    const char *s;

    for (s = v; *s; s++)
        n += *s == ',';
    if ((tags = calloc(n, sizeof *tags)) == NULL) {
        p->nomem = 1;
        return;
    }
    for (i = 0, s = v; i < n; i++, s += len + 1) {
        len = strcspn(s, ",");
        if (!config_name_valid(s, len))
            break;
        if ((tags[i] = strndup(s, len)) == NULL) {
            p->nomem = 1;
            goto fail;
        }
    }
    bad = i;
    /* Repeats are found by sorting, not by comparing every pair: a line
     * may hold a couple of thousand tags. */
    if ((order = malloc((bad ? bad : 1) * sizeof *order)) == NULL) {
        p->nomem = 1;
        goto fail;
    }
    for (i = 0; i < bad; i++)
        order[i] = &tags[i];
    qsort(order, bad, sizeof *order, tag_cmp);
    for (i = 1, dup = bad; i < bad; i++)
        if (strcmp(*order[i], *order[i - 1]) == 0 &&
            (size_t)(order[i] - tags) < dup)
            dup = (size_t)(order[i] - tags);
    free(order);
    if (dup < bad) {
        config_parser_error(p, "feed %s: tag %s given twice", label,
                            config_show(a, tags[dup]));
        goto fail;
    }
    if (bad < n) {
        config_parser_error(p,
                            "feed %s: bad tags %s (comma-separated; "
                            "letters, digits, '.', '_' and '-')",
                            label, config_show(a, v));
        goto fail;
    }
    f->tags = tags;
    f->ntags = (uint16_t)n;
    return;
fail:
    for (i = 0; i < n; i++)
        free(tags[i]);
    free(tags);
}

/* "id RULE" of a feed line. */
static void
feed_id_rule(struct parser *p, struct config_feed *f, const char *label,
             const char *v)
{
    static const struct {
        const char *name;
        enum config_id_rule rule;
    } rules[] = {
        {"auto", CONFIG_ID_AUTO},       {"slug", CONFIG_ID_SLUG},
        {"guid", CONFIG_ID_GUID},       {"link", CONFIG_ID_LINK},
        {"content", CONFIG_ID_CONTENT},
    };
    char a[CONFIG_SHOW_SIZE];

    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(v, rules[i].name) == 0) {
            f->id_rule = rules[i].rule;
            return;
        }
    config_parser_error(p,
                        "feed %s: bad id %s (use auto, slug, guid, link or "
                        "content)",
                        label, config_show(a, v));
}

/* "id_pattern REGEX": a POSIX extended regular expression, checked now so
 * that a bad one is a config error, not a surprise at the first poll. */
static void
feed_id_pattern(struct parser *p, struct config_feed *f, const char *label,
                const char *v)
{
    char a[CONFIG_SHOW_SIZE], why[128];
    regex_t re;
    int rc;

    if ((rc = regcomp(&re, v, REG_EXTENDED)) != 0) {
        regerror(rc, &re, why, sizeof why);
        config_parser_error(p, "feed %s: bad id_pattern %s: %s", label,
                            config_show(a, v), why);
        return;
    }
    if (re.re_nsub > 1)
        config_parser_error(p, "feed %s: id_pattern %s has more than one group",
                            label, config_show(a, v));
    else
        f->id_pattern = config_parser_strdup(p, v);
    regfree(&re);
}

/* "interval DURATION" of a feed line. */
static void
feed_interval(struct parser *p, struct config_feed *f, const char *label,
              const char *v)
{
    char a[CONFIG_SHOW_SIZE];

    if (config_duration_parse(v, &f->interval) != 0)
        config_parser_error(p, "feed %s: bad interval %s " CONFIG_DURATION_HINT,
                            label, config_show(a, v));
}

/* "timeout", "connect_timeout", "max_size" and "user_agent" of a feed
 * line: the feed's own fetch options, made when it sets its first. */
static void
feed_fetch(struct parser *p, struct config_feed *f, const char *label,
           const char *key, const char *v)
{
    char prefix[CONFIG_SHOW_SIZE + 8];

    if (f->fetch == NULL && (f->fetch = calloc(1, sizeof *f->fetch)) == NULL) {
        p->nomem = 1;
        return;
    }
    snprintf(prefix, sizeof prefix, "feed %s: ", label);
    config_fetch_set(p, f->fetch, prefix, key, v);
}

/* The options of a feed line, each at most once, in any order. */
static const struct feed_option {
    const char *name;
    void (*set)(struct parser *, struct config_feed *, const char *label,
                const char *value);
} feed_options[] = {
    {"interval", feed_interval},
    {"tags", feed_tags},
    {"id", feed_id_rule},
    {"id_pattern", feed_id_pattern},
    /* NULL: a fetch option (feed_fetch()). */
    {"timeout", NULL},
    {"connect_timeout", NULL},
    {"max_size", NULL},
    {"user_agent", NULL},
};
#define FEED_NOPTIONS (sizeof feed_options / sizeof feed_options[0])

/* A new feed at the end of p->cfg->feeds, zeroed but for its line; NULL
 * with p->nomem set. */
static struct config_feed *
feed_add(struct parser *p)
{
    struct config *cfg = p->cfg;
    struct config_feed *f;

    if (cfg->nfeeds == p->feeds_cap) {
        size_t cap = p->feeds_cap ? p->feeds_cap * 2 : 16;

        if ((f = realloc(cfg->feeds, cap * sizeof *f)) == NULL) {
            p->nomem = 1;
            return NULL;
        }
        cfg->feeds = f;
        p->feeds_cap = cap;
    }
    f = &cfg->feeds[cfg->nfeeds++];
    memset(f, 0, sizeof *f);
    f->line = p->line;
    return f;
}

/* "feed NAME LOCATION [interval DURATION] [tags A,B] [id RULE]
 * [id_pattern REGEX]". Whatever part is valid is kept, so duplicates are
 * found even on lines with other faults. */
void
config_parser_feed(struct parser *p)
{
    char label[CONFIG_SHOW_SIZE], a[CONFIG_SHOW_SIZE];
    int have[FEED_NOPTIONS] = {0};
    struct config_feed *f;
    size_t k;
    int i;

    if (p->nwords < 2) {
        config_parser_error(p, "feed needs a name and a location");
        return;
    }
    if ((f = feed_add(p)) == NULL)
        return;
    config_show(label, p->words[1]);
    if (!config_name_valid(p->words[1], strlen(p->words[1])))
        config_parser_error(p, "bad feed name %s " CONFIG_NAME_HINT, label);
    else
        f->name = config_parser_keep(p, p->words[1]);
    if (p->nwords < 3) {
        config_parser_error(p, "feed %s needs a location", label);
        return;
    }
    feed_location(p, f, label, p->words[2]);

    for (i = 3; i < p->nwords; i += 2) {
        const char *key = p->words[i];

        for (k = 0; k < FEED_NOPTIONS; k++)
            if (strcmp(key, feed_options[k].name) == 0)
                break;
        if (k == FEED_NOPTIONS) {
            config_parser_error(p,
                                "feed %s: unknown option %s (use interval, "
                                "tags, id, id_pattern, timeout, "
                                "connect_timeout, max_size or user_agent)",
                                label, config_show(a, key));
            return;
        }
        if (i + 1 == p->nwords) {
            config_parser_error(p, "feed %s: option %s needs a value", label,
                                config_show(a, key));
            return;
        }
        if (have[k]++)
            config_parser_error(p, "feed %s: option %s given twice", label,
                                config_show(a, key));
        else if (feed_options[k].set != NULL)
            feed_options[k].set(p, f, label, p->words[i + 1]);
        else
            feed_fetch(p, f, label, key, p->words[i + 1]);
    }
}

static int
feed_name_cmp(const void *a, const void *b)
{
    const struct config_feed *x = *(const struct config_feed *const *)a;
    const struct config_feed *y = *(const struct config_feed *const *)b;
    int c = strcmp(x->name, y->name);

    return c ? c : (x->line > y->line) - (x->line < y->line);
}

static int
feed_location_cmp(const void *a, const void *b)
{
    const struct config_feed *x = *(const struct config_feed *const *)a;
    const struct config_feed *y = *(const struct config_feed *const *)b;
    int c = strcmp(x->location, y->location);

    return c ? c : (x->line > y->line) - (x->line < y->line);
}

/* Sorted rather than compared pairwise, so a file with thousands of feeds
 * stays fast. */
void
config_parser_duplicates(struct parser *p)
{
    struct config *cfg = p->cfg;
    struct config_feed **v;
    char a[CONFIG_SHOW_SIZE], b[CONFIG_SHOW_SIZE];
    size_t i, n, first;

    if (cfg->nfeeds < 2)
        return;
    if ((v = malloc(cfg->nfeeds * sizeof *v)) == NULL) {
        p->nomem = 1;
        return;
    }
    for (i = n = 0; i < cfg->nfeeds; i++)
        if (cfg->feeds[i].name != NULL)
            v[n++] = &cfg->feeds[i];
    qsort(v, n, sizeof *v, feed_name_cmp);
    for (i = 1, first = 0; i < n; i++) {
        if (strcmp(v[i]->name, v[first]->name) != 0)
            first = i;
        else
            config_parser_error_at(p, v[i]->line,
                                   "feed %s given twice (first on line %d)",
                                   config_show(a, v[i]->name), v[first]->line);
    }
    for (i = n = 0; i < cfg->nfeeds; i++)
        if (cfg->feeds[i].location != NULL)
            v[n++] = &cfg->feeds[i];
    qsort(v, n, sizeof *v, feed_location_cmp);
    for (i = 1, first = 0; i < n; i++) {
        if (strcmp(v[i]->location, v[first]->location) != 0)
            first = i;
        else
            config_parser_error_at(
                p, v[i]->line, "feed %s: same location as feed %s on line %d",
                config_show(a, v[i]->name ? v[i]->name : "?"),
                config_show(b, v[first]->name ? v[first]->name : "?"),
                v[first]->line);
    }
    free(v);
}
