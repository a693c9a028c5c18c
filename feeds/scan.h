/* feeds/scan.h - the byte scans on feedd's hot path (internal to feeds/):
 * each returns how many bytes at the start of s need no attention, 16 at
 * a time with SSE2 where the compiler has it (every x86-64 does), byte
 * by byte elsewhere. */
#ifndef FEEDS_SCAN_H
#define FEEDS_SCAN_H

#include <stddef.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* 1 when s[0..n) is XML-clean UTF-8: valid, whole characters, no U+FFFE
 * or U+FFFF, no control character but tab, LF and CR (utf8.c). The
 * scalar version is the reference the vector one is tested against. */
int utf8_xml_clean(const unsigned char *s, size_t n);
int utf8_xml_clean_scalar(const unsigned char *s, size_t n);

/* For tests: each version this machine can run and its name, the scalar
 * one first; returns how many (at most max). */
typedef int (*utf8_clean_fn)(const unsigned char *s, size_t n);
size_t utf8_xml_clean_versions(utf8_clean_fn *fn, const char **name,
                               size_t max);

/* Bytes that are ASCII and allowed in XML: 0x20..0x7f, tab, LF, CR. */
static inline size_t
scan_xml_ascii(const unsigned char *s, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(0x20), tab = _mm_set1_epi8('\t'),
                  lf = _mm_set1_epi8('\n'), cr = _mm_set1_epi8('\r');

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* Signed: bytes >= 0x80 are negative, so "less than space"
         * catches them together with the control characters. */
        __m128i bad = _mm_cmplt_epi8(v, space);
        __m128i ok = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v, tab),
                                               _mm_cmpeq_epi8(v, lf)),
                                  _mm_cmpeq_epi8(v, cr));
        int mask = _mm_movemask_epi8(_mm_andnot_si128(ok, bad));

        if (mask)
            return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    for (; i < n; i++) {
        unsigned char c = s[i];

        if (c >= 0x80 || (c < 0x20 && c != '\t' && c != '\n' && c != '\r'))
            break;
    }
    return i;
}

/* The JSON scans copy as they look: each returns how many bytes at the
 * start of s go into a JSON string as they are, having copied them to
 * out. It may copy more of s than it returns, but never past out[n). */

/* Bytes that go into a JSON string as they are: all but control
 * characters, '"' and '\\'; and, unless utf8 says the string is known
 * to be valid UTF-8, but bytes >= 0x80 (each is looked at). */
static inline size_t
scan_json_sse2(const unsigned char *s, size_t n, char *out, int utf8)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i space = _mm_set1_epi8(0x20), quote = _mm_set1_epi8('"'),
                  bslash = _mm_set1_epi8('\\'), minus1 = _mm_set1_epi8(-1);

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        /* Signed: bytes >= 0x80 are negative, below space too; 0x00..0x1f
         * alone are those not negative as well. */
        __m128i low = _mm_cmplt_epi8(v, space);
        __m128i bad = _mm_or_si128(
            utf8 ? _mm_and_si128(_mm_cmpgt_epi8(v, minus1), low) : low,
            _mm_or_si128(_mm_cmpeq_epi8(v, quote),
                         _mm_cmpeq_epi8(v, bslash)));
        int mask = _mm_movemask_epi8(bad);

        _mm_storeu_si128((__m128i *)(void *)(out + i), v);
        if (mask)
            return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    for (; i < n; i++) {
        if (s[i] < 0x20 || (!utf8 && s[i] >= 0x80) || s[i] == '"' ||
            s[i] == '\\')
            break;
        out[i] = (char)s[i];
    }
    return i;
}

static inline size_t
scan_json_plain(const unsigned char *s, size_t n, char *out)
{
    return scan_json_sse2(s, n, out, 0);
}

static inline size_t
scan_json_utf8_sse2(const unsigned char *s, size_t n, char *out)
{
    return scan_json_sse2(s, n, out, 1);
}

/* Bytes that XML character data takes as they are: all but & < > ". */
static inline size_t
scan_xml_plain(const unsigned char *s, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'),
                  gt = _mm_set1_epi8('>'), quote = _mm_set1_epi8('"');

    for (; i + 16 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i hit = _mm_or_si128(
            _mm_or_si128(_mm_cmpeq_epi8(v, amp), _mm_cmpeq_epi8(v, lt)),
            _mm_or_si128(_mm_cmpeq_epi8(v, gt), _mm_cmpeq_epi8(v, quote)));
        int mask = _mm_movemask_epi8(hit);

        if (mask)
            return i + (size_t)__builtin_ctz((unsigned)mask);
    }
#endif
    for (; i < n; i++)
        if (s[i] == '&' || s[i] == '<' || s[i] == '>' || s[i] == '"')
            break;
    return i;
}

/* 1 when s (n bytes) starts with one of the references escaped HTML is
 * made of: &lt; &gt; &amp; &quot;. */
static inline int
scan_plain_ref(const unsigned char *s, size_t n)
{
    if (n < 6)
        return 0;
    if (s[3] == ';' && s[2] == 't' && (s[1] == 'l' || s[1] == 'g'))
        return 1;
    return (s[4] == ';' && memcmp(s, "&amp", 4) == 0) ||
           (s[5] == ';' && memcmp(s, "&quot", 5) == 0);
}

/* Bytes before the next '&' that is not one of those, or '<' that opens
 * a comment, CDATA section, declaration or processing instruction ("<!",
 * "<?"): plain tags and plain references need no look. The byte after
 * the last one counts as '!' when unknown, so that the caller looks. */
static inline size_t
scan_xml_refs_sse2(const unsigned char *s, size_t n)
{
    size_t i = 0;

#ifdef __SSE2__
    const __m128i amp = _mm_set1_epi8('&'), lt = _mm_set1_epi8('<'),
                  bang = _mm_set1_epi8('!'), qm = _mm_set1_epi8('?');

    for (; i + 17 <= n; i += 16) {
        __m128i v = _mm_loadu_si128((const __m128i *)(const void *)(s + i));
        __m128i w =
            _mm_loadu_si128((const __m128i *)(const void *)(s + i + 1));
        __m128i open = _mm_and_si128(
            _mm_cmpeq_epi8(v, lt),
            _mm_or_si128(_mm_cmpeq_epi8(w, bang), _mm_cmpeq_epi8(w, qm)));
        unsigned mask = (unsigned)_mm_movemask_epi8(
            _mm_or_si128(_mm_cmpeq_epi8(v, amp), open));

        for (; mask; mask &= mask - 1) {
            size_t k = i + (size_t)__builtin_ctz(mask);

            if (s[k] != '&' || !scan_plain_ref(s + k, n - k))
                return k;
        }
    }
#endif
    for (; i < n; i++)
        if ((s[i] == '&' && !scan_plain_ref(s + i, n - i)) ||
            (s[i] == '<' && (i + 1 == n || s[i + 1] == '!' || s[i + 1] == '?')))
            break;
    return i;
}

/* Twice as wide where the processor has AVX2 (checked at each call: a
 * load and a test): the repair scan of a feed read carefully, and the
 * JSON output of `feedd parse`. */
#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define SCAN_HAVE_AVX2 1
#include <immintrin.h>

__attribute__((target("avx2"))) static size_t
scan_xml_refs_avx2(const unsigned char *s, size_t n)
{
    const __m256i amp = _mm256_set1_epi8('&'), lt = _mm256_set1_epi8('<'),
                  bang = _mm256_set1_epi8('!'), qm = _mm256_set1_epi8('?');
    size_t i = 0;

    for (; i + 33 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        __m256i w =
            _mm256_loadu_si256((const __m256i *)(const void *)(s + i + 1));
        __m256i open = _mm256_and_si256(
            _mm256_cmpeq_epi8(v, lt),
            _mm256_or_si256(_mm256_cmpeq_epi8(w, bang),
                            _mm256_cmpeq_epi8(w, qm)));
        unsigned mask = (unsigned)_mm256_movemask_epi8(
            _mm256_or_si256(_mm256_cmpeq_epi8(v, amp), open));

        for (; mask; mask &= mask - 1) {
            size_t k = i + (size_t)__builtin_ctz(mask);

            if (s[k] != '&' || !scan_plain_ref(s + k, n - k))
                return k;
        }
    }
    return i + scan_xml_refs_sse2(s + i, n - i);
}

__attribute__((target("avx2"))) static inline size_t
scan_json_utf8_avx2(const unsigned char *s, size_t n, char *out)
{
    const __m256i space = _mm256_set1_epi8(0x20),
                  quote = _mm256_set1_epi8('"'),
                  bslash = _mm256_set1_epi8('\\'),
                  minus1 = _mm256_set1_epi8(-1);
    size_t i = 0;

    for (; i + 32 <= n; i += 32) {
        __m256i v = _mm256_loadu_si256((const __m256i *)(const void *)(s + i));
        __m256i ctrl = _mm256_and_si256(_mm256_cmpgt_epi8(v, minus1),
                                        _mm256_cmpgt_epi8(space, v));
        unsigned mask = (unsigned)_mm256_movemask_epi8(_mm256_or_si256(
            ctrl, _mm256_or_si256(_mm256_cmpeq_epi8(v, quote),
                                  _mm256_cmpeq_epi8(v, bslash))));

        _mm256_storeu_si256((__m256i *)(void *)(out + i), v);
        if (mask)
            return i + (size_t)__builtin_ctz(mask);
    }
    return i + scan_json_utf8_sse2(s + i, n - i, out + i);
}

static inline size_t
scan_xml_refs(const unsigned char *s, size_t n)
{
    return __builtin_cpu_supports("avx2") ? scan_xml_refs_avx2(s, n)
                                          : scan_xml_refs_sse2(s, n);
}

#else
#define scan_xml_refs scan_xml_refs_sse2
#endif

#endif
