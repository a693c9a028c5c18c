/* config/config.c - the feed-list file. Lines are split into words, every
 * setting and feed is checked, and every problem is collected as
 * "FILE:LINE: message", in line order, before giving up: the way OpenSMTPD
 * reports its configuration. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"

#define CONFIG_LINE_MAX 8192      /* bytes in a line, without its end */
#define CONFIG_FILE_MAX (4 << 20) /* bytes in the file */
#define CONFIG_WORDS_MAX 16       /* words in a line */
#define CONFIG_NAME_MAX 64        /* bytes in a feed name or a tag */
#define CONFIG_SHOW_MAX 64        /* bytes of a word quoted in a message */
#define CONFIG_SHOW_SIZE (CONFIG_SHOW_MAX * 4 + 8)
/* Durations stop here, so that milliseconds still fit in an int64_t. */
#define CONFIG_DURATION_MAX (INT64_MAX / 1000)

#define CONFIG_DEFAULT_STATE_DIR "/var/lib/feedd"
#define CONFIG_DEFAULT_HOST "127.0.0.1"
#define CONFIG_DEFAULT_PORT 8080
#define CONFIG_DEFAULT_TITLE "feedd"
#define CONFIG_DEFAULT_INTERVAL (30 * 60)
#define CONFIG_DEFAULT_MAX_ITEMS 200
#define CONFIG_DEFAULT_PARALLEL 16
#define CONFIG_DEFAULT_PER_HOST 2

#define CONFIG_NSETTINGS 9
#define CONFIG_DURATION_HINT "(use 30s, 15m, 2h, 1d)"
#define CONFIG_NAME_HINT "(letters, digits, '.', '_' and '-', at most 64)"

struct config_error {
    int line;   /* 0: about the file as a whole */
    size_t seq; /* order of discovery, to keep the sort stable */
    char *msg;
};

struct parser {
    struct config *cfg;
    const char *name;
    int line;
    int nomem;
    struct config_error *errs;
    size_t nerrs, errs_cap;
    size_t feeds_cap;
    int seen[CONFIG_NSETTINGS]; /* line where each setting stands, or 0 */
    /* The words of the current line, unquoted, each NUL-terminated. Quotes
     * and escapes only shrink a line, and words are separated, so a line of
     * CONFIG_LINE_MAX bytes always fits. */
    char buf[CONFIG_LINE_MAX + 2];
    char *words[CONFIG_WORDS_MAX];
    int nwords;
};

struct config_setting {
    const char *name;
    void (*set)(struct parser *, const char *value);
};

static int
is_digit(int c)
{
    return c >= '0' && c <= '9';
}

static int
is_alpha(int c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* The characters of feed names and tags. */
static int
is_name_char(int c)
{
    return is_alpha(c) || is_digit(c) || c == '.' || c == '_' || c == '-';
}

static int
is_hex(int c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Whether s starts with prefix, ignoring ASCII case (not the locale's). */
static int
ascii_prefix(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        int a = (unsigned char)*s, b = (unsigned char)*prefix;

        if (a >= 'A' && a <= 'Z')
            a += 'a' - 'A';
        if (a != b)
            return 0;
    }
    return 1;
}

/* Writes s into out (CONFIG_SHOW_SIZE bytes) in double quotes, for a
 * message: '"', '\' and control bytes escaped so the message stays one
 * plain line, and cut after CONFIG_SHOW_MAX bytes, not inside a UTF-8
 * sequence. Returns out. */
static const char *
show(char *out, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    size_t n = strlen(s), cut = n, i;
    char *o = out;

    if (n > CONFIG_SHOW_MAX) {
        cut = CONFIG_SHOW_MAX;
        while (cut > 0 && ((unsigned char)s[cut] & 0xc0) == 0x80)
            cut--;
    }
    *o++ = '"';
    for (i = 0; i < cut; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20 || c == 0x7f) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
        } else {
            *o++ = (char)c;
        }
    }
    *o++ = '"';
    if (cut < n) {
        memcpy(o, "...", 3);
        o += 3;
    }
    *o = '\0';
    return out;
}

static void parser_verror(struct parser *, int line, const char *fmt,
                          va_list ap) __attribute__((format(printf, 3, 0)));
static void parser_error_at(struct parser *, int line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void parser_error(struct parser *, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Records one problem; nothing when memory already ran out, since the
 * result is then NULL with no messages anyway. */
static void
parser_verror(struct parser *p, int line, const char *fmt, va_list ap)
{
    struct config_error *e;
    va_list aq;
    char *msg;
    int n;

    if (p->nomem)
        return;
    if (p->nerrs == p->errs_cap) {
        size_t cap = p->errs_cap ? p->errs_cap * 2 : 8;

        e = realloc(p->errs, cap * sizeof *e);
        if (e == NULL)
            goto fail;
        p->errs = e;
        p->errs_cap = cap;
    }
    va_copy(aq, ap);
    n = vsnprintf(NULL, 0, fmt, aq);
    va_end(aq);
    if (n < 0 || (msg = malloc((size_t)n + 1)) == NULL)
        goto fail;
    vsnprintf(msg, (size_t)n + 1, fmt, ap);
    e = &p->errs[p->nerrs++];
    e->line = line;
    e->seq = p->nerrs;
    e->msg = msg;
    return;
fail:
    p->nomem = 1;
}

static void
parser_error_at(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    parser_verror(p, line, fmt, ap);
    va_end(ap);
}

/* A problem on the current line. */
static void
parser_error(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    parser_verror(p, p->line, fmt, ap);
    va_end(ap);
}

/* A copy of s, or NULL with p->nomem set. */
static char *
parser_strdup(struct parser *p, const char *s)
{
    char *d = strdup(s);

    if (d == NULL)
        p->nomem = 1;
    return d;
}

static int
error_cmp(const void *a, const void *b)
{
    const struct config_error *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Every message, in line order, as one string the caller frees; NULL when
 * out of memory. */
static char *
parser_errors_join(struct parser *p)
{
    size_t i, len = 0, off = 0;
    char *out;
    int n;

    qsort(p->errs, p->nerrs, sizeof *p->errs, error_cmp);
    for (i = 0; i < p->nerrs; i++) {
        /* "NAME:LINE: MSG\n", the line being at most 10 digits. */
        len += strlen(p->name) + strlen(p->errs[i].msg) + 16;
    }
    if ((out = malloc(len + 1)) == NULL)
        return NULL;
    for (i = 0; i < p->nerrs; i++) {
        const struct config_error *e = &p->errs[i];

        if (e->line > 0)
            n = snprintf(out + off, len + 1 - off, "%s:%d: %s\n", p->name,
                         e->line, e->msg);
        else
            n = snprintf(out + off, len + 1 - off, "%s: %s\n", p->name, e->msg);
        assert(n >= 0 && (size_t)n <= len - off);
        off += (size_t)n;
    }
    out[off] = '\0';
    return out;
}

/* The absolute path of rel seen from the absolute folder dir, without
 * empty or "." segments. ".." segments stay: under symlinks only the file
 * system knows what they lead to. NULL when out of memory. */
static char *
path_resolve(const char *dir, const char *rel)
{
    const char *parts[2], *s, *seg;
    size_t dlen, i, n;
    char *out, *o;

    assert(dir[0] == '/');
    parts[0] = rel[0] == '/' ? "" : dir;
    parts[1] = rel;
    dlen = strlen(parts[0]);
    if ((out = malloc(dlen + strlen(rel) + 3)) == NULL)
        return NULL;
    o = out;
    for (i = 0; i < 2; i++) {
        for (s = parts[i]; *s;) {
            while (*s == '/')
                s++;
            for (seg = s; *s && *s != '/'; s++)
                ;
            n = (size_t)(s - seg);
            if (n == 0 || (n == 1 && seg[0] == '.'))
                continue;
            *o++ = '/';
            memcpy(o, seg, n);
            o += n;
        }
    }
    if (o == out)
        *o++ = '/';
    *o = '\0';
    return out;
}

/* The file:// URL of an absolute path: every byte but the unreserved ones
 * of RFC 3986 §2.3 and '/' percent-encoded. NULL when out of memory. */
static char *
path_to_url(const char *path)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *out, *o;

    if (n > (SIZE_MAX - 8) / 3 || (out = malloc(8 + 3 * n)) == NULL)
        return NULL;
    memcpy(out, "file://", 7);
    o = out + 7;
    for (; *path; path++) {
        unsigned char c = (unsigned char)*path;

        if (is_alpha(c) || is_digit(c) || c == '-' || c == '.' || c == '_' ||
            c == '~' || c == '/') {
            *o++ = (char)c;
        } else {
            *o++ = '%';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
        }
    }
    *o = '\0';
    return out;
}

/* The process's working folder, malloc'd; NULL with errno set. */
static char *
cwd_get(void)
{
    size_t size = 256;
    char *buf = NULL, *p;
    int saved;

    for (;;) {
        if ((p = realloc(buf, size)) == NULL)
            goto fail;
        buf = p;
        if (getcwd(buf, size) != NULL)
            return buf;
        if (errno != ERANGE || size > SIZE_MAX / 2)
            goto fail;
        size *= 2;
    }
fail:
    saved = errno;
    free(buf);
    errno = saved;
    return NULL;
}

/* Sets cfg->dir to dir made absolute: NULL or relative means from the
 * working folder. Left NULL, after reporting, when that is unknown. */
static void
parser_dir(struct parser *p, const char *dir)
{
    char *cwd = NULL;

    if (dir != NULL && dir[0] == '/') {
        p->cfg->dir = path_resolve("/", dir);
    } else if ((cwd = cwd_get()) != NULL) {
        p->cfg->dir = path_resolve(cwd, dir ? dir : ".");
    } else {
        if (errno == ENOMEM)
            p->nomem = 1;
        else
            parser_error_at(p, 0, "cannot find the current folder: %s",
                            strerror(errno));
        return;
    }
    if (p->cfg->dir == NULL)
        p->nomem = 1;
    free(cwd);
}

/* Splits the line s[0..n) into p->words: words are separated by spaces and
 * tabs, '#' outside quotes starts a comment, and a double-quoted part (with
 * \" and \\ as its only escapes) may hold anything. 0, or -1 after
 * reporting. */
static int
parser_split(struct parser *p, const char *s, size_t n)
{
    char *o = p->buf;
    size_t i = 0;

    p->nwords = 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
        if (i == n || s[i] == '#')
            return 0;
        if (p->nwords == CONFIG_WORDS_MAX) {
            parser_error(p, "too many words on one line (at most %d)",
                         CONFIG_WORDS_MAX);
            return -1;
        }
        p->words[p->nwords++] = o;
        while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '#') {
            if (s[i] != '"') {
                *o++ = s[i++];
                continue;
            }
            for (i++;; i++) {
                if (i == n) {
                    parser_error(p, "unterminated quote");
                    return -1;
                }
                if (s[i] == '"')
                    break;
                if (s[i] == '\\') {
                    if (i + 1 == n) {
                        parser_error(p, "unterminated quote");
                        return -1;
                    }
                    if (s[i + 1] != '"' && s[i + 1] != '\\') {
                        parser_error(p, "unknown escape inside quotes "
                                        "(only \\\" and \\\\ are escapes)");
                        return -1;
                    }
                    i++;
                }
                *o++ = s[i];
            }
            i++;
        }
        *o++ = '\0';
    }
}

/* A whole number from min to max, as *out. 0, or -1. */
static int
number_parse(const char *s, long min, long max, long *out)
{
    long n = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (!is_digit(*s) || n > (max - (*s - '0')) / 10)
            return -1;
        n = n * 10 + (*s - '0');
    }
    if (n < min)
        return -1;
    *out = n;
    return 0;
}

/* Whether s is a feed name or a tag. */
static int
name_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > CONFIG_NAME_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!is_name_char((unsigned char)s[i]))
            return 0;
    return 1;
}

static void
setting_state_dir(struct parser *p, const char *v)
{
    if (*v == '\0') {
        parser_error(p, "state_dir is empty");
        return;
    }
    /* Without a folder an error is already reported. */
    if (v[0] != '/' && p->cfg->dir == NULL)
        return;
    p->cfg->state_dir = path_resolve(v[0] == '/' ? "/" : p->cfg->dir, v);
    if (p->cfg->state_dir == NULL)
        p->nomem = 1;
}

/* Whether s[0..n) is an IPv6 address as it stands in brackets: hex digits,
 * ':' and '.', at least one ':', then maybe a "%zone". */
static int
listen_v6_valid(const char *s, size_t n)
{
    size_t i;
    int colon = 0;

    for (i = 0; i < n && s[i] != '%'; i++) {
        if (s[i] == ':')
            colon = 1;
        else if (!is_hex((unsigned char)s[i]) && s[i] != '.')
            return 0;
    }
    if (i < n && !name_valid(s + i + 1, n - i - 1))
        return 0;
    return colon;
}

/* Whether s[0..n) is an IPv4 address or a host name. */
static int
listen_host_valid(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (!is_alpha(s[i]) && !is_digit(s[i]) && s[i] != '.' && s[i] != '-')
            return 0;
    return n > 0;
}

static void
setting_listen(struct parser *p, const char *v)
{
    char a[CONFIG_SHOW_SIZE];
    const char *host, *colon;
    size_t hlen;
    long port;

    if (v[0] == '[') {
        const char *close = strchr(v, ']');

        if (close == NULL || close[1] != ':' ||
            !listen_v6_valid(v + 1, (size_t)(close - v - 1)))
            goto bad;
        host = v + 1;
        hlen = (size_t)(close - host);
        colon = close + 1;
    } else {
        if ((colon = strrchr(v, ':')) == NULL)
            goto bad;
        host = v;
        hlen = (size_t)(colon - v);
        if (memchr(host, ':', hlen) != NULL) {
            parser_error(p, "listen: IPv6 addresses need brackets, "
                            "e.g. [::1]:8080");
            return;
        }
        if (hlen == 0) {
            parser_error(p,
                         "listen: no host in %s (0.0.0.0 means every "
                         "interface)",
                         show(a, v));
            return;
        }
        if (!listen_host_valid(host, hlen))
            goto bad;
    }
    if (number_parse(colon + 1, 1, 65535, &port) != 0) {
        parser_error(p, "listen: bad port %s (1 to 65535)", show(a, colon + 1));
        return;
    }
    if ((p->cfg->listen_host = strndup(host, hlen)) == NULL)
        p->nomem = 1;
    p->cfg->listen_port = (int)port;
    return;
bad:
    parser_error(p,
                 "bad listen address %s (use HOST:PORT, e.g. "
                 "127.0.0.1:8080 or [::1]:8080)",
                 show(a, v));
}

static void
setting_title(struct parser *p, const char *v)
{
    p->cfg->title = parser_strdup(p, v);
}

static void
setting_interval(struct parser *p, const char *v)
{
    if (config_duration_parse(v, &p->cfg->interval) != 0) {
        char a[CONFIG_SHOW_SIZE];

        parser_error(p, "bad interval %s " CONFIG_DURATION_HINT, show(a, v));
    }
}

/* The numeric settings differ only in their range and their field. */
static int
setting_number(struct parser *p, const char *key, const char *v, long min,
               long max, long *out)
{
    char a[CONFIG_SHOW_SIZE];

    if (number_parse(v, min, max, out) == 0)
        return 0;
    parser_error(p, "bad %s %s (a number from %ld to %ld)", key, show(a, v),
                 min, max);
    return -1;
}

static void
setting_max_items(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "max_items", v, 1, 100000, &n) == 0)
        p->cfg->max_items = (size_t)n;
}

static void
setting_parallel(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "parallel", v, 1, 1000, &n) == 0)
        p->cfg->parallel = (int)n;
}

static void
setting_per_host(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "per_host", v, 1, 100, &n) == 0)
        p->cfg->per_host = (int)n;
}

static void
setting_keep(struct parser *p, const char *v)
{
    char a[CONFIG_SHOW_SIZE];

    if (strcmp(v, "forever") == 0)
        p->cfg->keep = 0;
    else if (config_duration_parse(v, &p->cfg->keep) != 0)
        parser_error(p, "bad keep %s " CONFIG_DURATION_HINT " or forever",
                     show(a, v));
}

static void
setting_keep_items(struct parser *p, const char *v)
{
    long n = 0;

    if (setting_number(p, "keep_items", v, 0, 100000000, &n) == 0)
        p->cfg->keep_items = (size_t)n;
}

static const struct config_setting settings[] = {
    {"state_dir", setting_state_dir}, {"listen", setting_listen},
    {"title", setting_title},         {"interval", setting_interval},
    {"max_items", setting_max_items}, {"parallel", setting_parallel},
    {"per_host", setting_per_host},   {"keep", setting_keep},
    {"keep_items", setting_keep_items},
};
_Static_assert(sizeof settings / sizeof settings[0] == CONFIG_NSETTINGS,
               "CONFIG_NSETTINGS");

/* The length of the scheme when s starts with "SCHEME://" (RFC 3986 §3.1),
 * else 0. */
static size_t
url_scheme_len(const char *s)
{
    size_t n;

    if (!is_alpha(s[0]))
        return 0;
    for (n = 1; is_alpha(s[n]) || is_digit(s[n]) || s[n] == '+' ||
                s[n] == '-' || s[n] == '.';
         n++)
        ;
    return strncmp(s + n, "://", 3) == 0 ? n : 0;
}

/* Checks an http(s) URL: no spaces or control bytes (they must be
 * percent-encoded), and a host (RFC 3986 §3.2). 0, or -1 after reporting. */
static int
feed_url_check(struct parser *p, const char *label, const char *url,
               size_t scheme_len)
{
    char a[CONFIG_SHOW_SIZE];
    const char *auth, *end, *at, *host;
    const char *s;
    int bracket;

    for (s = url; *s; s++) {
        if ((unsigned char)*s <= 0x20 || *s == 0x7f) {
            parser_error(p,
                         "feed %s: URL %s has spaces or control "
                         "characters (write a space as %%20)",
                         label, show(a, url));
            return -1;
        }
    }
    auth = url + scheme_len + 3;
    end = auth + strcspn(auth, "/?#");
    host = auth;
    while ((at = memchr(host, '@', (size_t)(end - host))) != NULL)
        host = at + 1;
    /* An IPv6 literal (RFC 3986 §3.2.2) starts with its own ':'. */
    bracket = host < end && *host == '[';
    host += bracket;
    if (host == end || *host == (bracket ? ']' : ':')) {
        parser_error(p, "feed %s: URL %s has no host", label, show(a, url));
        return -1;
    }
    return 0;
}

/* Sets f->location to the file:// URL of a path, taken from the config
 * file's folder when relative. */
static void
feed_path(struct parser *p, struct config_feed *f, const char *path)
{
    char *abs;

    /* Without a folder an error is already reported. */
    if (path[0] != '/' && p->cfg->dir == NULL)
        return;
    abs = path_resolve(path[0] == '/' ? "/" : p->cfg->dir, path);
    if (abs == NULL || (f->location = path_to_url(abs)) == NULL)
        p->nomem = 1;
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
        parser_error(p, "feed %s: empty location", label);
        return;
    }
    if ((n = url_scheme_len(loc)) == 0) {
        /* "http:/x" and "https:x" are typos, not file names. */
        if (ascii_prefix(loc, "http:") || ascii_prefix(loc, "https:")) {
            parser_error(p, "feed %s: bad URL %s (use http://HOST/...)", label,
                         show(a, loc));
            return;
        }
        feed_path(p, f, loc);
        return;
    }
    if ((n == 4 && ascii_prefix(loc, "http")) ||
        (n == 5 && ascii_prefix(loc, "https"))) {
        if (feed_url_check(p, label, loc, n) == 0)
            f->location = parser_strdup(p, loc);
    } else if (n == 4 && ascii_prefix(loc, "file")) {
        if (loc[7] == '\0')
            parser_error(p, "feed %s: file URL %s has no path", label,
                         show(a, loc));
        else
            f->location = parser_strdup(p, loc);
    } else {
        parser_error(p,
                     "feed %s: unsupported URL scheme %s (use http://, "
                     "https://, file:// or a path)",
                     label, show(a, loc));
    }
}

/* Sets f->tags from a comma-separated list. */
static void
feed_tags(struct parser *p, struct config_feed *f, const char *label,
          const char *v)
{
    char a[CONFIG_SHOW_SIZE], b[CONFIG_SHOW_SIZE];
    size_t n = 1, i, j, len;
    const char *s;
    char **tags;

    for (s = v; *s; s++)
        n += *s == ',';
    if ((tags = calloc(n, sizeof *tags)) == NULL) {
        p->nomem = 1;
        return;
    }
    for (i = 0, s = v; i < n; i++, s += len + 1) {
        len = strcspn(s, ",");
        if (!name_valid(s, len)) {
            parser_error(p,
                         "feed %s: bad tags %s (comma-separated; "
                         "letters, digits, '.', '_' and '-')",
                         label, show(a, v));
            goto fail;
        }
        if ((tags[i] = strndup(s, len)) == NULL) {
            p->nomem = 1;
            goto fail;
        }
        for (j = 0; j < i; j++) {
            if (strcmp(tags[j], tags[i]) == 0) {
                parser_error(p, "feed %s: tag %s given twice", label,
                             show(b, tags[i]));
                goto fail;
            }
        }
    }
    f->tags = tags;
    f->ntags = n;
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
        {"auto", CONFIG_ID_AUTO}, {"slug", CONFIG_ID_SLUG},
        {"guid", CONFIG_ID_GUID}, {"link", CONFIG_ID_LINK},
        {"content", CONFIG_ID_CONTENT},
    };
    char a[CONFIG_SHOW_SIZE];

    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (strcmp(v, rules[i].name) == 0) {
            f->id_rule = rules[i].rule;
            return;
        }
    parser_error(p, "feed %s: bad id %s (use auto, slug, guid, link or "
                    "content)",
                 label, show(a, v));
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
        parser_error(p, "feed %s: bad id_pattern %s: %s", label, show(a, v),
                     why);
        return;
    }
    if (re.re_nsub > 1)
        parser_error(p, "feed %s: id_pattern %s has more than one group",
                     label, show(a, v));
    else
        f->id_pattern = parser_strdup(p, v);
    regfree(&re);
}

/* "feed NAME LOCATION [interval DURATION] [tags A,B] [id RULE]
 * [id_pattern REGEX]". Whatever part is valid is kept, so duplicates are
 * found even on lines with other faults. */
static void
parser_feed(struct parser *p)
{
    struct config *cfg = p->cfg;
    char label[CONFIG_SHOW_SIZE], a[CONFIG_SHOW_SIZE], b[CONFIG_SHOW_SIZE];
    struct config_feed *f;
    static const char *const options[] = {"interval", "tags", "id",
                                          "id_pattern"};
    int have[4] = {0, 0, 0, 0};
    int i, k;

    if (p->nwords < 2) {
        parser_error(p, "feed needs a name and a location");
        return;
    }
    if (cfg->nfeeds == p->feeds_cap) {
        size_t cap = p->feeds_cap ? p->feeds_cap * 2 : 16;

        if ((f = realloc(cfg->feeds, cap * sizeof *f)) == NULL) {
            p->nomem = 1;
            return;
        }
        cfg->feeds = f;
        p->feeds_cap = cap;
    }
    f = &cfg->feeds[cfg->nfeeds++];
    memset(f, 0, sizeof *f);
    f->line = p->line;

    show(label, p->words[1]);
    if (!name_valid(p->words[1], strlen(p->words[1])))
        parser_error(p, "bad feed name %s " CONFIG_NAME_HINT, label);
    else
        f->name = parser_strdup(p, p->words[1]);
    if (p->nwords < 3) {
        parser_error(p, "feed %s needs a location", label);
        return;
    }
    feed_location(p, f, label, p->words[2]);

    for (i = 3; i < p->nwords; i += 2) {
        const char *key = p->words[i], *v;

        for (k = 0; k < 4 && strcmp(key, options[k]) != 0; k++)
            ;
        if (k == 4) {
            parser_error(p,
                         "feed %s: unknown option %s (use interval, tags, "
                         "id or id_pattern)",
                         label, show(a, key));
            return;
        }
        if (i + 1 == p->nwords) {
            parser_error(p, "feed %s: option %s needs a value", label,
                         show(a, key));
            return;
        }
        v = p->words[i + 1];
        if (have[k]++) {
            parser_error(p, "feed %s: option %s given twice", label,
                         show(a, key));
        } else if (k == 0) {
            if (config_duration_parse(v, &f->interval) != 0)
                parser_error(p,
                             "feed %s: bad interval %s " CONFIG_DURATION_HINT,
                             label, show(b, v));
        } else if (k == 1) {
            feed_tags(p, f, label, v);
        } else if (k == 2) {
            feed_id_rule(p, f, label, v);
        } else {
            feed_id_pattern(p, f, label, v);
        }
    }
}

static void
parser_line(struct parser *p)
{
    char a[CONFIG_SHOW_SIZE];
    const char *key = p->words[0];
    size_t i;

    if (strcmp(key, "feed") == 0) {
        parser_feed(p);
        return;
    }
    for (i = 0; i < CONFIG_NSETTINGS; i++)
        if (strcmp(key, settings[i].name) == 0)
            break;
    if (i == CONFIG_NSETTINGS) {
        parser_error(p, "unknown setting %s", show(a, key));
        return;
    }
    if (p->seen[i]) {
        parser_error(p, "setting %s given twice (first on line %d)",
                     show(a, key), p->seen[i]);
        return;
    }
    p->seen[i] = p->line;
    if (p->nwords == 1)
        parser_error(p, "setting %s needs a value", show(a, key));
    else if (p->nwords > 2)
        parser_error(p,
                     "setting %s takes one value, not %d (quote text "
                     "with spaces)",
                     show(a, key), p->nwords - 1);
    else
        settings[i].set(p, p->words[1]);
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

/* Reports feeds that share a name or a location with an earlier one. Sorted
 * rather than compared pairwise, so a file with thousands of feeds stays
 * fast. */
static void
parser_duplicates(struct parser *p)
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
            parser_error_at(p, v[i]->line,
                            "feed %s given twice (first on line %d)",
                            show(a, v[i]->name), v[first]->line);
    }
    for (i = n = 0; i < cfg->nfeeds; i++)
        if (cfg->feeds[i].location != NULL)
            v[n++] = &cfg->feeds[i];
    qsort(v, n, sizeof *v, feed_location_cmp);
    for (i = 1, first = 0; i < n; i++) {
        if (strcmp(v[i]->location, v[first]->location) != 0)
            first = i;
        else
            parser_error_at(
                p, v[i]->line, "feed %s: same location as feed %s on line %d",
                show(a, v[i]->name ? v[i]->name : "?"),
                show(b, v[first]->name ? v[first]->name : "?"), v[first]->line);
    }
    free(v);
}

/* What can only be done once every line is read: defaults for what was not
 * given (a feed's interval may precede the "interval" setting), and
 * duplicates. */
static void
parser_finish(struct parser *p)
{
    struct config *cfg = p->cfg;
    size_t i;

    if (cfg->state_dir == NULL)
        cfg->state_dir = parser_strdup(p, CONFIG_DEFAULT_STATE_DIR);
    if (cfg->listen_host == NULL)
        cfg->listen_host = parser_strdup(p, CONFIG_DEFAULT_HOST);
    if (cfg->title == NULL)
        cfg->title = parser_strdup(p, CONFIG_DEFAULT_TITLE);
    for (i = 0; i < cfg->nfeeds; i++)
        if (cfg->feeds[i].interval == 0)
            cfg->feeds[i].interval = cfg->interval;
    parser_duplicates(p);
}

struct config *
config_parse(const char *text, size_t len, const char *name, const char *dir,
             char **errors)
{
    struct parser *p;
    struct config *cfg = NULL;
    const char *s, *end, *eol;
    size_t i, n;

    assert(text != NULL || len == 0);
    assert(name != NULL);
    assert(errors != NULL);
    *errors = NULL;
    /* Heap, not stack: the parser holds a whole line. */
    if ((p = calloc(1, sizeof *p)) == NULL)
        return NULL;
    if ((cfg = calloc(1, sizeof *cfg)) == NULL)
        goto fail;
    p->cfg = cfg;
    p->name = name;
    cfg->listen_port = CONFIG_DEFAULT_PORT;
    cfg->interval = CONFIG_DEFAULT_INTERVAL;
    cfg->max_items = CONFIG_DEFAULT_MAX_ITEMS;
    cfg->parallel = CONFIG_DEFAULT_PARALLEL;
    cfg->per_host = CONFIG_DEFAULT_PER_HOST;
    cfg->path = parser_strdup(p, name);
    parser_dir(p, dir);

    s = text;
    end = text + len;
    /* A byte order mark, as some editors write, is not part of the text. */
    if (len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0)
        s += 3;
    while (s < end && !p->nomem) {
        if ((eol = memchr(s, '\n', (size_t)(end - s))) == NULL)
            eol = end;
        n = (size_t)(eol - s);
        if (n > 0 && s[n - 1] == '\r')
            n--;
        p->line++;
        if (n > CONFIG_LINE_MAX)
            parser_error(p, "line too long (more than %d bytes)",
                         CONFIG_LINE_MAX);
        else if (memchr(s, '\0', n) != NULL)
            parser_error(p, "line holds a NUL byte");
        else if (parser_split(p, s, n) == 0 && p->nwords > 0)
            parser_line(p);
        s = eol + (eol < end);
    }
    parser_finish(p);
    if (p->nomem)
        goto fail;
    if (p->nerrs > 0) {
        *errors = parser_errors_join(p);
        goto fail;
    }
    free(p);
    return cfg;
fail:
    for (i = 0; i < p->nerrs; i++)
        free(p->errs[i].msg);
    free(p->errs);
    free(p);
    config_free(cfg);
    return NULL;
}

/* Reads the whole file at path into *text (NUL-terminated), *len bytes.
 * 0, -EFBIG past CONFIG_FILE_MAX, or another negative errno. */
static int
file_read(const char *path, char **text, size_t *len)
{
    char *buf = NULL, *p;
    size_t cap = 0, n = 0;
    ssize_t r;
    int fd, rc;

    if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
        return -errno;
    for (;;) {
        if (n == cap) {
            /* One byte past the cap tells a file of exactly the cap from a
             * larger one. */
            if (n > CONFIG_FILE_MAX) {
                rc = -EFBIG;
                goto fail;
            }
            cap = cap ? cap * 2 : 4096;
            if (cap > CONFIG_FILE_MAX)
                cap = CONFIG_FILE_MAX + 1;
            if ((p = realloc(buf, cap + 1)) == NULL) {
                rc = -ENOMEM;
                goto fail;
            }
            buf = p;
        }
        r = read(fd, buf + n, cap - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = -errno;
            goto fail;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    close(fd);
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return 0;
fail:
    close(fd);
    free(buf);
    return rc;
}

/* The folder of path, absolute when realpath() can say so; otherwise as it
 * stands, which config_parse() then takes from the working folder. NULL
 * when out of memory. */
static char *
file_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir, *real;

    if (slash == NULL)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (dir == NULL)
        return NULL;
    if ((real = realpath(dir, NULL)) != NULL) {
        free(dir);
        return real;
    }
    return dir;
}

/* A message about the file as a whole, as *errors; NULL on out of memory. */
static char *
file_error(const char *path, const char *what)
{
    size_t n = strlen(path) + strlen(what) + 4;
    char *s = malloc(n);

    if (s != NULL)
        snprintf(s, n, "%s: %s\n", path, what);
    return s;
}

struct config *
config_load(const char *path, char **errors)
{
    struct config *cfg = NULL;
    char *text = NULL, *dir = NULL, what[128];
    size_t len = 0;
    int rc;

    assert(path != NULL && errors != NULL);
    *errors = NULL;
    if ((rc = file_read(path, &text, &len)) == -ENOMEM)
        goto fail;
    if (rc == -EFBIG) {
        snprintf(what, sizeof what, "too large (more than %d MiB)",
                 CONFIG_FILE_MAX >> 20);
        *errors = file_error(path, what);
        goto fail;
    }
    if (rc < 0) {
        snprintf(what, sizeof what, "cannot read: %s", strerror(-rc));
        *errors = file_error(path, what);
        goto fail;
    }
    if ((dir = file_dir(path)) == NULL)
        goto fail;
    cfg = config_parse(text, len, path, dir, errors);
fail:
    free(text);
    free(dir);
    return cfg;
}

void
config_free(struct config *cfg)
{
    size_t i, j;

    if (cfg == NULL)
        return;
    for (i = 0; i < cfg->nfeeds; i++) {
        struct config_feed *f = &cfg->feeds[i];

        free(f->name);
        free(f->location);
        for (j = 0; j < f->ntags; j++)
            free(f->tags[j]);
        free(f->tags);
        free(f->id_pattern);
    }
    free(cfg->feeds);
    free(cfg->path);
    free(cfg->dir);
    free(cfg->state_dir);
    free(cfg->listen_host);
    free(cfg->title);
    free(cfg);
}

const struct config_feed *
config_feed_find(const struct config *cfg, const char *name)
{
    size_t i;

    if (cfg == NULL || name == NULL)
        return NULL;
    for (i = 0; i < cfg->nfeeds; i++)
        if (cfg->feeds[i].name != NULL && strcmp(cfg->feeds[i].name, name) == 0)
            return &cfg->feeds[i];
    return NULL;
}

/* Units must come largest first, each at most once: "1h30m", not "30m1h"
 * or "1m1m", so a sum reads as one would say it. */
int
config_duration_parse(const char *s, int64_t *seconds)
{
    static const struct {
        char unit;
        int64_t seconds;
    } units[] = {
        {'w', 7 * 86400}, {'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1},
    };
    const size_t nunits = sizeof units / sizeof units[0];
    int64_t total = 0, n;
    size_t next = 0, u;

    if (s == NULL || *s == '\0')
        return -1;
    while (*s) {
        if (!is_digit(*s))
            return -1;
        for (n = 0; is_digit(*s); s++) {
            if (n > (CONFIG_DURATION_MAX - (*s - '0')) / 10)
                return -1;
            n = n * 10 + (*s - '0');
        }
        for (u = next; u < nunits && units[u].unit != *s; u++)
            ;
        if (u == nunits)
            return -1;
        if (n > (CONFIG_DURATION_MAX - total) / units[u].seconds)
            return -1;
        total += n * units[u].seconds;
        next = u + 1;
        s++;
    }
    if (total == 0)
        return -1;
    *seconds = total;
    return 0;
}
