/* hushd: the credential broker. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conf/conf.h"
#include "conf/hush_err.h"
#include "broker/broker.h"
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
	size_t i;
	int r;

	conf_errs_init(&errs);
	r = conf_load(conf, path, CONF_DEFAULT, rules_check_conf, &errs);
	for (i = 0; i < errs.n; i++)
		fprintf(stderr, "%s\n", errs.msgs[i]);
	conf_errs_release(&errs);
	return r == HUSH_OK ? HUSH_EXIT_OK : HUSH_EXIT_CONFIG;
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
		fprintf(stderr, "hushd: cannot initialise libsodium\n");
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
	if (check) {
		conf_release(&conf);
		printf("ok\n");
		return HUSH_EXIT_OK;
	}
	return broker_run(path, &conf);
}
