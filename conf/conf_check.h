/*
 * conf_check.h: the rules of hush.ini beyond single values (internal to
 * conf/): a key's further rule (a JSON path, a variable name), a
 * section's rules (a sealed source needs key_file), and the rules across
 * sections (allow names a credential, sockets are unique, an upstream's
 * credential exists). Each reports at the FILE:LINE of the value.
 */
#ifndef HUSH_CONF_CHECK_H
#define HUSH_CONF_CHECK_H

#include "conf/conf_read.h"
#include "conf/conf_schema.h"

/* Rules of one key, named in its conf_schema row. */
void conf_check_json_paths(struct conf_conv *cv);
void conf_check_varnames(struct conf_conv *cv);
void conf_check_upstream_paths(struct conf_conv *cv);
void conf_check_methods(struct conf_conv *cv);

/* Rules of one section, after its keys (sec is its struct). */
void conf_check_client(struct conf_ld *ld, const struct conf_raw_sec *s,
    void *sec);
void conf_check_cred(struct conf_ld *ld, const struct conf_raw_sec *s,
    void *sec);
void conf_check_upstream(struct conf_ld *ld, const struct conf_raw_sec *s,
    void *sec);

/* Rules across sections, once every section is converted. */
void conf_check_all(struct conf_ld *ld);

#endif
