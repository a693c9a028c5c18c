/* daemon/cmd_feeds.c - `feedd add`, `remove`, `import` and `export`: the
 * feed list edited from the command line. Every edit goes through
 * config/edit.c, which keeps the rest of the file byte for byte and
 * replaces it atomically; any failure is one line on stderr, exit 1, and
 * the file as it was. */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cmd.h"
#include "config.h"
#include "discover.h"
#include "feeds/buf.h"
#include "feeds/parse.h"
#include "feeds/url.h"
#include "opml.h"
#include "strhash.h"

#define FEEDS_DEFAULT_CONFIG "/etc/feedd/feedd.conf"
#define FEEDS_NAME_MAX 48 /* bytes of a name made from a title or host */
#define FEEDS_ERR 512

enum { OPT_NAME = 256, OPT_INTERVAL, OPT_TAGS, OPT_HELP };

struct args {
    const char *config;
    const char *name, *interval, *tags;
    const char *arg; /* the one operand */
};

/* Options of cmd (argv[0] is its name); allowed says which of --name,
 * --interval and --tags it takes. 0, 1 when --help was answered, or -1
 * after a one-line message. */
static int
parse_args(const char *cmd, const char *usage, int argc, char **argv,
           int operand, int allowed, struct args *a)
{
    static const struct option opts[] = {
        {"config", required_argument, NULL, 'c'},
        {"name", required_argument, NULL, OPT_NAME},
        {"interval", required_argument, NULL, OPT_INTERVAL},
        {"tags", required_argument, NULL, OPT_TAGS},
        {"help", no_argument, NULL, OPT_HELP},
        {NULL, 0, NULL, 0},
    };
    int c;

    memset(a, 0, sizeof *a);
    a->config = FEEDS_DEFAULT_CONFIG;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:", opts, NULL)) != -1) {
        switch (c) {
        case 'c':
            a->config = optarg;
            break;
        case OPT_NAME:
        case OPT_INTERVAL:
        case OPT_TAGS:
            if (!allowed) {
                fprintf(stderr, "feedd %s: unknown option \"%s\"\n", cmd,
                        argv[optind - 1]);
                return -1;
            }
            *(c == OPT_NAME       ? &a->name
              : c == OPT_INTERVAL ? &a->interval
                                  : &a->tags) = optarg;
            break;
        case OPT_HELP:
            fputs(usage, stdout);
            return 1;
        case ':':
            fprintf(stderr, "feedd %s: %s needs a value\n", cmd,
                    argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "feedd %s: unknown option \"%s\"\n", cmd,
                    argv[optind - 1]);
            return -1;
        }
    }
    if (argc - optind != operand) {
        fprintf(stderr, "%s", usage);
        return -1;
    }
    a->arg = operand ? argv[optind] : NULL;
    return 0;
}

/* ---- names and comparison keys ------------------------------------- */

static int
name_char(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
}

/* A feed name or tag made from s into out (FEEDS_NAME_MAX + 1 bytes):
 * when keep and s already is a valid name, s itself; else lowercased,
 * every run of other bytes one '-', '-' and '.' trimmed at both ends,
 * cut at FEEDS_NAME_MAX. "" when nothing is left. */
static const char *
make_name(const char *s, int keep, char *out)
{
    size_t n = 0, len = strlen(s), i;

    if (keep && len > 0 && len <= 64 &&
        strspn(s, "abcdefghijklmnopqrstuvwxyz"
                  "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                  "0123456789._-") == len &&
        len <= FEEDS_NAME_MAX) {
        memcpy(out, s, len + 1);
        return out;
    }
    for (i = 0; i < len && n < FEEDS_NAME_MAX; i++) {
        int c = (unsigned char)s[i];

        if (c >= 'A' && c <= 'Z')
            c += 'a' - 'A';
        if (!name_char(c))
            c = '-';
        if (c == '-' && (n == 0 || out[n - 1] == '-'))
            continue;
        out[n++] = (char)c;
    }
    while (n > 0 && (out[n - 1] == '-' || out[n - 1] == '.'))
        n--;
    out[n] = '\0';
    i = strspn(out, "-.");
    memmove(out, out + i, n - i + 1);
    return out;
}

/* The host of url, as a name (out as for make_name()); for a file:// URL
 * the file's name without its extension; "" when none. */
static const char *
host_name(const char *url, char *out)
{
    const char *s = strstr(url, "://"), *e, *at;
    char host[256];
    size_t n;

    out[0] = '\0';
    if (s == NULL)
        return out;
    if (strncmp(url, "file:", 5) == 0) {
        s = strrchr(url, '/') + 1;
        n = strcspn(s, ".?#");
        snprintf(host, sizeof host, "%.*s", (int)n, s);
        return make_name(host, 0, out);
    }
    s += 3;
    e = s + strcspn(s, "/?#");
    if ((at = memchr(s, '@', (size_t)(e - s))) != NULL)
        s = at + 1;
    if (*s == '[')
        n = strcspn(s, "]") + 1;
    else
        n = strcspn(s, ":/?#");
    if (n > (size_t)(e - s))
        n = (size_t)(e - s);
    if (n >= sizeof host)
        n = sizeof host - 1;
    memcpy(host, s, n);
    host[n] = '\0';
    if (strncmp(host, "www.", 4) == 0)
        memmove(host, host + 4, n - 3);
    return make_name(host, 0, out);
}

/* The comparison key of a location into out: feed_url_key() for http(s),
 * else the location itself. 0, or -1 when out of memory. */
static int
url_key(const char *url, struct feed_buf *out)
{
    int rc;

    feed_buf_reset(out);
    if ((rc = feed_url_key(url, out)) == 0)
        return 0;
    if (rc == FEED_E_NOMEM)
        return -1;
    feed_buf_reset(out);
    return feed_buf_puts(out, url) == 0 ? 0 : -1;
}

/* A set of strings: FNV-1a hashing, open addressing. */
struct strset {
    char **slot;
    size_t cap, n;
};

static int
strset_has(const struct strset *set, const char *s)
{
    size_t i;

    if (set->cap == 0)
        return 0;
    for (i = (size_t)strhash(s) & (set->cap - 1); set->slot[i] != NULL;
         i = (i + 1) & (set->cap - 1))
        if (strcmp(set->slot[i], s) == 0)
            return 1;
    return 0;
}

/* Adds a copy of s. 0, or -1 when out of memory. */
static int
strset_add(struct strset *set, const char *s)
{
    size_t i;

    if (2 * (set->n + 1) > set->cap) {
        struct strset big = {NULL, set->cap ? set->cap * 2 : 64, 0};

        if ((big.slot = calloc(big.cap, sizeof *big.slot)) == NULL)
            return -1;
        for (i = 0; i < set->cap; i++) {
            size_t j;

            if (set->slot[i] == NULL)
                continue;
            for (j = (size_t)strhash(set->slot[i]) & (big.cap - 1);
                 big.slot[j] != NULL; j = (j + 1) & (big.cap - 1))
                ;
            big.slot[j] = set->slot[i];
        }
        big.n = set->n;
        free(set->slot);
        *set = big;
    }
    for (i = (size_t)strhash(s) & (set->cap - 1); set->slot[i] != NULL;
         i = (i + 1) & (set->cap - 1))
        ;
    if ((set->slot[i] = strdup(s)) == NULL)
        return -1;
    set->n++;
    return 0;
}

static void
strset_free(struct strset *set)
{
    size_t i;

    for (i = 0; i < set->cap; i++)
        free(set->slot[i]);
    free(set->slot);
}

/* The feed of cfg whose location has the key of url, or NULL; -1 in *rc
 * when out of memory. */
static const struct config_feed *
find_by_url(const struct config *cfg, const char *url, int *rc)
{
    struct feed_buf key, other;
    const struct config_feed *found = NULL;
    size_t i;

    feed_buf_init(&key, 0);
    feed_buf_init(&other, 0);
    *rc = url_key(url, &key);
    for (i = 0; *rc == 0 && found == NULL && i < cfg->nfeeds; i++)
        if ((*rc = url_key(cfg->feeds[i].location, &other)) == 0 &&
            strcmp(key.data, other.data) == 0)
            found = &cfg->feeds[i];
    feed_buf_free(&key);
    feed_buf_free(&other);
    return found;
}

/* ---- fetching and checking ----------------------------------------- */

struct body {
    struct feed_buf buf;
    int over; /* the FEED_E_* code that stopped the body */
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
    struct body *b = arg;

    int rc = feed_buf_append(&b->buf, p, size * n);

    if (rc != 0) {
        b->over = rc;
        return 0;
    }
    return size * n;
}

/* Fetches url once, as the daemon does: http, https and file only (file
 * only when url is one, and no redirect leads to it), 5 redirects, the
 * config's timeouts, size cap and User-Agent (fx). The body in b
 * (initialised here), the URL after redirects in *final (the caller frees
 * it). 0, or -1 with the reason in err. */
static int
fetch(const char *url, const struct config_fetch *fx, struct body *b,
      char **final, char *err, size_t errlen)
{
    char cerr[CURL_ERROR_SIZE] = "";
    const char *eff = NULL;
    long status = 0;
    CURLcode rc;
    CURL *e;

    memset(b, 0, sizeof *b);
    feed_buf_init(&b->buf, (size_t)fx->max_size);
    *final = NULL;
    if ((e = curl_easy_init()) == NULL) {
        snprintf(err, errlen, "libcurl failed to start");
        return -1;
    }
    if ((rc = curl_easy_setopt(e, CURLOPT_URL, url)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cerr)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body)) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_WRITEDATA, b)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR,
                               strncmp(url, "file:", 5) == 0 ? "file"
                                                             : "http,https")) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https")) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_MAXREDIRS, 5L)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "")) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_USERAGENT, fx->user_agent)) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_TIMEOUT, (long)fx->timeout)) !=
            CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT,
                               (long)fx->connect_timeout)) != CURLE_OK ||
        (rc = curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE,
                               (curl_off_t)fx->max_size)) != CURLE_OK) {
        snprintf(err, errlen, "libcurl refused an option: %s",
                 curl_easy_strerror(rc));
        goto fail;
    }
    rc = curl_easy_perform(e);
    if (b->over) {
        snprintf(err, errlen, "cannot fetch %s: %s", url,
                 b->over == FEED_E_TOOBIG ? "the response is too large"
                                          : "out of memory");
        goto fail;
    }
    if (rc != CURLE_OK) {
        snprintf(err, errlen, "cannot fetch %s: %s", url,
                 cerr[0] ? cerr : curl_easy_strerror(rc));
        goto fail;
    }
    curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
    if (strncmp(url, "file:", 5) != 0 && (status < 200 || status > 299)) {
        snprintf(err, errlen, "cannot fetch %s: HTTP status %ld", url, status);
        goto fail;
    }
    curl_easy_getinfo(e, CURLINFO_EFFECTIVE_URL, &eff);
    if ((* final = strdup(eff ? eff : url)) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto fail;
    }
    curl_easy_cleanup(e);
    return 0;
fail:
    curl_easy_cleanup(e);
    feed_buf_free(&b->buf);
    return -1;
}

static int
no_entry(const struct feed_entry *en, void *arg)
{
    (void)en;
    (void)arg;
    return 0;
}

/* Whether body is a feed: 1 with its title (or NULL; the caller frees
 * it) in *title, 0 with the parser's reason in err, -1 when out of
 * memory. */
static int
is_feed(const struct body *b, const char *url, char **title, char *err,
        size_t errlen)
{
    struct feed_limits lim;
    struct feed_parser *p;
    const struct feed_info *info;
    int rc;

    *title = NULL;
    feed_limits_default(&lim);
    if ((p = feed_parser_new(&lim, url, no_entry, NULL)) == NULL)
        return -1;
    rc = feed_parser_push(p, b->buf.data ? b->buf.data : "", b->buf.len, 1);
    info = feed_parser_info(p);
    if (rc == FEED_E_NOMEM) {
        rc = -1;
    } else if (rc != 0 || info->format == FEED_FORMAT_UNKNOWN) {
        snprintf(err, errlen, "%s", rc ? feed_parser_error(p) : "not a feed");
        rc = 0;
    } else {
        rc = 1;
        if (info->title != NULL && (*title = strdup(info->title)) == NULL)
            rc = -1;
    }
    feed_parser_free(p);
    return rc;
}

/* ---- the commands --------------------------------------------------- */

static const char usage_add[] =
    "usage: feedd add URL [--name NAME] [--interval D] [--tags a,b] "
    "[-c FILE]\n";
static const char usage_remove[] = "usage: feedd remove NAME|URL [-c FILE]\n";
static const char usage_import[] = "usage: feedd import FILE.opml [-c FILE]\n";
static const char usage_export[] = "usage: feedd export [-c FILE]\n";

/* Refuses url when a feed of cfg has it (after normalisation): 0, or 1
 * after the message. */
static int
refuse_url(const struct config *cfg, const char *url)
{
    const struct config_feed *f;
    int rc;

    f = find_by_url(cfg, url, &rc);
    if (rc != 0) {
        fprintf(stderr, "feedd add: out of memory\n");
        return 1;
    }
    if (f != NULL) {
        fprintf(stderr,
                "feedd add: %s is already in %s as feed \"%s\" (line %d)\n",
                url, cfg->path, f->name, f->line);
        return 1;
    }
    return 0;
}

static int
refuse_name(const struct config *cfg, const char *name, const char *hint)
{
    const struct config_feed *f = config_feed_find(cfg, name);

    if (f == NULL)
        return 0;
    fprintf(stderr,
            "feedd add: a feed named \"%s\" is already in %s (line %d)%s\n",
            name, cfg->path, f->line, hint);
    return 1;
}

int
cmd_add(int argc, char **argv)
{
    struct config_edit *ed = NULL;
    const struct config *cfg;
    struct body page = {0}, feed = {0};
    char err[FEEDS_ERR], why[FEEDS_ERR], name[FEEDS_NAME_MAX + 1];
    char *final = NULL, *title = NULL, **found = NULL;
    const char *url;
    size_t nfound = 0, i;
    struct args a;
    int rc = 1, r;

    if ((r = parse_args("add", usage_add, argc, argv, 1, 1, &a)) != 0)
        return r > 0 ? 0 : 2;
    url = a.arg;
    if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0 &&
        strncmp(url, "file://", 7) != 0) {
        fprintf(stderr,
                "feedd add: %s is not an http://, https:// or file:// URL\n",
                url);
        return 1;
    }
    if ((ed = config_edit_open(a.config, err, sizeof err)) == NULL ||
        (cfg = config_edit_config(ed, err, sizeof err)) == NULL) {
        fprintf(stderr, "feedd add: %s\n", err);
        goto done;
    }
    if ((a.name != NULL && refuse_name(cfg, a.name, "")) ||
        refuse_url(cfg, url))
        goto done;
    /* The options are checked before anything is fetched. */
    if (config_edit_check_feed(ed, a.name ? a.name : "x", url, a.interval,
                               a.tags, err, sizeof err) != 0) {
        fprintf(stderr, "feedd add: %s\n", err);
        goto done;
    }
    if (fetch(url, &cfg->fetch, &page, &final, err, sizeof err) != 0) {
        fprintf(stderr, "feedd add: %s\n", err);
        goto done;
    }
    if ((r = is_feed(&page, final, &title, why, sizeof why)) < 0)
        goto nomem;
    if (r == 0) {
        /* A web page: the feeds it names. */
        if (discover_feeds(page.buf.data ? page.buf.data : "", page.buf.len,
                           final, &found, &nfound) != 0)
            goto nomem;
        if (nfound == 0) {
            fprintf(stderr,
                    "feedd add: %s is neither a feed (%s) nor a page that "
                    "names one (<link rel=\"alternate\" "
                    "type=\"application/rss+xml\">, atom+xml or "
                    "feed+json)\n",
                    url,
                    strncmp(why, "not a feed: ", 12) == 0 ? why + 12 : why);
            goto done;
        }
        url = found[0];
        if (refuse_url(cfg, url))
            goto done;
        free(final);
        final = NULL;
        if (fetch(url, &cfg->fetch, &feed, &final, err, sizeof err) != 0) {
            fprintf(stderr, "feedd add: the page's first feed: %s\n", err);
            goto done;
        }
        if ((r = is_feed(&feed, final, &title, why, sizeof why)) < 0)
            goto nomem;
        if (r == 0) {
            fprintf(stderr,
                    "feedd add: %s, the first feed the page names, is not "
                    "a feed: %s\n",
                    url, why);
            goto done;
        }
    }
    if (a.name != NULL)
        snprintf(name, sizeof name, "%s", a.name);
    else if (title == NULL || *make_name(title, 0, name) == '\0')
        host_name(url, name);
    if (a.name == NULL && name[0] == '\0')
        snprintf(name, sizeof name, "feed");
    if (refuse_name(cfg, a.name ? a.name : name,
                    a.name ? "" : "; give it another with --name"))
        goto done;
    if (config_edit_add(ed, a.name ? a.name : name, url, a.interval, a.tags,
                        err, sizeof err) != 0 ||
        config_edit_commit(ed, err, sizeof err) != 0) {
        fprintf(stderr, "feedd add: %s\n", err);
        goto done;
    }
    printf("added feed %s %s\n", a.name ? a.name : name, url);
    for (i = 1; i < nfound; i++)
        printf("the page also names %s\n", found[i]);
    rc = 0;
    goto done;
nomem:
    fprintf(stderr, "feedd add: out of memory\n");
done:
    feed_buf_free(&page.buf);
    feed_buf_free(&feed.buf);
    discover_free(found, nfound);
    free(final);
    free(title);
    config_edit_free(ed);
    return rc;
}

int
cmd_remove(int argc, char **argv)
{
    struct config_edit *ed = NULL;
    const struct config *cfg;
    const struct config_feed *f;
    char err[FEEDS_ERR], *name = NULL, *loc = NULL;
    struct args a;
    int rc = 1, r;

    if ((r = parse_args("remove", usage_remove, argc, argv, 1, 0, &a)) != 0)
        return r > 0 ? 0 : 2;
    if ((ed = config_edit_open(a.config, err, sizeof err)) == NULL ||
        (cfg = config_edit_config(ed, err, sizeof err)) == NULL) {
        fprintf(stderr, "feedd remove: %s\n", err);
        goto done;
    }
    if ((f = config_feed_find(cfg, a.arg)) == NULL) {
        f = find_by_url(cfg, a.arg, &r);
        if (r != 0) {
            fprintf(stderr, "feedd remove: out of memory\n");
            goto done;
        }
    }
    if (f == NULL) {
        fprintf(stderr, "feedd remove: no feed named or at %s in %s\n", a.arg,
                a.config);
        goto done;
    }
    if ((name = strdup(f->name)) == NULL ||
        (loc = strdup(f->location)) == NULL) {
        fprintf(stderr, "feedd remove: out of memory\n");
        goto done;
    }
    if (config_edit_remove(ed, name, err, sizeof err) != 0 ||
        config_edit_commit(ed, err, sizeof err) != 0) {
        fprintf(stderr, "feedd remove: %s\n", err);
        goto done;
    }
    printf("removed feed %s %s\n", name, loc);
    rc = 0;
done:
    free(name);
    free(loc);
    config_edit_free(ed);
    return rc;
}

/* The tags of an OPML feed as "a,b" into out (made names, repeats and
 * empty ones left out). 0, or -1 when out of memory. */
static int
import_tags(const struct opml_feed *f, struct feed_buf *out)
{
    char tag[FEEDS_NAME_MAX + 1];
    struct strset seen = {0};
    size_t i;
    int rc = 0;

    feed_buf_reset(out);
    for (i = 0; rc == 0 && i < f->ntags; i++) {
        if (*make_name(f->tags[i], 1, tag) == '\0' || strset_has(&seen, tag))
            continue;
        if (strset_add(&seen, tag) != 0 ||
            feed_buf_printf(out, "%s%s", out->len ? "," : "", tag) != 0)
            rc = -1;
    }
    strset_free(&seen);
    return rc;
}

int
cmd_import(int argc, char **argv)
{
    struct config_edit *ed = NULL;
    const struct config *cfg;
    struct opml_list list = {0};
    struct strset names = {0}, keys = {0};
    struct feed_buf key, tags;
    char err[FEEDS_ERR], name[FEEDS_NAME_MAX + 1];
    size_t i, added = 0, dups = 0, bad = 0;
    struct args a;
    int rc = 1, r;

    feed_buf_init(&key, 0);
    feed_buf_init(&tags, 0);
    if ((r = parse_args("import", usage_import, argc, argv, 1, 0, &a)) != 0)
        return r > 0 ? 0 : 2;
    if ((ed = config_edit_open(a.config, err, sizeof err)) == NULL ||
        (cfg = config_edit_config(ed, err, sizeof err)) == NULL ||
        opml_read(a.arg, &list, err, sizeof err) != 0) {
        fprintf(stderr, "feedd import: %s\n", err);
        goto done;
    }
    for (i = 0; i < cfg->nfeeds; i++)
        if (strset_add(&names, cfg->feeds[i].name) != 0 ||
            url_key(cfg->feeds[i].location, &key) != 0 ||
            strset_add(&keys, key.data) != 0)
            goto nomem;
    for (i = 0; i < list.n; i++) {
        const struct opml_feed *f = &list.feeds[i];

        if (f->title == NULL || *make_name(f->title, 1, name) == '\0')
            host_name(f->url, name);
        if (url_key(f->url, &key) != 0 || import_tags(f, &tags) != 0)
            goto nomem;
        if (name[0] == '\0') {
            fprintf(stderr,
                    "feedd import: %s: no name can be made for it; "
                    "skipped\n",
                    f->url);
            bad++;
            continue;
        }
        if (strset_has(&names, name) || strset_has(&keys, key.data)) {
            dups++;
            continue;
        }
        if (config_edit_add(ed, name, f->url, f->interval,
                            tags.len ? tags.data : NULL, err,
                            sizeof err) != 0) {
            fprintf(stderr, "feedd import: feed \"%s\" (%s): %s; skipped\n",
                    name, f->url, err);
            bad++;
            continue;
        }
        if (strset_add(&names, name) != 0 || strset_add(&keys, key.data) != 0)
            goto nomem;
        added++;
    }
    if (added > 0 && config_edit_commit(ed, err, sizeof err) != 0) {
        fprintf(stderr, "feedd import: %s\n", err);
        goto done;
    }
    printf("imported %zu feed%s, skipped %zu duplicate%s", added,
           added == 1 ? "" : "s", dups, dups == 1 ? "" : "s");
    if (bad > 0)
        printf(" and %zu that cannot be added", bad);
    printf("\n");
    rc = 0;
    goto done;
nomem:
    fprintf(stderr, "feedd import: out of memory\n");
done:
    opml_list_free(&list);
    strset_free(&names);
    strset_free(&keys);
    feed_buf_free(&key);
    feed_buf_free(&tags);
    config_edit_free(ed);
    return rc;
}

int
cmd_export(int argc, char **argv)
{
    struct config *cfg;
    struct feed_buf out;
    char *errors = NULL;
    struct args a;
    int rc = 1, r;

    if ((r = parse_args("export", usage_export, argc, argv, 0, 0, &a)) != 0)
        return r > 0 ? 0 : 2;
    if ((cfg = config_load(a.config, &errors)) == NULL) {
        /* The first problem is the line; config_check lists them all. */
        if (errors != NULL)
            errors[strcspn(errors, "\n")] = '\0';
        fprintf(stderr, "feedd export: %s\n",
                errors ? errors : "out of memory");
        free(errors);
        return 1;
    }
    feed_buf_init(&out, 0);
    if (opml_write(cfg, &out) != 0) {
        fprintf(stderr, "feedd export: out of memory\n");
    } else if (fwrite(out.data, 1, out.len, stdout) != out.len ||
               fflush(stdout) != 0) {
        fprintf(stderr, "feedd export: cannot write the OPML to stdout\n");
    } else {
        rc = 0;
    }
    feed_buf_free(&out);
    config_free(cfg);
    return rc;
}
