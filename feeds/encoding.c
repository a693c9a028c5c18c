/* feeds/encoding.c - a document's encoding, from what the bytes and the
 * publisher say (RFC 7303 §3, the WHATWG encoding standard's labels),
 * and the conversion from it into UTF-8 with iconv. */
#include "encoding.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <uchardet/uchardet.h>

#include "utf8.h"

/* The output of iconv is handed on in pieces of this size. */
#define CONV_PIECE 16384

/* The iconv name for an encoding label, with the supersets browsers use
 * for labels that publishers get wrong (WHATWG encoding standard): a
 * feed that says ISO-8859-1 is windows-1252 in practice. NULL for the
 * labels that mean UTF-8 (or its subset ASCII). */
static const char *
iconv_name(const char *label)
{
    static const struct {
        const char *label, *name;
    } map[] = {
        {"utf-8", NULL},
        {"utf8", NULL},
        {"unicode-1-1-utf-8", NULL},
        {"us-ascii", NULL},
        {"ascii", NULL},
        {"ansi_x3.4-1968", NULL},
        {"iso-646-us", NULL},
        {"iso-8859-1", "WINDOWS-1252"},
        {"iso8859-1", "WINDOWS-1252"},
        {"iso_8859-1", "WINDOWS-1252"},
        {"latin1", "WINDOWS-1252"},
        {"latin-1", "WINDOWS-1252"},
        {"l1", "WINDOWS-1252"},
        {"cp819", "WINDOWS-1252"},
        {"iso-8859-9", "WINDOWS-1254"},
        {"latin5", "WINDOWS-1254"},
        {"iso-8859-11", "WINDOWS-874"},
        {"tis-620", "WINDOWS-874"},
        {"gb2312", "GB18030"},
        {"gbk", "GB18030"},
        {"x-gbk", "GB18030"},
        {"gb_2312-80", "GB18030"},
        {"shift_jis", "CP932"},
        {"shift-jis", "CP932"},
        {"sjis", "CP932"},
        {"x-sjis", "CP932"},
        {"ms_kanji", "CP932"},
        {"windows-31j", "CP932"},
        {"euc-kr", "CP949"},
        {"ks_c_5601-1987", "CP949"},
        {"big5", "BIG5-HKSCS"},
        {"x-euc-jp", "EUC-JP"},
        {"utf-16", "UTF-16"},
        {"unicode", "UTF-16"},
    };

    for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(label, map[i].label) == 0)
            return map[i].name;
    return label;
}

/* The encoding named in an XML declaration at the start of s[0..n), into
 * name[0..size). 0 when there is none. One pass: the declaration ends at
 * the first '>'. */
static int
xml_decl_encoding(const char *s, size_t n, char *name, size_t size)
{
    const char *end = s + n, *p, *q;
    char quote;

    while (s < end && (isspace((unsigned char)*s) || (unsigned char)*s >= 0x80))
        s++; /* white space, or a UTF-8 BOM */
    if (end - s < 6 || memcmp(s, "<?xml", 5) != 0)
        return 0;
    q = memchr(s, '>', (size_t)(end - s));
    if (q == NULL)
        q = end;
    for (p = s + 5; p + 8 <= q; p++) {
        if (memcmp(p, "encoding", 8) != 0)
            continue;
        p += 8;
        while (p < q && isspace((unsigned char)*p))
            p++;
        if (p >= q || *p++ != '=')
            return 0;
        while (p < q && isspace((unsigned char)*p))
            p++;
        if (p >= q || (*p != '"' && *p != '\''))
            return 0;
        quote = *p++;
        for (s = p; p < q && *p != quote; p++)
            ;
        if (p >= q || (size_t)(p - s) >= size || p == s)
            return 0;
        memcpy(name, s, (size_t)(p - s));
        name[p - s] = '\0';
        return 1;
    }
    return 0;
}

/* 1 when b[0..n) reads as UTF-8, a character cut short at the end aside;
 * *multi is set when it holds a character of more than one byte. */
static int
reads_as_utf8(const unsigned char *b, size_t n, int *multi)
{
    const unsigned char *end = b + n;

    *multi = 0;
    while (b < end) {
        uint32_t cp;
        size_t len = feed_utf8_decode(b, (size_t)(end - b), &cp);

        if (len == 0)
            return feed_utf8_cut(b, (size_t)(end - b));
        *multi |= len > 1;
        b += len;
    }
    return 1;
}

static int
single_byte(const char *name)
{
    static const char *const prefixes[] = {
        "windows-125", "cp125", "iso-8859", "iso8859", "koi8", "latin", "mac"};

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* What a byte order mark, or the zero bytes of UTF-16 and UTF-32 around
 * the first '<', say about b[0..n); *bom is set to the mark's length. */
static const char *
from_bytes(const unsigned char *b, size_t n, size_t *bom)
{
    *bom = 0;
    if (n >= 4 && !memcmp(b, "\xff\xfe\0\0", 4))
        return *bom = 4, "UTF-32LE";
    if (n >= 4 && !memcmp(b, "\0\0\xfe\xff", 4))
        return *bom = 4, "UTF-32BE";
    if (n >= 3 && !memcmp(b, "\xef\xbb\xbf", 3))
        return *bom = 3, "utf-8";
    if (n >= 2 && !memcmp(b, "\xff\xfe", 2))
        return *bom = 2, "UTF-16LE";
    if (n >= 2 && !memcmp(b, "\xfe\xff", 2))
        return *bom = 2, "UTF-16BE";
    if (n >= 4 && b[0] && !b[1] && !b[2] && !b[3])
        return "UTF-32LE"; /* "<\0\0\0" */
    if (n >= 4 && !b[0] && !b[1] && !b[2] && b[3])
        return "UTF-32BE";
    if (n >= 2 && b[0] && !b[1])
        return "UTF-16LE"; /* "<\0" */
    if (n >= 2 && !b[0] && b[1])
        return "UTF-16BE";
    return NULL;
}

static int
sixteen_or_32(const char *label)
{
    return strncasecmp(label, "utf-16", 6) == 0 ||
           strncasecmp(label, "utf-32", 6) == 0;
}

size_t
feed_encoding_choose(const char *charset, const unsigned char *b, size_t n,
                     char *name, size_t size)
{
    size_t bom;
    const char *label, *chosen;
    char decl[40];
    int multi, utf8;

    if (n > ENCODING_SNIFF)
        n = ENCODING_SNIFF;
    utf8 = reads_as_utf8(b, n, &multi);
    label = from_bytes(b, n, &bom);
    /* A UTF-16 label on 8-bit bytes is wrong: the bytes say so. */
    if (label == NULL && charset && *charset && !sixteen_or_32(charset))
        label = charset;
    if (label == NULL &&
        xml_decl_encoding((const char *)b, n, decl, sizeof(decl)) &&
        !sixteen_or_32(decl))
        label = decl;
    /* Nothing says what the bytes are, and they are not UTF-8: guess,
     * from the sample (chardet's way; feeds in legacy CJK and Cyrillic
     * encodings often declare nothing). */
    if (label == NULL && !utf8) {
        uchardet_t ud = uchardet_new();

        if (ud != NULL) {
            if (uchardet_handle_data(ud, (const char *)b, n) == 0) {
                const char *guess;

                uchardet_data_end(ud);
                guess = uchardet_get_charset(ud);
                if (guess && *guess && strlen(guess) < sizeof(decl)) {
                    snprintf(decl, sizeof(decl), "%s", guess);
                    label = decl;
                }
            }
            uchardet_delete(ud);
        }
    }
    chosen = label ? iconv_name(label) : NULL;
    /* A single-byte encoding declared over bytes that read as UTF-8 with
     * real multi-byte characters: the declaration is the mistake (text
     * in windows-1252 or KOI8-R practically never forms valid UTF-8). */
    if (chosen && bom == 0 && single_byte(chosen) && utf8 && multi)
        chosen = NULL;
    snprintf(name, size, "%s", chosen ? chosen : "");
    return bom;
}

int
feed_encoding_conv_open(struct feed_encoding_conv *conv, const char *name)
{
    feed_buf_init(&conv->stage, 0);
    conv->replaced = 0;
    conv->cd = iconv_open("UTF-8", name);
    return conv->cd == (iconv_t)-1 ? -1 : 0;
}

int
feed_encoding_conv_push(struct feed_encoding_conv *conv, const char *s,
                        size_t n, int last, feed_encoding_fn *fn, void *arg)
{
    char buf[CONV_PIECE], *ip, *op;
    size_t il, ol;
    int rc, err;

    /* The bytes wait in a staging buffer so that a character cut by a
     * chunk's end is completed by the next. */
    if (n > 0 && (rc = feed_buf_append(&conv->stage, s, n)) != 0)
        return rc;
    ip = conv->stage.data;
    il = conv->stage.len;
    while (il > 0) {
        op = buf;
        ol = sizeof(buf);
        err = iconv(conv->cd, &ip, &il, &op, &ol) == (size_t)-1 ? errno : 0;
        if ((rc = fn(buf, (size_t)(op - buf), 0, arg)) != 0)
            return rc;
        if (err == EILSEQ) {
            /* A byte that means nothing in this encoding. */
            conv->replaced = 1;
            ip++;
            il--;
            if ((rc = fn("\xef\xbf\xbd", 3, 0, arg)) != 0)
                return rc;
        } else if (err == EINVAL) {
            break; /* cut short: wait for more */
        } else if (err != 0 && err != E2BIG) {
            return FEED_E_INVAL;
        }
    }
    if (il > 0)
        memmove(conv->stage.data, ip, il);
    conv->stage.len = il;
    if (!last)
        return 0;
    op = buf;
    ol = sizeof(buf);
    iconv(conv->cd, NULL, NULL, &op, &ol); /* the end of a shift state */
    if ((rc = fn(buf, (size_t)(op - buf), 0, arg)) != 0)
        return rc;
    if (conv->stage.len > 0) {
        conv->replaced = 1;
        conv->stage.len = 0;
        if ((rc = fn("\xef\xbf\xbd", 3, 0, arg)) != 0)
            return rc;
    }
    return fn("", 0, 1, arg);
}

void
feed_encoding_conv_close(struct feed_encoding_conv *conv)
{
    if (conv->cd != (iconv_t)-1)
        iconv_close(conv->cd);
    conv->cd = (iconv_t)-1;
    feed_buf_free(&conv->stage);
}
