/* daemon/opml.c - OPML subscription lists (opml.h), read with expat. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <expat.h>

#include "opml.h"

#define OPML_FILE_MAX (64 << 20) /* bytes of an OPML file */
/* Enclosing outlines that give tags: deeper ones give none, so that each
 * feed's tags stay few whatever the nesting. */
#define OPML_TAG_DEPTH 8
/* feedd's own attributes (a feed's interval), in their namespace; expat
 * joins a namespace and a local name with a space. */
#define OPML_NS "urn:feedd:opml"
#define OPML_ATTR_INTERVAL OPML_NS " interval"

struct reader {
    XML_Parser xp;
    struct opml_list *list;
    int depth;   /* elements open */
    int root_ok; /* the root element is <opml> */
    int nomem;
    /* For each open outline: whether it pushed a tag. */
    unsigned char *pushed;
    size_t pushed_cap;
    size_t nopen; /* outlines open */
    char *tags[OPML_TAG_DEPTH];
    size_t ntags;
};

static const char *
attr(const XML_Char **atts, const char *name)
{
    for (; atts[0] != NULL; atts += 2)
        if (strcmp(atts[0], name) == 0)
            return atts[1];
    return NULL;
}

/* An element's name without its namespace, if it has one: OPML has none,
 * but a file may put it in one. */
static const char *
local_name(const char *name)
{
    const char *sp = strrchr(name, ' ');

    return sp != NULL ? sp + 1 : name;
}

static int
push_tag(struct opml_feed *f, const char *s, size_t n)
{
    char **t = realloc(f->tags, (f->ntags + 1) * sizeof *t);

    if (t == NULL)
        return -1;
    f->tags = t;
    if ((t[f->ntags] = strndup(s, n)) == NULL)
        return -1;
    f->ntags++;
    return 0;
}

/* An outline with an xmlUrl: a feed. 0, or -1 when out of memory. */
static int
add_feed(struct reader *r, const XML_Char **atts, const char *url)
{
    struct opml_list *l = r->list;
    const char *title = attr(atts, "title"), *cat = attr(atts, "category");
    const char *interval = attr(atts, OPML_ATTR_INTERVAL);
    struct opml_feed *f;
    size_t i;

    if (title == NULL || *title == '\0')
        title = attr(atts, "text");
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        struct opml_feed *fs = realloc(l->feeds, cap * sizeof *fs);

        if (fs == NULL)
            return -1;
        l->feeds = fs;
        l->cap = cap;
    }
    f = &l->feeds[l->n++];
    memset(f, 0, sizeof *f);
    if ((f->url = strdup(url)) == NULL ||
        (title != NULL && (f->title = strdup(title)) == NULL) ||
        (interval != NULL && (f->interval = strdup(interval)) == NULL))
        return -1;
    for (i = 0; i < r->ntags; i++)
        if (push_tag(f, r->tags[i], strlen(r->tags[i])) != 0)
            return -1;
    /* OPML 2.0 "category": comma-separated, each a slash-delimited path. */
    while (cat != NULL && *cat != '\0') {
        size_t n = strcspn(cat, ",");
        const char *s = cat;

        cat += n + (cat[n] == ',');
        while (n > 0 && *s == '/') {
            s++;
            n--;
        }
        if (n > 0 && f->ntags < (size_t)OPML_TAG_DEPTH * 2 &&
            push_tag(f, s, n) != 0)
            return -1;
    }
    return 0;
}

static void XMLCALL
on_start(void *arg, const XML_Char *name, const XML_Char **atts)
{
    struct reader *r = arg;
    const char *url, *text;
    int pushed = 0;

    if (r->nomem)
        return;
    if (r->depth++ == 0) {
        r->root_ok = strcmp(local_name(name), "opml") == 0;
        if (!r->root_ok)
            XML_StopParser(r->xp, XML_FALSE);
        return;
    }
    if (strcmp(local_name(name), "outline") != 0)
        return;
    if ((url = attr(atts, "xmlUrl")) != NULL && *url != '\0') {
        if (add_feed(r, atts, url) != 0)
            goto nomem;
    } else if (r->ntags < OPML_TAG_DEPTH) {
        if ((text = attr(atts, "text")) == NULL || *text == '\0')
            text = attr(atts, "title");
        if (text != NULL && *text != '\0') {
            if ((r->tags[r->ntags] = strdup(text)) == NULL)
                goto nomem;
            r->ntags++;
            pushed = 1;
        }
    }
    if (r->nopen == r->pushed_cap) {
        size_t cap = r->pushed_cap ? r->pushed_cap * 2 : 16;
        unsigned char *p = realloc(r->pushed, cap);

        if (p == NULL)
            goto nomem;
        r->pushed = p;
        r->pushed_cap = cap;
    }
    r->pushed[r->nopen++] = (unsigned char)pushed;
    return;
nomem:
    r->nomem = 1;
    XML_StopParser(r->xp, XML_FALSE);
}

static void XMLCALL
on_end(void *arg, const XML_Char *name)
{
    struct reader *r = arg;

    r->depth--;
    if (r->nomem || r->depth == 0 || strcmp(local_name(name), "outline") != 0 ||
        r->nopen == 0)
        return;
    if (r->pushed[--r->nopen])
        free(r->tags[--r->ntags]);
}

int
opml_read(const char *path, struct opml_list *list, char *err, size_t errlen)
{
    struct reader r = {0};
    char buf[64 << 10];
    size_t total = 0;
    ssize_t got;
    int fd, rc = -1;

    memset(list, 0, sizeof *list);
    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
        snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return -1;
    }
    r.list = list;
    if ((r.xp = XML_ParserCreateNS(NULL, ' ')) == NULL) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    XML_SetUserData(r.xp, &r);
    XML_SetElementHandler(r.xp, on_start, on_end);
    for (;;) {
        got = read(fd, buf, sizeof buf);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
            goto done;
        }
        total += (size_t)got;
        if (total > OPML_FILE_MAX) {
            snprintf(err, errlen, "%s: too large (more than %d MiB)", path,
                     OPML_FILE_MAX >> 20);
            goto done;
        }
        if (XML_Parse(r.xp, buf, (int)got, got == 0) != XML_STATUS_OK)
            break;
        if (got == 0)
            break;
    }
    if (r.nomem) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    if (r.depth > 0 && !r.root_ok) {
        snprintf(err, errlen,
                 "%s: not an OPML file (the root element is not "
                 "<opml>)",
                 path);
        goto done;
    }
    if (XML_GetErrorCode(r.xp) != XML_ERROR_NONE) {
        snprintf(err, errlen, "%s:%lu: not an OPML file: %s", path,
                 (unsigned long)XML_GetCurrentLineNumber(r.xp),
                 XML_ErrorString(XML_GetErrorCode(r.xp)));
        goto done;
    }
    rc = 0;
done:
    while (r.ntags > 0)
        free(r.tags[--r.ntags]);
    free(r.pushed);
    if (r.xp != NULL)
        XML_ParserFree(r.xp);
    close(fd);
    return rc;
}

void
opml_list_free(struct opml_list *l)
{
    size_t i, j;

    for (i = 0; i < l->n; i++) {
        free(l->feeds[i].title);
        free(l->feeds[i].url);
        free(l->feeds[i].interval);
        for (j = 0; j < l->feeds[i].ntags; j++)
            free(l->feeds[i].tags[j]);
        free(l->feeds[i].tags);
    }
    free(l->feeds);
    memset(l, 0, sizeof *l);
}

/* Feeds by their first tag, untagged ones first, each group in config
 * order. */
static const struct config *sort_cfg;

static int
by_first_tag(const void *a, const void *b)
{
    const struct config_feed *x = &sort_cfg->feeds[*(const size_t *)a];
    const struct config_feed *y = &sort_cfg->feeds[*(const size_t *)b];
    int c;

    if ((x->ntags == 0) != (y->ntags == 0))
        return x->ntags == 0 ? -1 : 1;
    if (x->ntags > 0 && (c = strcmp(x->tags[0], y->tags[0])) != 0)
        return c;
    return x < y ? -1 : x > y;
}

static int
put_attr(struct feed_buf *out, const char *name, const char *value)
{
    int rc;

    if ((rc = feed_buf_puts(out, " ")) != 0 ||
        (rc = feed_buf_puts(out, name)) != 0 ||
        (rc = feed_buf_puts(out, "=\"")) != 0 ||
        (rc = feed_buf_xml(out, value)) != 0)
        return rc;
    return feed_buf_puts(out, "\"");
}

/* seconds as a duration of the config syntax in its largest whole unit:
 * "2h", "90m", "1d". */
static void
duration(int64_t seconds, char *out, size_t size)
{
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = {{'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}};
    size_t i;

    for (i = 0; i < sizeof units / sizeof units[0]; i++)
        if (seconds % units[i].seconds == 0) {
            snprintf(out, size, "%lld%c",
                     (long long)(seconds / units[i].seconds), units[i].unit);
            return;
        }
    snprintf(out, size, "%llds", (long long)seconds);
}

static int
put_feed(struct feed_buf *out, const struct config *cfg,
         const struct config_feed *f, const char *indent)
{
    char d[32];
    size_t i;
    int rc;

    if ((rc = feed_buf_puts(out, indent)) != 0 ||
        (rc = feed_buf_puts(out, "<outline type=\"rss\"")) != 0 ||
        (rc = put_attr(out, "text", f->name)) != 0 ||
        (rc = put_attr(out, "title", f->name)) != 0 ||
        (rc = put_attr(out, "xmlUrl", f->location)) != 0)
        return rc;
    if (f->interval != cfg->interval) {
        duration(f->interval, d, sizeof d);
        if ((rc = put_attr(out, "feedd:interval", d)) != 0)
            return rc;
    }
    if (f->ntags > 1) {
        if ((rc = feed_buf_puts(out, " category=\"")) != 0)
            return rc;
        for (i = 0; i < f->ntags; i++)
            if ((rc = feed_buf_puts(out, i ? ",/" : "/")) != 0 ||
                (rc = feed_buf_xml(out, f->tags[i])) != 0)
                return rc;
        if ((rc = feed_buf_puts(out, "\"")) != 0)
            return rc;
    }
    return feed_buf_puts(out, "/>\n");
}

int
opml_write(const struct config *cfg, struct feed_buf *out)
{
    return opml_write_at(cfg, (int64_t)time(NULL), out);
}

int
opml_write_at(const struct config *cfg, int64_t created, struct feed_buf *out)
{
    char date[96];
    time_t now = (time_t)created;
    struct tm tm;
    size_t *order = NULL, i;
    const char *group = NULL;
    int rc;

    /* RFC 822 dates, as OPML 2.0 asks, always in English. */
    static const char *const wday[] = {"Sun", "Mon", "Tue", "Wed",
                                       "Thu", "Fri", "Sat"};
    static const char *const mon[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

    date[0] = '\0';
    if (created >= 0 && gmtime_r(&now, &tm) != NULL)
        snprintf(date, sizeof date,
                 "    <dateCreated>%s, %02d %s %04d %02d:%02d:%02d GMT"
                 "</dateCreated>\n",
                 wday[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon],
                 tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (cfg->nfeeds > 0 &&
        (order = malloc(cfg->nfeeds * sizeof *order)) == NULL)
        return FEED_E_NOMEM;
    for (i = 0; i < cfg->nfeeds; i++)
        order[i] = i;
    sort_cfg = cfg;
    if (cfg->nfeeds > 0)
        qsort(order, cfg->nfeeds, sizeof *order, by_first_tag);
    if ((rc = feed_buf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                                 "<opml version=\"2.0\" "
                                 "xmlns:feedd=\"" OPML_NS "\">\n"
                                 "  <head>\n"
                                 "    <title>")) != 0 ||
        (rc = feed_buf_xml(out, cfg->title)) != 0 ||
        (rc = feed_buf_printf(out,
                              "</title>\n"
                              "%s"
                              "  </head>\n"
                              "  <body>\n",
                              date)) != 0)
        goto done;
    for (i = 0; i < cfg->nfeeds; i++) {
        const struct config_feed *f = &cfg->feeds[order[i]];

        if (f->ntags > 0 && (group == NULL || strcmp(group, f->tags[0]) != 0)) {
            if (group != NULL && (rc = feed_buf_puts(out, "    </outline>\n")))
                goto done;
            group = f->tags[0];
            if ((rc = feed_buf_puts(out, "    <outline")) != 0 ||
                (rc = put_attr(out, "text", group)) != 0 ||
                (rc = put_attr(out, "title", group)) != 0 ||
                (rc = feed_buf_puts(out, ">\n")) != 0)
                goto done;
        }
        if ((rc = put_feed(out, cfg, f, group ? "      " : "    ")) != 0)
            goto done;
    }
    if (group != NULL && (rc = feed_buf_puts(out, "    </outline>\n")) != 0)
        goto done;
    rc = feed_buf_puts(out, "  </body>\n</opml>\n");
done:
    free(order);
    return rc;
}
