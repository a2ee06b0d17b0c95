/*
 * internal.h: what the modules of libhushredact share and nobody else
 * should see. rules.c owns PCRE2 and the rule list, scan.c the
 * Aho-Corasick automaton over keywords and literal values, stream.c the
 * line/window state machine that uses both.
 */
#ifndef HUSH_REDACT_INTERNAL_H
#define HUSH_REDACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "redact/fp.h"
#include "conf/secbuf.h"

/* Limits of the engine. */
#define REDACT_MATCH_LIMIT	200000	/* PCRE2 backtracking steps per match */
#define REDACT_DEPTH_LIMIT	5000	/* PCRE2 backtracking depth */
#define REDACT_HEAP_LIMIT	4096	/* KiB of PCRE2 heap per match */
#define REDACT_JIT_STACK	(256 * 1024)
#define REDACT_CTX_BEFORE	256	/* a keyword may sit this far into a match */
#define REDACT_WINDOW_OVERLAP	(64 * 1024)	/* longest match a window keeps */
#define REDACT_PEM_MAX_BYTES	(64 * 1024)	/* BEGIN without END: give up */
#define REDACT_PEM_MAX_LINES	256
#define REDACT_MAX_LITERALS	65536
#define REDACT_MAX_LITERAL_LEN	(1 << 20)
#define REDACT_MAX_STATES	(1 << 22)	/* of the automaton */
#define REDACT_MAX_RULES	4096

/* Checks a rule's secret (the captured group) before it is masked. */
enum rule_check {
	CHECK_NONE = 0,
	CHECK_GENERIC,		/* placeholder, entropy and shape filters */
	CHECK_PASSWORD,		/* placeholder filters, looser entropy */
	CHECK_ENTROPY,		/* a minimum entropy only */
	CHECK_URL_PASSWORD,	/* placeholders, not a port */
	CHECK_TOKEN,		/* placeholders, not a plain word */
	CHECK_FORMAT,		/* a fixed format: not a run, sequence or EXAMPLE */
};

struct rule {
	char		*name;
	char		*description;
	char		**keywords;	/* lower case, NULL-terminated */
	size_t		 nkeywords;
	char		*pattern;
	uint32_t	 group;
	enum rule_check	 check;
	bool		 builtin;
	bool		 pem;		/* also masks unterminated PEM blocks */
	bool		 weak;		/* generic: a specific rule names a shared span */
	void		*code;		/* pcre2_code */
};

struct literal {
	char		*name;		/* marker name: "credential:x", "literal" */
	struct secbuf	*value;
};

/* One pattern of the automaton. */
enum pat_kind {
	PAT_KEYWORD = 0,
	PAT_LITERAL,
};

struct pat {
	uint32_t	 kind;
	uint32_t	 id;		/* rule index or literal index */
	uint32_t	 len;
	uint32_t	 off;		/* literal: exact bytes in scan->exact */
	uint32_t	 next;		/* next pattern ending in the same state */
	bool		 b64;		/* a base64 form: widen to its group */
};

#define SCAN_NONE	UINT32_MAX
#define SCAN_OUT	0x80000000u	/* transition flag: target has output */

/*
 * The one automaton: keywords (case-insensitive) and literal encodings
 * (case-folded here, confirmed exactly on a hit). A DFA over byte
 * classes; transitions are premultiplied by nclass so the inner loop is
 * one load per byte. The table and the exact bytes are derived from
 * secrets, so they live in secure memory.
 */
struct scan {
	uint8_t		 cls[256];
	uint32_t	 nclass;
	uint32_t	 nstates;
	struct secbuf	*table;		/* uint32_t[nstates * nclass] */
	uint32_t	*own;		/* first pattern ending in a state */
	uint32_t	*dict;		/* nearest suffix state with output */
	struct pat	*pats;
	size_t		 npats;
	struct secbuf	*exact;		/* literal encodings, exact bytes */
	size_t		 longest;	/* longest literal encoding */
	/*
	 * The start filter: a bit per hash of the first three byte classes
	 * of every pattern. The scan tests each position against it and
	 * walks the DFA only from positions that pass, which is most of
	 * the speed. Patterns shorter than 3 bytes turn it off.
	 */
	struct secbuf	*filter;	/* SCAN_FILTER_BITS / 8 bytes */
	bool		 direct;	/* classes fit 7 bits: index, not hash */
	uint32_t	*levels;	/* first state of each depth, premultiplied */
	size_t		 maxdepth;
	bool		 short_pats;
};

#define SCAN_FILTER_BITS	(1u << 21)	/* three 7-bit classes */

struct redact_rules {
	struct rule	*rules;
	size_t		 nrules;
	struct literal	*lits;
	size_t		 nlits;
	uint32_t	*always;	/* rules without keywords */
	size_t		 nalways;
	struct scan	 scan;
	char		*format;
	size_t		 min_literal;
	size_t		 max_line;
	struct secbuf	*fp_key;	/* redact_fp's key */
	bool		 compiled;
	bool		 has_pem;
	uint32_t	 pem_rule;
	void		*mctx;		/* pcre2_match_context */
	void		*jit_stack;	/* pcre2_jit_stack */
	uint32_t	 max_groups;
};

/* rules.c */

/* A built-in rule as written in pack.c. */
struct pack_rule {
	const char	*name;
	const char	*keywords;	/* comma-separated */
	const char	*description;
	const char	*pattern;
	uint32_t	 group;
	enum rule_check	 check;
};

extern const struct pack_rule redact_pack[];
extern const size_t redact_pack_len;

/* Per-stream PCRE2 match data. */
struct rules_md;
struct rules_md *rules_md_new(const struct redact_rules *rules);
void rules_md_free(struct rules_md *md);

/*
 * Finds the next match of rule r in subj[start..len): 1 and the secret's
 * range, 0 when there is none, HUSH_ERR_TOO_LARGE on a limit hit or any
 * other matching error (the caller fails closed). *nextp is where to
 * continue.
 */
int rules_exec(const struct redact_rules *rules, size_t r,
    struct rules_md *md, const uint8_t *subj, size_t len, size_t start,
    size_t *sstart, size_t *send, size_t *nextp);

/* Whether a candidate secret passes the rule's check. */
bool rules_check_secret(enum rule_check check, const uint8_t *p, size_t len);

/* Checks a marker format: HUSH_OK or HUSH_ERR_INVALID with msg. */
int rules_check_format(const char *fmt, char *msg, size_t msglen);

/* scan.c */

/* Builds rules->scan from the rules' keywords and the literals. */
int scan_build(struct redact_rules *rules);
void scan_release(struct scan *sc);

/*
 * Writes the encodings of value under which it is masked (the value,
 * base64 at three alignments, base64url, URL and JSON escaping) by
 * calling fn for each distinct one of at least minlen bytes.
 */
typedef int (*scan_enc_fn)(void *arg, const uint8_t *p, size_t len,
    bool b64);
int scan_encodings(const uint8_t *value, size_t len, size_t minlen,
    scan_enc_fn fn, void *arg);

/* Calls fn for every pattern ending at p[end - 1], in order of end. */
typedef void (*scan_hit_fn)(void *arg, const struct pat *pat, size_t end);
void scan_run(const struct scan *sc, const uint8_t *p, size_t n,
    scan_hit_fn fn, void *arg);

#endif
