/* config/path.c - paths and URLs of the config file (path.h). */
#include <assert.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chars.h"
#include "path.h"

char *
config_path_resolve(const char *dir, const char *rel)
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

char *
config_path_to_url(const char *path)
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

        if (config_is_alpha(c) || config_is_digit(c) || c == '-' || c == '.' ||
            c == '_' || c == '~' || c == '/') {
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

char *
config_cwd(void)
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

int
config_ascii_prefix(const char *s, const char *prefix)
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

size_t
config_url_scheme_colon_len(const char *s)
{
    size_t n;

    if (!config_is_alpha(s[0]))
        return 0;
    for (n = 1; config_is_alpha(s[n]) || config_is_digit(s[n]) || s[n] == '+' ||
                s[n] == '-' || s[n] == '.';
         n++)
        ;
    return s[n] == ':' ? n : 0;
}

size_t
config_url_scheme_len(const char *s)
{
    size_t n = config_url_scheme_colon_len(s);

    return n > 0 && strncmp(s + n, "://", 3) == 0 ? n : 0;
}

int
config_has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

enum config_url_problem
config_url_check(const char *url, size_t scheme_len)
{
    const char *auth, *end, *at, *host, *close, *s;
    int bracket;

    for (s = url; *s; s++)
        if ((unsigned char)*s <= 0x20 || *s == 0x7f)
            return CONFIG_URL_SPACE;
    auth = url + scheme_len + 3;
    end = auth + strcspn(auth, "/?#");
    host = auth;
    while ((at = memchr(host, '@', (size_t)(end - host))) != NULL)
        host = at + 1;
    /* An IPv6 literal (RFC 3986 §3.2.2) starts with its own ':'. */
    bracket = host < end && *host == '[';
    host += bracket;
    if (host == end || *host == (bracket ? ']' : ':'))
        return CONFIG_URL_NO_HOST;
    if (bracket) {
        close = memchr(host, ']', (size_t)(end - host));
        if (close == NULL || (close + 1 < end && close[1] != ':'))
            return CONFIG_URL_BRACKET;
    }
    return CONFIG_URL_OK;
}
