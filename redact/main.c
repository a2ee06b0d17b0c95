/*
 * hush-redact: the log filter. Reads FILEs or stdin, writes the redacted
 * stream to stdout. What one read produced leaves in one writev before
 * the next read, so a line that was read and decided never waits for
 * more input (`tail -f | hush-redact` stays live), and a fast stream
 * goes out in blocks of a read's size. A partial line (a prompt, a
 * progress bar) that waits REDACT_IDLE_MS for more input goes out up to
 * a safe cut (redact_stream_idle).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/conf.h"
#include "conf/hush_err.h"
#include "conf/secbuf.h"
#include "conf/source.h"
#include "redact/mmexternal.h"
#include "redact/redact.h"
#include "redact/rules.h"

#define MAIN_IBUF		(256 * 1024)
#define MAIN_OBUF		(64 * 1024)	/* markers and held lines */
#define MAIN_IOV		256		/* pieces per writev (<= IOV_MAX) */
#define MAIN_MAX_LITFILE	(16 << 20)
#define MAIN_MAX_RULEFILES	64
#define MAIN_MAX_STATS		8192

/*
 * Output of one read: the pieces the stream passes on, in order. Clean
 * runs point into the input buffer (unchanged until the next read, so
 * they are referenced, not copied); other pieces (markers, a held line
 * from the stream's buffer, which change as soon as the sink returns)
 * are copied into buf.
 */
struct out {
	struct iovec	 iov[MAIN_IOV];
	int		 niov;
	uint8_t		*buf;
	size_t		 len;
	uintptr_t	 in_lo, in_hi;	/* the input buffer's bytes */
	bool		 epipe;		/* the reader went away: stop quietly */
	bool		 failed;
};

struct stat_ent {
	const char	*rule;		/* owned by the rule set */
	unsigned long long n;
};

struct run {
	struct out	 out;
	bool		 check;
	bool		 stats;
	const char	*fname;		/* for --check */
	unsigned long long nfound;
	struct stat_ent	 st[MAIN_MAX_STATS];
	size_t		 nst;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: hush-redact [-c FILE] [--no-builtin] "
	    "[-r RULES.ini]... [-l LITERALS]...\n"
	    "                   [--format TEMPLATE] [--stats] [--check] "
	    "[--list-rules] [FILE]...\n"
	    "Masks secrets in FILEs (or stdin) and writes the result to "
	    "stdout.\n"
	    "  -c FILE            hush.ini: [redact], [rule] and the values "
	    "of [credential]s\n"
	    "  --no-builtin       leave out the built-in rule pack\n"
	    "  -r RULES.ini       more [rule] sections\n"
	    "  -l FILE            literal secrets to mask, one per line\n"
	    "  --format TEMPLATE  marker, with {rule}, {fp}, {len} "
	    "(default [REDACTED:{rule}])\n"
	    "  --stats            counts per rule on stderr at exit\n"
	    "  --check            print FILE:LINE: rule for each secret, "
	    "exit 1 if any\n"
	    "  --list-rules       the rules, their keywords and "
	    "descriptions\n"
	    "  --rsyslog-mmexternal  speak rsyslog's mmexternal protocol "
	    "(interface.input=\"msg\")\n");
}

/* Output */

static void
out_flush(struct out *o)
{
	struct iovec *v = o->iov;
	int nv = o->niov;
	ssize_t n;

	while (nv > 0 && !o->epipe && !o->failed) {
		n = writev(STDOUT_FILENO, v, nv);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EPIPE) {
			o->epipe = true;
		} else if (n < 0) {
			hush_errf("hush-redact", "write: %s",
			    strerror(errno));
			o->failed = true;
		} else {
			/* A short write: go on after what was taken. */
			while (nv > 0 && (size_t)n >= v->iov_len) {
				n -= (ssize_t)v->iov_len;
				v++;
				nv--;
			}
			if (nv > 0) {
				v->iov_base = (uint8_t *)v->iov_base + n;
				v->iov_len -= (size_t)n;
			}
		}
	}
	o->niov = 0;
	o->len = 0;
}

/* Appends p[0..n) as a piece, joined to the last one where it follows. */
static void
out_piece(struct out *o, const uint8_t *p, size_t n)
{
	struct iovec *last = o->niov > 0 ? &o->iov[o->niov - 1] : NULL;

	if (last != NULL && (const uint8_t *)last->iov_base + last->iov_len ==
	    p) {
		last->iov_len += n;
		return;
	}
	if (o->niov == MAIN_IOV)
		out_flush(o);
	o->iov[o->niov].iov_base = (void *)(uintptr_t)p;
	o->iov[o->niov].iov_len = n;
	o->niov++;
}

static int
out_write(struct out *o, const uint8_t *p, size_t n)
{
	uintptr_t a = (uintptr_t)p;

	if (o->epipe || o->failed)
		return -1;
	if (a >= o->in_lo && a < o->in_hi && n <= o->in_hi - a) {
		out_piece(o, p, n);
	} else {
		/* Room for the bytes and their piece before copying: a
		 * flush empties buf. */
		if (o->len + n > MAIN_OBUF || o->niov == MAIN_IOV)
			out_flush(o);
		if (n > MAIN_OBUF) {
			/* A long held line: out now, while p is valid. */
			out_piece(o, p, n);
			out_flush(o);
		} else {
			memcpy(o->buf + o->len, p, n);
			out_piece(o, o->buf + o->len, n);
			o->len += n;
		}
	}
	return (o->epipe || o->failed) ? -1 : 0;
}

static int
on_output(void *arg, const uint8_t *buf, size_t len)
{
	struct run *rn = arg;

	if (rn->check)
		return 0;	/* findings only */
	return out_write(&rn->out, buf, len);
}

static void
on_finding(void *arg, const char *rule, uint64_t line)
{
	struct run *rn = arg;
	char msg[512];
	size_t i;
	int k;

	rn->nfound++;
	if (rn->check) {
		k = snprintf(msg, sizeof(msg), "%s:%llu: %s\n", rn->fname,
		    (unsigned long long)line, rule);
		if (k > 0)
			(void)out_write(&rn->out, (const uint8_t *)msg,
			    (size_t)k < sizeof(msg) ? (size_t)k :
			    sizeof(msg) - 1);
	}
	for (i = 0; i < rn->nst; i++)
		if (rn->st[i].rule == rule || strcmp(rn->st[i].rule, rule) ==
		    0)
			break;
	if (i == rn->nst) {
		if (rn->nst == MAIN_MAX_STATS)
			return;
		rn->st[rn->nst].rule = rule;
		rn->st[rn->nst].n = 0;
		rn->nst++;
	}
	rn->st[i].n++;
}

/* Input */

/* Filters one input; HUSH_OK, HUSH_ERR_IO on a read error (reported), or
 * HUSH_ERR_DENIED when output has stopped. */
static int
filter_fd(const struct redact_rules *rules, struct run *rn, int fd,
    const char *name, uint8_t *ibuf)
{
	struct redact_stream *s;
	ssize_t n;
	size_t dirty = 0;
	struct stat st;
	bool idled, regular;
	int r = HUSH_OK;

	if ((s = redact_stream_new(rules, on_output, rn)) == NULL) {
		hush_errf("hush-redact", "out of memory");
		return HUSH_ERR_NOMEM;
	}
	/* Counting lines costs time; only these two report them. */
	if (rn->check || rn->stats)
		redact_stream_set_finding(s, on_finding, rn);
	rn->fname = name;
	/* A read of a regular file never waits: no idle point to look for
	 * (and no poll per read). */
	regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	idled = regular;
	for (;;) {
		if (!idled && redact_stream_holding(s)) {
			struct pollfd pfd = { fd, POLLIN, 0 };
			int pr = poll(&pfd, 1, REDACT_IDLE_MS);

			if (pr < 0 && errno == EINTR)
				continue;
			if (pr == 0) {
				/* Once per pause: what stays held waits for
				 * more input. */
				idled = true;
				if (redact_stream_idle(s) != HUSH_OK) {
					r = HUSH_ERR_DENIED;
					goto out;
				}
				out_flush(&rn->out);
				continue;
			}
		}
		n = read(fd, ibuf, MAIN_IBUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			hush_errf("hush-redact", "%s: read error: %s",
			    name, strerror(errno));
			r = HUSH_ERR_IO;
			break;
		}
		if (n == 0)
			break;
		if ((size_t)n > dirty)
			dirty = (size_t)n;
		idled = regular;
		rn->out.in_lo = (uintptr_t)ibuf;
		rn->out.in_hi = (uintptr_t)ibuf + (size_t)n;
		r = redact_stream_feed(s, ibuf, (size_t)n);
		/* Before the next read overwrites ibuf, and before blocking
		 * on it: what this read decided leaves now. */
		out_flush(&rn->out);
		rn->out.in_lo = rn->out.in_hi = 0;
		if (r != HUSH_OK || rn->out.epipe || rn->out.failed) {
			r = HUSH_ERR_DENIED;
			goto out;
		}
	}
	/* What was read before an error is still passed on, redacted. */
	if (redact_stream_finish(s) != HUSH_OK)
		r = HUSH_ERR_DENIED;
out:
	out_flush(&rn->out);
	rn->out.in_lo = rn->out.in_hi = 0;
	redact_stream_free(s);
	sodium_memzero(ibuf, dirty);
	return r;
}

/* Configuration */

static void
print_errs(struct conf_errs *errs)
{
	conf_errs_print(errs, "hush-redact", "");
}

/* Reads a whole file into secure memory. */
static int
read_secret_file(const char *path, struct secbuf **outp)
{
	struct secbuf *sb = NULL;
	struct stat st;
	ssize_t n;
	int fd, r = HUSH_ERR_IO;

	*outp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY)) < 0)
		return HUSH_ERR_IO;
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
		goto out;
	r = HUSH_ERR_TOO_LARGE;
	if (st.st_size > MAIN_MAX_LITFILE)
		goto out;
	r = HUSH_ERR_NOMEM;
	if ((sb = secbuf_new((size_t)st.st_size + 1)) == NULL)
		goto out;
	r = HUSH_ERR_IO;
	while (secbuf_len(sb) < (size_t)st.st_size) {
		n = read(fd, secbuf_mut(sb) + secbuf_len(sb),
		    (size_t)st.st_size - secbuf_len(sb));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto out;
		secbuf_set_len(sb, secbuf_len(sb) + (size_t)n);
	}
	*outp = sb;
	sb = NULL;
	r = HUSH_OK;
out:
	secbuf_free(sb);
	close(fd);
	return r;
}

/* -l FILE: one literal per line; a short one is a configuration error. */
static int
add_literal_file(struct redact_rules *rules, const char *path,
    size_t minlen)
{
	struct secbuf *sb;
	const uint8_t *p, *nl, *end;
	unsigned line = 0;
	size_t len;
	int r, bad = 0;

	if ((r = read_secret_file(path, &sb)) != HUSH_OK) {
		hush_errf("hush-redact", "%s: %s", path,
		    r == HUSH_ERR_IO ? strerror(errno ? errno : EIO) :
		    hush_strerror(r));
		return HUSH_ERR_CONFIG;
	}
	p = secbuf_data(sb);
	end = p + secbuf_len(sb);
	for (; p < end; p = nl + 1) {
		line++;
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		len = (size_t)(nl - p);
		if (len > 0 && p[len - 1] == '\r')
			len--;
		if (len == 0)
			continue;
		r = redact_rules_add_literal(rules, "literal", p, len);
		if (r == HUSH_ERR_INVALID) {
			hush_errf("hush-redact", "%s:%u: literal shorter than "
			    "%zu characters: refused (it would mask too much)",
			    path, line, minlen);
			bad++;
		} else if (r != HUSH_OK) {
			hush_errf("hush-redact", "%s:%u: literal: %s", path,
			    line, hush_strerror(r));
			bad++;
		}
	}
	secbuf_free(sb);
	return bad ? HUSH_ERR_CONFIG : HUSH_OK;
}

/* Every [credential]'s current value, masked as credential:NAME. */
static int
add_credentials(struct redact_rules *rules, const struct hush_conf *conf)
{
	struct source_err serr;
	struct secbuf *v;
	char name[256];
	size_t i;
	int r, bad = 0;

	for (i = 0; i < conf->ncreds; i++) {
		const struct conf_cred *c = &conf->creds[i];

		memset(&serr, 0, sizeof(serr));
		if ((r = source_load(c, &v, &serr)) != HUSH_OK) {
			hush_errf("hush-redact", "%s", serr.msg[0] ?
			    serr.msg : hush_strerror(r));
			bad++;
			continue;
		}
		snprintf(name, sizeof(name), "credential:%s", c->name);
		r = redact_rules_add_literal(rules, name, secbuf_data(v),
		    secbuf_len(v));
		secbuf_free(v);
		if (r == HUSH_ERR_INVALID) {
			hush_errf("hush-redact", "%s:%d: credential \"%s\": "
			    "value shorter than min_literal_length (%llu): "
			    "refused",
			    c->where.section.file, c->where.section.line,
			    c->name, (unsigned long long)
			    conf->redact.min_literal_length);
			bad++;
		} else if (r != HUSH_OK) {
			hush_errf("hush-redact", "credential \"%s\": %s",
			    c->name, hush_strerror(r));
			bad++;
		}
	}
	return bad ? HUSH_ERR_CONFIG : HUSH_OK;
}

static void
list_rules(const struct redact_rules *rules)
{
	struct redact_rule_info ri;
	size_t i, k;

	for (i = 0; i < redact_rules_count(rules); i++) {
		if (redact_rules_info(rules, i, &ri) != HUSH_OK)
			continue;
		printf("%s\n  keywords: ", ri.name);
		for (k = 0; ri.keywords[k] != NULL; k++)
			printf("%s%s", k ? ", " : "", ri.keywords[k]);
		if (k == 0)
			printf("(none: runs on every line)");
		printf("\n  %s%s\n", ri.description ? ri.description : "",
		    ri.builtin ? "" : " (from configuration)");
	}
}

enum {
	OPT_NO_BUILTIN = 256,
	OPT_FORMAT,
	OPT_STATS,
	OPT_CHECK,
	OPT_LIST,
	OPT_MMEXTERNAL,
	OPT_HELP,
	OPT_VERSION,
};

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "no-builtin", no_argument, NULL, OPT_NO_BUILTIN },
		{ "rules", required_argument, NULL, 'r' },
		{ "literals", required_argument, NULL, 'l' },
		{ "format", required_argument, NULL, OPT_FORMAT },
		{ "stats", no_argument, NULL, OPT_STATS },
		{ "check", no_argument, NULL, OPT_CHECK },
		{ "list-rules", no_argument, NULL, OPT_LIST },
		{ "rsyslog-mmexternal", no_argument, NULL, OPT_MMEXTERNAL },
		{ "help", no_argument, NULL, OPT_HELP },
		{ "version", no_argument, NULL, OPT_VERSION },
		{ NULL, 0, NULL, 0 }
	};
	const char *cfile = NULL, *format = NULL;
	const char *rfiles[MAIN_MAX_RULEFILES], *lfiles[MAIN_MAX_RULEFILES];
	size_t nr = 0, nl = 0, i;
	struct hush_conf conf;
	struct conf_errs errs;
	struct redact_rules *rules = NULL;
	struct run *rn = NULL;
	uint8_t *ibuf = NULL;
	unsigned flags = 0;
	bool list = false, conf_loaded = false, mmx = false;
	char msg[320];
	int c, r, status = HUSH_EXIT_FAIL;

	if (hush_harden_process() != HUSH_OK) {
		hush_errf("hush-redact", "cannot initialise libsodium");
		return HUSH_EXIT_FAIL;
	}
	/* A closed pipe is an ordinary end for a filter: see EPIPE. */
	signal(SIGPIPE, SIG_IGN);
	conf_errs_init(&errs);
	conf_init(&conf);
	if ((rn = calloc(1, sizeof(*rn))) == NULL) {
		hush_errf("hush-redact", "out of memory");
		return HUSH_EXIT_FAIL;
	}
	while ((c = getopt_long(argc, argv, "c:r:l:hV", longopts, NULL)) !=
	    -1) {
		switch (c) {
		case 'c':
			cfile = optarg;
			break;
		case 'r':
		case 'l':
			if ((c == 'r' ? nr : nl) == MAIN_MAX_RULEFILES) {
				hush_errf("hush-redact", "too many -%c",
				    c);
				status = HUSH_EXIT_USAGE;
				goto out;
			}
			if (c == 'r')
				rfiles[nr++] = optarg;
			else
				lfiles[nl++] = optarg;
			break;
		case OPT_NO_BUILTIN:
			flags |= REDACT_NO_BUILTIN;
			break;
		case OPT_FORMAT:
			format = optarg;
			break;
		case OPT_STATS:
			rn->stats = true;
			break;
		case OPT_CHECK:
			rn->check = true;
			break;
		case OPT_LIST:
			list = true;
			break;
		case OPT_MMEXTERNAL:
			mmx = true;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			status = HUSH_EXIT_OK;
			goto out;
		case 'V':
		case OPT_VERSION:
			printf("hush-redact %s\n", HUSH_VERSION);
			status = HUSH_EXIT_OK;
			goto out;
		default:
			usage(stderr);
			status = HUSH_EXIT_USAGE;
			goto out;
		}
	}

	/* rsyslog gives the messages on stdin; a reply per message only. */
	if (mmx && (optind != argc || rn->check || list)) {
		hush_errf("hush-redact", "--rsyslog-mmexternal reads "
		    "stdin and takes no FILE, --check or --list-rules");
		status = HUSH_EXIT_USAGE;
		goto out;
	}

	status = HUSH_EXIT_CONFIG;
	if (cfile != NULL) {
		conf_release(&conf);
		if (conf_load(&conf, cfile, CONF_DEFAULT, rules_check_conf,
		    &errs) != HUSH_OK) {
			print_errs(&errs);
			conf_init(&conf);
			goto out;
		}
		conf_loaded = true;
	}
	if ((rules = redact_rules_new(&conf, flags, &errs)) == NULL) {
		print_errs(&errs);
		goto out;
	}
	for (i = 0; i < nr; i++) {
		struct hush_conf rc;

		if (conf_load(&rc, rfiles[i], CONF_SKIP_SOURCE_CHECKS,
		    rules_check_conf, &errs) != HUSH_OK) {
			print_errs(&errs);
			goto out;
		}
		r = redact_rules_add_conf(rules, &rc, &errs);
		conf_release(&rc);
		if (r != HUSH_OK) {
			print_errs(&errs);
			goto out;
		}
	}
	if (format != NULL && redact_rules_set_format(rules, format, msg,
	    sizeof(msg)) != HUSH_OK) {
		hush_errf("hush-redact", "--format: %s", msg);
		status = HUSH_EXIT_USAGE;
		goto out;
	}
	for (i = 0; i < nl; i++)
		if (add_literal_file(rules, lfiles[i],
		    conf.redact.min_literal_length) != HUSH_OK)
			goto out;
	if (conf_loaded && conf.redact.credentials && !list &&
	    add_credentials(rules, &conf) != HUSH_OK)
		goto out;
	status = HUSH_EXIT_FAIL;
	if ((r = redact_rules_compile(rules)) != HUSH_OK) {
		hush_errf("hush-redact", "cannot compile the rules: %s",
		    hush_strerror(r));
		goto out;
	}
	if (list) {
		list_rules(rules);
		/* A reader that stopped early (| head) is not a failure. */
		status = (fflush(stdout) == 0 || errno == EPIPE) ?
		    HUSH_EXIT_OK : HUSH_EXIT_FAIL;
		goto out;
	}

	if (mmx) {
		r = mmx_run(rules, STDIN_FILENO);
		/* rsyslog closing the pipe is its way of stopping us. */
		status = (r == HUSH_OK || r == HUSH_ERR_DENIED) ?
		    HUSH_EXIT_OK : HUSH_EXIT_FAIL;
		goto out;
	}
	if ((ibuf = malloc(MAIN_IBUF)) == NULL ||
	    (rn->out.buf = malloc(MAIN_OBUF)) == NULL) {
		hush_errf("hush-redact", "out of memory");
		goto out;
	}
	status = HUSH_EXIT_OK;
	if (optind == argc) {
		r = filter_fd(rules, rn, STDIN_FILENO, "(standard input)",
		    ibuf);
		if (r == HUSH_ERR_IO || r == HUSH_ERR_NOMEM)
			status = HUSH_EXIT_FAIL;
	}
	for (i = (size_t)optind; i < (size_t)argc; i++) {
		int fd;

		if (strcmp(argv[i], "-") == 0) {
			fd = STDIN_FILENO;
		} else if ((fd = open(argv[i], O_RDONLY | O_CLOEXEC |
		    O_NOCTTY)) < 0) {
			hush_errf("hush-redact", "%s: %s", argv[i],
			    strerror(errno));
			status = HUSH_EXIT_FAIL;
			continue;
		}
		r = filter_fd(rules, rn, fd, strcmp(argv[i], "-") == 0 ?
		    "(standard input)" : argv[i], ibuf);
		if (fd != STDIN_FILENO)
			close(fd);
		if (r == HUSH_ERR_IO || r == HUSH_ERR_NOMEM)
			status = HUSH_EXIT_FAIL;
		if (r == HUSH_ERR_DENIED)
			break;
	}
	out_flush(&rn->out);
	if (rn->out.failed)
		status = HUSH_EXIT_FAIL;
	if (rn->stats)
		for (i = 0; i < rn->nst; i++)
			fprintf(stderr, "%10llu %s\n", rn->st[i].n,
			    rn->st[i].rule);
	if (rn->check && rn->nfound > 0 && status == HUSH_EXIT_OK)
		status = HUSH_EXIT_FAIL;
	/* A reader that went away ends the filter quietly. */
	if (rn->out.epipe && status == HUSH_EXIT_FAIL && !rn->check)
		status = HUSH_EXIT_OK;
out:
	if (rn != NULL) {
		if (rn->out.buf != NULL) {
			sodium_memzero(rn->out.buf, MAIN_OBUF);
			free(rn->out.buf);
		}
		free(rn);
	}
	free(ibuf);
	redact_rules_free(rules);
	conf_release(&conf);
	conf_errs_release(&errs);
	return status;
}
