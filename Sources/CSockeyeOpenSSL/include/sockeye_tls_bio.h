#ifndef SOCKEYE_TLS_H
#define SOCKEYE_TLS_H
/*
 * TLS over memory BIOs for the transport: OpenSSL never touches a socket. The transport
 * feeds ciphertext read from TCP in with sockeye_tls_feed(), pulls ciphertext to write out
 * with sockeye_tls_take_output(), and reads/writes plaintext in between. One object per
 * connection; not thread-safe (the transport's service thread owns it).
 */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Shared settings: TLS 1.2 or newer, peer verification on, the system CA store or a CA file. */
typedef struct sockeye_tls_config sockeye_tls_config;
/** One TLS client session. */
typedef struct sockeye_tls sockeye_tls;

/** Results of the stepping functions. */
enum {
    SOCKEYE_TLS_OK = 1,          /* handshake done / bytes produced */
    SOCKEYE_TLS_WANT_MORE = 0,   /* needs more ciphertext from the peer */
    SOCKEYE_TLS_ERROR = -1,      /* fatal: see sockeye_tls_error() */
    SOCKEYE_TLS_CLOSED = -2      /* the peer sent close_notify */
};

/**
 * Creates a configuration. `ca_file` NULL uses the system CA store (and SSL_CERT_FILE /
 * SSL_CERT_DIR if set); otherwise only the certificates in that PEM file are trusted.
 * Returns NULL and writes a message into `error` (capacity `error_len`) on failure.
 */
sockeye_tls_config *sockeye_tls_config_new(const char *ca_file, char *error, size_t error_len);
/** Frees a configuration; sessions made from it keep their own reference. */
void sockeye_tls_config_free(sockeye_tls_config *config);

/**
 * Starts a client session for `host` (SNI unless it is an IP literal; the certificate must
 * match it: DNS name or IP address). Returns NULL when the session cannot be made: out of
 * memory, or OpenSSL refused `host` as the server name or the name to verify (longer than
 * 255 bytes, for one); `error` (if not NULL) then receives a message saying which.
 */
sockeye_tls *sockeye_tls_new(sockeye_tls_config *config, const char *host, char *error, size_t error_len);
/** Frees a session. */
void sockeye_tls_free(sockeye_tls *tls);

/** Hands ciphertext received from the peer to the session; returns 0, or -1 if it could not be buffered. */
int sockeye_tls_feed(sockeye_tls *tls, const void *bytes, size_t len);
/** Advances the handshake: SOCKEYE_TLS_OK once complete, WANT_MORE, or ERROR. */
int sockeye_tls_handshake(sockeye_tls *tls);
/**
 * Reads decrypted bytes into `buffer`: the count (> 0), WANT_MORE when nothing is ready,
 * CLOSED after close_notify, ERROR on failure.
 */
long sockeye_tls_read(sockeye_tls *tls, void *buffer, size_t capacity);
/** Encrypts `len` plaintext bytes (all of them, or ERROR); the ciphertext waits in the output. */
long sockeye_tls_write(sockeye_tls *tls, const void *bytes, size_t len);
/** Ciphertext waiting to be sent. */
size_t sockeye_tls_output_pending(sockeye_tls *tls);
/** Moves up to `capacity` bytes of waiting ciphertext into `buffer`; returns the count. */
size_t sockeye_tls_take_output(sockeye_tls *tls, void *buffer, size_t capacity);
/** Queues a close_notify alert (its ciphertext goes to the output). */
void sockeye_tls_shutdown(sockeye_tls *tls);
/**
 * The reason for the last ERROR, as a sentence: certificate problems name the verify
 * result ("certificate verify failed: unable to get local issuer certificate",
 * "hostname mismatch: the certificate is not valid for 'localhost'").
 */
const char *sockeye_tls_error(const sockeye_tls *tls);
/** Whether the last error was a certificate verification failure (wrong CA or name). */
int sockeye_tls_error_is_verification(const sockeye_tls *tls);
/** The negotiated protocol, e.g. "TLSv1.3" (empty before the handshake). */
const char *sockeye_tls_version(const sockeye_tls *tls);
/** OpenSSL's version text, e.g. "OpenSSL 3.0.x". */
const char *sockeye_tls_library_version(void);

/** HMAC-SHA256 of `msg` with `key` into `out` (Slack's v0 request signature). Returns 0, or
 *  -1 on failure. Thread-safe; no allocation kept. */
int sockeye_hmac_sha256(const void *key, size_t key_len, const void *msg, size_t msg_len, unsigned char out[32]);

/** 1 when the `len` bytes at `a` and `b` are equal, else 0, in time that depends only on
 *  `len` (signature checks). */
int sockeye_memeq_constant_time(const void *a, const void *b, size_t len);

#ifdef __cplusplus
}
#endif
#endif
