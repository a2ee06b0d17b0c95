#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "conf/hush_err.h"
#include "broker/peer.h"

static int
parse(const char *s, size_t len, char *unit, char *id)
{
	return peer_parse_systemd(s, len, unit, PEER_MAX_UNIT, id,
	    PEER_MAX_ID);
}

#define LIT(s)	(s), sizeof(s) - 1

static void
peer_parses_systemd_addresses_by_length(void **state)
{
	char unit[PEER_MAX_UNIT], id[PEER_MAX_ID];

	(void)state;
	assert_int_equal(parse(LIT("\0" "0123456789abcdef/unit/web.service/tls"),
	    unit, id), HUSH_OK);
	assert_string_equal(unit, "web.service");
	assert_string_equal(id, "tls");
	assert_int_equal(parse(LIT("\0" "a/unit/x.service/db"), unit, id),
	    HUSH_OK);
	assert_string_equal(id, "db");
	/* the length ends the ID: bytes past it are not looked at */
	assert_int_equal(parse("\0" "a/unit/x.service/dbXYZ", 20, unit, id),
	    HUSH_OK);
	assert_string_equal(id, "db");
}

static void
peer_rejects_other_addresses(void **state)
{
	char unit[PEER_MAX_UNIT], id[PEER_MAX_ID];

	(void)state;
	assert_int_equal(parse(LIT("/run/x.sock"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "/unit/x/db"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "0123456789abcdef0/unit/x/db"), unit,
	    id), HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "ABC/unit/x/db"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "a/unit/x/"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "a/unit//db"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "a/unit/x/d/b"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "a/unit/x/d\0b"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse(LIT("\0" "a/user/x/db"), unit, id),
	    HUSH_ERR_INVALID);
	assert_int_equal(parse("", 0, unit, id), HUSH_ERR_INVALID);
}

static void
peer_get_reports_our_own_identity(void **state)
{
	int sv[2];
	struct peer p;

	(void)state;
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(peer_get(sv[0], &p), HUSH_OK);
	assert_int_equal(p.uid, getuid());
	assert_int_equal(p.gid, getgid());
	assert_int_equal(p.pid, getpid());
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(peer_parses_systemd_addresses_by_length),
		cmocka_unit_test(peer_rejects_other_addresses),
		cmocka_unit_test(peer_get_reports_our_own_identity),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
