#ifndef SOCKEYE_SELF_SIGNED_H
#define SOCKEYE_SELF_SIGNED_H
/* A self-signed certificate for loopback TLS (the simulator's wss:// and https:// endpoints
 * and the tests' receivers). OpenSSL 3's key generation entry points are variadic macros
 * that do not import into Swift, hence C. */

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Writes a fresh self-signed certificate for CN=127.0.0.1 (SAN IP 127.0.0.1 and DNS
 * localhost, EC P-256, valid 10 years, CA:TRUE so it can be its own trust anchor) to
 * `cert_path` and its unencrypted private key to `key_path`, both PEM, created or truncated
 * with the process's umask (the caller picks a private directory). The paths are read only
 * during the call. Thread-safe (no shared state). Returns 0, or -1 on any OpenSSL or file
 * error; a file may then be left partly written.
 */
int sockeye_make_self_signed(const char *cert_path, const char *key_path);

#ifdef __cplusplus
}
#endif
#endif
