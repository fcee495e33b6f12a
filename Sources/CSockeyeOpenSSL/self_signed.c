/* The self-signed certificate; see include/sockeye_self_signed.h. */
#include "sockeye_self_signed.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>

static int add_ext(X509 *cert, int nid, const char *value) {
    X509V3_CTX ctx;
    X509V3_set_ctx_nodb(&ctx);
    X509V3_set_ctx(&ctx, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
    if (!ext) return -1;
    int ok = X509_add_ext(cert, ext, -1);
    X509_EXTENSION_free(ext);
    return ok ? 0 : -1;
}

int sockeye_make_self_signed(const char *cert_path, const char *key_path) {
    int rc = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    FILE *f = NULL;
    if (!key || !cert) goto out;
    X509_set_version(cert, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 10L * 365 * 24 * 3600);
    X509_set_pubkey(cert, key);
    X509_NAME *name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"sockeye-sim", -1, -1, 0);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"127.0.0.1", -1, -1, 0);
    X509_set_issuer_name(cert, name);
    if (add_ext(cert, NID_subject_alt_name, "IP:127.0.0.1,DNS:localhost") != 0) goto out;
    if (add_ext(cert, NID_basic_constraints, "critical,CA:TRUE") != 0) goto out;
    if (!X509_sign(cert, key, EVP_sha256())) goto out;

    f = fopen(key_path, "w");
    if (!f || !PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL)) goto out;
    fclose(f);
    f = fopen(cert_path, "w");
    if (!f || !PEM_write_X509(f, cert)) goto out;
    rc = 0;
out:
    if (f) fclose(f);
    X509_free(cert);
    EVP_PKEY_free(key);
    return rc;
}
