/*
 * base64.h - RFC 4648 base64, standard and URL-safe alphabets.
 *
 * Encoders return a NUL-terminated string the caller frees.  The decoder
 * accepts either alphabet, with or without padding, ignores whitespace (PEM
 * and kubeconfig data wrap lines) and returns -1 on any other character.
 */
#ifndef NAP_BASE64_H
#define NAP_BASE64_H

#include <stddef.h>

/* Standard alphabet, padded. */
char *nap_base64_encode(const void *data, size_t len);
/* URL-safe alphabet, unpadded (JWT segments). */
char *nap_base64url_encode(const void *data, size_t len);
/* Decode into a new NUL-terminated buffer; *len gets the byte count. */
int nap_base64_decode(const char *in, size_t inlen, unsigned char **out, size_t *len);

#endif
