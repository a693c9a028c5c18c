/* feeds/url.c - URL resolution (RFC 3986 §5.2) and the comparison key
 * feedd uses to tell two spellings of one link apart from two links. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "feeds/buf.h"
#include "feeds/url.h"

/* A URL split into its RFC 3986 §3 parts; each is a pointer into the
 * string and a length; a part that is absent has ptr == NULL. */
struct url_parts {
    const char *scheme, *auth, *path, *query, *frag;
    size_t nscheme, nauth, npath, nquery, nfrag;
};

static void
url_split(const char *s, struct url_parts *u)
{
    const char *p = s, *e;

    memset(u, 0, sizeof(*u));
    /* scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
    if (isalpha((unsigned char)*p)) {
        e = p + 1;
        while (isalnum((unsigned char)*e) || *e == '+' || *e == '-' ||
               *e == '.')
            e++;
        if (*e == ':') {
            u->scheme = p;
            u->nscheme = (size_t)(e - p);
            p = e + 1;
        }
    }
    if (p[0] == '/' && p[1] == '/') {
        p += 2;
        e = p + strcspn(p, "/?#");
        u->auth = p;
        u->nauth = (size_t)(e - p);
        p = e;
    }
    e = p + strcspn(p, "?#");
    u->path = p;
    u->npath = (size_t)(e - p);
    p = e;
    if (*p == '?') {
        e = p + 1 + strcspn(p + 1, "#");
        u->query = p + 1;
        u->nquery = (size_t)(e - p - 1);
        p = e;
    }
    if (*p == '#') {
        u->frag = p + 1;
        u->nfrag = strlen(p + 1);
    }
}

/* Appends path with its "." and ".." segments removed (RFC 3986 §5.2.4). */
static int
append_path(struct feed_buf *out, const char *path, size_t n)
{
    size_t start = out->len, i = 0, seg;
    int rc;

    while (i < n) {
        if (n - i >= 2 && memcmp(path + i, "./", 2) == 0) {
            i += 2;
        } else if (n - i >= 3 && memcmp(path + i, "../", 3) == 0) {
            i += 3;
        } else if ((n - i >= 3 && memcmp(path + i, "/./", 3) == 0) ||
                   (n - i == 2 && memcmp(path + i, "/.", 2) == 0)) {
            i += 2;
            if (i >= n || path[i] != '/') {
                if ((rc = feed_buf_append(out, "/", 1)) != 0)
                    return rc;
            }
        } else if ((n - i >= 4 && memcmp(path + i, "/../", 4) == 0) ||
                   (n - i == 3 && memcmp(path + i, "/..", 3) == 0)) {
            i += 3;
            /* Drop the last segment written, and its slash. */
            while (out->len > start && out->data[out->len - 1] != '/')
                out->len--;
            if (out->len > start)
                out->len--;
            out->data[out->len] = '\0';
            if (i >= n) {
                if ((rc = feed_buf_append(out, "/", 1)) != 0)
                    return rc;
            }
        } else if ((n - i == 1 && path[i] == '.') ||
                   (n - i == 2 && memcmp(path + i, "..", 2) == 0)) {
            i = n;
        } else {
            seg = 1;
            while (i + seg < n && path[i + seg] != '/')
                seg++;
            if ((rc = feed_buf_append(out, path + i, seg)) != 0)
                return rc;
            i += seg;
        }
    }
    return 0;
}

/* A base split once. When its path is absolute, the directory that
 * relative references merge with (RFC 3986 §5.2.3: the path up to its
 * last '/') is kept with its dot segments removed, and where it is cut
 * by each ".." a reference has taken it back by so far, so that no
 * segment is read again for the next reference: resolving costs what the
 * reference and the result are long, never what the base is. */
struct feed_url_base {
    char *text; /* the base, copied; NULL when there is none */
    struct url_parts u;
    const char *dir; /* the directory as written */
    size_t ndir;
    int abs_dir;               /* dir starts with '/': norm is kept */
    struct feed_buf norm;      /* "/s1/.../sm/", dot segments removed */
    size_t nseg;               /* m */
    size_t *cut, ncut, capcut; /* cut[k]: norm's length without k + 1 */
    struct feed_buf tail;      /* scratch: a reference's own segments */
};

/* The length of norm[0..len) without its last segment and that
 * segment's '/'. */
static size_t
dir_up(const struct feed_url_base *b, size_t len)
{
    len--;
    while (len > 0 && b->norm.data[len - 1] != '/')
        len--;
    return len;
}

/* Into *len: the directory's length without its last k segments (k at
 * most nseg). Each cut is found once and kept. */
static int
dir_cut(struct feed_url_base *b, size_t k, size_t *len)
{
    while (b->ncut < k) {
        if (b->ncut == b->capcut) {
            size_t cap = b->capcut ? 2 * b->capcut : 8;
            size_t *cut = realloc(b->cut, cap * sizeof(*cut));

            if (cut == NULL)
                return FEED_E_NOMEM;
            b->cut = cut;
            b->capcut = cap;
        }
        b->cut[b->ncut] =
            dir_up(b, b->ncut ? b->cut[b->ncut - 1] : b->norm.len);
        b->ncut++;
    }
    *len = k ? b->cut[k - 1] : b->norm.len;
    return 0;
}

struct feed_url_base *
feed_url_base_new(const char *base)
{
    struct feed_url_base *b = calloc(1, sizeof(*b));
    const char *slash = NULL;

    if (b == NULL)
        return NULL;
    feed_buf_init(&b->norm, 0);
    feed_buf_init(&b->tail, 0);
    if (base == NULL)
        return b;
    if ((b->text = strdup(base)) == NULL)
        goto fail;
    url_split(b->text, &b->u);
    if (b->u.scheme == NULL)
        return b;
    if (b->u.auth && b->u.npath == 0) {
        b->dir = "/";
        b->ndir = 1;
    } else {
        for (size_t i = 0; i < b->u.npath; i++)
            if (b->u.path[i] == '/')
                slash = b->u.path + i;
        b->dir = b->u.path;
        b->ndir = slash ? (size_t)(slash - b->u.path) + 1 : 0;
    }
    if (b->ndir == 0 || b->dir[0] != '/')
        return b;
    /* The directory's segments, between its first and last '/'. */
    b->abs_dir = 1;
    if (feed_buf_append(&b->norm, "/", 1) != 0)
        goto fail;
    for (size_t i = 1; i < b->ndir;) {
        const char *s = b->dir + i;
        size_t n = (size_t)((const char *)memchr(s, '/', b->ndir - i) - s);

        i += n + 1;
        if (n == 1 && s[0] == '.')
            continue;
        if (n == 2 && s[0] == '.' && s[1] == '.') {
            if (b->nseg > 0) {
                b->norm.len = dir_up(b, b->norm.len);
                b->nseg--;
            }
            continue;
        }
        if (feed_buf_append(&b->norm, s, n) != 0 ||
            feed_buf_append(&b->norm, "/", 1) != 0)
            goto fail;
        b->nseg++;
    }
    return b;
fail:
    feed_url_base_free(b);
    return NULL;
}

void
feed_url_base_free(struct feed_url_base *b)
{
    if (b == NULL)
        return;
    free(b->text);
    free(b->cut);
    feed_buf_free(&b->norm);
    feed_buf_free(&b->tail);
    free(b);
}

/* Appends the relative path p[0..n) merged with b's absolute directory,
 * its dot segments removed (RFC 3986 §5.2.3-4). The reference's own
 * segments are kept apart in b->tail; a ".." with none left takes a
 * segment off the directory (dir_cut()); the directory's part goes
 * to out once, at the end. */
static int
merge_abs(struct feed_url_base *b, const char *p, size_t n,
          struct feed_buf *out)
{
    size_t up = 0, nt = 0, i = 0, ndir;
    int rc;

    feed_buf_reset(&b->tail);
    while (i <= n) {
        const char *s = p + i, *e = memchr(s, '/', n - i);
        size_t len = e ? (size_t)(e - s) : n - i;
        int last = e == NULL;

        i += len + 1;
        if ((len == 1 && s[0] == '.') ||
            (len == 2 && s[0] == '.' && s[1] == '.')) {
            if (len == 2 && nt > 0) {
                /* Back to the '/' before the tail's last segment. */
                while (b->tail.len > 0 && b->tail.data[b->tail.len - 1] != '/')
                    b->tail.len--;
                if (b->tail.len > 0)
                    b->tail.len--;
                nt--;
            } else if (len == 2 && up < b->nseg) {
                up++;
            }
            if (!last)
                continue;
            len = 0; /* "a/.." and "a/." end with '/' */
        }
        if ((nt > 0 && (rc = feed_buf_append(&b->tail, "/", 1)) != 0) ||
            (rc = feed_buf_append(&b->tail, s, len)) != 0)
            return rc;
        nt++;
    }
    if ((rc = dir_cut(b, up, &ndir)) != 0 ||
        (rc = feed_buf_append(out, b->norm.data, ndir)) != 0)
        return rc;
    return feed_buf_append(out, b->tail.data ? b->tail.data : "", b->tail.len);
}

int
feed_url_base_resolve(struct feed_url_base *base, const char *ref,
                      struct feed_buf *out)
{
    const struct url_parts *b = &base->u;
    struct url_parts r;
    int rc;

    while (isspace((unsigned char)*ref))
        ref++;
    url_split(ref, &r);
    if (r.scheme)
        return feed_buf_puts(out, ref);
    if (b->scheme == NULL)
        return FEED_E_INVAL;
    if ((rc = feed_buf_append(out, b->scheme, b->nscheme)) != 0 ||
        (rc = feed_buf_append(out, ":", 1)) != 0)
        return rc;
    if (r.auth) {
        if ((rc = feed_buf_printf(out, "//%.*s", (int)r.nauth, r.auth)) ||
            (rc = append_path(out, r.path, r.npath)) != 0)
            return rc;
        goto query;
    }
    if (b->auth &&
        (rc = feed_buf_printf(out, "//%.*s", (int)b->nauth, b->auth)) != 0)
        return rc;
    if (r.npath == 0) {
        if ((rc = feed_buf_append(out, b->path, b->npath)) != 0)
            return rc;
        if (r.query == NULL && b->query &&
            (rc = feed_buf_printf(out, "?%.*s", (int)b->nquery, b->query)))
            return rc;
        goto query;
    }
    if (r.path[0] == '/') {
        if ((rc = append_path(out, r.path, r.npath)) != 0)
            return rc;
    } else if (base->abs_dir) {
        if ((rc = merge_abs(base, r.path, r.npath, out)) != 0)
            return rc;
    } else {
        /* A directory that is not absolute ("x:a/b"): merged, then its
         * dot segments removed, each time. */
        struct feed_buf merged;

        feed_buf_init(&merged, 0);
        rc = feed_buf_append(&merged, base->dir, base->ndir);
        if (rc == 0)
            rc = feed_buf_append(&merged, r.path, r.npath);
        if (rc == 0)
            rc = append_path(out, merged.data, merged.len);
        feed_buf_free(&merged);
        if (rc != 0)
            return rc;
    }
query:
    if (r.query &&
        (rc = feed_buf_printf(out, "?%.*s", (int)r.nquery, r.query)) != 0)
        return rc;
    if (r.frag &&
        (rc = feed_buf_printf(out, "#%.*s", (int)r.nfrag, r.frag)) != 0)
        return rc;
    return 0;
}

int
feed_url_resolve(const char *base, const char *ref, struct feed_buf *out)
{
    struct feed_url_base *b = feed_url_base_new(base);
    int rc;

    if (b == NULL)
        return FEED_E_NOMEM;
    rc = feed_url_base_resolve(b, ref, out);
    feed_url_base_free(b);
    return rc;
}

struct feed_url_base *
feed_url_base_cached(struct feed_url_base **cache, const char *base)
{
    struct feed_url_base *b = *cache;

    if (b == NULL || (base == NULL) != (b->text == NULL) ||
        (base != NULL && strcmp(base, b->text) != 0)) {
        feed_url_base_free(b);
        *cache = b = feed_url_base_new(base);
    }
    return b;
}

int
feed_url_resolve_cached(struct feed_url_base **cache, const char *base,
                        const char *ref, struct feed_buf *out)
{
    struct feed_url_base *b = feed_url_base_cached(cache, base);

    return b ? feed_url_base_resolve(b, ref, out) : FEED_E_NOMEM;
}

/* Parameters (p[0..n), "name=value") that only say where a reader came
 * from, never which page it is: dropped from the key so that the same
 * article with and without them is one article. */
static int
is_tracking_param(const char *p, size_t n)
{
    static const char *const names[] = {
        "fbclid",   "gclid",       "gclsrc",     "dclid",   "gbraid",
        "wbraid",   "msclkid",     "mc_cid",     "mc_eid",  "yclid",
        "igshid",   "_ga",         "_gl",        "_hsenc",  "_hsmi",
        "mkt_tok",  "oly_anon_id", "oly_enc_id", "vero_id", "vero_conv",
        "wt.mc_id", "ncid",        "cmpid",      "soc_src", "soc_trk",
        "ocid",     "spm",         "s_cid",
    };
    const char *eq = memchr(p, '=', n);
    size_t i, key = eq ? (size_t)(eq - p) : n;

    if (key >= 4 && strncasecmp(p, "utm_", 4) == 0)
        return 1;
    for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == key && strncasecmp(p, names[i], key) == 0)
            return 1;
    return 0;
}

struct param {
    const char *p;
    size_t n;
};

static int
param_cmp(const void *a, const void *b)
{
    const struct param *x = a, *y = b;
    size_t n = x->n < y->n ? x->n : y->n;
    int c = memcmp(x->p, y->p, n);

    if (c != 0)
        return c;
    return x->n < y->n ? -1 : x->n > y->n;
}

int
feed_url_key(const char *url, struct feed_buf *out)
{
    struct url_parts u;
    struct param *params = NULL;
    const char *host, *port, *q, *end;
    size_t nhost, nport, np = 0, i;
    int https, rc;

    while (isspace((unsigned char)*url))
        url++;
    url_split(url, &u);
    if (u.scheme == NULL || u.auth == NULL || u.nauth == 0)
        return FEED_E_INVAL;
    if (u.nscheme == 5 && strncasecmp(u.scheme, "https", 5) == 0)
        https = 1;
    else if (u.nscheme == 4 && strncasecmp(u.scheme, "http", 4) == 0)
        https = 0;
    else
        return FEED_E_INVAL;
    /* authority = [ userinfo "@" ] host [ ":" port ]; userinfo never
     * names a different article. */
    host = u.auth;
    nhost = u.nauth;
    for (i = nhost; i > 0; i--)
        if (host[i - 1] == '@') {
            host += i;
            nhost -= i;
            break;
        }
    port = NULL;
    nport = 0;
    for (i = nhost; i > 0 && isdigit((unsigned char)host[i - 1]); i--)
        ;
    if (i > 0 && host[i - 1] == ':') {
        port = host + i;
        nport = nhost - i;
        nhost = i - 1;
    }
    if ((rc = feed_buf_append(out, "//", 2)) != 0)
        return rc;
    for (i = 0; i < nhost; i++) {
        char c = (char)tolower((unsigned char)host[i]);

        if ((rc = feed_buf_append(out, &c, 1)) != 0)
            return rc;
    }
    /* A trailing dot names the same host (RFC 1034 §3.1). */
    if (out->len > 2 && out->data[out->len - 1] == '.')
        out->data[--out->len] = '\0';
    if (nport && !(nport == 2 && !https && memcmp(port, "80", 2) == 0) &&
        !(nport == 3 && https && memcmp(port, "443", 3) == 0) &&
        ((rc = feed_buf_append(out, ":", 1)) != 0 ||
         (rc = feed_buf_append(out, port, nport)) != 0))
        return rc;
    if (u.npath == 0)
        rc = feed_buf_append(out, "/", 1);
    else
        rc = append_path(out, u.path, u.npath);
    if (rc != 0 || u.query == NULL)
        return rc;

    /* Parameters: tracking ones dropped, the rest sorted. */
    for (q = u.query, end = u.query + u.nquery; q < end; q++)
        np += *q == '&';
    params = calloc(np + 1, sizeof(*params));
    if (params == NULL)
        return FEED_E_NOMEM;
    np = 0;
    for (q = u.query; q <= end;) {
        const char *amp = memchr(q, '&', (size_t)(end - q));
        size_t n = amp ? (size_t)(amp - q) : (size_t)(end - q);

        if (n > 0 && !is_tracking_param(q, n)) {
            params[np].p = q;
            params[np].n = n;
            np++;
        }
        q += n + 1;
    }
    qsort(params, np, sizeof(*params), param_cmp);
    for (i = 0; i < np && rc == 0; i++)
        if ((rc = feed_buf_append(out, i ? "&" : "?", 1)) == 0)
            rc = feed_buf_append(out, params[i].p, params[i].n);
    free(params);
    return rc;
}
