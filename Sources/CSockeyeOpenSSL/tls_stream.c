#define _POSIX_C_SOURCE 200809L
/* Blocking-with-deadline TLS streams; see include/sockeye_tls_stream.h. */
#include "sockeye_tls_stream.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <poll.h>
#include <stdio.h>
#include <time.h>

struct sockeye_tls_stream_ctx { SSL_CTX *ssl; };
struct sockeye_tls_stream { SSL *ssl; int fd; };

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The oldest queued OpenSSL error as text, or `fallback`. Clears the queue. */
static void error_text(char *err, size_t err_len, const char *what, const char *fallback) {
    unsigned long e = ERR_get_error();
    char buf[256];
    if (e) ERR_error_string_n(e, buf, sizeof buf);
    if (err && err_len) snprintf(err, err_len, "%s: %s", what, e ? buf : fallback);
    ERR_clear_error();
}

static int set_nonblocking(int fd) {
    int flags = fcntl(fd, F_GETFL, 0);
    return flags < 0 ? -1 : fcntl(fd, F_SETFL, flags | O_NONBLOCK);
}

/* Waits until the SSL call that returned `rc` can be retried. 1: retry, 0: timeout,
 * -1: a real error (or EOF when `eof` is set). */
static int wait_retry(SSL *ssl, int fd, int rc, long long deadline, int *eof) {
    int e = SSL_get_error(ssl, rc);
    short events;
    if (e == SSL_ERROR_WANT_READ) events = POLLIN;
    else if (e == SSL_ERROR_WANT_WRITE) events = POLLOUT;
    else {
        /* With SSL_OP_IGNORE_UNEXPECTED_EOF a TCP close without close_notify is EOF too. */
        if (eof) *eof = e == SSL_ERROR_ZERO_RETURN || (e == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 && errno == 0);
        return -1;
    }
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0) return 0;
        struct pollfd p = { .fd = fd, .events = events, .revents = 0 };
        int n = poll(&p, 1, (int)left);
        if (n > 0) return 1;
        if (n == 0) return 0;
        if (errno != EINTR) return -1;
    }
}

/* Takes ownership of `ssl`: the wrapped context, or NULL (and `ssl` freed) when out of memory. */
static sockeye_tls_stream_ctx *wrap_context(SSL_CTX *ssl) {
    sockeye_tls_stream_ctx *ctx = OPENSSL_zalloc(sizeof *ctx);
    if (!ctx) { SSL_CTX_free(ssl); return NULL; }
    ctx->ssl = ssl;
    return ctx;
}

sockeye_tls_stream_ctx *sockeye_tls_stream_client_ctx(const char *ca_file, char *err, size_t err_len) {
    SSL_CTX *ssl = SSL_CTX_new(TLS_client_method());
    if (!ssl) { error_text(err, err_len, "SSL_CTX_new", "failed"); return NULL; }
    SSL_CTX_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    SSL_CTX_set_min_proto_version(ssl, TLS1_2_VERSION);
    SSL_CTX_set_verify(ssl, SSL_VERIFY_PEER, NULL);
    int ok = ca_file ? SSL_CTX_load_verify_locations(ssl, ca_file, NULL) : SSL_CTX_set_default_verify_paths(ssl);
    if (ok != 1) {
        error_text(err, err_len, ca_file ? ca_file : "default trust store", "cannot be loaded");
        SSL_CTX_free(ssl);
        return NULL;
    }
    return wrap_context(ssl);
}

sockeye_tls_stream_ctx *sockeye_tls_stream_server_ctx(const char *cert_file, const char *key_file,
                                                char *err, size_t err_len) {
    SSL_CTX *ssl = SSL_CTX_new(TLS_server_method());
    if (!ssl) { error_text(err, err_len, "SSL_CTX_new", "failed"); return NULL; }
    SSL_CTX_set_options(ssl, SSL_OP_IGNORE_UNEXPECTED_EOF);
    if (SSL_CTX_use_certificate_chain_file(ssl, cert_file) != 1
        || SSL_CTX_use_PrivateKey_file(ssl, key_file, SSL_FILETYPE_PEM) != 1
        || SSL_CTX_check_private_key(ssl) != 1) {
        error_text(err, err_len, cert_file, "certificate or key cannot be loaded");
        SSL_CTX_free(ssl);
        return NULL;
    }
    return wrap_context(ssl);
}

void sockeye_tls_stream_ctx_free(sockeye_tls_stream_ctx *ctx) {
    if (!ctx) return;
    SSL_CTX_free(ctx->ssl);
    OPENSSL_free(ctx);
}

/* Runs SSL_connect or SSL_accept to completion before the deadline. */
static sockeye_tls_stream *handshake(SSL *ssl, int fd, int client, int timeout_ms, char *err, size_t err_len) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        ERR_clear_error();
        int rc = client ? SSL_connect(ssl) : SSL_accept(ssl);
        if (rc == 1) break;
        int w = wait_retry(ssl, fd, rc, deadline, NULL);
        if (w == 1) continue;
        long v = SSL_get_verify_result(ssl);
        if (w == 0) {
            if (err && err_len) snprintf(err, err_len, "TLS handshake timed out");
        } else if (client && v != X509_V_OK) {
            if (err && err_len) snprintf(err, err_len, "certificate verify failed: %s", X509_verify_cert_error_string(v));
            ERR_clear_error();
        } else {
            error_text(err, err_len, "TLS handshake failed", "connection closed by the peer");
        }
        SSL_free(ssl);
        return NULL;
    }
    sockeye_tls_stream *t = OPENSSL_zalloc(sizeof *t);
    if (!t) { SSL_free(ssl); return NULL; }
    t->ssl = ssl;
    t->fd = fd;
    return t;
}

sockeye_tls_stream *sockeye_tls_stream_connect(sockeye_tls_stream_ctx *ctx, int fd, const char *host,
                                         int timeout_ms, char *err, size_t err_len) {
    if (set_nonblocking(fd) != 0) { if (err && err_len) snprintf(err, err_len, "fcntl failed"); return NULL; }
    SSL *ssl = SSL_new(ctx->ssl);
    if (!ssl) { error_text(err, err_len, "SSL_new", "failed"); return NULL; }
    X509_VERIFY_PARAM *param = SSL_get0_param(ssl);
    /* An IP literal is checked against IP SANs; anything else is a DNS name. */
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) != 1) {
        ERR_clear_error();
        if (SSL_set1_host(ssl, host) != 1 || SSL_set_tlsext_host_name(ssl, host) != 1) {
            error_text(err, err_len, "bad host name", host);
            SSL_free(ssl);
            return NULL;
        }
    }
    if (SSL_set_fd(ssl, fd) != 1) { error_text(err, err_len, "SSL_set_fd", "failed"); SSL_free(ssl); return NULL; }
    return handshake(ssl, fd, 1, timeout_ms, err, err_len);
}

sockeye_tls_stream *sockeye_tls_stream_accept(sockeye_tls_stream_ctx *ctx, int fd, int timeout_ms,
                                        char *err, size_t err_len) {
    if (set_nonblocking(fd) != 0) { if (err && err_len) snprintf(err, err_len, "fcntl failed"); return NULL; }
    SSL *ssl = SSL_new(ctx->ssl);
    if (!ssl) { error_text(err, err_len, "SSL_new", "failed"); return NULL; }
    if (SSL_set_fd(ssl, fd) != 1) { error_text(err, err_len, "SSL_set_fd", "failed"); SSL_free(ssl); return NULL; }
    return handshake(ssl, fd, 0, timeout_ms, err, err_len);
}

long sockeye_tls_stream_read(sockeye_tls_stream *t, void *buf, size_t len, int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    for (;;) {
        ERR_clear_error();
        errno = 0;
        size_t got = 0;
        int rc = SSL_read_ex(t->ssl, buf, len, &got);
        if (rc == 1) return (long)got;
        int eof = 0;
        int w = wait_retry(t->ssl, t->fd, rc, deadline, &eof);
        if (w == 1) continue;
        ERR_clear_error();
        if (w == 0) return SOCKEYE_TLS_STREAM_TIMEOUT;
        return eof ? SOCKEYE_TLS_STREAM_EOF : SOCKEYE_TLS_STREAM_ERROR;
    }
}

long sockeye_tls_stream_write(sockeye_tls_stream *t, const void *buf, size_t len, int timeout_ms) {
    long long deadline = now_ms() + timeout_ms;
    size_t done = 0;
    while (done < len) {
        ERR_clear_error();
        size_t wrote = 0;
        int rc = SSL_write_ex(t->ssl, (const unsigned char *)buf + done, len - done, &wrote);
        if (rc == 1) { done += wrote; continue; }
        int w = wait_retry(t->ssl, t->fd, rc, deadline, NULL);
        if (w == 1) continue;
        ERR_clear_error();
        return w == 0 ? SOCKEYE_TLS_STREAM_TIMEOUT : SOCKEYE_TLS_STREAM_ERROR;
    }
    return (long)len;
}

void sockeye_tls_stream_free(sockeye_tls_stream *t) {
    if (!t) return;
    ERR_clear_error();
    (void)SSL_shutdown(t->ssl);
    ERR_clear_error();
    SSL_free(t->ssl);
    OPENSSL_free(t);
}
