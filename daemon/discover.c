/* daemon/discover.c - feed links of a web page (discover.h). The page is
 * parsed by gumbo, which builds the tree an HTML5 browser would; the walk
 * over it is iterative, so a deeply nested page cannot exhaust the stack. */
#include <stdlib.h>
#include <string.h>

#include <gumbo.h>

#include "discover.h"
#include "feeds/buf.h"
#include "feeds/url.h"

#define DISCOVER_URL_MAX 8192 /* bytes of a resolved link */
/* What of a page is given to the HTML parser: its first MiB, and no more
 * than 4096 start tags. A page names its feeds in its head, at the top.
 * gumbo's tree building takes time quadratic in the depth of nested
 * elements (a page of 16,000 "<div>" takes 0.4 s, four times as many 16
 * times as long): the cut on tags bounds that depth, and so the time. */
#define DISCOVER_HTML_MAX (1u << 20)
#define DISCOVER_TAGS_MAX 4096
/* Links kept: a page names a few; the check for repeats stays cheap. */
#define DISCOVER_LINKS_MAX 64

static int
ascii_lower(int c)
{
    return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
is_space(int c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* Whether s[0..n) is word, ASCII case folded. */
static int
word_is(const char *s, size_t n, const char *word)
{
    size_t i;

    if (strlen(word) != n)
        return 0;
    for (i = 0; i < n; i++)
        if (ascii_lower((unsigned char)s[i]) != word[i])
            return 0;
    return 1;
}

/* Whether the rel attribute holds the token "alternate" (HTML's rel is a
 * set of space-separated tokens, ASCII case-insensitive). */
static int
rel_alternate(const char *rel)
{
    const char *s = rel, *w;

    while (*s) {
        while (is_space((unsigned char)*s))
            s++;
        for (w = s; *s && !is_space((unsigned char)*s); s++)
            ;
        if (word_is(w, (size_t)(s - w), "alternate"))
            return 1;
    }
    return 0;
}

/* Whether the type attribute names a feed; parameters (";
 * charset=...") and surrounding spaces are ignored. */
static int
type_feed(const char *type)
{
    const char *s = type, *e;

    while (is_space((unsigned char)*s))
        s++;
    for (e = s; *e && *e != ';'; e++)
        ;
    while (e > s && is_space((unsigned char)e[-1]))
        e--;
    return word_is(s, (size_t)(e - s), "application/rss+xml") ||
           word_is(s, (size_t)(e - s), "application/atom+xml") ||
           word_is(s, (size_t)(e - s), "application/feed+json");
}

static const char *
attr(const GumboElement *el, const char *name)
{
    const GumboAttribute *a = gumbo_get_attribute(&el->attributes, name);

    return a != NULL ? a->value : NULL;
}

/* The length of the part of html[0..len) that is parsed. */
static size_t
html_cut(const char *html, size_t len)
{
    const char *s = html, *end;
    size_t tags = 0;

    if (len > DISCOVER_HTML_MAX)
        len = DISCOVER_HTML_MAX;
    end = html + len;
    while (s + 1 < end && (s = memchr(s, '<', (size_t)(end - s - 1))) != NULL) {
        s++;
        if (((*s | 0x20) >= 'a' && (*s | 0x20) <= 'z') &&
            ++tags > DISCOVER_TAGS_MAX)
            return (size_t)(s - 1 - html);
    }
    return len;
}

struct found {
    char **urls;
    size_t n, cap;
    struct feed_url_base *base;
    struct feed_buf buf;
    int local; /* the page is a file:// URL */
};

/* Adds the link href, resolved. 0, or -1 when out of memory. */
static int
found_add(struct found *f, const char *href)
{
    size_t i;
    int rc;

    if (f->n == DISCOVER_LINKS_MAX)
        return 0;
    feed_buf_reset(&f->buf);
    rc = feed_url_base_resolve(f->base, href, &f->buf);
    if (rc == FEED_E_NOMEM)
        return -1;
    /* A file:// link only from a file:// page: a web page never names a
     * local file for feedd to read. */
    if (rc != 0 || f->buf.len == 0 ||
        (strncmp(f->buf.data, "http://", 7) != 0 &&
         strncmp(f->buf.data, "https://", 8) != 0 &&
         !(f->local && strncmp(f->buf.data, "file:", 5) == 0)))
        return 0;
    for (i = 0; i < f->n; i++)
        if (strcmp(f->urls[i], f->buf.data) == 0)
            return 0;
    if (f->n == f->cap) {
        size_t cap = f->cap ? f->cap * 2 : 4;
        char **u = realloc(f->urls, cap * sizeof *u);

        if (u == NULL)
            return -1;
        f->urls = u;
        f->cap = cap;
    }
    if ((f->urls[f->n] = strdup(f->buf.data)) == NULL)
        return -1;
    f->n++;
    return 0;
}

/* The first <base href> of the document, or NULL. */
static const char *
find_base(GumboNode *root, GumboNode ***stack, size_t *cap)
{
    size_t n = 0, i;

    (*stack)[n++] = root;
    while (n > 0) {
        GumboNode *node = (*stack)[--n];
        const GumboVector *kids;

        if (node->type != GUMBO_NODE_ELEMENT)
            continue;
        if (node->v.element.tag == GUMBO_TAG_BASE &&
            attr(&node->v.element, "href") != NULL)
            return attr(&node->v.element, "href");
        kids = &node->v.element.children;
        if (n + kids->length > *cap) {
            size_t c = (n + kids->length) * 2;
            GumboNode **s = realloc(*stack, c * sizeof *s);

            if (s == NULL)
                return NULL;
            *stack = s;
            *cap = c;
        }
        /* Children pushed last first: popped in document order. */
        for (i = kids->length; i > 0; i--)
            (*stack)[n++] = kids->data[i - 1];
    }
    return NULL;
}

int
discover_feeds(const char *html, size_t len, const char *page_url, char ***urls,
               size_t *n)
{
    GumboOptions opts = kGumboDefaultOptions;
    struct found f = {0};
    GumboOutput *out;
    GumboNode **stack = NULL;
    size_t cap = 64, depth = 0, i;
    const char *base;
    int rc = -1;

    *urls = NULL;
    *n = 0;
    feed_buf_init(&f.buf, DISCOVER_URL_MAX);
    f.local = strncmp(page_url, "file:", 5) == 0;
    /* gumbo's list of parse errors is not read here, and recording them
     * costs time in the depth of the tree for each. */
    opts.max_errors = 0;
    out = gumbo_parse_with_options(&opts, html, html_cut(html, len));
    if (out == NULL || (stack = malloc(cap * sizeof *stack)) == NULL)
        goto done;
    base = find_base(out->root, &stack, &cap);
    if (base != NULL) {
        feed_buf_reset(&f.buf);
        if (feed_url_resolve(page_url, base, &f.buf) == 0)
            base = f.buf.data;
        else
            base = page_url;
    } else {
        base = page_url;
    }
    if ((f.base = feed_url_base_new(base)) == NULL)
        goto done;
    stack[depth++] = out->root;
    while (depth > 0) {
        GumboNode *node = stack[--depth];
        const GumboElement *el;
        const char *rel, *type, *href;

        if (node->type != GUMBO_NODE_ELEMENT)
            continue;
        el = &node->v.element;
        if (el->tag == GUMBO_TAG_LINK && (rel = attr(el, "rel")) != NULL &&
            (type = attr(el, "type")) != NULL &&
            (href = attr(el, "href")) != NULL && rel_alternate(rel) &&
            type_feed(type) && found_add(&f, href) != 0)
            goto done;
        if (depth + el->children.length > cap) {
            size_t c = (depth + el->children.length) * 2;
            GumboNode **s = realloc(stack, c * sizeof *s);

            if (s == NULL)
                goto done;
            stack = s;
            cap = c;
        }
        for (i = el->children.length; i > 0; i--)
            stack[depth++] = el->children.data[i - 1];
    }
    *urls = f.urls;
    *n = f.n;
    f.urls = NULL;
    f.n = 0;
    rc = 0;
done:
    discover_free(f.urls, f.n);
    feed_url_base_free(f.base);
    feed_buf_free(&f.buf);
    free(stack);
    if (out != NULL)
        gumbo_destroy_output(&opts, out);
    return rc;
}

void
discover_free(char **urls, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        free(urls[i]);
    free(urls);
}
