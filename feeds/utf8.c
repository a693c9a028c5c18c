/* feeds/utf8.c - is a buffer XML-clean UTF-8? The question the byte
 * layer asks of every chunk before expat sees it, so it is asked 16 bytes
 * at a time where the processor can (SSSE3), byte by byte elsewhere.
 *
 * "XML-clean" means: valid UTF-8 (no overlong forms, no surrogates,
 * nothing above U+10FFFF), whole characters only, no U+FFFE or U+FFFF,
 * and no control character but tab, LF and CR. A chunk that is not goes
 * the slow way in input.c, which finds and repairs each bad byte.
 *
 * The vector version follows the lookup method of Keiser and Lemire,
 * "Validating UTF-8 in less than one instruction per byte" (Software:
 * Practice and Experience, 2021): each byte is judged together with the
 * one before it through three 16-entry tables indexed by nibbles, and
 * what remains (the third and fourth bytes of long sequences) through
 * saturating subtraction. */
#include "scan.h"

#include <string.h>

int
utf8_xml_clean_scalar(const unsigned char *s, size_t n)
{
    const unsigned char *end = s + n;

    while (s < end) {
        unsigned c = *s;
        unsigned char lo = 0x80, hi = 0xbf;
        size_t len;

        if (c < 0x80) {
            if (c < 0x20 && c != '\t' && c != '\n' && c != '\r')
                return 0;
            s++;
            continue;
        }
        if (c < 0xc2 || c > 0xf4)
            return 0;
        len = c <= 0xdf ? 2 : c <= 0xef ? 3 : 4;
        if (c == 0xe0)
            lo = 0xa0;
        else if (c == 0xed)
            hi = 0x9f;
        else if (c == 0xf0)
            lo = 0x90;
        else if (c == 0xf4)
            hi = 0x8f;
        if ((size_t)(end - s) < len || s[1] < lo || s[1] > hi)
            return 0;
        for (size_t i = 2; i < len; i++)
            if ((s[i] & 0xc0) != 0x80)
                return 0;
        if (c == 0xef && s[1] == 0xbf && s[2] >= 0xbe)
            return 0;
        s += len;
    }
    return 1;
}

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#define UTF8_HAVE_X86 1
#include <immintrin.h>

/* What a pair of bytes (the one before, then this one) can be wrong in;
 * a pair is wrong when all three lookups share a bit. */
enum {
    TOO_SHORT = 1 << 0,  /* a lead not followed by a continuation */
    TOO_LONG = 1 << 1,   /* a continuation after ASCII */
    OVERLONG_3 = 1 << 2, /* E0 80..9F */
    TOO_LARGE = 1 << 3,  /* F4 90..BF, F5..FF */
    SURROGATE = 1 << 4,  /* ED A0..BF */
    OVERLONG_2 = 1 << 5, /* C0, C1 */
    LARGE_1000 = 1 << 6, /* F5..FF 80..8F (shares its bit with OVERLONG_4) */
    OVERLONG_4 = 1 << 6, /* F0 80..8F */
    TWO_CONTS = 1 << 7,  /* a continuation after a continuation: checked
                            against the lead by length instead */
    CARRY = TOO_SHORT | TOO_LONG | TWO_CONTS,
};

/* The three tables, as the 16 bytes of each. */
#define PREV_HIGH                                                              \
    TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG, TOO_LONG,      \
        TOO_LONG, TWO_CONTS, TWO_CONTS, TWO_CONTS, TWO_CONTS,                  \
        TOO_SHORT | OVERLONG_2, TOO_SHORT,                                     \
        TOO_SHORT | OVERLONG_3 | SURROGATE,                                    \
        TOO_SHORT | TOO_LARGE | LARGE_1000 | OVERLONG_4
#define PREV_LOW                                                               \
    CARRY | OVERLONG_3 | OVERLONG_2 | OVERLONG_4, CARRY | OVERLONG_2, CARRY,  \
        CARRY, CARRY | TOO_LARGE, CARRY | TOO_LARGE | LARGE_1000,              \
        CARRY | TOO_LARGE | LARGE_1000, CARRY | TOO_LARGE | LARGE_1000,        \
        CARRY | TOO_LARGE | LARGE_1000, CARRY | TOO_LARGE | LARGE_1000,        \
        CARRY | TOO_LARGE | LARGE_1000, CARRY | TOO_LARGE | LARGE_1000,        \
        CARRY | TOO_LARGE | LARGE_1000,                                        \
        CARRY | TOO_LARGE | LARGE_1000 | SURROGATE,                            \
        CARRY | TOO_LARGE | LARGE_1000, CARRY | TOO_LARGE | LARGE_1000
#define THIS_HIGH                                                              \
    TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT, TOO_SHORT,          \
        TOO_SHORT, TOO_SHORT,                                                  \
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | LARGE_1000 |          \
            OVERLONG_4,                                                        \
        TOO_LONG | OVERLONG_2 | TWO_CONTS | OVERLONG_3 | TOO_LARGE,            \
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE,             \
        TOO_LONG | OVERLONG_2 | TWO_CONTS | SURROGATE | TOO_LARGE, TOO_SHORT,  \
        TOO_SHORT, TOO_SHORT, TOO_SHORT

/* A control character that XML does not allow, by both nibbles: any of
 * 0x10..0x1f (bit 1), and 0x00..0x0f but tab, LF and CR (bit 0). */
static const unsigned char ctrl_high[16] = {1, 2},
                           ctrl_low[16] = {3, 3, 3, 3, 3, 3, 3, 3,
                                           3, 2, 2, 3, 3, 2, 3, 3};

static const unsigned char prev_high[16] = {PREV_HIGH},
                           prev_low[16] = {PREV_LOW},
                           this_high[16] = {THIS_HIGH};

/* A lead in the last three bytes of a vector that needs more than is
 * left: each byte less its own limit, saturating, is not zero. */
static const unsigned char cut_limit[32] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xf0 - 1, 0xe0 - 1, 0xc0 - 1};

/* SSSE3: 16 bytes at a time. */
#define UTF8_NAME utf8_xml_clean_ssse3
#define UTF8_TARGET "ssse3"
#define W 16
#define VEC __m128i
#define LOAD(p) _mm_loadu_si128((const __m128i *)(const void *)(p))
#define TABLE(t) LOAD(t)
#define SET1(x) _mm_set1_epi8((char)(x))
#define ZERO() _mm_setzero_si128()
#define AND _mm_and_si128
#define OR _mm_or_si128
#define XOR _mm_xor_si128
#define ANDNOT _mm_andnot_si128
#define EQ _mm_cmpeq_epi8
#define GT _mm_cmpgt_epi8
#define SUBS _mm_subs_epu8
#define LOOKUP _mm_shuffle_epi8
#define SRL4(v) _mm_srli_epi16(v, 4)
#define MASK(v) ((unsigned)_mm_movemask_epi8(v))
#define ALL 0xffffu
#define PREV(v, p, k) _mm_alignr_epi8(v, p, 16 - (k))
#include "utf8_simd.h"

/* AVX2: 32 bytes at a time; the byte shuffles work within each 16-byte
 * half, so the tables are doubled and the bytes before a half come from
 * a permute of the two vectors. */
#define UTF8_NAME utf8_xml_clean_avx2
#define UTF8_TARGET "avx2"
#define W 32
#define VEC __m256i
#define LOAD(p) _mm256_loadu_si256((const __m256i *)(const void *)(p))
#define TABLE(t) _mm256_broadcastsi128_si256(_mm_loadu_si128(                 \
    (const __m128i *)(const void *)(t)))
#define SET1(x) _mm256_set1_epi8((char)(x))
#define ZERO() _mm256_setzero_si256()
#define AND _mm256_and_si256
#define OR _mm256_or_si256
#define XOR _mm256_xor_si256
#define ANDNOT _mm256_andnot_si256
#define EQ _mm256_cmpeq_epi8
#define GT _mm256_cmpgt_epi8
#define SUBS _mm256_subs_epu8
#define LOOKUP _mm256_shuffle_epi8
#define SRL4(v) _mm256_srli_epi16(v, 4)
#define MASK(v) ((unsigned)_mm256_movemask_epi8(v))
#define ALL 0xffffffffu
#define PREV(v, p, k)                                                          \
    _mm256_alignr_epi8(v, _mm256_permute2x128_si256(p, v, 0x21), 16 - (k))
#include "utf8_simd.h"
#endif

int
utf8_xml_clean(const unsigned char *s, size_t n)
{
#ifdef UTF8_HAVE_X86
    if (__builtin_cpu_supports("avx2"))
        return utf8_xml_clean_avx2(s, n);
    if (__builtin_cpu_supports("ssse3"))
        return utf8_xml_clean_ssse3(s, n);
#endif
    return utf8_xml_clean_scalar(s, n);
}

size_t
utf8_xml_clean_versions(utf8_clean_fn *fn, const char **name, size_t max)
{
    size_t k = 0;

    if (k < max)
        fn[k] = utf8_xml_clean_scalar, name[k++] = "scalar";
#ifdef UTF8_HAVE_X86
    if (k < max && __builtin_cpu_supports("ssse3"))
        fn[k] = utf8_xml_clean_ssse3, name[k++] = "ssse3";
    if (k < max && __builtin_cpu_supports("avx2"))
        fn[k] = utf8_xml_clean_avx2, name[k++] = "avx2";
#endif
    return k;
}
