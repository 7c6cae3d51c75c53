/*
 * method.h — the DATA_ENCRYPTION_METHOD numbers MasterDnsVPN uses, their
 * names (the names JSON profiles write, shown everywhere a method is
 * printed) and the key length the upstream server generates for each.
 * One table shared by the configuration readers (common/config, profile)
 * and the codec (proto/wire-crypto); it knows nothing of ciphers.
 */
#ifndef MDNS_METHOD_H
#define MDNS_METHOD_H

#include <stddef.h>

enum method {
	METHOD_NONE = 0,
	METHOD_XOR = 1,
	METHOD_CHACHA20 = 2,
	METHOD_AES128GCM = 3,
	METHOD_AES192GCM = 4,
	METHOD_AES256GCM = 5,
};

#define METHOD_MAX 5

/* "none", "xor", "chacha20", "aes-128-gcm", "aes-192-gcm", "aes-256-gcm"
 * for 0..5; NULL otherwise. */
const char *method_name(int method);
/* The method for a name above (case-insensitive), or -1. */
int method_from_name(const char *name);
/*
 * Characters of the key text the upstream server writes to
 * encrypt_key.txt and insists on for method (internal/security): 16 for
 * AES-128, 24 for AES-192, else 32.
 */
size_t method_key_len(int method);

#endif
