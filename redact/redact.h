/*
 * redact.h: the redaction engine's public API (used by hush-redact, hushd's
 * own stderr and hush exec).
 *
 * A rule set is built once (built-in pack, [rule] sections, literal
 * values), compiled, and then shared by any number of streams of ONE
 * thread: a rule's pattern is JIT-compiled (a built-in one also
 * compiled) the first time it runs (most rules never run on a given
 * stream, and compiling them all was two thirds of start-up), which
 * writes to the rule set. hushd (its loop thread),
 * hush exec and hush-redact each use a rule set from one thread; a
 * program that feeds streams from several threads needs a rule set per
 * thread.
 * A stream is pure: bytes in through redact_stream_feed, redacted bytes out
 * through the sink; it does no I/O itself. Output is identical whatever
 * the chunking of the input, and memory is bounded by max_line.
 */
#ifndef HUSH_REDACT_H
#define HUSH_REDACT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf/conf.h"
#include "conf/secbuf.h"

struct redact_rules;
struct redact_stream;

/* Receives redacted output; returns 0, or non-zero to stop the stream
 * (redact_stream_feed then returns HUSH_ERR_IO). */
typedef int (*redact_sink_fn)(void *arg, const uint8_t *buf, size_t len);

/* Called by a stream for every secret it masks (for --stats, --check). */
typedef void (*redact_finding_fn)(void *arg, const char *rule,
    uint64_t line);

enum redact_flags {
	REDACT_NO_BUILTIN = 1 << 0,	/* leave out the built-in pack */
};

/*
 * A new rule set with the built-in pack (unless flags or [redact] builtin
 * say otherwise, minus [redact] disable) and conf's [rule] sections, using
 * conf's [redact] settings (format, min_literal_length, max_line,
 * fingerprint key). conf may be NULL for the defaults. Errors go to errs
 * as FILE:LINE messages; returns NULL on error.
 */
struct redact_rules *redact_rules_new(const struct hush_conf *conf,
    unsigned flags, struct conf_errs *errs);

/*
 * Adds [rule] sections from another configuration (hush-redact -r).
 * Returns HUSH_OK or HUSH_ERR_CONFIG with errors in errs.
 */
int redact_rules_add_conf(struct redact_rules *rules,
    const struct hush_conf *conf, struct conf_errs *errs);

/*
 * Adds an exact value to mask, with its encodings (base64 at all three
 * alignments, base64url, URL-encoding, JSON escaping). name is the marker's
 * rule name ("credential:claude", "literal"). The rule set copies what it
 * needs into secure memory. Values shorter than min_literal_length are
 * refused with HUSH_ERR_INVALID (never masked everywhere).
 */
int redact_rules_add_literal(struct redact_rules *rules, const char *name,
    const uint8_t *value, size_t len);

/* Compiles everything added so far; must be called before streams are
 * created and after the last add. HUSH_OK or an error code. */
int redact_rules_compile(struct redact_rules *rules);

void redact_rules_free(struct redact_rules *rules);

/* Replaces the marker format (hush-redact --format); HUSH_ERR_INVALID
 * with a message for an unknown {placeholder}. Before compiling. */
int redact_rules_set_format(struct redact_rules *rules, const char *fmt,
    char *msg, size_t msglen);

/* What --list-rules shows; strings belong to the rule set. */
struct redact_rule_info {
	const char		*name;
	const char		*description;	/* may be NULL */
	const char *const	*keywords;	/* NULL-terminated, lower case */
	int			 builtin;
};

size_t redact_rules_count(const struct redact_rules *rules);
int redact_rules_info(const struct redact_rules *rules, size_t i,
    struct redact_rule_info *info);

/* A new stream over compiled rules; NULL on ENOMEM. */
struct redact_stream *redact_stream_new(const struct redact_rules *rules,
    redact_sink_fn sink, void *arg);

/* Optional: called for every masked secret, with its line number; set
 * before the first feed (without it, lines are not counted). */
void redact_stream_set_finding(struct redact_stream *s,
    redact_finding_fn fn, void *arg);

/*
 * Feeds len bytes. Complete lines are processed and passed to the sink
 * before return; a partial last line is held (up to max_line). Returns
 * HUSH_OK, or HUSH_ERR_IO if the sink stopped.
 */
int redact_stream_feed(struct redact_stream *s, const uint8_t *buf,
    size_t len);

/*
 * Input has been idle for a while (REDACT_IDLE_MS in hush-redact): emits
 * the held partial line (a prompt, a progress bar) up to a safe cut,
 * before any trailing run of non-blank bytes and any open quoted value,
 * which could still become a secret. The shown part stays as context:
 * when the line goes on, rules still see its keys, and a secret that
 * started in it is masked from the cut on. Output depends only on the
 * bytes and on where in them the idle calls fall, never on the chunking.
 * HUSH_OK, or HUSH_ERR_IO if the sink stopped.
 */
#define REDACT_IDLE_MS	100
int redact_stream_idle(struct redact_stream *s);

/* Whether a partial line is held that redact_stream_idle could show. */
bool redact_stream_holding(const struct redact_stream *s);

/* Processes and emits whatever is held (end of input). */
int redact_stream_finish(struct redact_stream *s);

void redact_stream_free(struct redact_stream *s);

#endif
