/* daemon/websub_sig.c - the signature of a WebSub push (websub_int.h):
 * W3C WebSub §8, an HMAC of the body keyed with the subscription's
 * secret, with OpenSSL's libcrypto. */
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "websub_int.h"

/* The value of hex digit c, or -1. */
static int
hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

int
websub_sig_check(const char *header, const char *secret, const void *body,
                 size_t len)
{
    static const struct {
        const char *name;
        const EVP_MD *(*md)(void);
    } methods[] = {
        {"sha1", EVP_sha1},
        {"sha256", EVP_sha256},
        {"sha384", EVP_sha384},
        {"sha512", EVP_sha512},
    };
    unsigned char want[EVP_MAX_MD_SIZE], got[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    const char *eq, *hex;
    size_t i, m;

    if (header == NULL || secret == NULL || (eq = strchr(header, '=')) == NULL)
        return 0;
    for (m = 0; m < sizeof(methods) / sizeof(methods[0]); m++)
        if (strlen(methods[m].name) == (size_t)(eq - header) &&
            strncmp(methods[m].name, header, (size_t)(eq - header)) == 0)
            break;
    if (m == sizeof(methods) / sizeof(methods[0]))
        return 0;
    if (HMAC(methods[m].md(), secret, (int)strlen(secret),
             len > 0 ? body : (const void *)"", len, got, &n) == NULL)
        return 0;
    hex = eq + 1;
    if (strlen(hex) != (size_t)n * 2)
        return 0;
    for (i = 0; i < n; i++) {
        int hi = hex_value(hex[2 * i]), lo = hex_value(hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return 0;
        want[i] = (unsigned char)(hi << 4 | lo);
    }
    return CRYPTO_memcmp(want, got, n) == 0;
}
