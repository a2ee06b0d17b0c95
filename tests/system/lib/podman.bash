# podman for the system tests (sourced after hostenv.bash). The flags this
# machine needs are part of the test: vfs storage (no overlay mounts in
# this VM), cgroupfs (hybrid cgroups, no systemd manager), runc, no
# network, and explicit ulimits (the VM lacks CAP_SYS_RESOURCE, so podman's
# default of raising them fails). Storage is private to the tests, under
# the build directory, so nothing touches the machine's own images.
pm_root=$sysdir/podman
pm_conf=$pm_root/conf
mkdir -p "$pm_conf"
cat > "$pm_conf/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
EOF
cat > "$pm_conf/storage.conf" <<EOF
[storage]
driver = "vfs"
graphroot = "$pm_root/storage"
runroot = "$pm_root/run"
EOF
export CONTAINERS_CONF=$pm_conf/containers.conf
export CONTAINERS_STORAGE_CONF=$pm_conf/storage.conf
# The Debian image is made from the root the systemd test boots
# (hushd_systemd_units.sh, whose root_pkgs list is read here so that the
# two never disagree and the root is built once, while make test-system
# compiles the package): it has curl for the socket, systemd for
# journald, and hush-redact's runtime libraries.
CTR_ROOT=hush-systemd
CTR_PKGS=$(sed -n '/^root_pkgs="/,/"/p' "$src/tests/system/hushd_systemd_units.sh" 2>/dev/null |
    sed -e 's/^root_pkgs=//' -e 's/"//g' | tr -s ' \n' ' ')
if [ -z "${CTR_PKGS// /}" ]; then
	CTR_ROOT=ctr
	CTR_PKGS="curl systemd libsodium23 libjansson4 libpcre2-8-0"
fi
PODMAN=(podman --storage-driver vfs --cgroup-manager cgroupfs --runtime runc)
PODMAN_RUN=(run --rm --network none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

# Skips (exit 77 with a SKIP: line, as tests/system/run.sh expects) only when this machine cannot make the
# namespaces a container needs; anything else that fails is a failure.
require_containers() {
	if [ "$(id -u)" != 0 ]; then
		echo "SKIP: container tests need root (podman as root, bind mounts)"
		exit 77
	fi
	if ! unshare --mount --pid --uts --ipc --fork true 2>/dev/null; then
		echo "SKIP: this machine cannot create namespaces (unshare failed): no containers here"
		exit 77
	fi
	apt_install podman runc uidmap || { fail "install podman"; finish; exit 1; }
}

# need_image NAME ROOTFS-NAME PKG...: a local image made from a cached
# debootstrap root (no registry is reachable); re-imported when the root
# changes.
need_image() {
	local img=$1 rname=$2 root stamp
	shift 2
	root=$(bash "$src/tests/system/rootfs.sh" "$rname" "$@") || return 1
	stamp=$(cat "$root/.hush-rootfs")
	# Tests running side by side import once.
	(
		flock 8
		if [ "$(cat "$pm_root/$img.stamp" 2>/dev/null)" != "$stamp" ] ||
		    ! "${PODMAN[@]}" image exists "localhost/$img:latest"; then
			tar -C "$root" -c . | "${PODMAN[@]}" import - \
			    "localhost/$img:latest" >"$pm_root/import.log" 2>&1 ||
			    { cat "$pm_root/import.log"; exit 1; }
			echo "$stamp" > "$pm_root/$img.stamp"
			# The image this one replaced: nothing uses it any more.
			"${PODMAN[@]}" image prune -f >/dev/null 2>&1 || true
		fi
	) 8>"$pm_root/.import.lock"
}

# need_static_client: build/static/hush (make static-client); sets HUSH_STATIC.
need_static_client() {
	HUSH_STATIC=${HUSH_STATIC:-${HUSH_BUILD:-$src/build}/static/hush}
	[ -x "$HUSH_STATIC" ] || make -C "$src" static-client JOBS=2 >/dev/null || return 1
	readelf -d "$HUSH_STATIC" | grep -q NEEDED && return 1
	return 0
}
