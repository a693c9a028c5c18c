/* daemon/httpd_request.c - reading an HTTP/1.x request head (RFC 7230 §3),
 * for the server in httpd.c. Every pass is linear in the bytes of the
 * request, however they arrive. */
#include <string.h>
#include <strings.h>

#include "httpd_request.h"

static int
httpd_digit(int ch)
{
    return ch >= '0' && ch <= '9';
}

/* tchar of RFC 7230 §3.2.6. */
static int
httpd_tchar(int ch)
{
    return ch > 0 && ch < 0x7f &&
           ((ch >= '0' && ch <= '9') || (ch >= 'a' && ch <= 'z') ||
            (ch >= 'A' && ch <= 'Z') || strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

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

size_t
httpd_header_end(const char *p, size_t from, size_t len, size_t *lead)
{
    size_t i = *lead;

    /* The run of empty lines is walked once, however the bytes arrive. */
    while (i < len && (p[i] == '\r' || p[i] == '\n'))
        i++;
    *lead = i;
    if (from >= i + 2)
        i = from - 2;
    for (; i < len; i++) {
        if (p[i] != '\n')
            continue;
        if (i + 1 < len && p[i + 1] == '\n')
            return i + 2;
        if (i + 2 < len && p[i + 1] == '\r' && p[i + 2] == '\n')
            return i + 3;
    }
    return 0;
}

/* The line at *p, NUL-terminated in place without its CRLF (or LF), and *p
 * moved past it; NULL when no line is left before end. */
static char *
httpd_next_line(char **p, const char *end)
{
    char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));

    if (nl == NULL)
        return NULL;
    *p = nl + 1;
    if (nl > line && nl[-1] == '\r')
        nl--;
    *nl = '\0';
    return line;
}

int
httpd_request_parse(char *p, char *end, struct httpd_request *r)
{
    char *line, *s, *version;

    if (memchr(p, '\0', (size_t)(end - p)) != NULL)
        return 400;
    while (p < end && (*p == '\r' || *p == '\n'))
        p++;
    line = httpd_next_line(&p, end);
    if (line == NULL)
        return 400;

    /* request-line = method SP request-target SP HTTP-version */
    for (s = line; httpd_tchar((unsigned char)*s); s++)
        ;
    if (s == line || *s != ' ')
        return 400;
    *s++ = '\0';
    r->method = line;
    r->target = s;
    while ((unsigned char)*s > 0x20 && (unsigned char)*s < 0x7f)
        s++;
    if (s == r->target || *s != ' ')
        return 400;
    *s++ = '\0';
    version = s;
    if (strncmp(version, "HTTP/", 5) != 0 || !httpd_digit(version[5]) ||
        version[6] != '.' || !httpd_digit(version[7]) || version[8] != '\0')
        return 400;
    if (version[5] != '1')
        return 505;
    r->minor = version[7] - '0';

    /* header-field = field-name ":" OWS field-value OWS */
    r->nheaders = 0;
    while ((line = httpd_next_line(&p, end)) != NULL && *line != '\0') {
        char *value, *last;

        /* obs-fold is refused with 400 (RFC 7230 §3.2.4), and so is
         * whitespace between the name and the colon. */
        for (s = line; httpd_tchar((unsigned char)*s); s++)
            ;
        if (s == line || *s != ':')
            return 400;
        *s++ = '\0';
        while (*s == ' ' || *s == '\t')
            s++;
        value = last = s;
        for (; *s != '\0'; s++) {
            unsigned char ch = (unsigned char)*s;

            if (ch != '\t' && (ch < 0x20 || ch == 0x7f))
                return 400; /* a bare CR among them */
            if (ch != ' ' && ch != '\t')
                last = s + 1;
        }
        *last = '\0';
        if (r->nheaders == HTTPD_MAX_HEADERS)
            return 431;
        r->headers[r->nheaders].name = line;
        r->headers[r->nheaders].value = value;
        r->nheaders++;
    }
    return 0;
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

size_t
httpd_header_count(const struct httpd_request *r, const char *name)
{
    size_t n = 0;

    for (size_t i = 0; i < r->nheaders; i++)
        n += strcasecmp(r->headers[i].name, name) == 0;
    return n;
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
