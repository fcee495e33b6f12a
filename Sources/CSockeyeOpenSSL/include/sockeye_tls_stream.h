#ifndef SOCKEYE_SIM_TLS_H
#define SOCKEYE_SIM_TLS_H
/* TLS streams over connected TCP sockets for sockeye-sim's HTTP delivery (https://
 * Request URLs) and for the in-process test receivers. OpenSSL's SSL_CTX / SSL behind
 * opaque types; every call that waits takes a timeout in milliseconds and puts the
 * socket in non-blocking mode. */
#include <stddef.h>

/** An OpenSSL SSL_CTX (client or server). */
typedef struct sockeye_sim_tls_ctx sockeye_sim_tls_ctx;
/** One TLS session on one socket. */
typedef struct sockeye_sim_tls sockeye_sim_tls;

/** Return values of sockeye_sim_tls_read / _write besides byte counts. */
enum { SOCKEYE_SIM_TLS_EOF = 0, SOCKEYE_SIM_TLS_ERROR = -1, SOCKEYE_SIM_TLS_TIMEOUT = -2 };

/** A client context that verifies servers: against the PEM certificates in ca_file
 *  when it is not NULL, else against the system's default trust store. Returns NULL
 *  and a message in err when ca_file cannot be loaded. */
sockeye_sim_tls_ctx *sockeye_sim_tls_client_ctx(const char *ca_file, char *err, size_t err_len);

/** A server context presenting cert_file with key_file (PEM). NULL and err on failure. */
sockeye_sim_tls_ctx *sockeye_sim_tls_server_ctx(const char *cert_file, const char *key_file,
                                                char *err, size_t err_len);

void sockeye_sim_tls_ctx_free(sockeye_sim_tls_ctx *ctx);

/** Client handshake on the connected socket fd. The certificate must chain to the
 *  context's trust anchors and name host (an IP literal is matched against IP SANs,
 *  a name against DNS SANs; names are also sent as SNI). Returns NULL with a message in
 *  err, e.g. "certificate verify failed: self-signed certificate", on failure or when
 *  timeout_ms passes. The caller still owns and closes fd. */
sockeye_sim_tls *sockeye_sim_tls_connect(sockeye_sim_tls_ctx *ctx, int fd, const char *host,
                                         int timeout_ms, char *err, size_t err_len);

/** Server handshake on the accepted socket fd; NULL and err on failure or timeout. */
sockeye_sim_tls *sockeye_sim_tls_accept(sockeye_sim_tls_ctx *ctx, int fd, int timeout_ms,
                                        char *err, size_t err_len);

/** Reads up to len bytes: the count, SOCKEYE_SIM_TLS_EOF (peer closed),
 *  SOCKEYE_SIM_TLS_ERROR or SOCKEYE_SIM_TLS_TIMEOUT. */
long sockeye_sim_tls_read(sockeye_sim_tls *t, void *buf, size_t len, int timeout_ms);

/** Writes all len bytes: len, SOCKEYE_SIM_TLS_ERROR or SOCKEYE_SIM_TLS_TIMEOUT. */
long sockeye_sim_tls_write(sockeye_sim_tls *t, const void *buf, size_t len, int timeout_ms);

/** Sends close_notify (without waiting for the peer's) and frees the session. The
 *  socket stays open; the caller closes it. NULL is ignored. */
void sockeye_sim_tls_free(sockeye_sim_tls *t);

#endif
