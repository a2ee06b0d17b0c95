/*
 * Rule sets: the built-in pack, [rule] sections and literal values,
 * compiled once and then shared read-only by streams. The only PCRE2 user:
 * PCRE2's positive counts and negative codes are translated here.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <pcre2.h>
#include <sodium.h>

#include "conf/hush_err.h"
#include "redact/internal.h"
#include "redact/redact.h"
#include "redact/rules.h"
#include "redact/tokfmt.h"


/* Checking patterns and configuration */

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

int
rules_check_format(const char *fmt, char *msg, size_t msglen)
{
	const char *p, *close;

	for (p = fmt; (p = strchr(p, '{')) != NULL; p = close + 1) {
		close = strchr(p, '}');
		if (close == NULL) {
			snprintf(msg, msglen, "unclosed \"{\" in format");
			return HUSH_ERR_INVALID;
		}
		if (strncmp(p, "{rule}", 6) != 0 &&
		    strncmp(p, "{fp}", 4) != 0 &&
		    strncmp(p, "{len}", 5) != 0) {
			snprintf(msg, msglen, "unknown placeholder \"%.*s\" in "
			    "format (use {rule}, {fp} or {len})",
			    (int)(close - p + 1 > 40 ? 40 : close - p + 1), p);
			return HUSH_ERR_INVALID;
		}
	}
	return HUSH_OK;
}

static const char *const check_names[] = {
	[CHECK_NONE] = "none",
	[CHECK_GENERIC] = "generic",
	[CHECK_PASSWORD] = "password",
	[CHECK_ENTROPY] = "entropy",
	[CHECK_URL_PASSWORD] = "url-password",
	[CHECK_TOKEN] = "token",
	[CHECK_FORMAT] = "format",
	[CHECK_CRC32_BASE62] = "crc32-base62",
	[CHECK_GRAFANA] = "grafana-cloud",
	[CHECK_BEDROCK] = "bedrock",
};

int
rules_check_by_name(const char *name, enum rule_check *out)
{
	size_t i;

	for (i = 0; i < sizeof(check_names) / sizeof(check_names[0]); i++)
		if (check_names[i] != NULL && strcmp(check_names[i], name) == 0) {
			*out = (enum rule_check)i;
			return HUSH_OK;
		}
	return HUSH_ERR_INVALID;
}

/* The built-in names, for "did you mean" (NULL-terminated, malloc). */
static const char **
pack_names(const struct pack *pk)
{
	const char **names;
	size_t i;

	if ((names = calloc(pk->nrules + 1, sizeof(*names))) == NULL)
		return NULL;
	for (i = 0; i < pk->nrules; i++)
		names[i] = pack_rule(pk, i)->name;
	return names;
}

static bool
is_disabled(const struct hush_conf *conf, const char *name)
{
	size_t i;

	if (conf == NULL)
		return false;
	for (i = 0; i < conf->redact.ndisable; i++)
		if (strcmp(conf->redact.disable[i], name) == 0)
			return true;
	return false;
}

/* Checks the keys of a [rule] that only this layer understands. */
static size_t
check_rule_keys(const struct conf_rule *r, struct conf_errs *errs)
{
	enum rule_check c;
	char msg[320];
	size_t n = 0;

	if (r->pattern != NULL && rules_check_pattern(r->pattern,
	    r->secret_group, msg, sizeof(msg)) != HUSH_OK) {
		conf_errs_add(errs, conf_where_key(&r->where, "pattern"),
		    "rule \"%s\": pattern: %s", r->name, msg);
		n++;
	}
	if (r->check != NULL && rules_check_by_name(r->check, &c) != HUSH_OK) {
		conf_errs_add(errs, conf_where_key(&r->where, "check"),
		    "rule \"%s\": check: unknown check \"%s\" (use none, "
		    "generic, password, token, entropy, url-password, format, "
		    "crc32-base62, grafana-cloud or bedrock)",
		    r->name, r->check);
		n++;
	}
	return n;
}

/* Loads the built-in pack; its errors are a bug of the build, reported
 * as such. Returns the number of errors added. */
static size_t
check_pack_load(struct pack *pk, struct conf_errs *errs)
{
	struct conf_loc noloc = { NULL, 0 };
	struct conf_errs packerrs;
	size_t i, n;

	conf_errs_init(&packerrs);
	if (pack_load(pk, &packerrs) == HUSH_OK) {
		conf_errs_release(&packerrs);
		return 0;
	}
	for (i = 0; i < packerrs.n; i++)
		conf_errs_add(errs, noloc, "built-in pack: %s",
		    packerrs.msgs[i]);
	n = packerrs.n > 0 ? packerrs.n : 1;
	conf_errs_release(&packerrs);
	return n;
}

/* rules_check_conf against an already loaded pack (redact_rules_new
 * parses the pack once for both). */
static size_t
check_conf(const struct hush_conf *conf, const struct pack *pk,
    struct conf_errs *errs)
{
	const char **names = NULL;
	char msg[320];
	size_t i, n = 0;

	for (i = 0; i < conf->nrules; i++) {
		const struct conf_rule *r = &conf->rules[i];

		/* A user rule may replace a built-in one that is off. */
		if (pack_find(pk, r->name) != NULL && conf->redact.builtin &&
		    !is_disabled(conf, r->name)) {
			conf_errs_add(errs, r->where.section, "rule \"%s\" has "
			    "the name of a built-in rule; choose another "
			    "(or disable the built-in one)", r->name);
			n++;
		}
		n += check_rule_keys(r, errs);
	}
	for (i = 0; i < conf->redact.ndisable; i++) {
		const char *d = conf->redact.disable[i], *s = NULL;

		if (pack_find(pk, d) != NULL)
			continue;
		if (names == NULL)
			names = pack_names(pk);
		if (names != NULL)
			s = val_suggest(d, names);
		if (s != NULL)
			conf_errs_add(errs, conf_where_key(&conf->redact.where,
			    "disable"), "disable: unknown built-in rule \"%s\"; "
			    "did you mean \"%s\"?", d, s);
		else
			conf_errs_add(errs, conf_where_key(&conf->redact.where,
			    "disable"), "disable: unknown built-in rule \"%s\" "
			    "(hush-redact --list-rules shows them)", d);
		n++;
	}
	free(names);
	if (conf->redact.format != NULL &&
	    rules_check_format(conf->redact.format, msg, sizeof(msg)) !=
	    HUSH_OK) {
		conf_errs_add(errs, conf_where_key(&conf->redact.where,
		    "format"), "%s", msg);
		n++;
	}
	return n;
}

size_t
rules_check_conf(const struct hush_conf *conf, struct conf_errs *errs)
{
	struct pack pk;
	size_t n;

	if ((n = check_pack_load(&pk, errs)) != 0)
		return n;
	n = check_conf(conf, &pk, errs);
	pack_release(&pk);
	return n;
}

/* Secret checks */

/* ASCII lower case, as the C locale's tolower, without a call. */
static inline uint8_t
lc(uint8_t c)
{
	return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* p[0..n) equals the lower-case w[0..n), ignoring p's case. */
static bool
ieqn(const uint8_t *p, const char *w, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (lc(p[i]) != (uint8_t)w[i])
			return false;
	return true;
}

static bool
ieq(const uint8_t *p, size_t len, const char *w)
{
	return strlen(w) == len && ieqn(p, w, len);
}

/* Whether p holds w; w's length is taken once, not at every position
 * (the placeholder checks run on every candidate secret). */
static bool
icontains(const uint8_t *p, size_t len, const char *w)
{
	size_t n = strlen(w), i;

	if (n == 0)
		return true;
	for (i = 0; i + n <= len; i++)
		if (lc(p[i]) == (uint8_t)w[0] && ieqn(p + i, w, n))
			return true;
	return false;
}

/* Values that stand for a secret rather than being one. */
static bool
is_placeholder(const uint8_t *p, size_t len)
{
	static const char *const exact[] = {
		"null", "none", "nil", "true", "false", "undefined", "empty",
		"required", "optional", "secret", "password", "passwd",
		"token", "hidden", "masked", "string", "value", "filtered",
		"[filtered]", "n/a", "na", "test", "default", "unset",
		"redacted", "bearer", "basic", "yes", "no", "pwd", NULL
	};
	static const char *const parts[] = {
		"${", "{{", "<", ">", "%s", "%(", "$(", "***", "...",
		"changeme", "change_me", "change-me", "example", "redacted",
		"placeholder", "your_", "your-", "dummy", "replace_me",
		"replace-me", "replace_with", "replace-with", "fixme", "todo",
		"secret_here", "here>", "..", "[redacted", NULL
	};
	size_t i;

	if (len == 0 || p[0] == '$' || p[0] == '%' || p[0] == '`')
		return true;
	/* A URL or code template: {USER}, {PASS}, {0}, [PASSWORD] */
	if (len >= 3 && ((p[0] == '{' && p[len - 1] == '}') ||
	    (p[0] == '[' && p[len - 1] == ']')))
		return true;
	for (i = 0; exact[i] != NULL; i++)
		if (ieq(p, len, exact[i]))
			return true;
	for (i = 0; parts[i] != NULL; i++)
		if (icontains(p, len, parts[i]))
			return true;
	/* A template's "xxx" is written in one case; random text mixes
	 * them ("yXxxXMa") often enough to lose real keys. */
	for (i = 0; i + 3 <= len; i++)
		if ((p[i] == 'x' || p[i] == 'X') && p[i + 1] == p[i] &&
		    p[i + 2] == p[i])
			return true;
	for (i = 1; i < len && p[i] == p[0]; i++)
		;
	return i == len;	/* "********", "aaaaaaaa" */
}

static double
entropy(const uint8_t *p, size_t len)
{
	unsigned cnt[256];
	double h = 0;
	size_t i;

	memset(cnt, 0, sizeof(cnt));
	for (i = 0; i < len; i++)
		cnt[p[i]]++;
	for (i = 0; i < 256; i++)
		if (cnt[i] != 0) {
			double f = (double)cnt[i] / (double)len;

			h -= f * log2(f);
		}
	return h;
}

struct classes {
	size_t	upper, lower, digit, hex, other;
};

static void
classify(const uint8_t *p, size_t len, struct classes *c)
{
	size_t i;

	memset(c, 0, sizeof(*c));
	for (i = 0; i < len; i++) {
		if (isupper(p[i]))
			c->upper++;
		else if (islower(p[i]))
			c->lower++;
		else if (isdigit(p[i]))
			c->digit++;
		else
			c->other++;
		if (isxdigit(p[i]))
			c->hex++;
	}
}

static bool
is_uuid(const uint8_t *p, size_t len)
{
	size_t i;

	if (len != 36)
		return false;
	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (p[i] != '-')
				return false;
		} else if (!isxdigit(p[i]))
			return false;
	}
	return true;
}

/* A version: digits, a dot, digits, a dot, digits ("jjwt-0.11.2"). */
static bool
has_version(const uint8_t *p, size_t len)
{
	size_t i, j, dots;

	for (i = 0; i < len; i++) {
		if (!isdigit(p[i]) || (i > 0 && isalnum(p[i - 1])))
			continue;
		for (j = i, dots = 0; j < len && (isdigit(p[j]) ||
		    (p[j] == '.' && j + 1 < len && isdigit(p[j + 1]))); j++)
			dots += p[j] == '.';
		if (dots >= 2)
			return true;
	}
	return false;
}

/*
 * An identifier a program prints, not a token: dotted or slashed words
 * ("com.apple.xpc.activity/4505", "io.jsonwebtoken:jjwt"), i.e. at least
 * two separators between lower-case words.
 */
static bool
is_identifier(const uint8_t *p, size_t len)
{
	size_t i, seps = 0, upper = 0;

	for (i = 0; i < len; i++) {
		if (p[i] == '.' || p[i] == '/' || p[i] == ':')
			seps++;
		else if (isupper(p[i]))
			upper++;
	}
	return seps >= 2 && upper == 0;
}

#define RULES_NAME_SEGMENT	8	/* longest word in a dashed name */

/*
 * A file path: a leading '/' and none of base64's '+' and '=', which a
 * base64 secret that happens to start with '/' usually holds.
 */
static bool
is_path(const uint8_t *p, size_t len)
{
	return len > 0 && p[0] == '/' && memchr(p, '+', len) == NULL &&
	    memchr(p, '=', len) == NULL;
}

/*
 * A name a deployment gives things, not a token: lower-case segments
 * joined by dashes, each a short word or a number ("cmp2-qat-1208358310",
 * "app-weu-kv-01"). A random token's segments are long runs that mix
 * letters and digits.
 */
static bool
is_dashed_name(const uint8_t *p, size_t len)
{
	size_t i, start = 0, dashes = 0, letters = 0;

	for (i = 0; i <= len; i++) {
		if (i == len || p[i] == '-') {
			if (i == start || (letters > 0 && i - start >
			    RULES_NAME_SEGMENT))
				return false;
			dashes += i < len;
			start = i + 1;
			letters = 0;
		} else if (p[i] >= 'a' && p[i] <= 'z') {
			letters++;
		} else if (p[i] < '0' || p[i] > '9') {
			return false;
		}
	}
	return dashes >= 2;
}

/* A plain word: letters only, all lower case or capitalised. */
static bool
is_word(const uint8_t *p, size_t len, const struct classes *c)
{
	if (c->digit != 0 || c->other != 0)
		return false;
	return len > 0 && (c->upper == 0 || (c->upper == 1 &&
	    isupper(p[0])) || c->lower == 0);
}

/*
 * A value no generator of random tokens makes: a run of identical
 * characters, EXAMPLE, and for generic rules also 8 consecutive ones
 * ("abcdefgh", "12345678"). For a random 40-character token each is less
 * likely than 1 in 10^8. Fixed formats are held to less: a made-up
 * "xoxb-1234567890-..." in a log is still better masked.
 */
static bool
is_fake(const uint8_t *p, size_t len, size_t maxrun, bool sequences)
{
	size_t i, run = 1, seq = 1;

	if (icontains(p, len, "example"))
		return true;
	for (i = 1; i < len; i++) {
		run = p[i] == p[i - 1] ? run + 1 : 1;
		seq = p[i] == p[i - 1] + 1 ? seq + 1 : 1;
		if (run >= maxrun || (sequences && seq >= 8))
			return true;
	}
	return false;
}

bool
rules_check_secret(enum rule_check check, const uint8_t *p, size_t len)
{
	struct classes c;

	if (len == 0)
		return false;
	if (check == CHECK_NONE)
		return true;
	classify(p, len, &c);
	switch (check) {
	case CHECK_NONE:
		return true;
	case CHECK_FORMAT:
		return !is_fake(p, len, 8, false);
	case CHECK_CRC32_BASE62:
		return tokfmt_crc32_base62(p, len);
	case CHECK_GRAFANA:
		return tokfmt_grafana(p, len);
	case CHECK_BEDROCK:
		return tokfmt_bedrock(p, len);
	case CHECK_ENTROPY:
		return len >= 16 && c.upper > 0 && c.lower > 0 &&
		    entropy(p, len) >= 3.5;
	case CHECK_URL_PASSWORD:
		return !is_placeholder(p, len) && c.digit != len;
	case CHECK_PASSWORD:
		/* A path is where a password is kept (--password-file),
		 * not the password. "pass" is what examples write after
		 * user: (curl --user user:pass); in a URL's userinfo it
		 * is still masked (CHECK_URL_PASSWORD, docs/redact.md). */
		return len >= 4 && !is_placeholder(p, len) &&
		    !is_path(p, len) && !ieq(p, len, "pass");
	case CHECK_TOKEN:
		return len >= 8 && !is_placeholder(p, len) &&
		    !is_word(p, len, &c) && !is_fake(p, len, 8, true);
	case CHECK_GENERIC:
		if (len < 16 || is_placeholder(p, len) ||
		    is_fake(p, len, 6, true))
			return false;
		/* A UUID after a secret word is a key (Heroku, HubSpot,
		 * Snyk...); a UUID standing alone never gets here. */
		if (is_uuid(p, len))
			return true;
		if (c.digit == 0 || c.upper + c.lower == 0)
			return false;
		if (p[0] == '/' || icontains(p, len, "://") ||
		    has_version(p, len) || is_identifier(p, len) ||
		    is_dashed_name(p, len) || icontains(p, len, "arn:"))
			return false;
		if (c.hex == len)
			return entropy(p, len) >= 3.0;
		return entropy(p, len) >= 3.5;
	}
	return false;
}

/*
 * A run of RULES_X_RUN or more 'x' (or 'X') is how documentation writes a
 * token's template (glpat-xxxxxxxx..., hvs.XXXX...). No issuer's random
 * body holds one (a chance of 62^-8 per position), so even a fail-closed
 * format lets it through; other placeholder bodies (AAAA..., EXAMPLE,
 * 1111...) are still masked, since a generator can emit them.
 */
#define RULES_X_RUN	8

static bool
x_template(const uint8_t *p, size_t len)
{
	size_t i, run = 0;

	for (i = 0; i < len; i++) {
		if ((p[i] == 'x' || p[i] == 'X') && (run == 0 || p[i] == p[i - 1]))
			run++;
		else
			run = (p[i] == 'x' || p[i] == 'X') ? 1 : 0;
		if (run >= RULES_X_RUN)
			return true;
	}
	return false;
}

bool
rules_accept(const struct rule *ru, const uint8_t *p, size_t len)
{
	size_t i;

	if (x_template(p, len))
		return false;
	if (!rules_check_secret(ru->check, p, len))
		return false;
	if (ru->min_entropy > 0 && entropy(p, len) < ru->min_entropy)
		return false;
	for (i = 0; i < ru->nstopwords; i++)
		if (icontains(p, len, ru->stopwords[i]))
			return false;
	return true;
}

/* Building rule sets */

static char *
lower_dup(const char *s)
{
	char *d = strdup(s), *p;

	if (d != NULL)
		for (p = d; *p != '\0'; p++)
			*p = (char)tolower((unsigned char)*p);
	return d;
}

static void
rule_release(struct rule *r)
{
	size_t i;

	free(r->name);
	free(r->description);
	for (i = 0; i < r->nkeywords; i++)
		free(r->keywords[i]);
	free(r->keywords);
	free(r->pattern);
	for (i = 0; i < r->nstopwords; i++)
		free(r->stopwords[i]);
	free(r->stopwords);
	pcre2_code_free(r->code);
	memset(r, 0, sizeof(*r));
}

static int
rules_add(struct redact_rules *rs, const struct conf_rule *cr, bool builtin)
{
	struct rule *grown, *r;
	enum rule_check check = CHECK_NONE;
	size_t i;

	if (rs->nrules >= REDACT_MAX_RULES)
		return HUSH_ERR_TOO_LARGE;
	if (cr->check != NULL && rules_check_by_name(cr->check, &check) !=
	    HUSH_OK)
		return HUSH_ERR_INVALID;
	if ((grown = realloc(rs->rules, (rs->nrules + 1) * sizeof(*grown))) ==
	    NULL)
		return HUSH_ERR_NOMEM;
	rs->rules = grown;
	r = &rs->rules[rs->nrules];
	memset(r, 0, sizeof(*r));
	r->group = (uint32_t)cr->secret_group;
	r->check = check;
	r->builtin = builtin;
	r->min_entropy = cr->min_entropy;
	if ((r->name = strdup(cr->name)) == NULL ||
	    (cr->description != NULL &&
	    (r->description = strdup(cr->description)) == NULL) ||
	    (r->pattern = strdup(cr->pattern)) == NULL ||
	    (r->keywords = calloc(cr->nkeywords + 1, sizeof(char *))) == NULL ||
	    (r->stopwords = calloc(cr->nstopwords + 1, sizeof(char *))) == NULL)
		goto nomem;
	for (i = 0; i < cr->nkeywords; i++) {
		if (cr->keywords[i][0] == '\0')
			continue;
		if ((r->keywords[r->nkeywords] = lower_dup(cr->keywords[i])) ==
		    NULL)
			goto nomem;
		r->nkeywords++;
	}
	for (i = 0; i < cr->nstopwords; i++) {
		if ((r->stopwords[r->nstopwords] = lower_dup(cr->stopwords[i]))
		    == NULL)
			goto nomem;
		r->nstopwords++;
	}
	/* The PEM block rule and the PuTTY key rule also mask blocks
	 * that span lines (stream.c). */
	r->pem = builtin && (strcmp(cr->name, "private-key") == 0 ||
	    strcmp(cr->name, "putty-private-key") == 0);
	/* A generic detector gives way to a specific rule on a shared span,
	 * so the marker says what the secret is. */
	r->weak = builtin && strncmp(cr->name, "generic-", 8) == 0;
	rs->nrules++;
	return HUSH_OK;
nomem:
	rule_release(r);
	return HUSH_ERR_NOMEM;
}

struct redact_rules *
redact_rules_new(const struct hush_conf *conf, unsigned flags,
    struct conf_errs *errs)
{
	struct redact_rules *rs;
	struct conf_loc noloc = { NULL, 0 };
	const char *fmt = CONF_DEFAULT_FORMAT;
	const struct conf_rule *cr;
	struct pack pk;
	char msg[320];
	size_t i;
	bool builtin = !(flags & REDACT_NO_BUILTIN);

	/* Parsed once, for checking conf's rule names and for the rules:
	 * a parse is a fifth of start-up. */
	memset(&pk, 0, sizeof(pk));
	if ((conf != NULL || builtin) && check_pack_load(&pk, errs) != 0)
		return NULL;
	if ((rs = calloc(1, sizeof(*rs))) == NULL) {
		conf_errs_add(errs, noloc, "out of memory");
		pack_release(&pk);
		return NULL;
	}
	rs->min_literal = CONF_DEFAULT_MIN_LITERAL;
	rs->max_line = CONF_DEFAULT_MAX_LINE;
	if (conf != NULL) {
		if (conf->redact.format != NULL)
			fmt = conf->redact.format;
		rs->min_literal = conf->redact.min_literal_length;
		rs->max_line = conf->redact.max_line;
		if (!conf->redact.builtin)
			builtin = false;
		if (check_conf(conf, &pk, errs) != 0)
			goto fail;
		if (redact_fp_key(conf->redact.fingerprint_key_file,
		    &rs->fp_key, msg, sizeof(msg)) != HUSH_OK) {
			conf_errs_add(errs, conf_where_key(&conf->redact.where,
			    "fingerprint_key_file"), "%s", msg);
			goto fail;
		}
	}
	/* no configuration: a random key, comparable within this run */
	if (rs->fp_key == NULL &&
	    redact_fp_key(NULL, &rs->fp_key, msg, sizeof(msg)) != HUSH_OK)
		goto nomem;
	if (rs->max_line < CONF_MIN_MAX_LINE)
		rs->max_line = CONF_MIN_MAX_LINE;
	if ((rs->format = strdup(fmt)) == NULL)
		goto nomem;
	for (i = 0; builtin && (cr = pack_rule(&pk, i)) != NULL; i++) {
		if (is_disabled(conf, cr->name))
			continue;
		if (rules_add(rs, cr, true) != HUSH_OK)
			goto nomem;
	}
	pack_release(&pk);
	if (conf != NULL && redact_rules_add_conf(rs, conf, errs) != HUSH_OK)
		goto fail;
	return rs;
nomem:
	conf_errs_add(errs, noloc, "out of memory");
fail:
	pack_release(&pk);
	redact_rules_free(rs);
	return NULL;
}

int
redact_rules_set_format(struct redact_rules *rs, const char *fmt, char *msg,
    size_t msglen)
{
	char *d;

	if (rules_check_format(fmt, msg, msglen) != HUSH_OK)
		return HUSH_ERR_INVALID;
	if ((d = strdup(fmt)) == NULL)
		return HUSH_ERR_NOMEM;
	free(rs->format);
	rs->format = d;
	return HUSH_OK;
}

int
redact_rules_add_conf(struct redact_rules *rs, const struct hush_conf *conf,
    struct conf_errs *errs)
{
	size_t i, j;
	int r, bad = 0;

	if (rs->compiled)
		return HUSH_ERR_INTERNAL;
	for (i = 0; i < conf->nrules; i++) {
		const struct conf_rule *cr = &conf->rules[i];

		for (j = 0; j < rs->nrules; j++)
			if (strcmp(rs->rules[j].name, cr->name) == 0)
				break;
		if (j < rs->nrules) {
			conf_errs_add(errs, cr->where.section, "rule \"%s\" is "
			    "already defined", cr->name);
			bad++;
			continue;
		}
		if (cr->pattern == NULL || check_rule_keys(cr, errs) != 0) {
			bad++;
			continue;
		}
		r = rules_add(rs, cr, false);
		if (r != HUSH_OK) {
			conf_errs_add(errs, cr->where.section, "rule \"%s\": %s",
			    cr->name, hush_strerror(r));
			bad++;
		}
	}
	return bad ? HUSH_ERR_CONFIG : HUSH_OK;
}

int
redact_rules_add_literal(struct redact_rules *rs, const char *name,
    const uint8_t *value, size_t len)
{
	struct literal *grown, *l;

	if (rs->compiled)
		return HUSH_ERR_INTERNAL;
	if (len < rs->min_literal)
		return HUSH_ERR_INVALID;
	if (len > REDACT_MAX_LITERAL_LEN)
		return HUSH_ERR_TOO_LARGE;
	if (rs->nlits >= REDACT_MAX_LITERALS)
		return HUSH_ERR_TOO_LARGE;
	if ((grown = realloc(rs->lits, (rs->nlits + 1) * sizeof(*grown))) ==
	    NULL)
		return HUSH_ERR_NOMEM;
	rs->lits = grown;
	l = &rs->lits[rs->nlits];
	if ((l->name = strdup(name)) == NULL)
		return HUSH_ERR_NOMEM;
	if ((l->value = secbuf_from(value, len)) == NULL) {
		free(l->name);
		return HUSH_ERR_NOMEM;
	}
	rs->nlits++;
	return HUSH_OK;
}

/* pcre2_compile of one rule's pattern, and its number of groups. */
static int
rule_compile(struct rule *ru)
{
	PCRE2_SIZE off;
	pcre2_code *re;
	uint32_t ncap = 0;
	int code;

	re = pcre2_compile((PCRE2_SPTR)ru->pattern, PCRE2_ZERO_TERMINATED, 0,
	    &code, &off, NULL);
	if (re == NULL)
		return HUSH_ERR_INVALID;
	(void)pcre2_pattern_info(re, PCRE2_INFO_CAPTURECOUNT, &ncap);
	ru->code = re;
	ru->ncap = ncap;
	return HUSH_OK;
}

int
redact_rules_compile(struct redact_rules *rs)
{
	size_t i;
	int r;

	if (rs->compiled)
		return HUSH_ERR_INTERNAL;
	if ((rs->always = calloc(rs->nrules + 1, sizeof(uint32_t))) == NULL ||
	    (rs->jitted = calloc(rs->nrules + 1, 1)) == NULL)
		return HUSH_ERR_NOMEM;
	rs->max_groups = 1;
	for (i = 0; i < rs->nrules; i++) {
		struct rule *ru = &rs->rules[i];

		/*
		 * A user's rule is compiled now, so that it fails here if at
		 * all; the pack's rules (each compiled and run by test_rules)
		 * when they first run, like JIT: compiling the whole pack
		 * was a sixth of start-up, and most rules never run.
		 */
		if (!ru->builtin) {
			if ((r = rule_compile(ru)) != HUSH_OK)
				return r;
			if (ru->ncap + 1 > rs->max_groups)
				rs->max_groups = ru->ncap + 1;
		}
		if (ru->nkeywords == 0)
			rs->always[rs->nalways++] = (uint32_t)i;
		if (ru->pem && strcmp(ru->name, "putty-private-key") == 0) {
			rs->has_putty = true;
			rs->putty_rule = (uint32_t)i;
		} else if (ru->pem) {
			rs->has_pem = true;
			rs->pem_rule = (uint32_t)i;
		}
	}
	if ((r = scan_build(rs)) != HUSH_OK)
		return r;
	rs->compiled = true;
	return HUSH_OK;
}

void
redact_rules_free(struct redact_rules *rs)
{
	size_t i;

	if (rs == NULL)
		return;
	for (i = 0; i < rs->nrules; i++)
		rule_release(&rs->rules[i]);
	free(rs->rules);
	for (i = 0; i < rs->nlits; i++) {
		free(rs->lits[i].name);
		secbuf_free(rs->lits[i].value);
	}
	free(rs->lits);
	free(rs->always);
	free(rs->jitted);
	scan_release(&rs->scan);
	free(rs->format);
	secbuf_unref(rs->fp_key);
	free(rs);
}

size_t
redact_rules_count(const struct redact_rules *rs)
{
	return rs->nrules;
}

int
redact_rules_info(const struct redact_rules *rs, size_t i,
    struct redact_rule_info *info)
{
	if (i >= rs->nrules)
		return HUSH_ERR_NOT_FOUND;
	info->name = rs->rules[i].name;
	info->description = rs->rules[i].description;
	info->keywords = (const char *const *)rs->rules[i].keywords;
	info->builtin = rs->rules[i].builtin;
	return HUSH_OK;
}

/* Matching */

struct rules_md {
	pcre2_match_data	*md;
	pcre2_match_context	*mctx;
	pcre2_jit_stack		*jit;
};

struct rules_md *
rules_md_new(const struct redact_rules *rs)
{
	struct rules_md *m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	if ((m->md = pcre2_match_data_create(rs->max_groups, NULL)) == NULL ||
	    (m->mctx = pcre2_match_context_create(NULL)) == NULL ||
	    (m->jit = pcre2_jit_stack_create(32 * 1024, REDACT_JIT_STACK,
	    NULL)) == NULL) {
		rules_md_free(m);
		return NULL;
	}
	pcre2_set_match_limit(m->mctx, REDACT_MATCH_LIMIT);
	pcre2_set_depth_limit(m->mctx, REDACT_DEPTH_LIMIT);
	pcre2_set_heap_limit(m->mctx, REDACT_HEAP_LIMIT);
	pcre2_jit_stack_assign(m->mctx, NULL, m->jit);
	return m;
}

void
rules_md_free(struct rules_md *m)
{
	if (m == NULL)
		return;
	pcre2_match_data_free(m->md);
	pcre2_match_context_free(m->mctx);
	pcre2_jit_stack_free(m->jit);
	free(m);
}

bool
rules_jit_ready(const struct redact_rules *rs, size_t ri)
{
	size_t sz = 0;

	return rs->rules[ri].code != NULL &&
	    pcre2_pattern_info(rs->rules[ri].code, PCRE2_INFO_JITSIZE,
	    &sz) == 0 && sz > 0;
}

/*
 * Readies rule ri to run with m: compiled (a pack rule, on its first
 * run), JIT-compiled, and m's match data large enough for its groups.
 */
static int
rule_ready(const struct redact_rules *rs, size_t ri, struct rules_md *m)
{
	struct rule *ru = &rs->rules[ri];
	pcre2_match_data *md;
	int r;

	if (ru->code == NULL && (r = rule_compile(ru)) != HUSH_OK)
		return r;
	if (!rs->jitted[ri]) {
		/* Without JIT (some architectures, no memory) the interpreter
		 * runs the same pattern under the same limits. */
		(void)pcre2_jit_compile(ru->code, PCRE2_JIT_COMPLETE);
		rs->jitted[ri] = 1;
	}
	if (ru->ncap + 1 > pcre2_get_ovector_count(m->md)) {
		if ((md = pcre2_match_data_create(ru->ncap + 1, NULL)) == NULL)
			return HUSH_ERR_NOMEM;
		pcre2_match_data_free(m->md);
		m->md = md;
	}
	return HUSH_OK;
}

int
rules_exec(const struct redact_rules *rs, size_t ri, struct rules_md *m,
    const uint8_t *subj, size_t len, size_t start, size_t *sstart,
    size_t *send, size_t *nextp)
{
	const struct rule *ru = &rs->rules[ri];
	PCRE2_SIZE *ov;
	uint32_t g = ru->group;
	int rc;

	if (rule_ready(rs, ri, m) != HUSH_OK)
		return HUSH_ERR_TOO_LARGE;	/* fail closed */
	rc = pcre2_match(ru->code, subj, len, start, 0, m->md, m->mctx);
	if (rc == PCRE2_ERROR_NOMATCH)
		return 0;
	if (rc <= 0)
		return HUSH_ERR_TOO_LARGE;	/* limit or error: fail closed */
	ov = pcre2_get_ovector_pointer(m->md);
	*nextp = ov[1] > ov[0] ? ov[1] : ov[0] + 1;
	if (g < (uint32_t)rc && ov[2 * g] != PCRE2_UNSET) {
		*sstart = ov[2 * g];
		*send = ov[2 * g + 1];
	} else {
		*sstart = ov[0];
		*send = ov[1];
	}
	return 1;
}
