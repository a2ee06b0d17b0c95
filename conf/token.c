#include <sodium.h>

#include "conf/token.h"

void
token_hash(const void *token, size_t len, uint8_t out[CONF_TOKEN_HASH_BYTES])
{
	crypto_generichash(out, CONF_TOKEN_HASH_BYTES, token, len, NULL, 0);
}

int
token_matches(const void *token, size_t len,
    const uint8_t hash[CONF_TOKEN_HASH_BYTES])
{
	uint8_t h[CONF_TOKEN_HASH_BYTES];
	int ok;

	token_hash(token, len, h);
	ok = sodium_memcmp(h, hash, CONF_TOKEN_HASH_BYTES) == 0;
	sodium_memzero(h, sizeof(h));
	return ok;
}
