/* HMAC-SHA256 and the constant-time compare; see include/sockeye_hmac.h. */
#include "sockeye_hmac.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

int sockeye_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char out[32]) {
    unsigned int len = 32;
    if (key_len > INT_MAX) return -1;
    if (!HMAC(EVP_sha256(), key, (int)key_len, (const unsigned char *)msg, msg_len, out, &len)) return -1;
    return len == 32 ? 0 : -1;
}

int sockeye_memeq_constant_time(const void *a, const void *b, size_t len) {
    return CRYPTO_memcmp(a, b, len) == 0;
}
