/*
 * rules.h: compiling redaction rules (the only PCRE2 user).
 */
#ifndef HUSH_RULES_H
#define HUSH_RULES_H

#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"

/*
 * Compiles pattern to check it. On error returns HUSH_ERR_INVALID and
 * writes PCRE2's message (with the offset) into msg. secret_group must
 * name an existing capture group.
 */
int rules_check_pattern(const char *pattern, uint64_t secret_group,
    char *msg, size_t msglen);

/*
 * Checks everything in conf that only the redaction layer understands
 * ([rule] patterns and groups), adding "FILE:LINE: message" to errs.
 * Returns the number of errors added.
 */
size_t rules_check_conf(const struct hush_conf *conf, struct conf_errs *errs);

#endif
