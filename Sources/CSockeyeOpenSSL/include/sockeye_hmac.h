#ifndef SOCKEYE_HMAC_H
#define SOCKEYE_HMAC_H
/* HMAC-SHA256 and a constant-time compare, for Slack's v0 request signatures (the
 * forwarder signs, the ingress verifies, the simulator signs what it delivers). */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Writes HMAC-SHA256(`key`, `msg`) into `out` (32 bytes, owned by the caller).
 * `key` and `msg` are read only during the call; nothing is kept or allocated afterwards.
 * Thread-safe (no shared state). Returns 0, or -1 when `key_len` exceeds INT_MAX (OpenSSL
 * takes an int) or OpenSSL fails (memory exhaustion); `out` is then unspecified.
 */
int sockeye_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char out[32]);

/**
 * 1 when the `len` bytes at `a` and `b` are equal, else 0, in time that depends only on
 * `len`, not on where they differ (so a signature check tells an attacker nothing).
 * Both buffers are the caller's and read only; thread-safe; cannot fail.
 */
int sockeye_memeq_constant_time(const void *a, const void *b, size_t len);

#ifdef __cplusplus
}
#endif
#endif
