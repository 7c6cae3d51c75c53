/* SPDX-License-Identifier: MIT */
/*
 * wire-crypto.c — the six upstream frame ciphers (internal/security/
 * codec.go, wire-protocol.md 1.4) on OpenSSL libcrypto: none, XOR with the
 * key text, ChaCha20 without MAC (16-byte nonce = LE counter ‖ 96-bit
 * nonce, which is exactly OpenSSL's 16-byte ChaCha20 IV) and AES-GCM with
 * 12-byte nonce, 16-byte tag and no AAD. Keys are derived once per context
 * and the EVP contexts are reused for every packet (only the IV is set per
 * call), so nothing is allocated per packet. Only upstream frames are ever
 * encrypted; downstream frames travel in clear and never come here.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include "common/method.h"
#include "proto/wire.h"

#define CHACHA_NONCE_LEN 16
#define GCM_NONCE_LEN	 12
#define GCM_TAG_LEN	 16

struct wire_cipher {
	int method;
	uint8_t key[32];
	size_t keylen;
	EVP_CIPHER_CTX *enc;
	EVP_CIPHER_CTX *dec;
};

const char *
wire_method_name(int method)
{
	/* The names users write in profiles are the names everywhere. */
	if (method < 0 || method > WIRE_METHOD_MAX)
		return NULL;
	return method_name(method);
}

int
wire_cipher_overhead(int method)
{
	static const int ovh[] = {0, 0, 16, 28, 28, 28};

	if (method < 0 || method > WIRE_METHOD_MAX)
		return -1;
	return ovh[method];
}

int
wire_cipher_nonce_len(int method)
{
	static const int nl[] = {0, 0, 16, 12, 12, 12};

	if (method < 0 || method > WIRE_METHOD_MAX)
		return -1;
	return nl[method];
}

int
wire_cipher_method(const struct wire_cipher *c)
{
	return c->method;
}

static int
crypto_err(struct err *e, const char *what)
{
	unsigned long code = ERR_get_error();
	char buf[256];

	if (code == 0)
		return err_set(e, "%s failed", what);
	ERR_error_string_n(code, buf, sizeof buf);
	ERR_clear_error();
	return err_set(e, "%s: %s", what, buf);
}

static int
digest(const EVP_MD *md, const char *in, size_t n, uint8_t *out)
{
	unsigned int len = 0;

	return EVP_Digest(in, n, out, &len, md, NULL) == 1 ? 0 : -1;
}

void
wire_cipher_free(struct wire_cipher *c)
{
	if (c == NULL)
		return;
	EVP_CIPHER_CTX_free(c->enc);
	EVP_CIPHER_CTX_free(c->dec);
	OPENSSL_cleanse(c->key, sizeof c->key);
	free(c);
}

struct wire_cipher *
wire_cipher_new(int method, const char *key, size_t keylen, struct err *e)
{
	struct wire_cipher *c;
	const EVP_CIPHER *ev = NULL;

	if (method < 0 || method > WIRE_METHOD_MAX) {
		err_set(e, "invalid encryption method %d (0..5)", method);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->method = method;
	/* The key is the text itself, never hex-decoded (as deriveKey). */
	switch (method) {
	case WIRE_METHOD_NONE:
	case WIRE_METHOD_XOR:
		c->keylen = 32;
		memcpy(c->key, key, MIN(keylen, (size_t)32));
		break;
	case WIRE_METHOD_CHACHA20:
		c->keylen = 32;
		if (digest(EVP_sha256(), key, keylen, c->key) < 0)
			goto crypto;
		ev = EVP_chacha20();
		break;
	case WIRE_METHOD_AES128GCM:
		c->keylen = 16;
		if (digest(EVP_md5(), key, keylen, c->key) < 0)
			goto crypto;
		ev = EVP_aes_128_gcm();
		break;
	case WIRE_METHOD_AES192GCM:
		c->keylen = 24;
		memcpy(c->key, key, MIN(keylen, (size_t)24));
		ev = EVP_aes_192_gcm();
		break;
	case WIRE_METHOD_AES256GCM:
		c->keylen = 32;
		if (digest(EVP_sha256(), key, keylen, c->key) < 0)
			goto crypto;
		ev = EVP_aes_256_gcm();
		break;
	}
	if (ev == NULL)
		return c;
	c->enc = EVP_CIPHER_CTX_new();
	c->dec = EVP_CIPHER_CTX_new();
	if (c->enc == NULL || c->dec == NULL)
		goto crypto;
	if (EVP_EncryptInit_ex(c->enc, ev, NULL, c->key, NULL) != 1 ||
	    EVP_DecryptInit_ex(c->dec, ev, NULL, c->key, NULL) != 1)
		goto crypto;
	return c;
crypto:
	crypto_err(e, wire_method_name(method));
	wire_cipher_free(c);
	return NULL;
}

static void
xor_key(const struct wire_cipher *c, const uint8_t *in, size_t n, uint8_t *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		out[i] = in[i] ^ c->key[i & 31];
}

/* Run an already keyed stream/GCM context over n bytes. */
static int
evp_update(
    EVP_CIPHER_CTX *ctx, int enc, const uint8_t *in, size_t n, uint8_t *out)
{
	int len = 0;

	if (n > INT32_MAX)
		return -1;
	if (enc)
		return EVP_EncryptUpdate(ctx, out, &len, in, (int)n) == 1 &&
			(size_t)len == n ?
		    0 :
		    -1;
	return EVP_DecryptUpdate(ctx, out, &len, in, (int)n) == 1 &&
		(size_t)len == n ?
	    0 :
	    -1;
}

long
wire_encrypt(struct wire_cipher *c, const uint8_t *in, size_t n,
    const uint8_t *nonce, uint8_t *out, size_t cap)
{
	int ovh = wire_cipher_overhead(c->method);
	int nl = wire_cipher_nonce_len(c->method);
	int len = 0;

	if (cap < n || cap - n < (size_t)ovh)
		return -1;
	switch (c->method) {
	case WIRE_METHOD_NONE:
		memmove(out, in, n);
		return (long)n;
	case WIRE_METHOD_XOR:
		xor_key(c, in, n, out);
		return (long)n;
	}
	if (n == 0) /* upstream: empty in, empty out, no nonce */
		return 0;
	if (nonce != NULL)
		memmove(out, nonce, (size_t)nl);
	else if (RAND_bytes(out, nl) != 1)
		return -1;
	if (EVP_EncryptInit_ex(c->enc, NULL, NULL, NULL, out) != 1 ||
	    evp_update(c->enc, 1, in, n, out + nl) < 0)
		return -1;
	if (c->method == WIRE_METHOD_CHACHA20)
		return (long)(n + (size_t)nl);
	if (EVP_EncryptFinal_ex(c->enc, out + nl + n, &len) != 1 ||
	    EVP_CIPHER_CTX_ctrl(
		c->enc, EVP_CTRL_GCM_GET_TAG, GCM_TAG_LEN, out + nl + n) != 1)
		return -1;
	return (long)(n + (size_t)ovh);
}

long
wire_decrypt(struct wire_cipher *c, const uint8_t *in, size_t n, uint8_t *out,
    size_t cap)
{
	uint8_t tag[GCM_TAG_LEN];
	size_t ct;
	int len = 0;

	switch (c->method) {
	case WIRE_METHOD_NONE:
		if (cap < n)
			return -1;
		memmove(out, in, n);
		return (long)n;
	case WIRE_METHOD_XOR:
		if (cap < n)
			return -1;
		xor_key(c, in, n, out);
		return (long)n;
	}
	if (n == 0)
		return 0;
	if (c->method == WIRE_METHOD_CHACHA20) {
		if (n <= CHACHA_NONCE_LEN || cap < n - CHACHA_NONCE_LEN)
			return -1;
		ct = n - CHACHA_NONCE_LEN;
		if (EVP_DecryptInit_ex(c->dec, NULL, NULL, NULL, in) != 1 ||
		    evp_update(c->dec, 0, in + CHACHA_NONCE_LEN, ct, out) < 0)
			return -1;
		return (long)ct;
	}
	/* Go's GCM Open fails below nonce + tag, so do we. */
	if (n < GCM_NONCE_LEN + GCM_TAG_LEN)
		return -1;
	ct = n - GCM_NONCE_LEN - GCM_TAG_LEN;
	if (cap < ct)
		return -1;
	memcpy(tag, in + n - GCM_TAG_LEN, GCM_TAG_LEN);
	if (EVP_DecryptInit_ex(c->dec, NULL, NULL, NULL, in) != 1 ||
	    evp_update(c->dec, 0, in + GCM_NONCE_LEN, ct, out) < 0 ||
	    EVP_CIPHER_CTX_ctrl(
		c->dec, EVP_CTRL_GCM_SET_TAG, GCM_TAG_LEN, tag) != 1)
		return -1;
	if (EVP_DecryptFinal_ex(c->dec, out + ct, &len) != 1) {
		/* Never hand out unauthenticated plaintext. */
		OPENSSL_cleanse(out, ct);
		return -1;
	}
	return (long)ct;
}
