#ifndef SOCKEYE_AEAD_H
#define SOCKEYE_AEAD_H
/* AES-256-GCM, for values kept on servers that must not read them (the installations a
 * cluster of sockeyed nodes shares through NATS: tokens sealed with a key only the nodes
 * derive). One call seals or opens one whole message; nothing is kept between calls. */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Bytes of the key, the nonce and the authentication tag. */
enum {
    SOCKEYE_AEAD_KEY_BYTES = 32,
    SOCKEYE_AEAD_NONCE_BYTES = 12,
    SOCKEYE_AEAD_TAG_BYTES = 16
};

/**
 * Seals `plain` (`plain_len` bytes; NULL with 0 for none) with AES-256-GCM under `key`
 * (32 bytes) and `nonce` (12 bytes, never used twice with the same key: take it from
 * sockeye_random_fill), authenticating `aad` (`aad_len` bytes; NULL with 0 for none) with
 * it. Writes the ciphertext followed by the 16-byte tag into `out`, which the caller owns
 * and must hold `plain_len + 16` bytes (`out` may not overlap the inputs). Every input is
 * read only during the call; nothing is allocated beyond the call, and the cipher context
 * is freed before returning. Thread-safe (no shared state).
 *
 * Returns the bytes written (`plain_len + 16`), or -1 when a length exceeds INT_MAX
 * (OpenSSL takes an int), an argument is NULL where bytes are expected, or OpenSSL fails
 * (memory exhaustion); `out` is then unspecified and must not be used.
 */
long sockeye_aead_seal(const unsigned char key[32], const unsigned char nonce[12],
                       const void *aad, size_t aad_len, const void *plain, size_t plain_len,
                       unsigned char *out);

/**
 * Opens what sockeye_aead_seal wrote: `sealed` (`sealed_len` bytes, ciphertext then the
 * 16-byte tag) under `key` (32 bytes), `nonce` (12 bytes) and the same `aad`. Writes the
 * plaintext into `out`, which the caller owns and must hold `sealed_len - 16` bytes (at
 * least one byte may be passed for an empty plaintext; `out` may not overlap the inputs).
 * The tag is checked before the plaintext is trusted: on any failure `out` is wiped (its
 * `sealed_len - 16` bytes zeroed) so no unauthenticated byte is left in it. Inputs are read
 * only during the call; nothing is kept or allocated beyond it. Thread-safe.
 *
 * Returns the plaintext's length, or -1 when the tag does not match (another key, nonce or
 * aad, or altered bytes), `sealed_len` is shorter than a tag or exceeds INT_MAX, an argument
 * is NULL where bytes are expected, or OpenSSL fails. A failure says nothing about which.
 */
long sockeye_aead_open(const unsigned char key[32], const unsigned char nonce[12],
                       const void *aad, size_t aad_len, const void *sealed, size_t sealed_len,
                       unsigned char *out);

#ifdef __cplusplus
}
#endif
#endif
