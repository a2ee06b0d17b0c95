/* hush_err.h: the one error vocabulary of hush (negative, like libuv). */
#ifndef HUSH_ERR_H
#define HUSH_ERR_H

enum hush_err {
	HUSH_OK = 0,
	HUSH_ERR_INTERNAL = -1,		/* a bug or an unexpected failure */
	HUSH_ERR_NOMEM = -2,
	HUSH_ERR_INVALID = -3,		/* malformed input */
	HUSH_ERR_INCOMPLETE = -4,	/* need more bytes */
	HUSH_ERR_TOO_LARGE = -5,	/* over a configured limit */
	HUSH_ERR_IO = -6,		/* read/write/open failed */
	HUSH_ERR_NOT_FOUND = -7,
	HUSH_ERR_TIMEOUT = -8,
	HUSH_ERR_DENIED = -9,
	HUSH_ERR_CRYPTO = -10,		/* authentication or decryption failed */
	HUSH_ERR_EXEC = -11,		/* a command failed or exited non-zero */
	HUSH_ERR_CONFIG = -12,
};

/* Exit statuses shared by every command (SPEC "Commands"). */
enum hush_exit {
	HUSH_EXIT_OK = 0,
	HUSH_EXIT_FAIL = 1,
	HUSH_EXIT_USAGE = 2,
	HUSH_EXIT_CONFIG = 78,
};

/* A short static description of an error code. */
const char *hush_strerror(int err);

/*
 * Prints one error in the shape every hush program uses (docs/internals.md
 * "Error messages"): "PROG: message\n" on stderr, where PROG is the
 * program and its subcommand ("hush get", "hushd", "hush-redact") and
 * the message is "[FILE:LINE: ][SUBJECT: ]text", lower case, with no
 * final period and never a secret.
 */
void hush_errf(const char *prog, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/*
 * Process hardening every hush command runs first: sodium_init(), no core
 * dumps (RLIMIT_CORE 0) and not dumpable (which also blocks same-uid
 * ptrace). Returns HUSH_OK or HUSH_ERR_INTERNAL when libsodium cannot start.
 */
int hush_harden_process(void);

#endif
