/*
 * Fuzzes the configuration reader: any bytes as hush.ini must give either a
 * configuration or errors, never a crash, a leak or a hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf/conf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hush_conf conf;
	struct conf_errs errs;
	char *text;

	if (size > 65536 || sodium_init() < 0)
		return 0;
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	conf_errs_init(&errs);
	/* No stat of sources: the fuzzer must not depend on the machine. */
	if (conf_load_string(&conf, "fuzz.ini", text, CONF_SKIP_SOURCE_CHECKS,
	    NULL, &errs) == 0)
		conf_release(&conf);
	conf_errs_release(&errs);
	free(text);
	return 0;
}
