#define _GNU_SOURCE	/* prctl */
#include <stdarg.h>
#include <stdio.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include <sodium.h>

#include "conf/hush_err.h"

const char *
hush_strerror(int err)
{
	switch (err) {
	case HUSH_OK:			return "success";
	case HUSH_ERR_INTERNAL:		return "internal error";
	case HUSH_ERR_NOMEM:		return "out of memory";
	case HUSH_ERR_INVALID:		return "invalid input";
	case HUSH_ERR_INCOMPLETE:	return "incomplete input";
	case HUSH_ERR_TOO_LARGE:	return "too large";
	case HUSH_ERR_IO:		return "input/output error";
	case HUSH_ERR_NOT_FOUND:	return "not found";
	case HUSH_ERR_TIMEOUT:		return "timed out";
	case HUSH_ERR_DENIED:		return "permission denied";
	case HUSH_ERR_CRYPTO:		return "authentication failed";
	case HUSH_ERR_EXEC:		return "command failed";
	case HUSH_ERR_CONFIG:		return "configuration error";
	}
	return "unknown error";
}

void
hush_errf(const char *prog, const char *fmt, ...)
{
	char msg[2048];
	va_list ap;

	/* one write per message: lines of concurrent processes stay whole */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s\n", prog, msg);
}

int
hush_harden_process(void)
{
	struct rlimit rl = { 0, 0 };

	if (sodium_init() < 0)
		return HUSH_ERR_INTERNAL;
	(void)setrlimit(RLIMIT_CORE, &rl);
	(void)prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return HUSH_OK;
}
