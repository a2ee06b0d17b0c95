#define PCRE2_CODE_UNIT_WIDTH 8
#include <stdio.h>

#include <pcre2.h>

#include "conf/hush_err.h"
#include "redact/rules.h"

int
rules_check_pattern(const char *pattern, uint64_t secret_group, char *msg,
    size_t msglen)
{
	pcre2_code *re;
	PCRE2_UCHAR buf[256];
	PCRE2_SIZE off;
	uint32_t ncap = 0;
	int code;

	re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0,
	    &code, &off, NULL);
	if (re == NULL) {
		pcre2_get_error_message(code, buf, sizeof(buf));
		snprintf(msg, msglen, "%s at offset %zu", (char *)buf,
		    (size_t)off);
		return HUSH_ERR_INVALID;
	}
	(void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	pcre2_code_free(re);
	if (secret_group > ncap) {
		snprintf(msg, msglen, "secret_group %llu but the pattern has "
		    "%u capture group%s", (unsigned long long)secret_group,
		    ncap, ncap == 1 ? "" : "s");
		return HUSH_ERR_INVALID;
	}
	return HUSH_OK;
}

size_t
rules_check_conf(const struct hush_conf *conf, struct conf_errs *errs)
{
	char msg[320];
	size_t i, n = 0;

	for (i = 0; i < conf->nrules; i++) {
		const struct conf_rule *r = &conf->rules[i];

		if (r->pattern == NULL)
			continue;
		if (rules_check_pattern(r->pattern, r->secret_group, msg,
		    sizeof(msg)) != HUSH_OK) {
			conf_errs_add(errs, conf_where_key(&r->where,
			    "pattern"), "rule \"%s\": pattern: %s", r->name,
			    msg);
			n++;
		}
	}
	return n;
}
