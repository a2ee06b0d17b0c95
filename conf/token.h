/*
 * token.h: client tokens. A token is "hush_" and 43 base64url characters
 * (32 random bytes); the configuration stores only its BLAKE2b-256 hash
 * (token_hash = 64 hex digits), which hushd compares in constant time.
 */
#ifndef HUSH_TOKEN_H
#define HUSH_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

#define TOKEN_PREFIX		"hush_"
#define TOKEN_RANDOM_BYTES	32
#define TOKEN_LEN		(5 + 43)	/* prefix + base64url, no pad */

/* The stored form of a presented token. */
void token_hash(const void *token, size_t len,
    uint8_t out[CONF_TOKEN_HASH_BYTES]);

/* Whether a presented token matches a stored hash (constant time). */
int token_matches(const void *token, size_t len,
    const uint8_t hash[CONF_TOKEN_HASH_BYTES]);

#endif
