/* daemon/httpd_request.c - the request's target and the header values the
 * server reads itself (see httpd_request.h). Every pass is linear in the
 * bytes it reads. */
#include <string.h>
#include <strings.h>

#include "httpd_request.h"

/* The byte a percent escape "%XY" at p stands for (RFC 3986 §2.1), or -1
 * when the two hex digits are not there. */
static int
httpd_pct_byte(const char *p)
{
    int v = 0;

    for (int i = 1; i <= 2; i++) {
        int ch = (unsigned char)p[i];

        if (ch >= '0' && ch <= '9')
            v = v * 16 + ch - '0';
        else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
            v = v * 16 + (ch | 0x20) - 'a' + 10;
        else
            return -1;
    }
    return v;
}

int
httpd_target_path(const char *t, char *out, size_t cap)
{
    size_t n = 0;

    if (*t != '/') {
        if (strncasecmp(t, "http://", 7) == 0)
            t += 7;
        else if (strncasecmp(t, "https://", 8) == 0)
            t += 8;
        else
            return -1;
        t += strcspn(t, "/?#");
        if (*t != '/')
            t = "/";
    }
    for (; *t != '\0' && *t != '?' && *t != '#'; t++) {
        int ch = (unsigned char)*t;

        if (ch == '%') {
            ch = httpd_pct_byte(t);
            if (ch <= 0) /* not an escape, or a NUL */
                return -1;
            t += 2;
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = (char)ch;
    }
    out[n] = '\0';
    return 0;
}

int
httpd_etag_match(const char *list, const char *etag)
{
    size_t elen = strlen(etag);
    const char *p = list, *q;

    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        if (*p == '\0')
            return 0;
        if (*p == '*')
            return 1;
        if (p[0] == 'W' && p[1] == '/')
            p += 2;
        if (*p != '"' || (q = strchr(p + 1, '"')) == NULL)
            return 0;
        q++;
        if ((size_t)(q - p) == elen && memcmp(p, etag, elen) == 0)
            return 1;
        p = q;
    }
}

/* Whether the qvalue at p (after "q=") is above 0: "0", "0.", "0.0" up to
 * "0.000" are zero, anything else is not (RFC 9110 §12.4.2). */
static int
httpd_qvalue_positive(const char *p)
{
    if (*p != '0')
        return 1;
    p++;
    if (*p == '.')
        for (p++; *p == '0'; p++)
            ;
    return *p >= '1' && *p <= '9';
}

int
httpd_accepts_gzip(const char *value)
{
    int gzip = -1, star = -1; /* -1 unlisted, 0 refused, 1 accepted */
    const char *p = value;

    while (*p != '\0') {
        const char *coding;
        size_t clen;
        int q = 1;

        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        coding = p;
        p += strcspn(p, " \t,;");
        clen = (size_t)(p - coding);
        /* Parameters: only q counts; each ends at ';' or ','. */
        for (;;) {
            while (*p == ' ' || *p == '\t')
                p++;
            if (*p != ';')
                break;
            p++;
            while (*p == ' ' || *p == '\t')
                p++;
            if ((*p == 'q' || *p == 'Q') && p[1] == '=')
                q = httpd_qvalue_positive(p + 2);
            p += strcspn(p, ";,");
        }
        if ((clen == 4 && strncasecmp(coding, "gzip", 4) == 0) ||
            (clen == 6 && strncasecmp(coding, "x-gzip", 6) == 0))
            gzip = gzip == 0 ? 0 : q;
        else if (clen == 1 && *coding == '*')
            star = q;
        /* Anything else up to the next element is skipped. */
        p += strcspn(p, ",");
    }
    return gzip >= 0 ? gzip : star == 1;
}
