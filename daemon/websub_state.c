/* daemon/websub_state.c - the WebSub subscriptions as text (the state
 * file, websub_int.h): written whole, read in one pass, a bad line
 * skipped and told of. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "websub_int.h"

#define HEADER "feedd-websub 1"
#define NFIELDS 10

static const char *const state_names[WEBSUB_NSTATES] = {"pending", "verified",
                                                        "denied", "unsub"};

struct websub_sub *
websub_sub_new(const char *feed, const char *hub, const char *topic)
{
    struct websub_sub *s = calloc(1, sizeof(*s));

    if (s == NULL)
        return NULL;
    s->feed = strdup(feed);
    s->hub = strdup(hub);
    s->topic = strdup(topic);
    if (s->feed == NULL || s->hub == NULL || s->topic == NULL) {
        websub_sub_free(s);
        return NULL;
    }
    return s;
}

void
websub_sub_free(struct websub_sub *s)
{
    if (s == NULL)
        return;
    free(s->feed);
    free(s->hub);
    free(s->topic);
    free(s);
}

/* s, with tab, newline, CR and '%' escaped, then a tab. */
static int
put_escaped(struct feed_buf *out, const char *s)
{
    for (; *s != '\0'; s++) {
        int rc;

        if (*s == '\t' || *s == '\n' || *s == '\r' || *s == '%')
            rc = feed_buf_printf(out, "%%%02X", (unsigned char)*s);
        else
            rc = feed_buf_append(out, s, 1);
        if (rc != 0)
            return rc;
    }
    return feed_buf_append(out, "\t", 1);
}

int
websub_state_format(const struct websub_sub *list, struct feed_buf *out)
{
    const struct websub_sub *s;

    if (feed_buf_puts(out, HEADER "\n") != 0)
        return FEED_E_NOMEM;
    for (s = list; s != NULL; s = s->next)
        if (put_escaped(out, s->feed) != 0 || put_escaped(out, s->hub) != 0 ||
            put_escaped(out, s->topic) != 0 ||
            feed_buf_printf(
                out, "%s\t%s\t%s\t%d\t%" PRId64 "\t%" PRId64 "\t%d\n", s->token,
                s->secret, state_names[s->state], s->asked != 0, s->lease_end,
                s->due, s->errors) != 0)
            return FEED_E_NOMEM;
    return 0;
}

/* ---- reading ---- */

/* A field of a line: its bytes in the text. */
struct span {
    const char *p;
    size_t n;
};

static int
hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* f unescaped into a new string: NULL with *why set when it does not
 * read (or is empty), or out of memory (*why NULL). */
static char *
unescape(struct span f, const char **why)
{
    char *s, *d;
    size_t i;

    *why = "an empty name or URL";
    if (f.n == 0)
        return NULL;
    *why = NULL;
    if ((s = malloc(f.n + 1)) == NULL)
        return NULL;
    for (i = 0, d = s; i < f.n; i++) {
        if (f.p[i] != '%') {
            if ((unsigned char)f.p[i] < ' ') {
                *why = "a control character";
                free(s);
                return NULL;
            }
            *d++ = f.p[i];
            continue;
        }
        if (i + 2 >= f.n) {
            *why = "a bad escape";
            free(s);
            return NULL;
        }
        {
            int hi = hex_digit(f.p[i + 1]), lo = hex_digit(f.p[i + 2]);

            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
                *why = "a bad escape";
                free(s);
                return NULL;
            }
            *d++ = (char)(hi << 4 | lo);
            i += 2;
        }
    }
    *d = '\0';
    return s;
}

/* Lower-case hex of exactly n digits into out (n + 1 bytes): 0 or -1. */
static int
hex_field(struct span f, size_t n, char *out)
{
    size_t i;

    if (f.n != n)
        return -1;
    for (i = 0; i < n; i++)
        if (!((f.p[i] >= '0' && f.p[i] <= '9') ||
              (f.p[i] >= 'a' && f.p[i] <= 'f')))
            return -1;
    memcpy(out, f.p, n);
    out[n] = '\0';
    return 0;
}

/* A number from 0 to max of at most 19 digits: 0 or -1. */
static int
number_field(struct span f, int64_t max, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (f.n == 0 || f.n > 18)
        return -1;
    for (i = 0; i < f.n; i++) {
        if (f.p[i] < '0' || f.p[i] > '9')
            return -1;
        v = v * 10 + (f.p[i] - '0');
    }
    if (v > max)
        return -1;
    *out = v;
    return 0;
}

/* The subscription of one line's fields, or NULL with *why set (NULL
 * too: out of memory). */
static struct websub_sub *
read_line(struct span *f, const char **why)
{
    struct websub_sub *s = calloc(1, sizeof(*s));
    int64_t asked, errors;
    int st;

    *why = NULL;
    if (s == NULL)
        return NULL;
    if ((s->feed = unescape(f[0], why)) == NULL ||
        (s->hub = unescape(f[1], why)) == NULL ||
        (s->topic = unescape(f[2], why)) == NULL)
        goto fail;
    *why = "a bad token";
    if (hex_field(f[3], WEBSUB_TOKEN_LEN, s->token) != 0)
        goto fail;
    *why = "a bad secret";
    if (hex_field(f[4], WEBSUB_SECRET_LEN, s->secret) != 0)
        goto fail;
    *why = "an unknown state";
    for (st = 0; st < WEBSUB_NSTATES; st++)
        if (strlen(state_names[st]) == f[5].n &&
            memcmp(state_names[st], f[5].p, f[5].n) == 0)
            break;
    if (st == WEBSUB_NSTATES)
        goto fail;
    s->state = (enum websub_state)st;
    *why = "a bad number";
    if (number_field(f[6], 1, &asked) != 0 ||
        number_field(f[7], INT64_MAX / 4, &s->lease_end) != 0 ||
        number_field(f[8], INT64_MAX / 4, &s->due) != 0 ||
        number_field(f[9], 1000, &errors) != 0)
        goto fail;
    s->asked = (int)asked;
    s->errors = (int)errors;
    *why = NULL;
    return s;
fail:
    websub_sub_free(s);
    return NULL;
}

int
websub_state_parse(const char *text, size_t len, struct websub_sub **list,
                   websub_bad_fn *bad, void *arg)
{
    struct websub_sub *head = NULL, **tail = &head;
    const char *p = text, *end = text + len, *eol;
    struct span f[NFIELDS];
    size_t line = 0, nf;
    int rc = 0;

    while (p < end) {
        const char *why = NULL, *q;

        line++;
        if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL) {
            /* A torn last line (a write cut short) is not taken. */
            bad(line, "no end of line", arg);
            break;
        }
        if (line == 1) {
            if ((size_t)(eol - p) != strlen(HEADER) ||
                memcmp(p, HEADER, strlen(HEADER)) != 0) {
                bad(line, "not a feedd WebSub state file", arg);
                break;
            }
            p = eol + 1;
            continue;
        }
        for (nf = 0, q = p; nf < NFIELDS; nf++) {
            const char *tab = memchr(q, '\t', (size_t)(eol - q));

            f[nf].p = q;
            f[nf].n = (size_t)((tab ? tab : eol) - q);
            if (tab == NULL) {
                nf++;
                break;
            }
            q = tab + 1;
        }
        if (nf != NFIELDS || f[NFIELDS - 1].p + f[NFIELDS - 1].n != eol)
            why = "not 10 fields";
        else {
            struct websub_sub *s = read_line(f, &why);

            if (s != NULL) {
                *tail = s;
                tail = &s->next;
            } else if (why == NULL) {
                rc = FEED_E_NOMEM;
                break;
            }
        }
        if (why != NULL)
            bad(line, why, arg);
        p = eol + 1;
    }
    *tail = *list;
    *list = head;
    return rc;
}
