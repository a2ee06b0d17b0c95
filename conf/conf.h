/*
 * conf.h: hush.ini read into a typed, validated configuration.
 *
 * conf_load reads a file (and its includes), checks every section and key
 * against the schema (conf_schema.c, one table), converts values,
 * cross-checks them (allow names, socket paths, sources) and reports every
 * problem as "FILE:LINE: message" in one run. A loaded configuration holds
 * names, paths and policies, never a secret value.
 */
#ifndef HUSH_CONF_H
#define HUSH_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "conf/conf_err.h"
#include "conf/values.h"

/* Limits and defaults (SPEC "Configuration"). */
#define CONF_MAX_LINE			199	/* Debian libinih's line buffer,
						 * kept for existing files */
#define CONF_MAX_INCLUDE_DEPTH		8
#define CONF_MAX_FILE_SIZE		(1 << 20)
#define CONF_MAX_VALUE			8192	/* a value with continuations */
#define CONF_DEFAULT_MAX_CONNECTIONS	1024
#define CONF_DEFAULT_IDLE_TIMEOUT_MS	30000
#define CONF_DEFAULT_REQUEST_TIMEOUT_MS	5000
#define CONF_DEFAULT_MAX_REQUEST_SIZE	8192
/* a client's share of [broker] max_connections when it sets none: a
 * sixteenth of the default cap, so one client cannot take it all */
#define CONF_DEFAULT_CLIENT_MAX_CONNECTIONS	64
#define CONF_DEFAULT_WRITE_TIMEOUT_MS	10000
#define CONF_MAX_REQUEST_SIZE_LIMIT	(1 << 20)
#define CONF_DEFAULT_SOCKET_MODE	0660
#define CONF_DEFAULT_CONTENT_TYPE	"application/octet-stream"
#define CONF_DEFAULT_MAX_SIZE		(64 * 1024)
#define CONF_MAX_SIZE_LIMIT		(1 << 20)
#define CONF_DEFAULT_EXEC_TIMEOUT_MS	5000
#define CONF_DEFAULT_FORMAT		"[REDACTED:{rule}]"
#define CONF_DEFAULT_MIN_LITERAL	8
#define CONF_DEFAULT_MAX_LINE		(1 << 20)
#define CONF_MIN_MAX_LINE		4096
#define CONF_MAX_MAX_LINE		(64 << 20)
#define CONF_DEFAULT_UPSTREAM_MAX_REQUEST	(32ULL << 20)
#define CONF_MAX_UPSTREAM_REQUEST	(1ULL << 30)
#define CONF_DEFAULT_UPSTREAM_TIMEOUT_MS	(10 * 60 * 1000)
#define CONF_UPSTREAM_PREFIX		"upstream:"	/* in allow lists */

/* The location of every key of a section, for checks made higher up. */
struct conf_keyloc {
	char		*key;
	struct conf_loc	 loc;
};

struct conf_where {
	struct conf_loc		 section;	/* the [section] line */
	struct conf_keyloc	*keys;
	size_t			 nkeys;
};

/* Whether key was set in the section. */
bool conf_where_has(const struct conf_where *w, const char *key);

/* The location of key in a section, or the section's own when unset. */
struct conf_loc conf_where_key(const struct conf_where *w, const char *key);

struct conf_broker {
	bool		 has_user;
	uid_t		 uid;		/* [broker] user, resolved */
	char		*user;
	bool		 has_group;
	gid_t		 gid;
	char		*group;
	char		*audit_log;	/* path, or "stderr" (default) */
	uint64_t	 max_connections;
	uint64_t	 idle_timeout_ms;
	uint64_t	 request_timeout_ms;
	uint64_t	 max_request_size;
	struct conf_where where;
};

enum conf_protocol {
	CONF_PROTO_HTTP = 0,
	CONF_PROTO_SYSTEMD,
};

#define CONF_TOKEN_HASH_BYTES	32	/* BLAKE2b-256 of the token */

struct conf_client {
	char		*name;
	char		*socket;	/* absolute path, fits sun_path */
	mode_t		 socket_mode;
	bool		 has_socket_group;
	gid_t		 socket_group;
	enum conf_protocol protocol;
	bool		 has_uid;	/* systemd: defaults to uid 0 */
	uid_t		 uid;
	bool		 has_gid;
	gid_t		 gid;
	bool		 has_token_hash;
	uint8_t		 token_hash[CONF_TOKEN_HASH_BYTES];
	char		**allow;	/* NULL-terminated; "name", "pre*", "UNIT:ID" */
	size_t		 nallow;
	bool		 has_rate;
	struct val_rate	 rate;
	uint64_t	 max_connections;	/* 0: the default share */
	uint64_t	 write_timeout_ms;	/* then a non-reader closes */
	struct conf_where where;
};

/* The connections client c may hold at once under broker cap b. */
uint64_t conf_client_share(const struct conf_broker *b,
    const struct conf_client *c);

enum conf_source_kind {
	CONF_SRC_FILE = 0,
	CONF_SRC_ENV,
	CONF_SRC_EXEC,
	CONF_SRC_SEALED,
};

struct conf_cred {
	char		*name;
	enum conf_source_kind kind;
	char		*source;	/* the whole "scheme:arg" as written */
	char		*arg;		/* path, variable name or command line */
	char		*json_field;	/* dotted path, or NULL */
	char		**json_omit;	/* NULL-terminated dotted paths, or NULL */
	size_t		 njson_omit;
	char		**json_blank;	/* NULL-terminated: served as "" */
	size_t		 njson_blank;
	char		*content_type;
	uint64_t	 max_size;
	uint64_t	 timeout_ms;	/* exec: kill after */
	uint64_t	 cache_ms;	/* exec: reuse output; 0 = no cache */
	char		**env;		/* exec: NULL-terminated names of
					 * variables passed on, or NULL */
	size_t		 nenv;
	char		*key_file;	/* sealed: the key */
	struct conf_where where;
};

struct conf_redact {
	bool		 builtin;
	char		**disable;	/* NULL-terminated built-in rule names */
	size_t		 ndisable;
	char		*format;
	char		*fingerprint_key_file;	/* or NULL: random per run */
	bool		 credentials;
	uint64_t	 min_literal_length;
	uint64_t	 max_line;
	struct conf_where where;
};

struct conf_rule {
	char		*name;
	char		*description;	/* or NULL */
	char		*pattern;	/* PCRE2 syntax, checked by redact/ */
	char		**keywords;	/* NULL-terminated, may be empty */
	size_t		 nkeywords;
	uint64_t	 secret_group;
	char		*check;		/* a check named by redact/, or NULL */
	double		 min_entropy;	/* bits per character; 0: none */
	char		**stopwords;	/* NULL-terminated, may be NULL */
	size_t		 nstopwords;
	struct conf_where where;
};

/*
 * [upstream "NAME"]: an HTTPS API that hushd calls for a client with a
 * credential added (issue 11, docs/config.md). The client never holds
 * the credential; its allow list grants "upstream:NAME".
 */
struct conf_upstream {
	char		*name;
	char		*url;		/* scheme://host[:port][/prefix], no
					 * trailing '/' */
	char		*credential;	/* a [credential] name */
	size_t		 cred;		/* its index in hush_conf.creds */
	char		*header_name;	/* "x-api-key" */
	char		*header_pre;	/* text before {value} */
	char		*header_post;	/* text after {value} */
	char		**paths;	/* NULL-terminated, each starts '/' */
	size_t		 npaths;
	char		**methods;	/* NULL-terminated, upper case */
	size_t		 nmethods;
	uint64_t	 max_request_size;
	uint64_t	 timeout_ms;
	char		*ca_file;	/* or NULL: the system's CAs */
	char		**env;		/* variables for the forwarder's URL */
	size_t		 nenv;
	char		*key_env;	/* variable for the placeholder key */
	struct conf_where where;
};

struct hush_conf {
	struct conf_broker	 broker;
	struct conf_redact	 redact;
	struct conf_client	*clients;
	size_t			 nclients;
	struct conf_cred	*creds;
	size_t			 ncreds;
	struct conf_rule	*rules;
	size_t			 nrules;
	struct conf_upstream	*upstreams;
	size_t			 nupstreams;
	char			**files;	/* every file read, for conf_loc */
	size_t			 nfiles;
};

/* Options for conf_load. */
enum conf_flags {
	CONF_DEFAULT = 0,
	/* don't look for exec: commands and sealed: keys (file: and
	 * sealed: paths are never looked at here: hushd_main.c) */
	CONF_SKIP_SOURCE_CHECKS = 1 << 0,
	CONF_SKIP_OWNER_CHECK = 1 << 1,		/* don't refuse unsafe modes */
};

/*
 * A check from a higher layer (regexes, rule names) run on the loaded
 * configuration before conf_load decides, so that one run reports every
 * error; returns the number of errors it added.
 */
typedef size_t (*conf_check_fn)(const struct hush_conf *conf,
    struct conf_errs *errs);

/*
 * Reads path into conf (which the caller provides; it is initialised
 * here), then runs check (may be NULL). On success returns HUSH_OK; on any
 * problem returns HUSH_ERR_CONFIG with every error in errs, sorted, and
 * conf is released.
 */
int conf_load(struct hush_conf *conf, const char *path, unsigned flags,
    conf_check_fn check, struct conf_errs *errs);

/* Same, from a string; name is used in messages. No owner check. */
int conf_load_string(struct hush_conf *conf, const char *name,
    const char *text, unsigned flags, conf_check_fn check,
    struct conf_errs *errs);

/* A configuration with every default and no sections. */
void conf_init(struct hush_conf *conf);
void conf_release(struct hush_conf *conf);

/* Lookups by name; NULL when absent. */
const struct conf_cred *conf_find_cred(const struct hush_conf *conf,
    const char *name);
const struct conf_upstream *conf_find_upstream(const struct hush_conf *conf,
    const char *name);

/*
 * Whether path (len bytes, no query) is one upstream u allows: an entry
 * "/p" allows "/p" and "/p/..."; "/p*" allows anything that begins with
 * "/p". A path with a "." or ".." segment, a '%' escape, a '\\' or an
 * empty segment is never allowed: the upstream may read it differently.
 */
bool conf_upstream_path_ok(const struct conf_upstream *u, const char *path,
    size_t len);
bool conf_upstream_method_ok(const struct conf_upstream *u,
    const char *method);

#endif
