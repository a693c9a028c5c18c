/* feeds/repair.c - the streaming repairs of repair.h: one pass over the
 * bytes, a small lexer that knows only what the repairs need (text, tags
 * and their quoted values, CDATA sections, comments, processing
 * instructions, declarations, JSON).
 *
 * The scan (scan()) runs utf8.h's automaton over the bytes with a table
 * per lexer state: valid characters of any length pass, and it stops
 * only at what may need a repair or changes the state: a byte that is
 * not UTF-8, U+FFFE or U+FFFF, a control character XML forbids, a '&'
 * that does not start "&lt;", "&gt;", "&amp;" or "&quot;" (in text, tags
 * and declarations), and the characters that may end a state: in text
 * '<', in a start tag '>', '/' and quotes, in a quoted value its quote,
 * in a CDATA section ']', in a comment '-', in a processing instruction
 * '?'. piece() decides at each stop; at a '<' in text, angle() reads what
 * it starts. A start tag's name goes on the stack of open elements
 * (tags.h); the tag is read on in L_STAG unless it ends right after its
 * name. An end tag that closes the innermost element is passed; another
 * goes to end_tag(), which puts in the end tags of the elements it
 * closes, or drops it. Replacements go into a copy of the piece, started
 * at the first one; a piece that needs none is handed on as it came, in
 * one call. A token that the end of a chunk cuts (a tag only up to the
 * end of its name) waits in hold, and is completed by the start of the
 * next chunk in join. */
#include "repair.h"

#include <stdint.h>
#include <string.h>

#include "tags.h"
#include "utf8.h"

enum lex {
    L_START,
    L_TEXT,
    L_CDATA,
    L_COMMENT,
    L_PI,
    L_JSON,
    L_STAG, /* in a start tag, after its name */
    L_DQ,   /* in a value quoted with '"' */
    L_SQ,   /* in a value quoted with '\'' */
    L_DECL, /* in a "<!" declaration (a DOCTYPE) */
};

/* What each lexer state stops at besides what utf8.h's automaton stops at
 * (bytes that are not UTF-8, U+FFFE, U+FFFF): control characters XML
 * forbids, and the ASCII characters that may end a section, a tag or a
 * quoted value. Where references count (AMP()), the scan stops at '&' too,
 * and in text at '<', by masks beside the table (scan()). */
#define CONTROL(b) ((b) < 0x20 && (b) != '\t' && (b) != '\n' && (b) != '\r')
#define CDATA_STOPS(b) (CONTROL(b) || (b) == ']')
#define COMMENT_STOPS(b) (CONTROL(b) || (b) == '-')
#define PI_STOPS(b) (CONTROL(b) || (b) == '?')
#define STAG_STOPS(b)                                                          \
    (CONTROL(b) || (b) == '>' || (b) == '/' || (b) == '"' || (b) == '\'')
#define DQ_STOPS(b) (CONTROL(b) || (b) == '"')
#define SQ_STOPS(b) (CONTROL(b) || (b) == '\'')
#define DECL_STOPS(b)                                                          \
    (CONTROL(b) || (b) == '>' || (b) == '<' || (b) == '"' || (b) == '\'' ||    \
     (b) == '[' || (b) == ']')
#define AMP(lex) ((lex) == L_TEXT || (lex) >= L_STAG)

static const uint64_t dfa[][256] = {
    [L_TEXT] = UTF8_TABLE(CONTROL),
    [L_CDATA] = UTF8_TABLE(CDATA_STOPS),
    [L_COMMENT] = UTF8_TABLE(COMMENT_STOPS),
    [L_PI] = UTF8_TABLE(PI_STOPS),
    [L_JSON] = UTF8_TABLE(CONTROL),
    [L_STAG] = UTF8_TABLE(STAG_STOPS),
    [L_DQ] = UTF8_TABLE(DQ_STOPS),
    [L_SQ] = UTF8_TABLE(SQ_STOPS),
    [L_DECL] = UTF8_TABLE(DECL_STOPS),
};
static const char *const closes[L_JSON + 1] = {
    [L_CDATA] = "]]>", [L_COMMENT] = "-->", [L_PI] = "?>"};

#define ONES 0x0101010101010101u
#define HIGHS 0x8080808080808080u

/* The 8 bytes at p, the first in the lowest bits whatever the machine. */
static inline uint64_t
load8(const unsigned char *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 |
           (uint64_t)p[3] << 24 | (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 |
           (uint64_t)p[6] << 48 | (uint64_t)p[7] << 56;
}

/* The bytes of w (the first in the lowest bits) that are c: their high
 * bit set. A subtraction's borrow runs on only from a byte that is
 * itself a hit, so the lowest bit set marks the first hit truly (the
 * caller looks at the byte of each other). */
static inline uint64_t
hits8(uint64_t w, unsigned char c)
{
    uint64_t x = w ^ (ONES * c);

    return (x - ONES) & ~x & HIGHS;
}

/* Which byte (0 to 7) the lowest high bit set in m belongs to: m & -m is
 * 1 << (8k + 7), and the multiplication moves byte 7 - k of the constant,
 * which is k, to the top. */
static inline unsigned
first_hit(uint64_t m)
{
    return (unsigned)((((m & (~m + 1)) >> 7) * 0x0001020304050607u) >> 56);
}

/* 1 when the '&' at p starts one of the references escaped HTML is made
 * of, which need nothing (p has 6 bytes). */
static inline int
usual_ref(const unsigned char *p)
{
    return (p[3] == ';' && p[2] == 't' && (p[1] == 'l' || p[1] == 'g')) ||
           memcmp(p, "&amp;", 5) == 0 || memcmp(p, "&quot;", 6) == 0;
}

/* What scan() stops at besides what its table stops at. */
enum { S_AMP = 1, S_LT = 2 };

/* The first byte of p[0..end) that the table t stops at, or the first
 * byte of the character it is part of, or end: an ASCII character the
 * lexer state cares about, a control character, the first byte of a
 * sequence that is not valid UTF-8, is U+FFFE or U+FFFF, or that end
 * cuts short. Eight bytes between checks. With S_AMP in also, it stops
 * too at a '&' that does not start a usual reference, and with S_LT at
 * each '<' (in text, where tags start); the table does not see those,
 * masks of the word do, so that such a stop costs no walk back. */
static const unsigned char *
scan(const unsigned char *p, const unsigned char *end, const uint64_t *t,
     int also)
{
    uint64_t s = UTF8_OK;
    const unsigned char *start;

    while (end - p >= 8) {
        uint64_t u = feed_utf8_step8(t, p, s), m = 0, w;

        if (u == UTF8_STOP)
            break;
        if (also) {
            w = load8(p);
            if (also & S_AMP)
                m = hits8(w, '&');
            if (also & S_LT)
                m |= hits8(w, '<');
        }
        /* Each hit is at a character's start (the table checked the
         * whole word): the ones that need a look are left to the
         * caller. */
        for (; m != 0; m &= m - 1) {
            const unsigned char *q = p + first_hit(m);

            if (*q == '<' || (*q == '&' && (end - q < 6 || !usual_ref(q))))
                return q;
        }
        s = u;
        p += 8;
    }
    /* One byte at a time, from a word that stopped or for the last
     * bytes; a character begun before p began at its first byte. */
    start = p;
    if (s != UTF8_OK)
        while ((*--start & 0xc0) == 0x80)
            ;
    for (; p < end; p++) {
        if (s == UTF8_OK) {
            start = p;
            if (((also & S_AMP) && *p == '&') || ((also & S_LT) && *p == '<'))
                return p;
        }
        s = (t[*p] >> s) & 63;
        if (s == UTF8_STOP)
            return start;
    }
    return s == UTF8_OK ? end : start;
}

/* windows-1252's 0x80..0x9f (WHATWG encoding standard); 0 where the byte
 * is undefined. 0xa0..0xff are Latin-1. */
static const uint16_t cp1252_high[32] = {
    0x20ac, 0,      0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
    0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0,      0x017d, 0,
    0,      0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
    0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0,      0x017e, 0x0178,
};

/* The longest reference looked at: longer than any entity name in use,
 * short enough that a '&' is decided within a few dozen bytes. */
#define REF_MAX 40

/* What a '&' at s[0..n) starts (XML 1.0 §4.1): the length of a valid
 * reference, 0 for a bare '&' (as in an unescaped URL query), -2 for a
 * character reference to what XML forbids ("&#x1a;"), -1 when n ends
 * before that is known. */
static int
reference_length(const unsigned char *s, size_t n)
{
    size_t i = 1;

    if (i >= n)
        return -1;
    if (s[1] == '#') {
        uint32_t cp = 0;
        int hex = 0;

        i = 2;
        if (i < n && (s[2] == 'x' || s[2] == 'X')) {
            hex = 1;
            i = 3;
        }
        for (; i < n && i < REF_MAX; i++) {
            unsigned c = s[i], d;

            if (c == ';') {
                if (i == (size_t)(2 + hex))
                    return 0;
                return feed_utf8_xml_char(cp) ? (int)i + 1 : -2;
            }
            if (c >= '0' && c <= '9')
                d = c - '0';
            else if (hex && (c | 0x20) >= 'a' && (c | 0x20) <= 'f')
                d = (c | 0x20) - 'a' + 10;
            else
                return 0;
            if (cp < 0x110000) /* beyond that it stays beyond */
                cp = cp * (hex ? 16 : 10) + d;
        }
        return i >= REF_MAX ? 0 : -1;
    }
    for (; i < n && i < REF_MAX; i++) {
        unsigned c = s[i];
        int alpha = (c | 0x20) >= 'a' && (c | 0x20) <= 'z';

        if (c == ';')
            return i > 1 ? (int)i + 1 : 0;
        if (!(alpha || c == '_' || c == ':' || c >= 0x80 ||
              (i > 1 && ((c >= '0' && c <= '9') || c == '.' || c == '-'))))
            return 0;
    }
    return i >= REF_MAX ? 0 : -1;
}

/* 1 when s[0..n) is a proper prefix of lit: cut before it is known. */
static int
cut_prefix(const unsigned char *s, size_t n, const char *lit)
{
    return n < strlen(lit) && memcmp(s, lit, n) == 0;
}

/* One pass over a piece of a chunk. */
struct pass {
    struct feed_repair *r;
    const unsigned char *run; /* the start of what is still to copy */
};

/* s[0..len) at p becomes rep[0..nrep) in the output. */
static int
replace(struct pass *ps, const unsigned char *p, size_t len, const char *rep,
        size_t nrep)
{
    struct feed_buf *out = &ps->r->out;
    int rc;

    /* Dropping what comes before anything was copied needs no copy. */
    if (p > ps->run || out->len > 0 || nrep > 0) {
        if ((rc = feed_buf_append(out, ps->run, (size_t)(p - ps->run))) ||
            (rc = feed_buf_append(out, rep, nrep)) != 0)
            return rc;
    }
    ps->run = p + len;
    return 0;
}

/* n spaces in place of s[0..n) at p: a misplaced declaration. */
static int
blank(struct pass *ps, const unsigned char *p, size_t n)
{
    struct feed_buf *out = &ps->r->out;
    int rc;

    if ((rc = replace(ps, p, n, "", 0)) != 0 ||
        (rc = feed_buf_grow_(out, n)) != 0)
        return rc;
    memset(out->data + out->len, ' ', n);
    out->len += n;
    out->data[out->len] = '\0';
    return 0;
}

/* A byte >= 0x80 at p: a character, or a byte read as windows-1252.
 * Returns how many bytes it took (0: cut short, wait), or < 0. */
static int
high(struct pass *ps, const unsigned char *p, size_t left, int last)
{
    uint32_t cp;
    size_t len = feed_utf8_decode(p, left, &cp);
    char rep[4];
    int rc;

    if (len > 0) {
        /* Of the characters of two bytes or more, XML forbids these. */
        if (cp != 0xfffe && cp != 0xffff)
            return (int)len;
        ps->r->repaired = 1;
        rc = replace(ps, p, len, " ", 1);
        return rc ? rc : (int)len;
    }
    if (!last && feed_utf8_cut(p, left))
        return 0;
    cp = *p >= 0xa0 ? *p : cp1252_high[*p - 0x80];
    ps->r->repaired = 1;
    rc = replace(ps, p, 1, rep, feed_utf8_encode(cp ? cp : 0xfffd, rep));
    return rc ? rc : 1;
}

/* The end tag at p names s[0..n), with hash h. Returns 1 to pass it
 * (after the end tags of the elements it closes, put in before p), 0 to
 * drop it, or < 0. */
static int
end_tag(struct pass *ps, const unsigned char *p, const unsigned char *s,
        size_t n, uint32_t h)
{
    struct feed_tags *t = &ps->r->tags;
    struct feed_buf *out = &ps->r->out;
    size_t k = feed_tags_close(t, s, n, h);
    int rc;

    if (k == 0)
        return 0;
    if (k == TAGS_UNKNOWN)
        k = 1;
    if (k > 1) {
        ps->r->repaired = 1;
        if ((rc = replace(ps, p, 0, "", 0)) != 0)
            return rc;
    }
    for (; k > 1; k--) {
        const struct feed_tag *e = &t->open[t->depth - 1];

        if ((rc = feed_buf_append(out, "</", 2)) != 0 ||
            (rc = feed_buf_append(out, t->names + e->off, e->len)) != 0 ||
            (rc = feed_buf_append(out, ">", 1)) != 0)
            return rc;
        ps->r->closed++;
        feed_tags_pop(t);
    }
    feed_tags_pop(t);
    return 1;
}

/* Drops from p (an end tag's '<', or the piece's start while dropping)
 * up to and with its '>' (or up to a '<' that shows it ended), looked
 * for from q. Returns where that ends, or end: then the next piece goes
 * on dropping. */
static const unsigned char *
drop_to(struct pass *ps, const unsigned char *p, const unsigned char *q,
        const unsigned char *end, int *rc)
{
    while (q < end && *q != '>' && *q != '<')
        q++;
    ps->r->drop = q == end;
    if (q < end && *q == '>')
        q++;
    *rc = replace(ps, p, (size_t)(q - p), "", 0);
    return q;
}

/* At a '<' in text, p[0..left): markup starts. Sets *next to where the
 * scan goes on. Returns 0, 1 when the piece ends before what it is is
 * known (p waits), or < 0. text is where the document's text starts in
 * this piece. */
static int
angle(struct pass *ps, const unsigned char *p, size_t left, int last,
      const unsigned char *text, const unsigned char **next)
{
    struct feed_repair *r = ps->r;
    unsigned high;
    uint32_t h;
    int n, rc;

    *next = p + 1;
    if (left < 2)
        return !last;
    if (p[1] == '!') {
        if (!last &&
            (cut_prefix(p, left, "<![CDATA[") || cut_prefix(p, left, "<!--")))
            return 1;
        r->ret = L_TEXT;
        if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
            r->lex = L_CDATA;
            *next = p + 9;
        } else if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            r->lex = L_COMMENT;
            *next = p + 4;
        } else {
            r->lex = L_DECL;
            r->bracket = 0;
            *next = p + 2;
        }
        return 0;
    }
    if (p[1] == '?') {
        if (!last && cut_prefix(p, left, "<?xml "))
            return 1;
        r->lex = L_PI;
        r->ret = L_TEXT;
        /* An XML declaration after anything at all is an error to
         * expat; it says nothing new by then. */
        if (left >= 6 && memcmp(p, "<?xml", 5) == 0 &&
            (p[5] == ' ' || p[5] == '\t' || p[5] == '\r' || p[5] == '\n') &&
            (r->begun || p > text)) {
            r->blank = 1;
            r->repaired = 1;
            *next = p;
        } else {
            *next = p + 2;
        }
        return 0;
    }
    if (p[1] == '/') {
        if (left < 3)
            return !last;
        /* Most often it closes the innermost element. */
        if ((n = (int)feed_tags_is_top(&r->tags, p + 2, left - 2)) > 0) {
            feed_tags_pop(&r->tags);
            *next = p + 2 + n;
            return 0;
        }
        if (!feed_tags_name_start(p[2]))
            return 0;
        if ((n = feed_tags_name(p + 2, left - 2, last, &h, &high)) < 0)
            return 1;
        if ((rc = end_tag(ps, p, p + 2, (size_t)n, h)) < 0)
            return rc;
        if (rc == 1) { /* the rest of it is passed as text */
            *next = high ? p + 2 : p + 2 + n;
            return 0;
        }
        r->dropped++;
        r->repaired = 1;
        *next = drop_to(ps, p, p + 2 + n, p + left, &rc);
        if (last)
            r->drop = 0;
        return rc;
    }
    if (!feed_tags_name_start(p[1]))
        return 0;
    if ((n = feed_tags_name(p + 1, left - 1, last, &h, &high)) < 0)
        return 1;
    feed_tags_push(&r->tags, p + 1, (size_t)n, h);
    /* A tag without attributes and a name in ASCII is done here; the
     * others are read on in L_STAG, from the first byte that the scan
     * has to see. */
    *next = high ? p + 1 : p + 1 + n;
    p += 1 + n;
    left -= 1 + (size_t)n;
    if (!high && n <= TAGS_NAME && left >= 1 && *p == '>') {
        *next = p + 1;
    } else if (!high && n <= TAGS_NAME && left >= 2 && p[0] == '/' &&
               p[1] == '>') {
        feed_tags_pop(&r->tags);
        *next = p + 2;
    } else {
        r->lex = L_STAG;
    }
    return 0;
}

/* At a byte a tag, a quoted value or a declaration stops at (r->lex is
 * L_STAG, L_DQ, L_SQ or L_DECL). Sets *next; returns 1 when the piece
 * ends before it is known what p starts (p waits), else 0. */
static int
in_tag(struct feed_repair *r, const unsigned char *p, size_t left, int last,
       const unsigned char **next)
{
    *next = p + 1;
    switch (*p) {
    case '>':
        if (r->lex == L_STAG || (r->lex == L_DECL && r->bracket == 0))
            r->lex = L_TEXT;
        return 0;
    case '/': /* in L_STAG only */
        if (left < 2)
            return !last;
        if (p[1] == '>') {
            feed_tags_pop(&r->tags);
            r->lex = L_TEXT;
            *next = p + 2;
        }
        return 0;
    case '"':
    case '\'':
        if (r->lex == L_DQ || r->lex == L_SQ) {
            r->lex = r->ret;
        } else {
            r->ret = r->lex;
            r->lex = *p == '"' ? L_DQ : L_SQ;
        }
        return 0;
    case '[':
        r->bracket++;
        return 0;
    case ']':
        r->bracket -= r->bracket > 0;
        return 0;
    default: /* '<' in L_DECL: a comment or a PI is left alone */
        if (!last && (cut_prefix(p, left, "<!--") || cut_prefix(p, left, "<?")))
            return 1;
        if (left >= 4 && memcmp(p, "<!--", 4) == 0) {
            r->ret = L_DECL;
            r->lex = L_COMMENT;
            *next = p + 4;
        } else if (left >= 2 && p[1] == '?') {
            r->ret = L_DECL;
            r->lex = L_PI;
            *next = p + 2;
        }
        return 0;
    }
}

/* Repairs one piece; what a token cut by its end leaves waits in hold. */
static int
piece(struct feed_repair *r, const unsigned char *s, size_t n, int last,
      feed_repair_fn *fn, void *arg)
{
    const unsigned char *p = s, *end = s + n, *next;
    /* Where the document's text starts in this piece (NULL: not yet). */
    const unsigned char *text = r->lex == L_START ? NULL : s;
    struct pass ps = {r, s};
    int rc = 0;

    feed_buf_reset(&r->out);
    while (p < end) {
        size_t left = (size_t)(end - p);
        int k;

        if (r->lex == L_START) {
            /* What comes before the first character goes: white space,
             * byte order marks, what would become a space. */
            if (*p <= ' ') {
                ps.run = ++p;
                continue;
            }
            if (*p >= 0x80) {
                uint32_t cp;
                size_t len = feed_utf8_decode(p, left, &cp);

                if (len == 0 && !last && feed_utf8_cut(p, left))
                    goto hold;
                if (len > 0 && (cp == 0xfeff || !feed_utf8_xml_char(cp))) {
                    ps.run = p += len;
                    continue;
                }
            }
            r->lex = *p == '{' ? L_JSON : L_TEXT;
            text = p;
            continue;
        }
        if (r->drop) {
            p = drop_to(&ps, p, p, end, &rc);
            if (rc != 0)
                return rc;
            if (last)
                r->drop = 0;
            continue;
        }
        if (r->blank) {
            /* Up to the end of the declaration, everything is a space. */
            const unsigned char *q = p;

            while (q < end && !(q[0] == '?' && q + 1 < end && q[1] == '>'))
                q++;
            if (q < end) {
                if ((rc = blank(&ps, p, (size_t)(q + 2 - p))) != 0)
                    return rc;
                ps.run = p = q + 2;
                r->blank = 0;
                r->lex = L_TEXT;
                continue;
            }
            if (!last && end[-1] == '?')
                q = end - 1;
            if ((rc = blank(&ps, p, (size_t)(q - p))) != 0)
                return rc;
            ps.run = p = q;
            if (p < end)
                goto hold;
            break;
        }

        p = scan(p, end, dfa[r->lex],
                 (AMP(r->lex) ? S_AMP : 0) | (r->lex == L_TEXT ? S_LT : 0));
        if (p == end)
            break;
        left = (size_t)(end - p);
        if (*p >= 0x80) {
            if ((k = high(&ps, p, left, last)) < 0)
                return k;
            if (k == 0)
                goto hold;
            p += k;
            continue;
        }
        if (*p < 0x20) {
            r->repaired = 1;
            if ((rc = replace(&ps, p, 1, " ", 1)) != 0)
                return rc;
            p++;
            continue;
        }
        if (*p == '&' && AMP(r->lex)) {
            /* The usual references first, cheaply. */
            if (left >= 4 && p[3] == ';' && (p[1] == 'l' || p[1] == 'g') &&
                p[2] == 't') {
                p += 4;
                continue;
            }
            if (left >= 5 && memcmp(p, "&amp;", 5) == 0) {
                p += 5;
                continue;
            }
            if (left >= 6 && memcmp(p, "&quot;", 6) == 0) {
                p += 6;
                continue;
            }
            k = reference_length(p, left);
            if (k == -1 && !last)
                goto hold;
            if (k == -2) {
                /* A reference to a control character: a space. */
                const unsigned char *semi = memchr(p, ';', left);

                r->repaired = 1;
                if ((rc = replace(&ps, p, (size_t)(semi + 1 - p), " ", 1)))
                    return rc;
                p = semi + 1;
            } else if (k > 0 && p[1] == '#' && p[2] == 'X') {
                r->repaired = 1;
                if ((rc = replace(&ps, p, 3, "&#x", 3)) != 0)
                    return rc;
                p += 3;
            } else if (k > 0) {
                /* Its name is looked at as text: bytes >= 0x80 in it
                 * are checked like any others. */
                p++;
            } else {
                r->repaired = 1;
                if ((rc = replace(&ps, p, 1, "&amp;", 5)) != 0)
                    return rc;
                p++;
            }
            continue;
        }
        if (r->lex == L_TEXT) {
            if ((rc = angle(&ps, p, left, last, text, &next)) < 0)
                return rc;
        } else if (r->lex >= L_STAG) {
            rc = in_tag(r, p, left, last, &next);
        } else { /* ']', '-' or '?': perhaps the end of a section */
            const char *close = closes[r->lex];
            size_t nc = close ? strlen(close) : 0;

            next = p + 1;
            rc = 0;
            if (nc > 0 && left >= nc && memcmp(p, close, nc) == 0) {
                r->lex = r->ret;
                next = p + nc;
            } else if (nc > 0 && !last && cut_prefix(p, left, close)) {
                rc = 1;
            }
        }
        if (rc == 1)
            goto hold;
        p = next;
    }
    goto out;
hold:
    /* p..end waits for the next chunk: a token whose end n cut off. */
    r->nhold = (size_t)(end - p);
    memcpy(r->hold, p, r->nhold);
    end = p;
out:
    if (text != NULL && end > text)
        r->begun = 1;
    if (!last && (r->lex == L_START || (end == ps.run && r->out.len == 0)))
        return 0; /* nothing to hand on yet */
    if (r->out.len == 0)
        return fn((const char *)ps.run, (size_t)(end - ps.run), last, arg);
    if ((rc = feed_buf_append(&r->out, ps.run, (size_t)(end - ps.run))) != 0)
        return rc;
    return fn(r->out.data, r->out.len, last, arg);
}

void
feed_repair_init(struct feed_repair *r)
{
    memset(r, 0, sizeof(*r));
    feed_buf_init(&r->out, 0);
}

void
feed_repair_reset(struct feed_repair *r)
{
    struct feed_buf out = r->out;

    memset(r, 0, sizeof(*r));
    r->out = out;
    feed_buf_reset(&r->out);
}

void
feed_repair_free(struct feed_repair *r)
{
    feed_buf_free(&r->out);
}

int
feed_repair_push(struct feed_repair *r, const char *s, size_t n, int last,
                 feed_repair_fn *fn, void *arg)
{
    const unsigned char *u = (const unsigned char *)s;

    if (n == 0 && !last)
        return 0;
    /* What waited is completed from the start of this chunk, as a short
     * piece of its own, so that the rest of the chunk needs no copy. A
     * join holds more than any token needs to be decided, so each round
     * moves on by at least REPAIR_JOIN - REPAIR_HOLD bytes. */
    while (r->nhold > 0) {
        size_t take = n < REPAIR_JOIN ? n : REPAIR_JOIN, k = r->nhold;
        int rc;

        memcpy(r->join, r->hold, k);
        if (take > 0)
            memcpy(r->join + k, u, take);
        r->nhold = 0;
        rc = piece(r, r->join, k + take, last && take == n, fn, arg);
        if (rc != 0 || take == n)
            return rc;
        u += take;
        n -= take;
    }
    return piece(r, u ? u : (const unsigned char *)"", n, last, fn, arg);
}
