/* feeds/input.c - encodings. A document's first bytes are held until its
 * encoding is known (a BOM, the HTTP charset, the XML declaration);
 * everything after is streamed: through iconv when it is not UTF-8, then
 * through a check that hands on only what expat accepts. Bytes that are
 * not valid UTF-8 in a "UTF-8" document are read as windows-1252 (the
 * usual culprit) rather than failing the whole feed. */
#include <ctype.h>
#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <uchardet/uchardet.h>

#include "feeds/buf.h"
#include "input.h"
#include "scan.h"

/* How many bytes are held to find the encoding: the XML declaration is
 * at the start, but a document that declares nothing and is not UTF-8
 * needs a sample for uchardet to guess from. */
#define SNIFF_BYTES 4096
#define CONV_CHUNK 16384
#define REF_MAX 40
/* How much of a chunk completes what waited from the one before. */
#define JOIN_BYTES 256

enum state { S_SNIFF, S_UTF8, S_ICONV };

struct feed_input {
    feed_input_fn *fn;
    void *arg;
    char *charset;
    enum state state;
    struct feed_buf held; /* bytes seen while sniffing */
    iconv_t cd;
    unsigned char carry[8]; /* an incomplete sequence at a chunk's end */
    size_t ncarry;
    struct feed_buf out;   /* cleaned text, when it differs from the input */
    struct feed_buf stage; /* bytes waiting for iconv */
    /* repair(): where the XML lexer is, and what it holds back. */
    enum { LEX_TEXT, LEX_CDATA, LEX_COMMENT, LEX_PI } lex;
    int blank; /* blanking out a misplaced XML declaration */
    int json;
    char rcarry[REF_MAX + 16];
    size_t nrcarry;
    size_t emitted;
    struct feed_buf joined, fixed;
    int started;         /* a character was handed on */
    int repaired;
    /* UTF-8 goes to expat as it comes, kept in case expat finds it
     * ill-formed; then it is read again with care: checked, cleaned and
     * repaired (feed_input_retry()). */
    int careful;
    struct feed_buf kept;
    /* Or, when the whole document came in the first push (last set), the
     * caller's bytes, valid until that push returns: no copy. */
    int borrow;
    const char *whole;
    size_t nwhole;
    char encoding[48];
};

/* windows-1252's 0x80..0x9f (WHATWG encoding standard); 0 where the
 * byte is undefined. 0xa0..0xff are Latin-1. */
static const unsigned short cp1252_high[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
    0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017d, 0,
    0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

static size_t
put_utf8(unsigned cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    out[0] = (char)(0xe0 | cp >> 12);
    out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
    out[2] = (char)(0x80 | (cp & 0x3f));
    return 3;
}

/* How a UTF-8 sequence at s (n bytes available) reads: its length when
 * valid and whole, 0 when invalid, -1 when it is a valid start cut short
 * by the end of the buffer. U+FFFE and U+FFFF count as invalid: they are
 * not XML characters. */
static inline int
utf8_check(const unsigned char *s, size_t n)
{
    int len;
    unsigned char lo = 0x80, hi = 0xbf;

    if (s[0] < 0xc2)
        return 0;
    if (s[0] <= 0xdf)
        len = 2;
    else if (s[0] <= 0xef) {
        len = 3;
        if (s[0] == 0xe0)
            lo = 0xa0;
        else if (s[0] == 0xed)
            hi = 0x9f; /* no surrogates */
    } else if (s[0] <= 0xf4) {
        len = 4;
        if (s[0] == 0xf0)
            lo = 0x90;
        else if (s[0] == 0xf4)
            hi = 0x8f;
    } else
        return 0;
    for (int i = 1; i < len; i++) {
        if ((size_t)i >= n)
            return -1;
        if (s[i] < (i == 1 ? lo : 0x80) || s[i] > (i == 1 ? hi : 0xbf))
            return 0;
    }
    if (len == 3 && s[0] == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
        return 0;
    return len;
}

/* How many of the last bytes of s[0..n) begin a multi-byte character
 * that n does not hold whole (0 to 3). */
static inline size_t
cut_short(const unsigned char *s, size_t n)
{
    for (size_t k = 1; k <= 3 && k <= n; k++) {
        unsigned c = s[n - k];

        if ((c & 0xc0) == 0x80)
            continue;
        if (c < 0xc0)
            return 0;
        return (c >= 0xf0 ? 4u : c >= 0xe0 ? 3u : 2u) > k ? k : 0;
    }
    return 0;
}

/* 1 when a character reference to cp is allowed (XML 1.0 §2.2 Char). */
static int
xml_char(unsigned long cp)
{
    return cp == 0x9 || cp == 0xa || cp == 0xd ||
           (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) ||
           (cp >= 0x10000 && cp <= 0x10ffff);
}

/* What a '&' at s starts (XML 1.0 §4.1): how many bytes form a valid
 * reference, 0 when it is a bare '&' (as in an unescaped URL query),
 * -2 when it is a character reference to what XML forbids ("&#x1a;"), -1
 * when the chunk ends before that is known. */
static int
reference_length(const char *s, size_t n)
{
    size_t i = 1;

    if (i >= n)
        return -1;
    if (s[1] == '#') {
        unsigned long cp = 0;
        int hex = 0;

        i = 2;
        if (i < n && (s[2] == 'x' || s[2] == 'X')) {
            hex = 1;
            i = 3;
        }
        for (; i < n && i < REF_MAX; i++) {
            unsigned char c = (unsigned char)s[i];

            if (c == ';') {
                if (i == (size_t)(2 + hex))
                    return 0;
                return xml_char(cp) ? (int)i + 1 : -2;
            }
            if (!(hex ? isxdigit(c) : isdigit(c)))
                return 0;
            if (cp < 0x110000)
                cp = cp * (hex ? 16 : 10) +
                     (unsigned long)(isdigit(c) ? c - '0'
                                                : tolower(c) - 'a' + 10);
        }
        return i >= REF_MAX ? 0 : -1;
    }
    for (; i < n && i < REF_MAX; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ';')
            return i > 1 ? (int)i + 1 : 0;
        if (!(isalpha(c) || c == '_' || c == ':' || c >= 0x80 ||
              (i > 1 && (isdigit(c) || c == '.' || c == '-'))))
            return 0;
    }
    return i >= REF_MAX ? 0 : -1;
}

/* The first place needle occurs in s[0..n), or NULL. */
static const char *
find(const char *s, size_t n, const char *needle, size_t nn)
{
    const char *end = s + n, *p;

    for (p = s; (size_t)(end - p) >= nn; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) - nn + 1);
        if (p == NULL)
            return NULL;
        if (memcmp(p, needle, nn) == 0)
            return p;
    }
    return NULL;
}

/* n spaces, for text blanked out. */
static int
blank(struct feed_buf *b, size_t n)
{
    static const char spaces[] = "                                ";
    int rc = 0;

    while (n > 0 && rc == 0) {
        size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

        rc = feed_buf_append(b, spaces, k);
        n -= k;
    }
    return rc;
}

/* Repairs the two slips that make most broken feeds ill-formed, as the
 * text streams by: a bare '&' (in a URL, say) becomes "&amp;", "&#X41;"
 * becomes "&#x41;", and an XML declaration that does not come first (a
 * comment before it) is blanked out. CDATA sections, comments and
 * processing instructions are left alone. Whatever a chunk's end cuts in
 * two waits in rcarry. */
static int repair_piece(struct feed_input *in, const char *s, size_t n,
                        int last);

static int
repair(struct feed_input *in, const char *s, size_t n, int last)
{
    /* What waited is completed from the start of this chunk as a short
     * piece of its own, so that the rest of the chunk needs no copy. A
     * piece is longer than any wait, so each round moves on. */
    while (in->nrcarry > 0) {
        size_t take = n < JOIN_BYTES ? n : JOIN_BYTES;
        int rc;

        feed_buf_reset(&in->joined);
        if ((rc = feed_buf_append(&in->joined, in->rcarry, in->nrcarry)) ||
            (rc = feed_buf_append(&in->joined, s, take)) != 0)
            return rc;
        in->nrcarry = 0;
        rc = repair_piece(in, in->joined.data, in->joined.len,
                          last && take == n);
        if (rc != 0 || take == n)
            return rc;
        s += take;
        n -= take;
    }
    return repair_piece(in, s, n, last);
}

static int
repair_piece(struct feed_input *in, const char *s, size_t n, int last)
{
    const char *p, *end, *run;
    int rc;

    feed_buf_reset(&in->fixed);
    p = run = s;
    end = s + n;
    while (p < end) {
        size_t left = (size_t)(end - p);
        const char *q;

        switch (in->lex) {
        case LEX_CDATA:
        case LEX_COMMENT:
        case LEX_PI: {
            const char *close = in->lex == LEX_CDATA ? "]]>"
                              : in->lex == LEX_COMMENT ? "-->" : "?>";
            size_t nc = strlen(close);

            q = find(p, left, close, nc);
            if (q == NULL) {
                /* The last bytes may begin the close: they wait. */
                const char *stop = last ? end
                                 : left >= nc - 1 ? end - (nc - 1) : p;

                if (in->blank) {
                    if ((rc = feed_buf_append(&in->fixed, run,
                                              (size_t)(p - run))) != 0 ||
                        (rc = blank(&in->fixed, (size_t)(stop - p))) != 0)
                        return rc;
                    run = stop;
                }
                p = stop;
                if (p < end)
                    goto carry;
                break;
            }
            if (in->blank) {
                if ((rc = feed_buf_append(&in->fixed, run,
                                          (size_t)(p - run))) != 0 ||
                    (rc = blank(&in->fixed, (size_t)(q + nc - p))) != 0)
                    return rc;
                run = q + nc;
                in->blank = 0;
            }
            p = q + nc;
            in->lex = LEX_TEXT;
            break;
        }
        default:
            p += scan_xml_refs((const unsigned char *)p, (size_t)(end - p));
            if (p == end)
                break;
            left = (size_t)(end - p);
            if (*p == '<') {
                if (left < 9 && !last &&
                    (memcmp(p, "<![CDATA[", left) == 0 ||
                     memcmp(p, "<!--", left < 4 ? left : 4) == 0 ||
                     memcmp(p, "<?xml ", left < 6 ? left : 6) == 0))
                    goto carry;
                if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
                    in->lex = LEX_CDATA;
                    p += 9;
                } else if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
                    in->lex = LEX_COMMENT;
                    p += 4;
                } else if (left >= 2 && p[1] == '?') {
                    in->lex = LEX_PI;
                    /* An XML declaration after anything at all is an
                     * error to expat; it says nothing new by then. */
                    if (left >= 6 && memcmp(p, "<?xml", 5) == 0 &&
                        isspace((unsigned char)p[5]) &&
                        (in->emitted > 0 || p > s)) {
                        in->blank = 1;
                        continue;
                    }
                    p += 2;
                } else {
                    p++;
                }
                break;
            }
            /* '&': the usual references first, cheaply. */
            if (left >= 4 && p[3] == ';' && (p[1] == 'l' || p[1] == 'g') &&
                p[2] == 't') {
                p += 4;
                break;
            }
            if (left >= 5 && memcmp(p, "&amp;", 5) == 0) {
                p += 5;
                break;
            }
            {
                int len = reference_length(p, left);

                if (len == -1 && !last)
                    goto carry;
                if (len == -2) {
                    /* A reference to a control character: a space. */
                    const char *semi = memchr(p, ';', left);

                    if ((rc = feed_buf_append(&in->fixed, run,
                                              (size_t)(p - run))) != 0 ||
                        (rc = feed_buf_append(&in->fixed, " ", 1)) != 0)
                        return rc;
                    in->repaired = 1;
                    p = run = semi + 1;
                    break;
                }
                if (len > 0) {
                    if (p[1] == '#' && p[2] == 'X') {
                        if ((rc = feed_buf_append(&in->fixed, run,
                                                  (size_t)(p - run))) != 0 ||
                            (rc = feed_buf_append(&in->fixed, "&#x", 3)))
                            return rc;
                        run = p + 3;
                    }
                    p += len;
                    break;
                }
                if ((rc = feed_buf_append(&in->fixed, run,
                                          (size_t)(p - run))) != 0 ||
                    (rc = feed_buf_append(&in->fixed, "&amp;", 5)) != 0)
                    return rc;
                in->repaired = 1;
                run = ++p;
            }
        }
    }
    goto out;
carry:
    /* p..end waits for the next chunk. */
    if ((size_t)(end - p) > sizeof(in->rcarry))
        return FEED_E_INVAL; /* cannot happen: every wait is short */
    memcpy(in->rcarry, p, (size_t)(end - p));
    in->nrcarry = (size_t)(end - p);
    end = p;
out:
    if (in->fixed.len == 0 && run == s) {
        in->emitted += (size_t)(end - s);
        return in->fn(s, (size_t)(end - s), last, in->arg);
    }
    if ((rc = feed_buf_append(&in->fixed, run, (size_t)(end - run))) != 0)
        return rc;
    in->emitted += in->fixed.len;
    return in->fn(in->fixed.data ? in->fixed.data : "", in->fixed.len, last,
                  in->arg);
}

/* Hands s[0..n) on, skipping what comes before the document's first
 * character. A JSON document goes on as it is; XML through repair(). */
static int
emit(struct feed_input *in, const char *s, size_t n, int last)
{
    if (!in->started) {
        while (n > 0) {
            if (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n') {
                s++;
                n--;
            } else if (n >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
                s += 3;
                n -= 3;
            } else
                break;
        }
        if (n == 0 && !last)
            return 0;
        in->started = 1;
        in->json = n > 0 && s[0] == '{';
    }
    if (in->json || !in->careful)
        return in->fn(s, n, last, in->arg);
    return repair(in, s, n, last);
}

/* Cleans UTF-8 (or what claims to be) and hands it on. A valid
 * sequence cut by the end of the chunk waits in the carry for the next
 * one, unless flush says no more is coming for it. */
static int
clean(struct feed_input *in, const char *src, size_t n, int flush, int last)
{
    const unsigned char *s = (const unsigned char *)src, *end = s + n;
    const unsigned char *run;
    char rep[4];
    size_t whole;
    int rc, len;

    /* The fast path: clean UTF-8 is handed on as it is, without a copy;
     * a character cut by the chunk's end waits in the carry. */
    whole = n - cut_short(s, n);
    if (utf8_xml_clean(s, whole)) {
        if (whole == n)
            return emit(in, src, n, last);
        if (!flush && utf8_check(s + whole, n - whole) < 0) {
            memcpy(in->carry, s + whole, n - whole);
            in->ncarry = n - whole;
            return emit(in, src, whole, last);
        }
    }


    feed_buf_reset(&in->out);
    run = (const unsigned char *)src;
    while (s < end) {
        size_t nrep;

        s += scan_xml_ascii(s, (size_t)(end - s));
        if (s == end)
            break;
        if (*s < 0x80) {
            rep[0] = ' ';
            nrep = 1;
        } else if ((len = utf8_check(s, (size_t)(end - s))) > 0) {
            s += len;
            continue;
        } else if (len < 0 && !flush) {
            /* Wait for the rest of this character. */
            memcpy(in->carry, s, (size_t)(end - s));
            in->ncarry = (size_t)(end - s);
            end = s;
            break;
        } else {
            unsigned cp = *s >= 0xa0 ? *s
                        : *s >= 0x80 ? cp1252_high[*s - 0x80]
                                     : 0;

            nrep = put_utf8(cp ? cp : 0xfffd, rep);
            in->repaired = 1;
        }
        if ((rc = feed_buf_append(&in->out, run, (size_t)(s - run))) != 0 ||
            (rc = feed_buf_append(&in->out, rep, nrep)) != 0)
            return rc;
        s++;
        run = s;
    }
    if ((rc = feed_buf_append(&in->out, run, (size_t)(end - run))) != 0)
        return rc;
    return emit(in, in->out.data ? in->out.data : "", in->out.len, last);
}

/* UTF-8 input. A character cut by the last chunk (in the carry) is
 * completed from this one first. */
static int
push_utf8(struct feed_input *in, const char *s, size_t n, int last)
{
    int rc;

    if (!in->careful) {
        /* A document that came whole, in the caller's buffer, is read
         * again from there; else it is kept. */
        if (in->borrow && last) {
            in->whole = s;
            in->nwhole = n;
        } else if ((rc = feed_buf_append(&in->kept, s, n)) != 0) {
            return rc;
        }
        return emit(in, s, n, last);
    }

    while (in->ncarry > 0) {
        unsigned char tmp[8];
        size_t have = in->ncarry, take = n < 4 - have ? n : 4 - have;
        int len;

        if (n == 0 && !last)
            return 0;
        memcpy(tmp, in->carry, have);
        memcpy(tmp + have, s, take);
        len = utf8_check(tmp, have + take);
        if (len < 0 && !last) {
            /* Still cut short: all of s went into the carry. */
            memcpy(in->carry, tmp, have + take);
            in->ncarry = have + take;
            return 0;
        }
        in->ncarry = 0;
        if (len > 0) {
            if ((rc = clean(in, (const char *)tmp, (size_t)len, 1, 0)) != 0)
                return rc;
            s += (size_t)len - have;
            n -= (size_t)len - have;
            continue;
        }
        /* Its first byte is bad: repair that one, and read the rest of
         * the carry again (it may start a character of its own). */
        if ((rc = clean(in, (const char *)tmp, 1, 1, 0)) != 0 ||
            (rc = clean(in, (const char *)tmp + 1, have - 1, 0, 0)) != 0)
            return rc;
    }
    return clean(in, s, n, last, last);
}

/* Other encodings: iconv into UTF-8. The bytes wait in a staging buffer
 * so that a character cut by a chunk's end is completed by the next. */
static int
push_iconv(struct feed_input *in, const char *s, size_t n, int last)
{
    char buf[CONV_CHUNK], *ip, *op;
    size_t il, ol;
    int rc, err;

    if ((rc = feed_buf_append(&in->stage, s, n)) != 0)
        return rc;
    ip = in->stage.data;
    il = in->stage.len;
    while (il > 0) {
        op = buf;
        ol = sizeof(buf);
        err = iconv(in->cd, &ip, &il, &op, &ol) == (size_t)-1 ? errno : 0;
        if ((rc = clean(in, buf, (size_t)(op - buf), 1, 0)) != 0)
            return rc;
        if (err == EILSEQ) {
            /* A byte that means nothing in this encoding. */
            in->repaired = 1;
            ip++;
            il--;
            if ((rc = clean(in, "\xef\xbf\xbd", 3, 1, 0)) != 0)
                return rc;
        } else if (err == EINVAL) {
            break; /* cut short: wait for more */
        } else if (err != 0 && err != E2BIG) {
            return FEED_E_INVAL;
        }
    }
    memmove(in->stage.data ? in->stage.data : buf, ip, il);
    in->stage.len = il;
    if (!last)
        return 0;
    op = buf;
    ol = sizeof(buf);
    iconv(in->cd, NULL, NULL, &op, &ol); /* the end of a shift state */
    if ((rc = clean(in, buf, (size_t)(op - buf), 1, 0)) != 0)
        return rc;
    if (in->stage.len > 0) {
        in->repaired = 1;
        in->stage.len = 0;
        if ((rc = clean(in, "\xef\xbf\xbd", 3, 1, 0)) != 0)
            return rc;
    }
    return clean(in, "", 0, 1, 1);
}

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
        {"utf-8", NULL},          {"utf8", NULL},
        {"unicode-1-1-utf-8", NULL}, {"us-ascii", NULL},
        {"ascii", NULL},          {"ansi_x3.4-1968", NULL},
        {"iso-646-us", NULL},     {"iso-8859-1", "WINDOWS-1252"},
        {"iso8859-1", "WINDOWS-1252"}, {"iso_8859-1", "WINDOWS-1252"},
        {"latin1", "WINDOWS-1252"}, {"latin-1", "WINDOWS-1252"},
        {"l1", "WINDOWS-1252"},   {"cp819", "WINDOWS-1252"},
        {"iso-8859-9", "WINDOWS-1254"}, {"latin5", "WINDOWS-1254"},
        {"iso-8859-11", "WINDOWS-874"}, {"tis-620", "WINDOWS-874"},
        {"gb2312", "GB18030"},    {"gbk", "GB18030"},
        {"x-gbk", "GB18030"},     {"gb_2312-80", "GB18030"},
        {"shift_jis", "CP932"},   {"shift-jis", "CP932"},
        {"sjis", "CP932"},        {"x-sjis", "CP932"},
        {"ms_kanji", "CP932"},    {"windows-31j", "CP932"},
        {"euc-kr", "CP949"},      {"ks_c_5601-1987", "CP949"},
        {"big5", "BIG5-HKSCS"},   {"x-euc-jp", "EUC-JP"},
        {"utf-16", "UTF-16"},     {"unicode", "UTF-16"},
    };
    size_t i;

    for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
        if (strcasecmp(label, map[i].label) == 0)
            return map[i].name;
    return label;
}

/* The encoding named in an XML declaration at the start of s, into
 * name. 0 when there is none. */
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

/* 1 when b[0..n) is UTF-8, a character cut short at the end aside. */
static int
utf8_prefix_valid(const unsigned char *b, size_t n)
{
    const unsigned char *end = b + n;

    while (b < end) {
        int len;

        if (*b < 0x80) {
            b++;
            continue;
        }
        len = utf8_check(b, (size_t)(end - b));
        if (len < 0)
            return 1;
        if (len == 0)
            return 0;
        b += len;
    }
    return 1;
}

int
feed_utf8_valid(const char *s, size_t n)
{
    const unsigned char *b = (const unsigned char *)s, *end = b + n;

    while (b < end) {
        int len = *b < 0x80 ? 1 : utf8_check(b, (size_t)(end - b));

        if (len <= 0)
            return 0;
        b += len;
    }
    return 1;
}

static int
single_byte(const char *name)
{
    static const char *const prefixes[] = {"windows-125", "cp125", "iso-8859",
                                           "iso8859", "koi8", "latin",
                                           "mac"};

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncasecmp(name, prefixes[i], strlen(prefixes[i])) == 0)
            return 1;
    return 0;
}

/* 1 when b[0..n) holds at least one multi-byte UTF-8 character. */
static int
has_utf8_sequences(const unsigned char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (b[i] >= 0xc2 && utf8_check(b + i, n - i) > 1)
            return 1;
    return 0;
}

/* Picks the encoding from the first bytes, held[0..nheld), and sets up
 * the decoder.
 * Returns how many leading bytes (a BOM) to drop. */
static size_t
choose(struct feed_input *in, const char *held, size_t nheld)
{
    const unsigned char *b = (const unsigned char *)held;
    /* Decide on the first SNIFF_BYTES only, however many arrived: the
     * same bytes must always be read the same way, whatever the chunks
     * (a guess from more would differ from poll to poll). */
    size_t n = nheld < SNIFF_BYTES ? nheld : SNIFF_BYTES;
    size_t skip = 0;
    const char *label = NULL, *name;
    char decl[40];
    /* Asked three times below: whether the sample reads as UTF-8. */
    int utf8 = utf8_prefix_valid(b, n);

    if (n >= 4 && !memcmp(b, "\xff\xfe\0\0", 4)) {
        label = "UTF-32LE";
        skip = 4;
    } else if (n >= 4 && !memcmp(b, "\0\0\xfe\xff", 4)) {
        label = "UTF-32BE";
        skip = 4;
    } else if (n >= 3 && !memcmp(b, "\xef\xbb\xbf", 3)) {
        label = "utf-8";
        skip = 3;
    } else if (n >= 2 && !memcmp(b, "\xff\xfe", 2)) {
        label = "UTF-16LE";
        skip = 2;
    } else if (n >= 2 && !memcmp(b, "\xfe\xff", 2)) {
        label = "UTF-16BE";
        skip = 2;
    } else if (n >= 4 && b[0] && !b[1] && !b[2] && !b[3]) {
        label = "UTF-32LE"; /* "<\0\0\0" */
    } else if (n >= 4 && !b[0] && !b[1] && !b[2] && b[3]) {
        label = "UTF-32BE";
    } else if (n >= 2 && b[0] && !b[1]) {
        label = "UTF-16LE"; /* "<\0" */
    } else if (n >= 2 && !b[0] && b[1]) {
        label = "UTF-16BE";
    } else if (in->charset && strncasecmp(in->charset, "utf-16", 6) != 0 &&
               strncasecmp(in->charset, "utf-32", 6) != 0) {
        /* A UTF-16 charset on 8-bit bytes is wrong: the bytes say so. */
        label = in->charset;
    } else if (xml_decl_encoding((const char *)b, n, decl, sizeof(decl)) &&
               strncasecmp(decl, "utf-16", 6) != 0 &&
               strncasecmp(decl, "utf-32", 6) != 0) {
        label = decl;
    }
    /* Nothing says what the bytes are, and they are not UTF-8: guess,
     * from the sample held (chardet's way; feeds in legacy CJK and
     * Cyrillic encodings often declare nothing). */
    if (label == NULL && !utf8) {
        uchardet_t ud = uchardet_new();

        if (ud != NULL) {
            const char *guess;

            if (uchardet_handle_data(ud, (const char *)b, n) == 0) {
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
    name = label ? iconv_name(label) : NULL;
    /* A single-byte encoding declared over bytes that read as UTF-8 with
     * real multi-byte characters: the declaration is the mistake (text
     * in windows-1252 or KOI8-R practically never forms valid UTF-8). */
    if (name && skip == 0 && single_byte(name) && has_utf8_sequences(b, n) &&
        utf8)
        name = NULL;
    in->state = S_UTF8;
    /* Hope for well-formed XML, unless the first bytes already show
     * otherwise or the document is JSON (which no retry covers). */
    {
        size_t k = skip;

        /* What emit() skips: white space and byte order marks. When
         * nothing else is in sight, no hope is taken. */
        while (k < n) {
            if (b[k] == ' ' || b[k] == '\t' || b[k] == '\r' || b[k] == '\n')
                k++;
            else if (n - k >= 3 && memcmp(b + k, "\xef\xbb\xbf", 3) == 0)
                k += 3;
            else
                break;
        }
        in->careful = k == n || b[k] == '{' || !utf8;
    }
    snprintf(in->encoding, sizeof(in->encoding), "utf-8");
    if (name) {
        in->cd = iconv_open("UTF-8", name);
        if (in->cd != (iconv_t)-1) {
            in->state = S_ICONV;
            in->careful = 1; /* iconv's output is cleaned as it comes */
            snprintf(in->encoding, sizeof(in->encoding), "%s", name);
            for (char *c = in->encoding; *c; c++)
                *c = (char)tolower((unsigned char)*c);
        }
    }
    return skip;
}

struct feed_input *
feed_input_new(const char *charset, feed_input_fn *fn, void *arg)
{
    struct feed_input *in = calloc(1, sizeof(*in));

    if (in == NULL)
        return NULL;
    in->fn = fn;
    in->arg = arg;
    in->cd = (iconv_t)-1;
    in->state = S_SNIFF;
    feed_buf_init(&in->held, 0);
    feed_buf_init(&in->out, 0);
    feed_buf_init(&in->stage, 0);
    feed_buf_init(&in->joined, 0);
    feed_buf_init(&in->fixed, 0);
    feed_buf_init(&in->kept, 0);
    if (charset && *charset && (in->charset = strdup(charset)) == NULL) {
        free(in);
        return NULL;
    }
    return in;
}

int
feed_input_push(struct feed_input *in, const char *s, size_t n, int last)
{
    int rc;

    if (in->state == S_SNIFF) {
        size_t skip;

        if (in->held.len + n < SNIFF_BYTES && !last)
            return feed_buf_append(&in->held, s, n);
        if (in->held.len > 0) {
            if ((rc = feed_buf_append(&in->held, s, n)) != 0)
                return rc;
            s = in->held.data;
            n = in->held.len;
        }
        /* Else the first chunk holds enough to decide: read in place. */
        in->borrow = in->held.len == 0;
        skip = choose(in, s ? s : "", n);
        s = s ? s + skip : "";
        n -= skip;
        rc = in->state == S_ICONV ? push_iconv(in, s, n, last)
                                  : push_utf8(in, s, n, last);
        in->borrow = 0;
        feed_buf_free(&in->held);
        return rc;
    }
    if (in->state == S_ICONV)
        return push_iconv(in, s, n, last);
    return push_utf8(in, s, n, last);
}

int
feed_input_can_retry(const struct feed_input *in)
{
    return in->state == S_UTF8 && !in->careful;
}

int
feed_input_retry(struct feed_input *in, int last)
{
    struct feed_buf kept = in->kept;
    const char *s = in->whole ? in->whole : kept.data ? kept.data : "";
    size_t n = in->whole ? in->nwhole : kept.len;
    int rc;

    feed_buf_init(&in->kept, 0);
    in->whole = NULL;
    in->careful = 1;
    in->started = in->json = in->blank = 0;
    in->lex = LEX_TEXT;
    in->ncarry = in->nrcarry = in->emitted = 0;
    rc = push_utf8(in, s, n, last);
    feed_buf_free(&kept);
    return rc;
}

const char *
feed_input_encoding(const struct feed_input *in)
{
    return in->encoding;
}

int
feed_input_repaired(const struct feed_input *in)
{
    return in->repaired;
}

int
feed_input_reset(struct feed_input *in, const char *charset)
{
    struct feed_input was = *in;

    if (in->cd != (iconv_t)-1)
        iconv_close(in->cd);
    free(in->charset);
    memset(in, 0, sizeof(*in));
    in->fn = was.fn;
    in->arg = was.arg;
    in->cd = (iconv_t)-1;
    in->state = S_SNIFF;
#define KEEP(b) (in->b = was.b, feed_buf_reset(&in->b))
    KEEP(held);
    KEEP(out);
    KEEP(stage);
    KEEP(joined);
    KEEP(fixed);
    KEEP(kept);
#undef KEEP
    if (charset && *charset && (in->charset = strdup(charset)) == NULL)
        return FEED_E_NOMEM;
    return 0;
}

void
feed_input_free(struct feed_input *in)
{
    if (in == NULL)
        return;
    if (in->cd != (iconv_t)-1)
        iconv_close(in->cd);
    feed_buf_free(&in->held);
    feed_buf_free(&in->out);
    feed_buf_free(&in->stage);
    feed_buf_free(&in->joined);
    feed_buf_free(&in->fixed);
    feed_buf_free(&in->kept);
    free(in->charset);
    free(in);
}
