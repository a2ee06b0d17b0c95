/*
 * Fuzzes request handling without a loop: bytes are fed to the HTTP
 * parser in pieces (the first byte picks the piece size, as reads would
 * split them), then every complete request goes through routing and the
 * policy checks of a fixed configuration. Any input must end in an answer
 * status, never a crash, a leak, an overflow or a hang.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "conf/conf.h"
#include "conf/hush_err.h"
#include "broker/http.h"
#include "broker/policy.h"
#include "broker/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char fuzz_conf[] =
    "[broker]\n"
    "max_request_size = 2KiB\n"
    "[client \"gw\"]\n"
    "socket = /run/hush/fuzz/gw.sock\n"
    "uid = 0\n"
    "allow = claude, aws-*\n"
    "token_hash = 0d3a8b4c1f0e6a5b9c2d7e4f1a0b3c6d9e2f5a8b1c4d7e0f3a6b9c2d5e8f1a4b\n"
    "[credential \"claude\"]\n"
    "source = env:FUZZ_UNUSED\n"
    "[credential \"aws-prod\"]\n"
    "source = env:FUZZ_UNUSED\n";

static struct hush_conf conf;
static int conf_ready;

/* What hushd would answer: route, then the one policy decision. */
static int
fuzz_answer(const struct http_request *req, const struct conf_client *c)
{
	struct peer peer = { 1, 0, 0 };
	struct route rt;
	struct policy_request rq;
	struct policy_verdict v;

	if (route_match(req->target, req->target_len, req->method, &rt) !=
	    HUSH_OK)
		return rt.status;
	memset(&rq, 0, sizeof(rq));
	rq.conf = &conf;
	rq.client = c;
	rq.peer = &peer;
	rq.kind = rt.kind == ROUTE_HEALTH ? POLICY_HEALTH :
	    rt.kind == ROUTE_LIST ? POLICY_LIST : POLICY_GET;
	rq.name = rt.bad_name ? "" : rt.name;
	rq.rate_ok = rq.audit_ok = true;
	rq.has_token = http_request_bearer(req, &rq.token, &rq.token_len);
	if (policy_decide(&rq, &v) == HUSH_OK && v.status != 200)
		abort();
	return v.status;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct http_request req;
	const struct conf_client *c;
	struct conf_errs errs;
	size_t step, off = 0, n, used;
	int r, st;

	if (!conf_ready) {
		if (sodium_init() < 0)
			abort();
		conf_errs_init(&errs);
		if (conf_load_string(&conf, "fuzz.ini", fuzz_conf,
		    CONF_SKIP_SOURCE_CHECKS, NULL, &errs) != HUSH_OK)
			abort();	/* the fixture itself is broken */
		conf_errs_release(&errs);
		conf_ready = 1;
	}
	if (size < 1)
		return 0;
	step = (size_t)data[0] % 64 + 1;
	data++;
	size--;
	c = &conf.clients[0];
	http_request_init(&req, 2048);
	while (off < size) {
		n = size - off < step ? size - off : step;
		r = http_request_feed(&req, (const char *)data + off, n, &used);
		if (r == HUSH_ERR_INCOMPLETE) {
			off += n;
			continue;
		}
		if (r != HUSH_OK) {
			if ((req.status < 400 || req.status > 499) &&
			    req.status != 505)
				abort();
			break;	/* hushd answers and closes */
		}
		if (used == 0 || used > n)
			abort();
		st = fuzz_answer(&req, c);
		if (st != 200 && st != 401 && st != 404 && st != 405)
			abort();
		off += used;
		http_request_reset(&req);
	}
	http_request_reset(&req);
	return 0;
}
