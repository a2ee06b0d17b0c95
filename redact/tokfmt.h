/*
 * tokfmt.h: the documented structure of a few token formats, checked on
 * a rule's match (the `check =` of a [rule]). A body that fails its
 * provider's structure is not that token, whatever it looks like; one
 * that passes is masked even if it looks like a placeholder.
 */
#ifndef HUSH_TOKFMT_H
#define HUSH_TOKFMT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * GitHub's token format (ghp_, gho_, ghu_, ghs_, ghr_; npm_ took the
 * same): PREFIX_ then 30 base62 characters and 6 more that are the
 * CRC32 of those 30, in base62 (0-9A-Za-z), left-padded with '0'. A body
 * of another length is a form whose checksum is not documented and is
 * accepted. p[0..len) is the whole token, prefix included.
 */
bool tokfmt_crc32_base62(const uint8_t *p, size_t len);

/*
 * Whether the base64 (standard or URL alphabet, padding optional) text
 * b[0..len) decodes to something that begins with want.
 */
bool tokfmt_b64_starts(const uint8_t *b, size_t len, const char *want);

/*
 * Grafana Cloud glc_ tokens are base64 of a JSON object: the body must
 * decode to '{"'. Other tokens of the rule (glsa_, eyJrIjoi) pass.
 */
bool tokfmt_grafana(const uint8_t *p, size_t len);

/*
 * Amazon Bedrock API keys: a long-term key is ABSK and base64 of
 * "BedrockAPIKey-..."; a short-term key is bedrock-api-key- and base64
 * of a presigned URL on bedrock.amazonaws.com.
 */
bool tokfmt_bedrock(const uint8_t *p, size_t len);

#endif
