/*
 * upstream.h: the upstream route (issue 11), /v1/upstream/NAME/PATH.
 *
 * hushd calls an [upstream] for a client, adding the credential on the
 * way out and masking it on the way back, so the client has the use of
 * a key without the key. libcurl's multi-socket interface is driven by
 * hushd's libuv loop: no thread, no blocking call. Bodies stream both
 * ways with bounded buffers: a client that does not read pauses the
 * upstream transfer, a client that goes away cancels it.
 */
#ifndef HUSH_UPSTREAM_H
#define HUSH_UPSTREAM_H

#include <stdbool.h>

#include "broker/internal.h"

/* Bytes queued toward the client above which the upstream is paused. */
#define UPSTREAM_HIGH_WATER	(256 * 1024)
/*
 * Bytes of answers masked per loop turn, over all calls. A call over it
 * is paused until the next turn, so that another client's request waits
 * for at most this much streaming work (about 0.5 ms of CPU), not for
 * whatever 100 busy upstreams have sent. 64 KiB: measured against 128
 * and 256 KiB on a quiet machine, it cut the probe's p99 without costing
 * throughput (docs/benchmarks.md).
 */
#define UPSTREAM_TURN_BUDGET	(64 * 1024)
/* Bytes of request body held for the upstream before reading stops. */
#define UPSTREAM_BODY_BUF	(64 * 1024)

/*
 * The route was decided (v from policy_decide, POLICY_UPSTREAM): set up
 * cn's call and ask for the credential's value (conn_get_value). The
 * connection belongs to the route from here until it closes.
 */
void upstream_begin(struct conn *cn, const struct policy_verdict *v,
    const char *path, size_t path_len, const char *query, size_t qlen);

/*
 * GET /v1/upstream/NAME (no path), once decided (POLICY_UPSTREAM_INFO):
 * the variables the operator named for a tool, so that hush exec and
 * hush proxy in a container, which cannot read hush.ini, set them:
 * {"name":"NAME","url_env":["VAR",...],"key_env":"VAR"|null}\n.
 * Malloc'd (the caller frees it), *lenp its length; NULL when out of
 * memory. Holds no secret: names only, checked by the loader.
 */
char *upstream_info_json(const struct conf_upstream *u, size_t *lenp);

/* conn_on_value for a connection on the route. */
void upstream_on_value(struct conn *cn, struct secbuf *value,
    const char *fp, int r, const char *reason);

/* cn is closing: cancel its call (idempotent). */
void upstream_cancel(struct conn *cn);

/* At exit, after every connection closed: libcurl's state goes. */
void upstream_release(struct broker *b);

#endif
