/*
 * conf_schema.h: the schema of hush.ini, written once, as a table (internal
 * to conf/). Each row names a section kind, a key, its type, its default
 * (written as in docs/config.md and converted like a value from the file),
 * its limits and where the value goes (offsetof into the section's
 * struct). The converters are one per type and driven by the rows.
 *
 * Adding a key: one row in conf_schema.c, the field in conf.h and its line
 * in docs/config.md (test_conf_schema checks that the table and the docs
 * name the same keys). Defaults, conversion, "missing KEY" and freeing
 * all follow from the row.
 */
#ifndef HUSH_CONF_SCHEMA_H
#define HUSH_CONF_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf_err.h"

enum conf_sec {
	CONF_SEC_BROKER,
	CONF_SEC_REDACT,
	CONF_SEC_CLIENT,
	CONF_SEC_CREDENTIAL,
	CONF_SEC_RULE,
	CONF_SEC_UPSTREAM,
	CONF_SEC_NKINDS
};

enum conf_type {
	CONF_T_BOOL,		/* bool */
	CONF_T_UINT,		/* uint64_t in [min, max] */
	CONF_T_SIZE,		/* uint64_t bytes in [min, max], "64KiB" */
	CONF_T_DURATION,	/* uint64_t ms in [min, max], "30s" */
	CONF_T_BITS,		/* double, 0..8 bits per character */
	CONF_T_MODE,		/* mode_t, octal */
	CONF_T_RATE,		/* struct val_rate */
	CONF_T_ENUM,		/* int: the index of the value in words */
	CONF_T_STRING,		/* char *, no control characters */
	CONF_T_PATH,		/* char *, made absolute; words kept as is */
	CONF_T_SOCKET,		/* char *, absolute, fits sun_path */
	CONF_T_LIST,		/* char ** (NULL-terminated), aux: size_t n */
	CONF_T_VARNAME,		/* char *, one environment variable name */
	CONF_T_USER,		/* uid_t, a user that exists; aux: char *
				 * name as written */
	CONF_T_GROUP,		/* gid_t, a group that exists; aux as USER */
	CONF_T_UID,		/* uid_t, a number or a user that exists */
	CONF_T_GID,		/* gid_t, a number or a group that exists */
	CONF_T_HEX,		/* uint8_t[min], written as 2*min hex digits */
	CONF_T_URL,		/* char *, https:// (http:// on loopback) */
	CONF_T_HEADER,		/* "Name: pre{value}post": char * name,
				 * aux: char * pre, aux2: char * post */
	CONF_T_NTYPES
};

#define CONF_NOFIELD	((size_t)-1)

struct conf_ld;
struct conf_raw_sec;

/* One value being converted. */
struct conf_conv {
	struct conf_ld		*ld;	/* NULL while setting a default */
	const struct conf_key	*k;
	const char		*value;
	struct conf_loc		 loc;
	const char		*subject;	/* the section's name, or NULL */
	void			*sec;		/* the section's struct */
};

struct conf_key {
	enum conf_sec	 sec;
	const char	*key;
	enum conf_type	 type;
	size_t		 off;		/* the value in the section's struct */
	size_t		 aux;		/* see enum conf_type, or CONF_NOFIELD */
	size_t		 aux2;
	size_t		 has;		/* a bool set when given and valid, or
					 * CONF_NOFIELD */
	uint64_t	 min, max;	/* limits of numbers; HEX: bytes */
	const char	*dflt;		/* as written in docs/config.md, or NULL */
	const char *const *words;	/* ENUM: the names; PATH: kept as is */
	const char	*hint;		/* more words for a bad value, or NULL */
	const char	*required;	/* NULL: optional; else the hint after
					 * "missing KEY" ("" for none) */
	/* a further rule of this key, run on the converted value */
	void		(*check)(struct conf_conv *cv);
};

/* The table, ended by a row whose key is NULL. */
extern const struct conf_key conf_schema[];

/* "broker", "client", ... */
const char *conf_sec_name(enum conf_sec kind);
/* Whether a section kind takes a quoted name: [client "name"]. */
bool conf_sec_has_subject(enum conf_sec kind);
/* The section kind named word, or -1. */
int conf_sec_find(const char *word);
/* The names of every section kind, NULL-terminated (for suggestions). */
const char *const *conf_sec_names(void);

/* The row of key in a section kind, or NULL. */
const struct conf_key *conf_schema_find(enum conf_sec kind, const char *key);

/*
 * The keys of a section kind into names (at most max - 1 and a NULL), for
 * suggestions; returns how many.
 */
size_t conf_schema_keys(enum conf_sec kind, const char **names, size_t max);

/*
 * Sets the defaults of a section that need no allocation (numbers,
 * booleans, modes, enumerations), as conf_init does for [broker] and
 * [redact]. A default the converter refuses is a bug: it aborts.
 */
void conf_schema_init(enum conf_sec kind, void *sec);

/*
 * Converts every key of the raw section s into sec, the struct of its kind
 * (zeroed, or set up by conf_init): defaults, then the keys, then the
 * required keys and the section's own checks (conf_check.h). Every
 * problem is an error in ld; a failed allocation sets ld->nomem.
 */
void conf_schema_convert(struct conf_ld *ld, const struct conf_raw_sec *s,
    void *sec);

/*
 * Frees what the keys of a section hold (by the table: strings, lists,
 * names), its name and its key locations. The struct itself stays.
 */
void conf_schema_release(enum conf_sec kind, void *sec);

/* The defaults that allocate (strings, lists), where still unset. */
void conf_schema_fill(struct conf_ld *ld, enum conf_sec kind, void *sec);

/* The converted field of cv's key (off), and its aux field. */
#define CONF_FIELD(cv, type)	((type *)((char *)(cv)->sec + (cv)->k->off))
#define CONF_AUX(cv, type)	((type *)((char *)(cv)->sec + (cv)->k->aux))

#endif
