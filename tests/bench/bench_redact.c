/*
 * bench_redact: throughput of the redaction engine on a generated,
 * realistic log stream (application, access, JSON and SSE lines, about
 * one secret per 1,000 lines) with the full built-in pack plus 100
 * literal values, on one core.
 *
 *   bench_redact [-m MiB] [-n literals] [-w LOGFILE] [-l LITFILE]
 *                [-p PERLFILE] [-r RULES.ini] [-i INPUT] [-R] [-q]
 *
 * -w/-l/-p write the stream, the literals and an equivalent perl -pe
 * script (every built-in pattern and every literal as s///g) so that
 * bench_redact.sh can time cat, hush-redact and perl on the same bytes.
 * -r adds [rule] sections (tests/bench/synth_pack.py writes a pack of
 * realistic size); -i times a given file instead of the generated stream;
 * -R uses the reference engine (keyword automaton and PCRE2 only). The
 * compile time and the engine's throughput (compile excluded) are
 * reported separately. Timed assertions do not belong in tests: this only
 * reports.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/hush_err.h"
#include "redact/internal.h"
#include "redact/redact.h"
#include "redact/rules.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static uint64_t
next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static const char alnum[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

static void
rnd(char *out, size_t n, const char *alpha)
{
	size_t k = strlen(alpha), i;

	for (i = 0; i < n; i++)
		out[i] = alpha[next() % k];
	out[n] = '\0';
}

static const char *const words[] = {
	"request", "completed", "user", "session", "cache", "miss", "hit",
	"connection", "established", "retrying", "upstream", "timeout",
	"worker", "started", "stopped", "queue", "job", "processed",
	"database", "query", "slow", "index", "rebuild", "config", "loaded",
	"token", "count", "password", "reset", "email", "sent", "api",
	"key", "rotation", "scheduled", "secret", "manager", "refresh",
};
#define NWORDS (sizeof(words) / sizeof(words[0]))

static const char *const paths[] = {
	"/api/v1/items", "/api/v1/users/42", "/healthz", "/static/app.js",
	"/login", "/api/v2/search?q=shoes&page=2", "/metrics",
	"/oauth/callback?code=abc&state=xyz", "/favicon.ico",
};

static size_t
gen_secret(char *o, size_t cap)
{
	char a[256], b[256];

	switch (next() % 8) {
	case 0:
		rnd(a, 36, alnum);
		return (size_t)snprintf(o, cap, "ghp_%.120s", a);
	case 1:
		rnd(a, 16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567");
		rnd(b, 40, alnum);
		return (size_t)snprintf(o, cap, "AKIA%.120s secret=%.120s", a, b);
	case 2:
		rnd(a, 93, alnum);
		return (size_t)snprintf(o, cap, "sk-ant-api03-%.120sAA", a);
	case 3:
		rnd(a, 24, alnum);
		rnd(b, 43, alnum);
		return (size_t)snprintf(o, cap, "eyJhbGciOiJIUzI1NiJ9.eyJ%.120s."
		    "%.120s", a, b);
	case 4:
		rnd(a, 12, alnum);
		return (size_t)snprintf(o, cap, "postgres://app:%.120s@db:5432/x",
		    a);
	case 5:
		rnd(a, 32, alnum);
		return (size_t)snprintf(o, cap, "Authorization: Bearer %.120s", a);
	case 6:
		rnd(a, 24, alnum);
		return (size_t)snprintf(o, cap, "xoxb-1234567890-%.120s", a);
	default:
		rnd(a, 48, alnum);
		return (size_t)snprintf(o, cap, "sk_live_%.120s", a);
	}
}

static size_t
gen_line(char *o, size_t cap, unsigned long n, char **lits, size_t nlits)
{
	char sec[1024] = "";
	unsigned ms = (unsigned)(n % 1000), s = (unsigned)(n / 1000 % 60);
	const char *w1 = words[next() % NWORDS], *w2 = words[next() % NWORDS];

	if (next() % 1000 == 0) {
		if (nlits > 0 && next() % 4 == 0)
			snprintf(sec, sizeof(sec), "%s",
			    lits[next() % nlits]);
		else
			gen_secret(sec, sizeof(sec));
	}
	switch (next() % 4) {
	case 0:
		return (size_t)snprintf(o, cap, "2026-11-23T12:%02u:%02u.%03uZ "
		    "INFO  [worker-%u] %s %s request_id=%08lx user_id=%u "
		    "latency_ms=%u status=ok %s\n", s % 60, s, ms,
		    (unsigned)(next() % 8), w1, w2, n * 2654435761UL,
		    (unsigned)(next() % 100000), (unsigned)(next() % 900),
		    sec);
	case 1:
		return (size_t)snprintf(o, cap, "10.%u.%u.%u - - [23/Nov/2026:"
		    "12:%02u:%02u +0000] \"GET %s HTTP/1.1\" %u %u "
		    "\"https://example.com/ref\" \"Mozilla/5.0 (X11; Linux "
		    "x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
		    "Chrome/120.0 Safari/537.36\" %s\n",
		    (unsigned)(next() % 256), (unsigned)(next() % 256),
		    (unsigned)(next() % 256), s % 60, s,
		    paths[next() % (sizeof(paths) / sizeof(paths[0]))],
		    next() % 10 ? 200 : 404, (unsigned)(next() % 50000), sec);
	case 2:
		return (size_t)snprintf(o, cap, "{\"ts\":\"2026-11-23T12:%02u:"
		    "%02u.%03uZ\",\"level\":\"info\",\"msg\":\"%s %s\","
		    "\"service\":\"billing\",\"duration_ms\":%u,\"usage\":"
		    "{\"input_tokens\":%u,\"output_tokens\":%u},\"trace\":"
		    "\"%016lx\",\"note\":\"%s\"}\n", s % 60, s, ms, w1, w2,
		    (unsigned)(next() % 5000), (unsigned)(next() % 9000),
		    (unsigned)(next() % 4000), (unsigned long)next(), sec);
	default:
		return (size_t)snprintf(o, cap, "data: {\"type\":"
		    "\"content_block_delta\",\"index\":0,\"delta\":{\"type\":"
		    "\"text_delta\",\"text\":\"The %s %s is ready %s\"}}\n",
		    w1, w2, sec);
	}
}

/*
 * The pack's patterns for perl -p: each compiled once (qr// in BEGIN),
 * then one s///g per rule and per literal on every line, which is how a
 * hand-written filter does it.
 */
static void
write_perl(FILE *f, char **lits, size_t nlits)
{
	struct conf_errs errs;
	struct redact_rules *rs;
	size_t i, j;

	conf_errs_init(&errs);
	if ((rs = redact_rules_new(NULL, 0, &errs)) == NULL)
		abort();
	conf_errs_release(&errs);
	fprintf(f, "BEGIN {\n");
	for (i = 0; i < rs->nrules; i++) {
		fprintf(f, "\t$r%zu = qr'", i);
		for (j = 0; rs->rules[i].pattern[j] != '\0'; j++) {
			char ch = rs->rules[i].pattern[j];

			if (ch == '\'')
				fputc('\\', f);
			fputc(ch, f);
		}
		fprintf(f, "';\n");
	}
	fprintf(f, "}\n");
	for (i = 0; i < rs->nrules; i++)
		fprintf(f, "s/$r%zu/[REDACTED:%s]/g;\n", i,
		    rs->rules[i].name);
	for (i = 0; i < nlits; i++)
		fprintf(f, "s/\\Q%s\\E/[REDACTED:literal]/g;\n", lits[i]);
	redact_rules_free(rs);
}

static int
sink(void *arg, const uint8_t *p, size_t n)
{
	size_t *total = arg;

	(void)p;
	*total += n;
	return 0;
}

static double
now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	size_t mib = 64, nlits = 100, len = 0, cap, i, out = 0;
	const char *wfile = NULL, *lfile = NULL, *pfile = NULL;
	const char *rfile = NULL, *ifile = NULL;
	int reference = 0;
	double tc, best = 0;
	int pass;
	char **lits, line[4096];
	struct redact_rules *rules;
	struct redact_stream *s;
	struct conf_errs errs;
	unsigned long n = 0;
	uint8_t *buf;
	double t0, t1;
	int c, quiet = 0;

	while ((c = getopt(argc, argv, "m:n:w:l:p:qr:i:R")) != -1) {
		switch (c) {
		case 'm': mib = strtoul(optarg, NULL, 10); break;
		case 'n': nlits = strtoul(optarg, NULL, 10); break;
		case 'w': wfile = optarg; break;
		case 'l': lfile = optarg; break;
		case 'p': pfile = optarg; break;
		case 'q': quiet = 1; break;
		case 'r': rfile = optarg; break;
		case 'i': ifile = optarg; break;
		case 'R': reference = 1; break;
		default:
			fprintf(stderr, "usage: bench_redact [-m MiB] "
			    "[-n literals] [-w LOG] [-l LITS] [-p PERL] "
			    "[-r RULES] [-i INPUT] [-R] [-q]\n");
			return 2;
		}
	}
	if (hush_harden_process() != HUSH_OK)
		return 1;
	if ((lits = calloc(nlits + 1, sizeof(*lits))) == NULL)
		return 1;
	for (i = 0; i < nlits; i++) {
		if ((lits[i] = malloc(41)) == NULL)
			return 1;
		rnd(lits[i], 40, alnum);
	}
	cap = mib << 20;
	if (ifile != NULL) {
		FILE *f = fopen(ifile, "rb");
		long sz;

		if (f == NULL || fseek(f, 0, SEEK_END) != 0 ||
		    (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0 ||
		    (buf = malloc((size_t)sz + 1)) == NULL ||
		    fread(buf, 1, (size_t)sz, f) != (size_t)sz)
			return 1;
		fclose(f);
		len = (size_t)sz;
		for (i = 0; i < len; i++)
			n += buf[i] == '\n';
	} else {
		if ((buf = malloc(cap + sizeof(line))) == NULL)
			return 1;
		while (len < cap)
			len += gen_line((char *)buf + len, sizeof(line), n++,
			    lits, nlits);
	}

	conf_errs_init(&errs);
	if ((rules = redact_rules_new(NULL, 0, &errs)) == NULL)
		return 1;
	if (rfile != NULL) {
		struct hush_conf rc;

		if (conf_load(&rc, rfile, CONF_SKIP_SOURCE_CHECKS,
		    rules_check_conf, &errs) != HUSH_OK ||
		    redact_rules_add_conf(rules, &rc, &errs) != HUSH_OK) {
			for (i = 0; i < errs.n; i++)
				fprintf(stderr, "%s\n", errs.msgs[i]);
			return 1;
		}
		conf_release(&rc);
	}
	rules->reference = reference != 0;
	for (i = 0; i < nlits; i++)
		if (redact_rules_add_literal(rules, "literal",
		    (const uint8_t *)lits[i], strlen(lits[i])) != HUSH_OK)
			return 1;
	tc = now();
	if (redact_rules_compile(rules) != HUSH_OK ||
	    (s = redact_stream_new(rules, sink, &out)) == NULL)
		return 1;
	t0 = now();
	if (!quiet)
		printf("compile: %zu rules (%zu in Vectorscan), %.3f s\n",
		    redact_rules_count(rules), rules->scan.nhs, t0 - tc);
	/* The best of three passes: the machine is shared. */
	for (pass = 0; pass < 3; pass++) {
		if (pass > 0) {
			redact_stream_free(s);
			if ((s = redact_stream_new(rules, sink, &out)) == NULL)
				return 1;
		}
		t0 = now();
		for (i = 0; i < len; i += 65536)
			if (redact_stream_feed(s, buf + i,
			    len - i < 65536 ? len - i : 65536) != HUSH_OK)
				return 1;
		if (redact_stream_finish(s) != HUSH_OK)
			return 1;
		t1 = now();
		if (best == 0 || t1 - t0 < best)
			best = t1 - t0;
	}
	if (!quiet)
		printf("engine (%s): %zu bytes, %lu lines, %zu rules, %zu "
		    "literals: %.3f s, %.1f MB/s\n", reference ? "reference" :
		    "vectorscan", len, n, redact_rules_count(rules), nlits,
		    best, (double)len / 1e6 / best);
	redact_stream_free(s);
	redact_rules_free(rules);
	conf_errs_release(&errs);

	if (wfile != NULL) {
		FILE *f = fopen(wfile, "wb");

		if (f == NULL || fwrite(buf, 1, len, f) != len || fclose(f))
			return 1;
	}
	if (lfile != NULL) {
		FILE *f = fopen(lfile, "w");

		if (f == NULL)
			return 1;
		for (i = 0; i < nlits; i++)
			fprintf(f, "%s\n", lits[i]);
		if (fclose(f) != 0)
			return 1;
	}
	if (pfile != NULL) {
		FILE *f = fopen(pfile, "w");

		if (f == NULL)
			return 1;
		write_perl(f, lits, nlits);
		if (fclose(f) != 0)
			return 1;
	}
	for (i = 0; i < nlits; i++)
		free(lits[i]);
	free(lits);
	free(buf);
	return 0;
}
