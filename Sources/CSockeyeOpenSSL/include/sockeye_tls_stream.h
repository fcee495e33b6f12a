#ifndef SOCKEYE_TLS_STREAM_H
#define SOCKEYE_TLS_STREAM_H
/*
 * Blocking-with-deadline TLS streams over connected TCP sockets, for the simulator's HTTP
 * delivery to https:// Request URLs and the tests' in-process receivers (the transport uses
 * the memory-BIO sessions of sockeye_tls_bio.h instead). OpenSSL's SSL_CTX / SSL behind
 * opaque types; every call that waits takes a timeout in milliseconds and puts the socket
 * in non-blocking mode.
 *
 * Threading: a context may be shared by streams on any thread; a stream is used by one
 * thread at a time. Ownership: the caller owns every context and stream until its _free
 * function, and always owns (and closes) the socket. Error messages go into the caller's
 * `err` buffer (capacity `err_len`; NULL or 0 for none), truncated to fit.
 */
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/** An OpenSSL SSL_CTX (client or server). */
typedef struct sockeye_tls_stream_ctx sockeye_tls_stream_ctx;
/** One TLS session on one socket. */
typedef struct sockeye_tls_stream sockeye_tls_stream;

/** Return values of sockeye_tls_stream_read / _write besides byte counts. */
enum { SOCKEYE_TLS_STREAM_EOF = 0, SOCKEYE_TLS_STREAM_ERROR = -1, SOCKEYE_TLS_STREAM_TIMEOUT = -2 };

/** A client context (TLS 1.2 or newer) that verifies servers: against the PEM certificates
 *  in `ca_file` when it is not NULL, else against the system's default trust store. Returns
 *  NULL and a message in `err` when the trust anchors cannot be loaded or memory runs out. */
sockeye_tls_stream_ctx *sockeye_tls_stream_client_ctx(const char *ca_file, char *err, size_t err_len);

/** A server context presenting `cert_file` (a PEM chain) with `key_file` (PEM). NULL and a
 *  message in `err` when either cannot be loaded or they do not match. */
sockeye_tls_stream_ctx *sockeye_tls_stream_server_ctx(const char *cert_file, const char *key_file,
                                                      char *err, size_t err_len);

/** Frees a context (NULL is ignored); streams made from it keep their own reference. */
void sockeye_tls_stream_ctx_free(sockeye_tls_stream_ctx *ctx);

/** Client handshake on the connected socket `fd`, within `timeout_ms`. The certificate must
 *  chain to the context's trust anchors and name `host` (an IP literal is matched against IP
 *  SANs, a name against DNS SANs; names are also sent as SNI). Returns NULL with a message in
 *  `err`, e.g. "certificate verify failed: self-signed certificate", on failure or when the
 *  timeout passes. The caller still owns and closes `fd`, also after a failure. */
sockeye_tls_stream *sockeye_tls_stream_connect(sockeye_tls_stream_ctx *ctx, int fd, const char *host,
                                               int timeout_ms, char *err, size_t err_len);

/** Server handshake on the accepted socket `fd` within `timeout_ms`; NULL and a message in
 *  `err` on failure or timeout. The caller still owns and closes `fd`. */
sockeye_tls_stream *sockeye_tls_stream_accept(sockeye_tls_stream_ctx *ctx, int fd, int timeout_ms,
                                              char *err, size_t err_len);

/** Reads up to `len` bytes into the caller's `buf`, waiting at most `timeout_ms`: the count,
 *  SOCKEYE_TLS_STREAM_EOF (the peer closed, with or without close_notify),
 *  SOCKEYE_TLS_STREAM_ERROR or SOCKEYE_TLS_STREAM_TIMEOUT. */
long sockeye_tls_stream_read(sockeye_tls_stream *t, void *buf, size_t len, int timeout_ms);

/** Writes all `len` bytes of `buf` within `timeout_ms` (one deadline for all of them): `len`,
 *  SOCKEYE_TLS_STREAM_ERROR or SOCKEYE_TLS_STREAM_TIMEOUT (some bytes may have gone out). */
long sockeye_tls_stream_write(sockeye_tls_stream *t, const void *buf, size_t len, int timeout_ms);

/** Sends close_notify (without waiting for the peer's) and frees the session. The socket
 *  stays open; the caller closes it. NULL is ignored. */
void sockeye_tls_stream_free(sockeye_tls_stream *t);

#ifdef __cplusplus
}
#endif
#endif
