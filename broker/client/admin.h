/*
 * admin.h: the hush commands that make and use secrets on the host:
 * token, keygen and seal (SPEC "hush").
 *
 * Each takes its own argument vector (argv[0] is the command's name, as
 * in "seal"), prints errors as "hush CMD: message" without ever printing
 * a secret, and returns an exit status: HUSH_EXIT_OK, HUSH_EXIT_FAIL, or
 * HUSH_EXIT_USAGE for a usage error.
 */
#ifndef HUSH_ADMIN_H
#define HUSH_ADMIN_H

/* hush token: a new client token on stdout, its token_hash on stderr. */
int admin_token(int argc, char **argv);

/* hush keygen -o FILE: a new key for sealed: sources, mode 0600. */
int admin_keygen(int argc, char **argv);

/*
 * hush seal -k KEYFILE [-o FILE] [INPUT]: seals INPUT (or stdin, at most
 * SEAL_MAX_PLAIN bytes).
 */
int admin_seal(int argc, char **argv);

#endif
