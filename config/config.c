/* config/config.c - the feed-list file. Lines are split into words, every
 * setting and feed is checked, and every problem is collected as
 * "FILE:LINE: message", in line order, before giving up: the way OpenSMTPD
 * reports its configuration. */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chars.h"
#include "config.h"
#include "feeds/buf.h"
#include "parser.h"
#include "path.h"

/* Bytes in the file: a million feeds of 64-byte lines. */
#define CONFIG_FILE_MAX (64 << 20)
#define FILE_EXCERPT_MAX 40 /* bytes of a binary file shown */
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

/* s[0..n) in double quotes into out (at least max * 4 + 8 bytes): '"' and
 * '\' escaped, control bytes and bytes that are not UTF-8 (when ascii, all
 * bytes past 0x7f) as \xNN, cut after max bytes (not inside a UTF-8
 * sequence) with "..." after the quote. Returns out. */
static const char *
show_bytes(char *out, const char *str, size_t n, size_t max, int ascii)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *s = (const unsigned char *)str;
    size_t cut = n, i, len;
    char *o = out;

    if (n > max) {
        cut = max;
        while (cut > 0 && (s[cut] & 0xc0) == 0x80)
            cut--;
    }
    *o++ = '"';
    for (i = 0; i < cut; i += len) {
        unsigned char c = s[i];

        len = ascii && c >= 0x80 ? 0
                                 : feed_utf8_len((const char *)s + i, cut - i);
        if (c == '"' || c == '\\') {
            *o++ = '\\';
            *o++ = (char)c;
        } else if (c < 0x20 || c == 0x7f || len == 0) {
            *o++ = '\\';
            *o++ = 'x';
            *o++ = hex[c >> 4];
            *o++ = hex[c & 0xf];
            len = 1;
        } else {
            memcpy(o, s + i, len);
            o += len;
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

/* Escaped, cut, in quotes (parser.h). */
const char *
config_show(char *out, const char *s)
{
    return show_bytes(out, s, strlen(s), CONFIG_SHOW_MAX, 0);
}

static void parser_verror(struct parser *, int line, const char *fmt,
                          va_list ap) __attribute__((format(printf, 3, 0)));

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

void
config_parser_error_at(struct parser *p, int line, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    parser_verror(p, line, fmt, ap);
    va_end(ap);
}

/* A problem on the current line. */
void
config_parser_error(struct parser *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    parser_verror(p, p->line, fmt, ap);
    va_end(ap);
}

/* The size of a block of strings; a longer string gets a block of its
 * own. Words are at most CONFIG_LINE_MAX, so at most an eighth of a block
 * is left unused when the next string does not fit. */
#define CONFIG_STRINGS_BLOCK ((size_t)64 << 10)

struct config_strings {
    struct config_strings *next;
    size_t used, cap;
    char data[];
};

char *
config_parser_keep(struct parser *p, const char *s)
{
    struct config_strings *b = p->cfg->strings;
    size_t n = strlen(s) + 1, cap;

    if (b == NULL || b->cap - b->used < n) {
        cap = n > CONFIG_STRINGS_BLOCK ? n : CONFIG_STRINGS_BLOCK;
        if ((b = malloc(sizeof *b + cap)) == NULL) {
            p->nomem = 1;
            return NULL;
        }
        b->next = p->cfg->strings;
        b->used = 0;
        b->cap = cap;
        p->cfg->strings = b;
    }
    memcpy(b->data + b->used, s, n);
    b->used += n;
    return b->data + b->used - n;
}

/* A copy of s, or NULL with p->nomem set. */
char *
config_parser_strdup(struct parser *p, const char *s)
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

/* Sets cfg->dir to dir made absolute: NULL or relative means from the
 * working folder. Left NULL, after reporting, when that is unknown. */
static void
parser_dir(struct parser *p, const char *dir)
{
    char *cwd = NULL;

    if (dir != NULL && dir[0] == '/') {
        p->cfg->dir = config_path_resolve("/", dir);
    } else if ((cwd = config_cwd()) != NULL) {
        p->cfg->dir = config_path_resolve(cwd, dir ? dir : ".");
    } else {
        if (errno == ENOMEM)
            p->nomem = 1;
        else
            config_parser_error_at(p, 0, "cannot find the current folder: %s",
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
            config_parser_error(p, "too many words on one line (at most %d)",
                                CONFIG_WORDS_MAX);
            return -1;
        }
        p->word_start[p->nwords] = i;
        p->words[p->nwords++] = o;
        while (i < n && s[i] != ' ' && s[i] != '\t' && s[i] != '#') {
            if (s[i] != '"') {
                *o++ = s[i++];
                continue;
            }
            for (i++;; i++) {
                if (i == n) {
                    config_parser_error(p, "unterminated quote");
                    return -1;
                }
                if (s[i] == '"')
                    break;
                if (s[i] == '\\') {
                    if (i + 1 == n) {
                        config_parser_error(p, "unterminated quote");
                        return -1;
                    }
                    if (s[i + 1] != '"' && s[i + 1] != '\\') {
                        config_parser_error(p,
                                            "unknown escape inside quotes "
                                            "(only \\\" and \\\\ are escapes)");
                        return -1;
                    }
                    i++;
                }
                *o++ = s[i];
            }
            i++;
        }
        p->word_end[p->nwords - 1] = i;
        *o++ = '\0';
    }
}

/* The words of one line as the parser splits them (parser.h). */
int
config_line_split(const char *s, size_t n, size_t *start, size_t *end)
{
    struct parser *p;
    size_t i;
    int rc = -1;

    if (n > CONFIG_LINE_MAX || (p = calloc(1, sizeof *p)) == NULL)
        return -1;
    p->name = "";
    if (parser_split(p, s, n) == 0) {
        rc = p->nwords;
        memcpy(start, p->word_start, (size_t)rc * sizeof *start);
        memcpy(end, p->word_end, (size_t)rc * sizeof *end);
    }
    for (i = 0; i < p->nerrs; i++)
        free(p->errs[i].msg);
    free(p->errs);
    free(p);
    return rc;
}

/* A whole number from min to max, as *out. 0, or -1. */
int
config_number_parse(const char *s, long min, long max, long *out)
{
    long n = 0;

    if (*s == '\0')
        return -1;
    for (; *s; s++) {
        if (!config_is_digit(*s) || n > (max - (*s - '0')) / 10)
            return -1;
        n = n * 10 + (*s - '0');
    }
    if (n < min)
        return -1;
    *out = n;
    return 0;
}

/* Whether s is a feed name or a tag. */
int
config_name_valid(const char *s, size_t n)
{
    size_t i;

    if (n == 0 || n > CONFIG_NAME_MAX)
        return 0;
    for (i = 0; i < n; i++)
        if (!config_is_name_char((unsigned char)s[i]))
            return 0;
    return 1;
}

/* A line of words: a feed or a setting. */
static void
parser_line(struct parser *p)
{
    if (strcmp(p->words[0], "feed") == 0)
        config_parser_feed(p);
    else
        config_parser_setting(p);
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
        cfg->state_dir = config_parser_strdup(p, CONFIG_DEFAULT_STATE_DIR);
    if (cfg->listen_host == NULL)
        cfg->listen_host = config_parser_strdup(p, CONFIG_DEFAULT_HOST);
    if (cfg->title == NULL)
        cfg->title = config_parser_strdup(p, CONFIG_DEFAULT_TITLE);
    for (i = 0; i < cfg->nfeeds; i++)
        if (cfg->feeds[i].interval == 0)
            cfg->feeds[i].interval = cfg->interval;
    config_fetch_finish(p);
    config_parser_settings_check(p);
    config_parser_duplicates(p);
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
    cfg->path = config_parser_strdup(p, name);
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
            config_parser_error(p, "line too long (more than %d bytes)",
                                CONFIG_LINE_MAX);
        else if (memchr(s, '\0', n) != NULL)
            config_parser_error(p, "line holds a NUL byte");
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
int
config_file_read(const char *path, char **text, size_t *len)
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
char *
config_file_dir(const char *path)
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
    char *text = NULL, *dir = NULL, what[256];
    const char *nul;
    size_t len = 0;
    int rc;

    assert(path != NULL && errors != NULL);
    *errors = NULL;
    if ((rc = config_file_read(path, &text, &len)) == -ENOMEM)
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
    /* A NUL byte: not a config but a binary file, named so in one line
     * that shows no more than a short excerpt of it, in plain ASCII. */
    if ((nul = memchr(text, '\0', len)) != NULL) {
        char excerpt[FILE_EXCERPT_MAX * 4 + 8];

        snprintf(what, sizeof what,
                 "not a config file (a NUL byte at offset %zu; it starts "
                 "%s)",
                 (size_t)(nul - text),
                 show_bytes(excerpt, text, len, FILE_EXCERPT_MAX, 1));
        *errors = file_error(path, what);
        goto fail;
    }
    if ((dir = config_file_dir(path)) == NULL)
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
    struct config_strings *b, *next;
    size_t i, j;

    if (cfg == NULL)
        return;
    for (b = cfg->strings; b != NULL; b = next) {
        next = b->next;
        free(b);
    }
    for (i = 0; i < cfg->nfeeds; i++) {
        struct config_feed *f = &cfg->feeds[i];

        for (j = 0; j < f->ntags; j++)
            free(f->tags[j]);
        free(f->tags);
        free(f->id_pattern);
        config_fetch_free(f->fetch);
        free(f->fetch);
    }
    config_fetch_free(&cfg->fetch);
    free(cfg->feeds);
    free(cfg->path);
    free(cfg->dir);
    free(cfg->state_dir);
    free(cfg->listen_host);
    free(cfg->title);
    free(cfg->public_url);
    free(cfg->tls_cert);
    free(cfg->tls_key);
    free(cfg->ca_file);
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
        if (!config_is_digit(*s))
            return -1;
        for (n = 0; config_is_digit(*s); s++) {
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
