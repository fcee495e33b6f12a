/* AES-256-GCM seal and open; see include/sockeye_aead.h. */
#include "sockeye_aead.h"

#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>

/* An empty input still needs a valid pointer for OpenSSL's update calls. */
static const unsigned char empty_input[1] = {0};

long sockeye_aead_seal(const unsigned char key[32], const unsigned char nonce[12],
                       const void *aad, size_t aad_len, const void *plain, size_t plain_len,
                       unsigned char *out) {
    if (key == NULL || nonce == NULL || out == NULL) return -1;
    if ((aad == NULL && aad_len > 0) || (plain == NULL && plain_len > 0)) return -1;
    if (aad_len > INT_MAX || plain_len > (size_t)INT_MAX - SOCKEYE_AEAD_TAG_BYTES) return -1;
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return -1;
    long result = -1;
    int len = 0;
    int written = 0;
    if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SOCKEYE_AEAD_NONCE_BYTES, NULL) != 1) goto done;
    if (EVP_EncryptInit_ex(ctx, NULL, NULL, key, nonce) != 1) goto done;
    if (aad_len > 0 && EVP_EncryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)aad_len) != 1) goto done;
    if (plain_len > 0) {
        if (EVP_EncryptUpdate(ctx, out, &len, (const unsigned char *)plain, (int)plain_len) != 1) goto done;
        written = len;
    } else if (EVP_EncryptUpdate(ctx, out, &len, empty_input, 0) != 1) {
        goto done;
    }
    if (EVP_EncryptFinal_ex(ctx, out + written, &len) != 1) goto done;
    written += len;
    if ((size_t)written != plain_len) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, SOCKEYE_AEAD_TAG_BYTES, out + written) != 1) goto done;
    result = (long)written + SOCKEYE_AEAD_TAG_BYTES;
done:
    EVP_CIPHER_CTX_free(ctx);
    return result;
}

long sockeye_aead_open(const unsigned char key[32], const unsigned char nonce[12],
                       const void *aad, size_t aad_len, const void *sealed, size_t sealed_len,
                       unsigned char *out) {
    if (key == NULL || nonce == NULL || sealed == NULL || out == NULL) return -1;
    if (aad == NULL && aad_len > 0) return -1;
    if (sealed_len < SOCKEYE_AEAD_TAG_BYTES || sealed_len > INT_MAX || aad_len > INT_MAX) return -1;
    size_t cipher_len = sealed_len - SOCKEYE_AEAD_TAG_BYTES;
    const unsigned char *cipher = (const unsigned char *)sealed;
    /* The tag is copied: OpenSSL's SET_TAG takes a non-const pointer. */
    unsigned char tag[SOCKEYE_AEAD_TAG_BYTES];
    for (size_t i = 0; i < SOCKEYE_AEAD_TAG_BYTES; i++) tag[i] = cipher[cipher_len + i];
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    if (ctx == NULL) return -1;
    long result = -1;
    int len = 0;
    int written = 0;
    if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1) goto done;
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, SOCKEYE_AEAD_NONCE_BYTES, NULL) != 1) goto done;
    if (EVP_DecryptInit_ex(ctx, NULL, NULL, key, nonce) != 1) goto done;
    if (aad_len > 0 && EVP_DecryptUpdate(ctx, NULL, &len, (const unsigned char *)aad, (int)aad_len) != 1) goto done;
    if (cipher_len > 0) {
        if (EVP_DecryptUpdate(ctx, out, &len, cipher, (int)cipher_len) != 1) goto done;
        written = len;
    } else if (EVP_DecryptUpdate(ctx, out, &len, empty_input, 0) != 1) {
        goto done;
    }
    if (EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, SOCKEYE_AEAD_TAG_BYTES, tag) != 1) goto done;
    /* The tag is checked here: only now may the plaintext be trusted. */
    if (EVP_DecryptFinal_ex(ctx, out + written, &len) != 1) goto done;
    written += len;
    if ((size_t)written != cipher_len) goto done;
    result = written;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (result < 0 && cipher_len > 0) OPENSSL_cleanse(out, cipher_len);
    return result;
}
