/*
 * internal.h: what the modules of libhushredact share and nobody else
 * should see. rules.c owns PCRE2 and the rule list, scan.c the
 * matchers that decide where to look (a Vectorscan database of the rules'
 * patterns, and an Aho-Corasick automaton over literal values and the
 * keywords of rules Vectorscan cannot take), stream.c the line/window
 * state machine that uses them.
 */
#ifndef HUSH_REDACT_INTERNAL_H
#define HUSH_REDACT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
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
/*
 * A PEM block is held until its body shows it is a key: the smallest
 * private key, an Ed25519 one in PKCS#8, is 48 bytes of DER, 64 base64
 * characters. A shorter body before END ("anything") is not a key; a
 * held block never exceeds REDACT_PEM_HOLD_BYTES (then it is masked).
 */
#define REDACT_PEM_MIN_BODY	64
#define REDACT_PEM_HOLD_BYTES	4096
#define REDACT_MAX_LITERALS	65536
#define REDACT_MAX_LITERAL_LEN	(1 << 20)
#define REDACT_MAX_STATES	(1 << 22)	/* of the automaton */
#define REDACT_MAX_RULES	4096
#define REDACT_HS_MIN_REPEAT	8	/* see scan_relax() */
#define REDACT_BATCH_BYTES	(1 << 20)	/* lines scanned in one call */
#define REDACT_BATCH_HITS	65536	/* (line, rule) pairs per batch */

/* Checks a rule's secret (the captured group) before it is masked. */
enum rule_check {
	CHECK_NONE = 0,
	CHECK_GENERIC,		/* placeholder, entropy and shape filters */
	CHECK_PASSWORD,		/* placeholder filters, looser entropy */
	CHECK_ENTROPY,		/* a minimum entropy only */
	CHECK_URL_PASSWORD,	/* placeholders, not a port */
	CHECK_TOKEN,		/* placeholders, not a plain word */
	CHECK_FORMAT,		/* a fixed format: not a run, sequence or EXAMPLE */
	CHECK_CRC32_BASE62,	/* GitHub's and npm's checksummed tokens */
	CHECK_GRAFANA,		/* glc_ is base64 of a JSON object */
	CHECK_BEDROCK,		/* ABSK / bedrock-api-key- decode to their prefix */
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
	bool		 hs;		/* in the Vectorscan database */
	double		 min_entropy;	/* of the secret, bits per character */
	char		**stopwords;	/* lower case; a secret holding one is skipped */
	size_t		 nstopwords;
	/* pcre2_code: a user's rule's at compile, a pack rule's when it
	 * first runs (rules_exec); one thread per rule set (redact.h). */
	void		*code;
	uint32_t	 ncap;		/* its capture groups */
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
	/*
	 * The rules' patterns, relaxed to a superset and compiled into one
	 * Vectorscan database (hs_database_t), or NULL: without Vectorscan,
	 * with the reference engine, or when no pattern compiles.
	 */
	void		*hs_db;		/* built-in rules */
	size_t		 hs_db_map;	/* > 0: hs_db is mmap()ed, this long */
	void		*hs_db2;	/* the others */
	size_t		 nhs;		/* rules in them */
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
	/*
	 * The reference engine: keywords in the automaton and PCRE2 only,
	 * as before Vectorscan. Set before compiling (tests compare the two,
	 * bench_redact measures both).
	 */
	bool		 reference;
	bool		 has_pem;
	uint32_t	 pem_rule;
	bool		 has_putty;	/* PuTTY's Private-Lines block */
	uint32_t	 putty_rule;
	/*
	 * One byte per rule: whether its pattern has been JIT-compiled.
	 * JIT compilation is half of start-up and most rules never run on
	 * a given stream, so a rule is JIT-compiled the first time it runs
	 * (rules_exec); hence one thread per rule set (redact.h).
	 */
	uint8_t		*jitted;
	void		*mctx;		/* pcre2_match_context */
	void		*jit_stack;	/* pcre2_jit_stack */
	uint32_t	 max_groups;
};

/* rules.c */

/* pack.c: the built-in pack, embedded from redact/pack/ at build time */

struct pack_file {
	const char	*name;		/* "redact/pack/FILE.ini", for messages */
	const char	*text;
};

extern const struct pack_file redact_pack_files[];
extern const size_t redact_pack_nfiles;

/* The parsed pack: one configuration per file, rules in file order. */
struct pack {
	struct hush_conf *files;
	size_t		 nfiles;
	size_t		 nrules;
};

/* Parses the embedded pack; FILE:LINE errors go to errs. */
int pack_load(struct pack *pk, struct conf_errs *errs);
void pack_release(struct pack *pk);
/* The i-th rule in pack order, or NULL past the end. */
const struct conf_rule *pack_rule(const struct pack *pk, size_t i);
const struct conf_rule *pack_find(const struct pack *pk, const char *name);

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

/* Whether rule r's pattern has JIT code yet (it gets it on its first
 * rules_exec; a pack rule is compiled then too). For tests. */
bool rules_jit_ready(const struct redact_rules *rules, size_t r);

/* Whether a candidate secret passes the rule's check. */
bool rules_check_secret(enum rule_check check, const uint8_t *p, size_t len);

/* The same, with the rule's min_entropy and stopwords. */
bool rules_accept(const struct rule *ru, const uint8_t *p, size_t len);

/* A check by its name in a [rule] section: HUSH_OK or HUSH_ERR_INVALID. */
int rules_check_by_name(const char *name, enum rule_check *out);

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

/*
 * Writes into out (room for 2 * strlen(pattern) + 1) a pattern that
 * matches wherever pattern does and possibly more: every bounded repeat
 * {m,n} outside a class becomes {min(m, REDACT_HS_MIN_REPEAT),}. Large
 * bounded repeats are what make a Vectorscan compile slow and big; a
 * prefilter only needs the superset, since PCRE2 confirms every hit.
 */
void scan_relax(const char *pattern, char *out);

/*
 * Vectorscan. A scratch per stream; scan_hs_run calls fn(arg, rule, end)
 * for every end of a match of a rule's relaxed pattern in p[0..n), in
 * order of end within one database (which: 0 built-in, 1 the others;
 * several calls per rule; fn returns non-zero to stop). HUSH_OK (also
 * without that database), HUSH_ERR_IO when fn stopped it,
 * HUSH_ERR_INTERNAL on an error (the caller then runs every rule: fail
 * closed).
 */
typedef int (*scan_hs_fn)(void *arg, uint32_t rule, size_t end);
/* Not a rule: an escape sequence that unescape.c would decode. */
#define SCAN_HS_ESCAPE	0x7fffffffu
void *scan_hs_scratch_new(const struct scan *sc);
void scan_hs_scratch_free(void *scratch);
int scan_hs_run(const struct scan *sc, int which, void *scratch,
    const uint8_t *p, size_t n, scan_hs_fn fn, void *arg);

/*
 * For the build-time generator (redact/tools/gen_hsdb.c): compiles the
 * built-in rules of rules (which has no others) for any CPU of the
 * architecture and serializes the database (free *bytesp with free());
 * hash identifies the expressions, in[i] says whether rule i is in it.
 */
#define SCAN_HS_HASH_BYTES	32
int scan_hs_serialize(struct redact_rules *rules, char **bytesp,
    size_t *lenp, uint8_t hash[SCAN_HS_HASH_BYTES], uint8_t *in);

/* Calls fn for every pattern ending at p[end - 1], in order of end. */
typedef void (*scan_hit_fn)(void *arg, const struct pat *pat, size_t end);
void scan_run(const struct scan *sc, const uint8_t *p, size_t n,
    scan_hit_fn fn, void *arg);

#endif
