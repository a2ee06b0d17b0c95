/* hushd: the credential broker. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "conf/conf.h"
#include "conf/hush_err.h"
#include "conf/safepath.h"
#include "broker/broker.h"
#include "broker/listener.h"
#include "broker/privdrop.h"
#include "redact/rules.h"

#define HUSHD_DEFAULT_CONF	"/etc/hush/hush.ini"

static void
usage(FILE *f)
{
	fprintf(f, "usage: hushd [-c FILE] [--check]\n"
	    "  -c, --config FILE  configuration (default %s)\n"
	    "      --check        validate the configuration and exit\n"
	    "  -h, --help         this help\n"
	    "  -V, --version      print the version\n", HUSHD_DEFAULT_CONF);
}

/* Loads and checks everything; prints every error. 0 or HUSH_EXIT_CONFIG */
static int
hushd_check(const char *path, struct hush_conf *conf)
{
	struct conf_errs errs;
	int r;

	conf_errs_init(&errs);
	r = conf_load(conf, path, CONF_DEFAULT, rules_check_conf, &errs);
	conf_errs_print(&errs, "hushd", "");
	conf_errs_release(&errs);
	return r == HUSH_OK ? HUSH_EXIT_OK : HUSH_EXIT_CONFIG;
}

/*
 * Whether each file: and sealed: source can be read under the path rule
 * (conf/safepath.h), as the daemon will read it: a warning for each that
 * cannot, never an error. Whoever owns a source can delete it or plant a
 * link in its path; that must not keep hushd from starting, nor
 * `systemctl reload` (which runs --check first) from revoking access.
 * The daemon answers 500 for that credential until it can read it.
 */
static void
hushd_warn_sources(const struct hush_conf *conf, const char *as)
{
	char why[SAFEPATH_WHY_MAX];
	struct conf_loc loc;
	size_t i;
	int fd;

	for (i = 0; i < conf->ncreds; i++) {
		const struct conf_cred *c = &conf->creds[i];

		if (c->kind != CONF_SRC_FILE && c->kind != CONF_SRC_SEALED)
			continue;
		if (safepath_open(c->arg, &fd, why) == HUSH_OK) {
			close(fd);
			continue;
		}
		loc = conf_where_key(&c->where, "source");
		/* why names the path */
		hush_errf("hushd", "%s:%d: credential \"%s\": %s%s; it is "
		    "answered with 500 until hushd can read it", loc.file,
		    loc.line, c->name, why, as);
	}
}

/*
 * Root reads everything, so a check as root passes while the daemon,
 * once dropped to [broker] user, cannot read a source or its own
 * configuration (and every reload then fails). A child drops to that
 * user and loads the configuration again; what it cannot read is an
 * error here, at start and in --check alike. 0 or HUSH_EXIT_CONFIG.
 */
static int
hushd_check_as_user(const char *path, const struct hush_conf *conf)
{
	struct hush_conf c2;
	struct conf_errs errs;
	char err[256];
	pid_t pid;
	int st, r;

	if (!privdrop_pending(&conf->broker))
		return HUSH_EXIT_OK;
	fflush(stdout);
	fflush(stderr);
	if ((pid = fork()) == -1) {
		hush_errf("hushd", "fork: cannot check the configuration "
		    "as user %s", conf->broker.user);
		return HUSH_EXIT_CONFIG;
	}
	if (pid == 0) {
		if (privdrop(&conf->broker, err, sizeof(err)) != HUSH_OK) {
			hush_errf("hushd", "%s", err);
			_exit(HUSH_EXIT_CONFIG);
		}
		conf_errs_init(&errs);
		r = conf_load(&c2, path, CONF_DEFAULT, rules_check_conf, &errs);
		snprintf(err, sizeof(err), " (as user %s, whom hushd runs as "
		    "after dropping root)", conf->broker.user);
		conf_errs_print(&errs, "hushd", err);
		if (r == HUSH_OK)
			hushd_warn_sources(&c2, err);
		fflush(stderr);
		/* no cleanup: the process ends here, without atexit */
		_exit(r == HUSH_OK ? HUSH_EXIT_OK : HUSH_EXIT_CONFIG);
	}
	while (waitpid(pid, &st, 0) == -1)
		;
	return WIFEXITED(st) && WEXITSTATUS(st) == HUSH_EXIT_OK ?
	    HUSH_EXIT_OK : HUSH_EXIT_CONFIG;
}

/*
 * --check only (start binds and refuses the same way): the socket
 * directories that hushd would refuse. 0 or HUSH_EXIT_CONFIG.
 */
static int
hushd_check_sockets(const struct hush_conf *conf)
{
	struct listener_owner o;
	char err[512];
	size_t i;
	int rc = HUSH_EXIT_OK;

	if (privdrop_target(&conf->broker, &o.uid, &o.gid, err, sizeof(err)) !=
	    HUSH_OK) {
		hush_errf("hushd", "%s", err);
		return HUSH_EXIT_CONFIG;
	}
	for (i = 0; i < conf->nclients; i++)
		if (listener_check_dir(&conf->clients[i], &o, err,
		    sizeof(err)) != HUSH_OK) {
			hush_errf("hushd", "%s", err);
			rc = HUSH_EXIT_CONFIG;
		}
	return rc;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check", no_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 }
	};
	const char *path = HUSHD_DEFAULT_CONF;
	struct hush_conf conf;
	int check = 0, c, r;

	if (hush_harden_process() != HUSH_OK) {
		hush_errf("hushd", "cannot initialise libsodium");
		return HUSH_EXIT_FAIL;
	}
	while ((c = getopt_long(argc, argv, "c:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'k':
			check = 1;
			break;
		case 'h':
			usage(stdout);
			return HUSH_EXIT_OK;
		case 'V':
			printf("hushd %s\n", HUSH_VERSION);
			return HUSH_EXIT_OK;
		default:
			usage(stderr);
			return HUSH_EXIT_USAGE;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return HUSH_EXIT_USAGE;
	}
	if ((r = hushd_check(path, &conf)) != HUSH_EXIT_OK)
		return r;
	if (!privdrop_pending(&conf.broker))
		hushd_warn_sources(&conf, "");
	if ((r = hushd_check_as_user(path, &conf)) != HUSH_EXIT_OK) {
		conf_release(&conf);
		return r;
	}
	if (check) {
		r = hushd_check_sockets(&conf);
		conf_release(&conf);
		if (r != HUSH_EXIT_OK)
			return r;
		printf("ok\n");
		return HUSH_EXIT_OK;
	}
	return broker_run(path, &conf);
}
