#ifndef SOCKEYE_TLS_BIO_H
#define SOCKEYE_TLS_BIO_H
/*
 * TLS over memory BIOs for the transport: OpenSSL never touches a socket. The transport
 * feeds ciphertext read from TCP in with sockeye_tls_feed(), pulls ciphertext to write out
 * with sockeye_tls_take_output(), and reads/writes plaintext in between.
 *
 * Threading: a configuration may be shared by sessions on any thread once made. A session
 * is not thread-safe: one thread (the transport's service thread) makes every call on it.
 * Ownership: every object is the caller's until passed to its _free function; strings
 * returned by the session are owned by it and valid until its next call or its free.
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
 * SSL_CERT_DIR if set); otherwise only the certificates in that PEM file are trusted
 * (read during the call). Returns NULL and writes a message into `error` (capacity
 * `error_len`; NULL or 0 for none) when the store cannot be loaded or memory runs out.
 * Thread-safe. The caller frees the result with sockeye_tls_config_free().
 */
sockeye_tls_config *sockeye_tls_config_new(const char *ca_file, char *error, size_t error_len);
/** Frees a configuration (NULL is ignored); sessions made from it keep their own reference. */
void sockeye_tls_config_free(sockeye_tls_config *config);

/**
 * Starts a client session for `host` (SNI unless it is an IP literal; the certificate must
 * match it: DNS name or IP address; `host` is copied). Returns NULL when the session cannot
 * be made: out of memory, or OpenSSL refused `host` as the server name or the name to
 * verify (longer than 255 bytes, for one); `error` (if not NULL) then receives a message
 * saying which. The caller frees the session with sockeye_tls_free().
 */
sockeye_tls *sockeye_tls_new(sockeye_tls_config *config, const char *host, char *error, size_t error_len);
/** Frees a session, with its buffered bytes, without sending anything. */
void sockeye_tls_free(sockeye_tls *tls);

/** Copies ciphertext received from the peer into the session; returns 0, or -1 if it could
 *  not be buffered (out of memory). */
int sockeye_tls_feed(sockeye_tls *tls, const void *bytes, size_t len);
/** Advances the handshake: SOCKEYE_TLS_OK once complete, WANT_MORE, or ERROR (reason in
 *  sockeye_tls_error()). Its output waits in the session (sockeye_tls_take_output). */
int sockeye_tls_handshake(sockeye_tls *tls);
/**
 * Reads decrypted bytes into the caller's `buffer`: the count (> 0), WANT_MORE when nothing
 * is ready, CLOSED after close_notify, ERROR on failure (reason in sockeye_tls_error()).
 */
long sockeye_tls_read(sockeye_tls *tls, void *buffer, size_t capacity);
/** Encrypts `len` plaintext bytes (all of them, or ERROR); the ciphertext waits in the output. */
long sockeye_tls_write(sockeye_tls *tls, const void *bytes, size_t len);
/** Bytes of ciphertext waiting to be sent; cannot fail. */
size_t sockeye_tls_output_pending(sockeye_tls *tls);
/** Moves up to `capacity` bytes of waiting ciphertext into the caller's `buffer`; returns the count. */
size_t sockeye_tls_take_output(sockeye_tls *tls, void *buffer, size_t capacity);
/** Queues a close_notify alert (its ciphertext goes to the output); errors are ignored, as
 *  the connection closes either way. */
void sockeye_tls_shutdown(sockeye_tls *tls);
/**
 * The reason for the last ERROR, as a sentence owned by the session: certificate problems
 * name the verify result ("certificate verify failed: unable to get local issuer
 * certificate", "hostname mismatch: the certificate is not valid for 'localhost'").
 */
const char *sockeye_tls_error(const sockeye_tls *tls);
/** Whether the last error was a certificate verification failure (wrong CA or name): 1 or 0. */
int sockeye_tls_error_is_verification(const sockeye_tls *tls);
/** The negotiated protocol, e.g. "TLSv1.3" (empty before the handshake); a static string. */
const char *sockeye_tls_version(const sockeye_tls *tls);
/** OpenSSL's version text, e.g. "OpenSSL 3.0.x"; a static string; thread-safe. */
const char *sockeye_tls_library_version(void);

#ifdef __cplusplus
}
#endif
#endif
