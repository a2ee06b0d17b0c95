/* hush: the client and admin command. */
#include <stdio.h>
#include <string.h>

#include "conf/hush_err.h"
#include "broker/version.h"

static void
usage(FILE *f)
{
	fprintf(f, "usage: hush COMMAND [ARGS]\n"
	    "  hush token\n"
	    "  hush keygen -o FILE\n"
	    "  hush seal -k KEYFILE [-o FILE] [INPUT]\n");
}

int
main(int argc, char **argv)
{
	if (hush_harden_process() != HUSH_OK) {
		fprintf(stderr, "hush: cannot initialise libsodium\n");
		return HUSH_EXIT_FAIL;
	}
	if (argc < 2) {
		usage(stderr);
		return HUSH_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		usage(stdout);
		return HUSH_EXIT_OK;
	}
	if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
		printf("hush %s\n", hush_version());
		return HUSH_EXIT_OK;
	}
	usage(stderr);
	return HUSH_EXIT_USAGE;
}
