#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "conf/fdio.h"
#include "conf/hush_err.h"
#include "conf/seal.h"
#include "conf/secbuf.h"
#include "conf/token.h"
#include "broker/client/admin.h"

static const struct option admin_help_only[] = {
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

/* Reports what getopt found wrong; arg is the word it was looking at. */
static void
admin_bad_option(const char *cmd, int c, const char *arg)
{
	char prog[64];

	if (arg == NULL)
		arg = "";
	snprintf(prog, sizeof(prog), "hush %s", cmd);
	if (c == ':')
		hush_errf(prog, "option %s needs an argument", arg);
	else if (optopt != 0)
		hush_errf(prog, "unknown option -%c", optopt);
	else
		hush_errf(prog, "unknown option %s", arg);
}

static void
token_usage(FILE *f)
{
	fprintf(f, "usage: hush token\n"
	    "Prints a new random client token on stdout and, on stderr, the\n"
	    "token_hash line to paste into the client's [client] section.\n");
}

int
admin_token(int argc, char **argv)
{
	uint8_t raw[TOKEN_RANDOM_BYTES], hash[CONF_TOKEN_HASH_BYTES];
	char hex[CONF_TOKEN_HASH_BYTES * 2 + 1];
	struct secbuf *tok = NULL;
	size_t plen = sizeof(TOKEN_PREFIX) - 1;
	int c, r = HUSH_EXIT_FAIL;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", admin_help_only,
	    NULL)) != -1) {
		if (c == 'h') {
			token_usage(stdout);
			return HUSH_EXIT_OK;
		}
		admin_bad_option("token", c, argv[optind - 1]);
		token_usage(stderr);
		return HUSH_EXIT_USAGE;
	}
	if (optind != argc) {
		hush_errf("hush token", "unexpected argument \"%s\"",
		    argv[optind]);
		token_usage(stderr);
		return HUSH_EXIT_USAGE;
	}
	/* The token, its newline and base64's terminating NUL. */
	if ((tok = secbuf_new(TOKEN_LEN + 2)) == NULL) {
		hush_errf("hush token", "out of secure memory");
		goto out;
	}
	randombytes_buf(raw, sizeof(raw));
	memcpy(secbuf_mut(tok), TOKEN_PREFIX, plen);
	sodium_bin2base64((char *)secbuf_mut(tok) + plen, secbuf_cap(tok) - plen,
	    raw, sizeof(raw), sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	if (strlen((const char *)secbuf_data(tok)) != TOKEN_LEN) {
		hush_errf("hush token", "internal error");
		goto out;
	}
	token_hash(secbuf_data(tok), TOKEN_LEN, hash);
	sodium_bin2hex(hex, sizeof(hex), hash, sizeof(hash));
	secbuf_mut(tok)[TOKEN_LEN] = '\n';
	secbuf_set_len(tok, TOKEN_LEN + 1);
	/* Straight to the descriptor: no copy in stdio's heap buffer. */
	if (fdio_write_all(STDOUT_FILENO, secbuf_data(tok),
	    secbuf_len(tok)) != 0) {
		hush_errf("hush token", "cannot write the token: %s",
		    strerror(errno));
		goto out;
	}
	fprintf(stderr, "token_hash = %s\n", hex);
	r = HUSH_EXIT_OK;
out:
	sodium_memzero(raw, sizeof(raw));
	secbuf_free(tok);
	return r;
}

static void
keygen_usage(FILE *f)
{
	fprintf(f, "usage: hush keygen -o FILE\n"
	    "Writes a new key for sealed: sources to FILE (mode 0600).\n"
	    "An existing FILE is never overwritten.\n"
	    "  -o, --output FILE  the key file to create\n");
}

int
admin_keygen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct seal_err err;
	const char *out = NULL;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'h':
			keygen_usage(stdout);
			return HUSH_EXIT_OK;
		default:
			admin_bad_option("keygen", c, argv[optind - 1]);
			keygen_usage(stderr);
			return HUSH_EXIT_USAGE;
		}
	}
	if (out == NULL || optind != argc) {
		if (out == NULL)
			hush_errf("hush keygen", "-o FILE is required");
		else
			hush_errf("hush keygen", "unexpected argument "
			    "\"%s\"", argv[optind]);
		keygen_usage(stderr);
		return HUSH_EXIT_USAGE;
	}
	if (seal_key_create(out, &err) != HUSH_OK) {
		hush_errf("hush keygen", "%s", err.msg);
		return HUSH_EXIT_FAIL;
	}
	return HUSH_EXIT_OK;
}

static void
seal_usage(FILE *f)
{
	fprintf(f, "usage: hush seal -k KEYFILE [-o FILE] [INPUT]\n"
	    "Seals INPUT (or stdin, at most 1 MiB) with the key from\n"
	    "`hush keygen`, for a sealed: source.\n"
	    "  -k, --key KEYFILE  the key\n"
	    "  -o, --output FILE  write FILE (mode 0600, replaced atomically)\n"
	    "                     instead of stdout\n");
}

/* Reads fd to EOF into a secbuf; HUSH_ERR_TOO_LARGE past max bytes. */
static int
seal_read_input(int fd, size_t max, struct secbuf **outp)
{
	struct secbuf *sb;

	if ((sb = secbuf_new(max + 1)) == NULL)
		return HUSH_ERR_NOMEM;
	if (fdio_read_secbuf(fd, sb) != 0) {
		int e = errno;

		secbuf_free(sb);
		errno = e;	/* for the caller's message */
		return HUSH_ERR_IO;
	}
	if (secbuf_len(sb) > max) {
		secbuf_free(sb);
		return HUSH_ERR_TOO_LARGE;
	}
	*outp = sb;
	return HUSH_OK;
}

/*
 * Writes path through a temporary file in the same directory, created
 * with its final mode, then renamed over path: no reader ever sees a
 * partial file or a moment with a wider mode.
 */
static int
seal_write_file(const char *path, const uint8_t *p, size_t len)
{
	static const char suffix[] = ".tmp-XXXXXX";
	char *tmp = NULL;
	size_t plen = strlen(path);
	int fd = -1, r = -1, e = 0, made = 0;

	if ((tmp = malloc(plen + sizeof(suffix))) == NULL) {
		e = ENOMEM;
		goto out;
	}
	memcpy(tmp, path, plen);
	memcpy(tmp + plen, suffix, sizeof(suffix));
	if ((fd = mkstemp(tmp)) < 0) {
		e = errno;
		goto out;
	}
	made = 1;
	if (fchmod(fd, 0600) != 0 || fdio_write_all(fd, p, len) != 0 ||
	    fsync(fd) != 0) {
		e = errno;
		goto out;
	}
	r = close(fd);
	fd = -1;
	if (r != 0 || rename(tmp, path) != 0) {
		e = errno;
		r = -1;
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		(void)close(fd);
	if (r != 0 && made)
		(void)unlink(tmp);
	free(tmp);
	errno = e;
	return r;
}

int
admin_seal(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' },
		{ "output", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct secbuf *key = NULL, *plain = NULL;
	struct seal_err err;
	const char *keyfile = NULL, *out = NULL, *in = NULL;
	uint8_t *ct = NULL;
	size_t ctlen = 0;
	int c, fd = -1, r = HUSH_EXIT_FAIL, rr;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":k:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'k':
			keyfile = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			seal_usage(stdout);
			return HUSH_EXIT_OK;
		default:
			admin_bad_option("seal", c, argv[optind - 1]);
			seal_usage(stderr);
			return HUSH_EXIT_USAGE;
		}
	}
	if (keyfile == NULL || argc - optind > 1) {
		if (keyfile == NULL)
			hush_errf("hush seal", "-k KEYFILE is required");
		else
			hush_errf("hush seal", "one INPUT at most");
		seal_usage(stderr);
		return HUSH_EXIT_USAGE;
	}
	if (optind < argc && strcmp(argv[optind], "-") != 0)
		in = argv[optind];
	if (out == NULL && isatty(STDOUT_FILENO)) {
		hush_errf("hush seal", "not writing a binary sealed file "
		    "to a terminal; use -o FILE");
		goto out;
	}
	if (seal_key_load(keyfile, &key, &err) != HUSH_OK) {
		hush_errf("hush seal", "%s", err.msg);
		goto out;
	}
	if (in != NULL && (fd = open(in, O_RDONLY | O_CLOEXEC)) < 0) {
		hush_errf("hush seal", "%s: %s", in, strerror(errno));
		goto out;
	}
	rr = seal_read_input(fd >= 0 ? fd : STDIN_FILENO, SEAL_MAX_PLAIN,
	    &plain);
	if (rr == HUSH_ERR_TOO_LARGE) {
		hush_errf("hush seal", "%s is larger than %d bytes",
		    in != NULL ? in : "the input", SEAL_MAX_PLAIN);
		goto out;
	} else if (rr != HUSH_OK) {
		hush_errf("hush seal", "cannot read %s: %s",
		    in != NULL ? in : "the input", rr == HUSH_ERR_IO ?
		    strerror(errno) : hush_strerror(rr));
		goto out;
	}
	/* An empty credential is worse than none: sources refuse it too. */
	if (secbuf_len(plain) == 0) {
		hush_errf("hush seal", "%s is empty",
		    in != NULL ? in : "the input");
		goto out;
	}
	if ((rr = seal_encrypt(key, secbuf_data(plain), secbuf_len(plain),
	    &ct, &ctlen)) != HUSH_OK) {
		hush_errf("hush seal", "%s", hush_strerror(rr));
		goto out;
	}
	if (out != NULL ? seal_write_file(out, ct, ctlen) != 0 :
	    fdio_write_all(STDOUT_FILENO, ct, ctlen) != 0) {
		hush_errf("hush seal", "cannot write %s: %s",
		    out != NULL ? out : "stdout", strerror(errno));
		goto out;
	}
	r = HUSH_EXIT_OK;
out:
	if (fd >= 0)
		(void)close(fd);
	free(ct);
	secbuf_free(plain);
	secbuf_free(key);
	return r;
}
