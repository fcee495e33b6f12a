#ifndef SOCKEYE_SIM_SSL_H
#define SOCKEYE_SIM_SSL_H
/* OpenSSL helpers for sockeye-sim. OpenSSL 3's key generation entry points are
 * variadic macros that do not import into Swift, so this small C file wraps them. */
#include <stddef.h>

/* TLS streams (https:// Request URLs) and the service thread's timer. Included from here
 * so that build folders whose module cache predates these headers see them: a changed
 * header invalidates the cached module, a new file in the umbrella folder does not. */
#include "sockeye_sim_tls.h"
#include "sockeye_sim_timer.h"

/** Writes a fresh self-signed certificate for CN=127.0.0.1 (SAN IP 127.0.0.1 and
 *  DNS localhost, EC P-256, valid 10 years) and its private key as PEM files.
 *  Returns 0 on success, -1 on any OpenSSL or file error. */
int sockeye_sim_make_self_signed(const char *cert_path, const char *key_path);

/** HMAC-SHA256(key, msg) into out[32]. Returns 0 on success, -1 on failure. */
int sockeye_sim_hmac_sha256(const void *key, size_t key_len,
                            const void *msg, size_t msg_len,
                            unsigned char out[32]);

#endif
