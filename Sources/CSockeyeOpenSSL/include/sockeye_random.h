#ifndef SOCKEYE_RANDOM_H
#define SOCKEYE_RANDOM_H
/* Bytes from the kernel's CSPRNG, for Swift (glibc's getrandom does not import). It sits
 * with the OpenSSL helpers as the transport's other source of secrets (WebSocket masks). */
#include <stddef.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Fills up to `len` bytes of the caller's `buffer` with one getrandom(2) call (blocking
 * only until the kernel's pool is initialised, at boot). Thread-safe. Returns the bytes
 * written, which may be fewer than `len` for a large request interrupted by a signal, or
 * -1 (errno set) on failure.
 */
ssize_t sockeye_random_fill(void *buffer, size_t len);

#ifdef __cplusplus
}
#endif
#endif
