/* hush: the client and admin command. */
#include <stdio.h>
#include <string.h>

#include "conf/hush_err.h"
#include "broker/client/admin.h"
#include "broker/client/client.h"
#include "broker/client/forward.h"

/* Each command gets argv from its own name on and returns an exit status. */
static const struct hush_cmd {
	const char	*name;
	int		(*run)(int, char **);
} hush_cmds[] = {
	{ "get", client_get_main },
	{ "list", client_list_main },
	{ "exec", client_exec_main },
	{ "git-credential", client_gitcred_main },
	{ "proxy", client_proxy_main },
	{ "token", admin_token },
	{ "keygen", admin_keygen },
	{ "seal", admin_seal },
	{ NULL, NULL }
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: hush COMMAND [ARGS]\n"
	    "  hush get NAME [-s SOCKET] [-o FILE [-m MODE]]\n"
	    "  hush list [-s SOCKET]\n"
	    "  hush exec [-s SOCKET] [-e VAR=NAME]... [-f VAR=NAME]... -- "
	    "COMMAND [ARG]...\n"
	    "  hush exec [-s SOCKET] [--upstream NAME[=URLVAR[,KEYVAR]]]... -- "
	    "COMMAND [ARG]...\n"
	    "  hush proxy NAME [--listen HOST:PORT] [-s SOCKET]\n"
	    "  hush git-credential --name NAME get|store|erase\n"
	    "  hush token\n"
	    "  hush keygen -o FILE\n"
	    "  hush seal -k KEYFILE [-o FILE] [INPUT]\n"
	    "`hush COMMAND --help` describes each command.\n");
}

int
main(int argc, char **argv)
{
	const struct hush_cmd *cmd;

	if (hush_harden_process() != HUSH_OK) {
		hush_errf("hush", "cannot initialise libsodium");
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
		printf("hush %s\n", HUSH_VERSION);
		return HUSH_EXIT_OK;
	}
	for (cmd = hush_cmds; cmd->name != NULL; cmd++) {
		if (strcmp(argv[1], cmd->name) == 0)
			return cmd->run(argc - 1, argv + 1);
	}
	hush_errf("hush", "unknown command \"%s\"", argv[1]);
	usage(stderr);
	return HUSH_EXIT_USAGE;
}
