/* feeds/text.c - the text surgery the parser does on fields, in place:
 * trimming, HTML entities, markup removal (titles are plain text), base64.
 * Internal to feeds/. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entities.h"
#include "feeds/url.h"
#include "text.h"

void
text_trim(struct feed_buf *b)
{
    size_t i = 0, n = b->len;

    if (b->data == NULL)
        return;
    while (n > 0 && isspace((unsigned char)b->data[n - 1]))
        n--;
    while (i < n && isspace((unsigned char)b->data[i]))
        i++;
    memmove(b->data, b->data + i, n - i);
    b->len = n - i;
    b->data[b->len] = '\0';
}

/* Decodes character references and HTML's named entities in place; used
 * on titles, which must be plain text. UTF-8 is never longer than the
 * reference it replaces, so the text only shrinks. */
void
text_decode_entities(struct feed_buf *b)
{
    char *r, *w, *semi, name[16];
    const char *utf8;
    size_t n;

    if (b->data == NULL)
        return;
    for (r = w = b->data; *r;) {
        if (*r != '&' || (semi = strchr(r, ';')) == NULL || semi - r > 10 ||
            semi - r < 3) {
            *w++ = *r++;
            continue;
        }
        if (r[1] == '#') {
            unsigned long cp;
            char *end;

            if (r[2] == 'x' || r[2] == 'X')
                cp = strtoul(r + 3, &end, 16);
            else
                cp = strtoul(r + 2, &end, 10);
            if (end != semi || cp == 0 || cp > 0x10ffff ||
                (cp >= 0xd800 && cp <= 0xdfff)) {
                *w++ = *r++;
                continue;
            }
            if (cp < 0x80) {
                *w++ = (char)cp;
            } else if (cp < 0x800) {
                *w++ = (char)(0xc0 | cp >> 6);
                *w++ = (char)(0x80 | (cp & 0x3f));
            } else if (cp < 0x10000) {
                *w++ = (char)(0xe0 | cp >> 12);
                *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *w++ = (char)(0x80 | (cp & 0x3f));
            } else {
                *w++ = (char)(0xf0 | cp >> 18);
                *w++ = (char)(0x80 | ((cp >> 12) & 0x3f));
                *w++ = (char)(0x80 | ((cp >> 6) & 0x3f));
                *w++ = (char)(0x80 | (cp & 0x3f));
            }
            r = semi + 1;
            continue;
        }
        n = (size_t)(semi - r - 1);
        memcpy(name, r + 1, n);
        name[n] = '\0';
        utf8 = feed_html_entity(name);
        if (utf8 == NULL || strlen(utf8) > n + 2) {
            *w++ = *r++;
            continue;
        }
        while (*utf8)
            *w++ = *utf8++;
        r = semi + 1;
    }
    *w = '\0';
    b->len = (size_t)(w - b->data);
}

/* The first place needle occurs in s, ignoring ASCII case; NULL. */
static char *
strcasestr_n(char *s, const char *needle)
{
    size_t n = strlen(needle);

    for (; *s; s++)
        if (strncasecmp(s, needle, n) == 0)
            return s;
    return NULL;
}

/* Removes markup from HTML text in place: tags dropped, entities decoded,
 * so that a title is plain text. */
void
text_strip_markup(struct feed_buf *b)
{
    char *r, *w;

    if (b->data == NULL)
        return;
    for (r = w = b->data; *r; r++) {
        if (*r == '<' && (isalpha((unsigned char)r[1]) || r[1] == '/' ||
                          r[1] == '!' || r[1] == '?')) {
            char *gt = strchr(r, '>');

            if (gt && strncmp(r, "<!--", 4) == 0) {
                /* A comment ends at "-->", whatever it holds. */
                char *end = strstr(r + 4, "-->");

                r = end ? end + 2 : r + strlen(r) - 1;
                continue;
            }
            if (gt) {
                /* What a script or a style holds is not text at all. */
                if (strncasecmp(r + 1, "script", 6) == 0 ||
                    strncasecmp(r + 1, "style", 5) == 0) {
                    const char *name = r[2] == 'c' || r[2] == 'C'
                                           ? "</script"
                                           : "</style";
                    char *close = strcasestr_n(gt, name);

                    if (close && (gt = strchr(close, '>')) == NULL)
                        gt = close + strlen(close) - 1;
                }
                r = gt;
                continue;
            }
        }
        *w++ = *r;
    }
    *w = '\0';
    b->len = (size_t)(w - b->data);
    text_decode_entities(b);
}

/* Decodes base64 in place (RFC 4648 §4; white space skipped). -1 when it
 * is not base64. */
int
text_base64_decode(struct feed_buf *b)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    unsigned acc = 0;
    int bits = 0;
    char *r, *w;

    if (b->data == NULL)
        return 0;
    for (r = w = b->data; *r; r++) {
        const char *c;

        if (isspace((unsigned char)*r))
            continue;
        if (*r == '=')
            break;
        if ((c = strchr(alphabet, *r)) == NULL)
            return -1;
        acc = acc << 6 | (unsigned)(c - alphabet);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            *w++ = (char)((acc >> bits) & 0xff);
        }
    }
    *w = '\0';
    b->len = (size_t)(w - b->data);
    return 0;
}

/* HTML's white space (and the form feed). */
static int
html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* 1 when s[0..n) starts with a URI scheme and its colon (RFC 3986 §3.1),
 * so is not relative. */
static int
has_scheme(const char *s, size_t n)
{
    size_t i = 0;

    if (n >= 6 && memcmp(s, "http", 4) == 0 &&
        (s[4] == ':' || (s[4] == 's' && s[5] == ':')))
        return 1; /* most are */
    if (n == 0 || !isalpha((unsigned char)s[0]))
        return 0;
    while (i < n && (isalnum((unsigned char)s[i]) || s[i] == '+' ||
                     s[i] == '-' || s[i] == '.'))
        i++;
    return i < n && s[i] == ':';
}

/* 1 when name[0..n) (letters, digits, '-', '_', ':') is lit (lower
 * case) in any case. */
static int
same_lower(const char *name, const char *lit, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((name[i] | 0x20) != lit[i])
            return 0;
    return 1;
}

/* What an attribute of that name holds: 1 a URL, 2 a srcset (URLs with
 * descriptors, comma-separated), 0 anything else. */
static int
url_attr(const char *name, size_t n)
{
#define IS(lit) (n == sizeof(lit) - 1 && same_lower(name, lit, n))
    switch (n) {
    case 3:
        return IS("src");
    case 4:
        return IS("href") || IS("cite");
    case 6:
        return IS("srcset") ? 2 : IS("poster") || IS("action") || IS("usemap");
    case 8:
        return IS("codebase") || IS("longdesc");
    case 10:
        return IS("background") || IS("formaction");
    default:
        return 0;
    }
#undef IS
}

struct rewrite {
    const char *base;
    const char *data, *end; /* the whole text */
    /* How far the text is read, and whether that is in text, in a tag
     * or in a quoted value in a tag: read forward only, once, however
     * many '=' are asked about. */
    const char *at;
    enum { AT_TEXT, AT_TAG, AT_QUOTE } state;
    char quote;
    const char *run;      /* the start of what is not yet in out */
    struct feed_buf *out; /* the text so far, once anything changed */
    struct feed_buf url;  /* one value, NUL-terminated for the resolver */
    int rc;
};

/* Reads the text on to `to`. A '<' opens a tag only before a letter:
 * "a < b" and comments stay text. */
static void
read_to(struct rewrite *w, const char *to)
{
    const char *p = w->at, *q;

    while (p < to) {
        switch (w->state) {
        case AT_TEXT:
            if ((q = memchr(p, '<', (size_t)(to - p))) == NULL) {
                p = to;
            } else {
                p = q + 1;
                if (p < w->end && isalpha((unsigned char)*p))
                    w->state = AT_TAG;
            }
            break;
        case AT_TAG:
            for (; p < to; p++)
                if (*p == '>' || *p == '"' || *p == '\'')
                    break;
            if (p < to) {
                w->state = *p == '>' ? AT_TEXT : AT_QUOTE;
                w->quote = *p++;
            }
            break;
        case AT_QUOTE:
            if ((q = memchr(p, w->quote, (size_t)(to - p))) == NULL) {
                p = to;
            } else {
                p = q + 1;
                w->state = AT_TAG;
            }
            break;
        }
    }
    w->at = p;
}

/* *v[0..*n) without the white space at its ends. */
static void
trim_value(const char **v, size_t *n)
{
    while (*n > 0 && html_space(**v))
        ++*v, --*n;
    while (*n > 0 && html_space((*v)[*n - 1]))
        --*n;
}

/* 1 when v[0..n), trimmed, is a relative URL. */
static int
relative(const char *v, size_t n)
{
    trim_value(&v, &n);
    return n > 0 && !has_scheme(v, n);
}

/* Resolves the URL in v[0..n) in place of it, when it is relative. */
static void
rewrite_url(struct rewrite *w, const char *v, size_t n)
{
    size_t at;

    trim_value(&v, &n);
    if (n == 0 || has_scheme(v, n) || w->rc != 0)
        return;
    feed_buf_reset(&w->url);
    if ((w->rc = feed_buf_append(&w->url, v, n)) != 0)
        return;
    at = w->out->len;
    if ((w->rc = feed_buf_append(w->out, w->run, (size_t)(v - w->run))) != 0)
        return;
    switch (feed_url_resolve(w->base, w->url.data, w->out)) {
    case 0:
        w->run = v + n;
        break;
    case FEED_E_INVAL: /* not resolvable: left as it is */
        w->out->len = at;
        break;
    default:
        w->rc = FEED_E_NOMEM;
    }
}

/* Each URL of a srcset ("a.png 1x, b.png 2x"), as HTML splits them. */
static void
rewrite_srcset(struct rewrite *w, const char *v, const char *end)
{
    while (v < end) {
        const char *u;

        while (v < end && (html_space(*v) || *v == ','))
            v++;
        u = v;
        while (v < end && !html_space(*v))
            v++;
        if (v > u) {
            const char *e = v;

            while (e > u && e[-1] == ',')
                e--;
            rewrite_url(w, u, (size_t)(e - u));
            if (e < v) /* "a.png," ends the candidate */
                continue;
        }
        while (v < end && *v != ',') /* the descriptors */
            v++;
    }
}

/* 1 when the '=' at eq is an attribute's: in a tag, not in a quoted
 * value. Asked only of the few that would change the text, so that most
 * fields are never read through (read_to()). */
static int
in_tag_at(struct rewrite *w, const char *eq)
{
    read_to(w, eq);
    return w->state == AT_TAG;
}

/* The attribute whose '=' may be at eq: rewritten when it holds relative
 * URLs. Returns where to look for the next '='. */
static const char *
url_attribute(struct rewrite *w, const char *eq)
{
    const char *data = w->data, *end = w->end, *p = eq + 1, *q = eq;
    const char *name, *v, *vend;
    int kind;

    /* Most values are absolute: passed over before the name is read
     * (but for a srcset, whose later URLs may not be). */
    v = p + (p < end && (*p == '"' || *p == '\''));
    if (end - v >= 6 && memcmp(v, "http", 4) == 0 &&
        (v[4] == ':' || (v[4] == 's' && v[5] == ':')) && eq > data &&
        eq[-1] != 't')
        return p;
    while (q > data && html_space(q[-1]))
        q--;
    name = q;
    while (name > data && (isalnum((unsigned char)name[-1]) ||
                           name[-1] == '-' || name[-1] == '_' ||
                           name[-1] == ':'))
        name--;
    /* An attribute's name follows white space. */
    if ((kind = url_attr(name, (size_t)(q - name))) == 0 || name == data ||
        !html_space(name[-1]))
        return p;
    while (p < end && html_space(*p))
        p++;
    if (p < end && (*p == '"' || *p == '\'')) {
        v = p + 1;
        if ((vend = memchr(v, *p, (size_t)(end - v))) == NULL)
            /* Unterminated: in a tag, the rest is left as it is. */
            return in_tag_at(w, eq) ? end : eq + 1;
        p = vend + 1;
    } else {
        v = p;
        while (p < end && !html_space(*p) && *p != '>')
            p++;
        vend = p;
    }
    if (kind == 1 && !relative(v, (size_t)(vend - v)))
        return p;
    if (!in_tag_at(w, eq))
        return eq + 1;
    if (kind == 1)
        rewrite_url(w, v, (size_t)(vend - v));
    else
        rewrite_srcset(w, v, vend);
    w->at = p; /* the value is read: still in the tag */
    return p;
}

int
text_resolve_urls(struct feed_buf *b, const char *base, struct feed_buf *tmp)
{
    struct rewrite w = {.base = base, .out = tmp};
    const char *p, *eq;

    if (b->data == NULL || base == NULL)
        return 0;
    feed_buf_reset(tmp);
    feed_buf_init(&w.url, 0);
    w.run = w.data = w.at = p = b->data;
    w.end = b->data + b->len;
    /* Every attribute with a value has an '='; the text between is
     * passed over at memchr's speed, and read once (read_to()). */
    while (w.rc == 0 && p < w.end &&
           (eq = memchr(p, '=', (size_t)(w.end - p))) != NULL)
        p = url_attribute(&w, eq);
    feed_buf_free(&w.url);
    if (w.rc != 0 || w.run == b->data)
        return w.rc;
    if ((w.rc = feed_buf_append(tmp, w.run, (size_t)(w.end - w.run))) != 0)
        return w.rc;
    /* The rewritten text takes the field's place, within its limit. */
    if (b->max == 0 || tmp->len <= b->max) {
        struct feed_buf swap = *b;

        b->data = tmp->data;
        b->len = tmp->len;
        b->cap = tmp->cap;
        tmp->data = swap.data;
        tmp->len = swap.len;
        tmp->cap = swap.cap;
    }
    return 0;
}
