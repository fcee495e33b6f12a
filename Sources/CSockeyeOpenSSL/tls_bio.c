/* TLS over memory BIOs; see include/sockeye_tls_bio.h. */
#include "sockeye_tls_bio.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sockeye_tls_config {
    SSL_CTX *ctx;
};

struct sockeye_tls {
    SSL *ssl;
    BIO *network_in;   /* ciphertext from the peer, read by OpenSSL */
    BIO *network_out;  /* ciphertext written by OpenSSL, for the peer */
    char host[256];
    char error[512];
    int verification_failed;
};

static void copy_error(char *error, size_t error_len, const char *prefix) {
    if (!error || error_len == 0) return;
    unsigned long code = ERR_get_error();
    if (code) {
        char reason[256];
        ERR_error_string_n(code, reason, sizeof reason);
        snprintf(error, error_len, "%s: %s", prefix, reason);
    } else {
        snprintf(error, error_len, "%s", prefix);
    }
    ERR_clear_error();
}

sockeye_tls_config *sockeye_tls_config_new(const char *ca_file, char *error, size_t error_len) {
    SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
    if (!ctx) {
        copy_error(error, error_len, "cannot create a TLS context");
        return NULL;
    }
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    int loaded = ca_file ? SSL_CTX_load_verify_locations(ctx, ca_file, NULL)
                         : SSL_CTX_set_default_verify_paths(ctx);
    if (loaded != 1) {
        char prefix[600];
        snprintf(prefix, sizeof prefix, "cannot load CA certificates from %s", ca_file ? ca_file : "the system store");
        copy_error(error, error_len, prefix);
        SSL_CTX_free(ctx);
        return NULL;
    }
    sockeye_tls_config *config = calloc(1, sizeof *config);
    if (!config) {
        SSL_CTX_free(ctx);
        if (error && error_len) snprintf(error, error_len, "out of memory");
        return NULL;
    }
    config->ctx = ctx;
    return config;
}

void sockeye_tls_config_free(sockeye_tls_config *config) {
    if (!config) return;
    SSL_CTX_free(config->ctx);
    free(config);
}

static int is_ip_literal(const char *host) {
    ASN1_OCTET_STRING *ip = a2i_IPADDRESS(host);
    if (!ip) return 0;
    ASN1_OCTET_STRING_free(ip);
    return 1;
}

/* Frees a session that could not be completed, with its BIOs. */
static void discard(sockeye_tls *tls) {
    if (tls->ssl) {
        SSL_free(tls->ssl); /* frees the BIOs once they are attached */
    } else {
        BIO_free(tls->network_in);
        BIO_free(tls->network_out);
    }
    free(tls);
}

sockeye_tls *sockeye_tls_new(sockeye_tls_config *config, const char *host, char *error, size_t error_len) {
    if (error && error_len) error[0] = '\0';
    sockeye_tls *tls = calloc(1, sizeof *tls);
    if (!tls) {
        if (error && error_len) snprintf(error, error_len, "cannot create a TLS session: out of memory");
        return NULL;
    }
    tls->ssl = SSL_new(config->ctx);
    tls->network_in = BIO_new(BIO_s_mem());
    tls->network_out = BIO_new(BIO_s_mem());
    if (!tls->ssl || !tls->network_in || !tls->network_out) {
        copy_error(error, error_len, "cannot create a TLS session");
        if (tls->ssl) {
            /* Not attached yet: SSL_free would not free them. */
            BIO_free(tls->network_in);
            BIO_free(tls->network_out);
            tls->network_in = tls->network_out = NULL;
        }
        discard(tls);
        return NULL;
    }
    /* An empty memory BIO reports "retry", not end of file. */
    BIO_set_mem_eof_return(tls->network_in, -1);
    BIO_set_mem_eof_return(tls->network_out, -1);
    SSL_set_bio(tls->ssl, tls->network_in, tls->network_out);
    /* A copy for error messages. It holds every name OpenSSL accepts as a server name
     * (at most 255 bytes); a longer one is refused by SSL_set_tlsext_host_name below. */
    snprintf(tls->host, sizeof tls->host, "%s", host);
    /* Each call can fail (a name OpenSSL refuses, no memory): without its check the
     * handshake would go on with no SNI or, worse, without checking the certificate's name. */
    if (is_ip_literal(host)) {
        if (X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(tls->ssl), host) != 1) {
            copy_error(error, error_len, "cannot set the IP address the TLS certificate must match");
            discard(tls);
            return NULL;
        }
    } else {
        if (SSL_set_tlsext_host_name(tls->ssl, host) != 1) {
            copy_error(error, error_len, "cannot set the TLS server name (SNI)");
            discard(tls);
            return NULL;
        }
        if (SSL_set1_host(tls->ssl, host) != 1) {
            copy_error(error, error_len, "cannot set the host name the TLS certificate must match");
            discard(tls);
            return NULL;
        }
    }
    SSL_set_connect_state(tls->ssl);
    return tls;
}

void sockeye_tls_free(sockeye_tls *tls) {
    if (!tls) return;
    SSL_free(tls->ssl); /* frees both BIOs */
    free(tls);
}

int sockeye_tls_feed(sockeye_tls *tls, const void *bytes, size_t len) {
    if (len == 0) return 0;
    int written = BIO_write(tls->network_in, bytes, (int)len);
    return written == (int)len ? 0 : -1;
}

/* Turns an SSL_get_error result into our codes, recording the reason of a failure. */
static int classify(sockeye_tls *tls, int result, const char *what) {
    int code = SSL_get_error(tls->ssl, result);
    switch (code) {
    case SSL_ERROR_WANT_READ:
    case SSL_ERROR_WANT_WRITE:
        return SOCKEYE_TLS_WANT_MORE;
    case SSL_ERROR_ZERO_RETURN:
        return SOCKEYE_TLS_CLOSED;
    default:
        break;
    }
    long verify = SSL_get_verify_result(tls->ssl);
    if (verify == X509_V_ERR_HOSTNAME_MISMATCH || verify == X509_V_ERR_IP_ADDRESS_MISMATCH) {
        tls->verification_failed = 1;
        snprintf(tls->error, sizeof tls->error,
                 "TLS hostname mismatch: the server's certificate is not valid for '%s'", tls->host);
    } else if (verify != X509_V_OK) {
        tls->verification_failed = 1;
        snprintf(tls->error, sizeof tls->error,
                 "TLS certificate verify failed for '%s': %s (wrong or missing CA? set the CA file option or SSL_CERT_FILE)",
                 tls->host, X509_verify_cert_error_string(verify));
    } else {
        copy_error(tls->error, sizeof tls->error, what);
    }
    ERR_clear_error();
    return SOCKEYE_TLS_ERROR;
}

int sockeye_tls_handshake(sockeye_tls *tls) {
    int result = SSL_do_handshake(tls->ssl);
    if (result == 1) return SOCKEYE_TLS_OK;
    return classify(tls, result, "TLS handshake failed");
}

long sockeye_tls_read(sockeye_tls *tls, void *buffer, size_t capacity) {
    size_t got = 0;
    int result = SSL_read_ex(tls->ssl, buffer, capacity, &got);
    if (result == 1) return (long)got;
    return classify(tls, result, "TLS read failed");
}

long sockeye_tls_write(sockeye_tls *tls, const void *bytes, size_t len) {
    size_t done = 0;
    while (done < len) {
        size_t written = 0;
        int result = SSL_write_ex(tls->ssl, (const char *)bytes + done, len - done, &written);
        if (result != 1) {
            int code = classify(tls, result, "TLS write failed");
            return code == SOCKEYE_TLS_OK ? (long)done : SOCKEYE_TLS_ERROR;
        }
        done += written;
    }
    return (long)done;
}

size_t sockeye_tls_output_pending(sockeye_tls *tls) {
    return (size_t)BIO_ctrl_pending(tls->network_out);
}

size_t sockeye_tls_take_output(sockeye_tls *tls, void *buffer, size_t capacity) {
    int got = BIO_read(tls->network_out, buffer, (int)(capacity > 0x7fffffff ? 0x7fffffff : capacity));
    return got > 0 ? (size_t)got : 0;
}

void sockeye_tls_shutdown(sockeye_tls *tls) {
    SSL_shutdown(tls->ssl);
    ERR_clear_error();
}

const char *sockeye_tls_error(const sockeye_tls *tls) { return tls->error; }

int sockeye_tls_error_is_verification(const sockeye_tls *tls) { return tls->verification_failed; }

const char *sockeye_tls_version(const sockeye_tls *tls) {
    return SSL_is_init_finished(tls->ssl) ? SSL_get_version(tls->ssl) : "";
}

const char *sockeye_tls_library_version(void) { return OpenSSL_version(OPENSSL_VERSION); }
