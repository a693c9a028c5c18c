/* daemon/strhash.h - the one string hash of daemon/'s tables (hosts,
 * names, paths): FNV-1a over the bytes, its high bits folded into the low
 * ones that a table of a power of two of buckets uses. */
#ifndef FEEDD_STRHASH_H
#define FEEDD_STRHASH_H

#include <stdint.h>

static inline uint64_t
strhash(const char *s)
{
    uint64_t h = UINT64_C(0xcbf29ce484222325);

    for (; *s != '\0'; s++)
        h = (h ^ (unsigned char)*s) * UINT64_C(0x100000001b3);
    return h ^ (h >> 29);
}

#endif
