#!/bin/bash
# `make install` (issue 10 item 2): the CMake install rules put every file
# where the prefix says, honour DESTDIR, name the installed hushd in the
# unit, and never overwrite an existing /etc/hush/hush.ini.
. "$(dirname "$0")/lib/common.sh"

bdir=$(dirname "$(dirname "$HUSHD")")
dest=$work/dest

expect_status 0 "cmake --install into DESTDIR, prefix /opt/hush" \
	env DESTDIR="$dest" cmake --install "$bdir" --prefix /opt/hush
for f in /opt/hush/sbin/hushd /opt/hush/bin/hush /opt/hush/bin/hush-redact \
    /opt/hush/share/man/man1/hush.1 /opt/hush/share/man/man1/hush-redact.1 \
    /opt/hush/share/man/man8/hushd.8 \
    /opt/hush/lib/systemd/system/hushd.service \
    /opt/hush/lib/sysusers.d/hush.conf /opt/hush/lib/tmpfiles.d/hush.conf \
    /etc/logrotate.d/hush /etc/hush/hush.ini \
    /opt/hush/share/doc/hush/README.md /opt/hush/share/doc/hush/config.md \
    /opt/hush/share/doc/hush/examples/hush.ini \
    /opt/hush/share/doc/hush/examples/hushd.socket; do
	[ -f "$dest$f" ] && pass "installed $f" || fail "installed $f"
done
[ -z "$(find "$dest" -path "$dest/opt" -prune -o -path "$dest/etc" -prune \
    -o -type f -print)" ] && pass "nothing outside the prefix but /etc" ||
	fail "nothing outside the prefix but /etc"
[ -x "$dest/opt/hush/sbin/hushd" ] && pass "hushd executable" ||
	fail "hushd executable"

unit=$dest/opt/hush/lib/systemd/system/hushd.service
out=$(grep '^Exec' "$unit")
expect_output "ExecStart=/opt/hush/sbin/hushd -c /etc/hush/hush.ini" \
	"the unit runs the installed hushd"
expect_absent "/usr/sbin/hushd" "no hushd path of another prefix"
grep -q '^u hush ' "$dest/opt/hush/lib/sysusers.d/hush.conf" &&
	pass "sysusers.d makes the hush user" || fail "sysusers.d makes the hush user"

conf=$dest/etc/hush/hush.ini
mode=$(stat -c %a "$conf")
[ "$mode" = 644 ] && pass "hush.ini 0644" || fail "hush.ini 0644 ($mode)"
# the installed configuration is valid but for its user, which only the
# package (sysusers.d) creates: check it with a user this machine has
sed 's/^user = hush/user = root/; s/^group = hush/group = root/' "$conf" \
	>"$work/check.ini"
chmod 600 "$work/check.ini"
expect_status 0 "installed hush.ini passes hushd --check" \
	"$HUSHD" --check -c "$work/check.ini"

echo "; the administrator's" >>"$conf"
expect_status 0 "a second install" \
	env DESTDIR="$dest" cmake --install "$bdir" --prefix /opt/hush
expect_output "Keeping existing" "says it keeps the configuration"
grep -q "the administrator's" "$conf" && pass "hush.ini not overwritten" ||
	fail "hush.ini not overwritten"

finish
