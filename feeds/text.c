/* feeds/text.c - the text surgery the parser does on fields, in place:
 * trimming, HTML entities, markup removal (titles are plain text), base64.
 * Internal to feeds/. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "entities.h"
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
