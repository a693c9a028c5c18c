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

int
feed_url_resolve(const char *base, const char *ref, struct feed_buf *out)
{
    struct url_parts b, r;
    const char *slash;
    int rc;

    while (isspace((unsigned char)*ref))
        ref++;
    url_split(ref, &r);
    if (r.scheme)
        return feed_buf_puts(out, ref);
    if (base == NULL)
        return FEED_E_INVAL;
    url_split(base, &b);
    if (b.scheme == NULL)
        return FEED_E_INVAL;
    if ((rc = feed_buf_append(out, b.scheme, b.nscheme)) != 0 ||
        (rc = feed_buf_append(out, ":", 1)) != 0)
        return rc;
    if (r.auth) {
        if ((rc = feed_buf_printf(out, "//%.*s", (int)r.nauth, r.auth)) ||
            (rc = append_path(out, r.path, r.npath)) != 0)
            return rc;
        goto query;
    }
    if (b.auth &&
        (rc = feed_buf_printf(out, "//%.*s", (int)b.nauth, b.auth)) != 0)
        return rc;
    if (r.npath == 0) {
        if ((rc = feed_buf_append(out, b.path, b.npath)) != 0)
            return rc;
        if (r.query == NULL && b.query &&
            (rc = feed_buf_printf(out, "?%.*s", (int)b.nquery, b.query)))
            return rc;
        goto query;
    }
    if (r.path[0] == '/') {
        if ((rc = append_path(out, r.path, r.npath)) != 0)
            return rc;
    } else {
        /* Merge (§5.2.3): the base path up to its last '/', then ref. */
        struct feed_buf merged;

        feed_buf_init(&merged, 0);
        if (b.auth && b.npath == 0)
            rc = feed_buf_append(&merged, "/", 1);
        else {
            slash = NULL;
            for (size_t i = 0; i < b.npath; i++)
                if (b.path[i] == '/')
                    slash = b.path + i;
            rc = slash ? feed_buf_append(&merged, b.path,
                                         (size_t)(slash - b.path) + 1)
                       : 0;
        }
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
