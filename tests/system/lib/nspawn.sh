# Sourced by tests/system/*systemd*.sh: boot a copy of a cached root under
# systemd-nspawn with systemd as PID 1, run commands inside it, stop it.
#
#   ct_boot WORKDIR      boots WORKDIR (a copy the test may change)
#   ct CMD...            runs CMD inside, as root, in the container's
#                        namespaces (mount, pid, ipc, uts, net)
#   ct_stop              powers the container off (also on EXIT)
#
# The container is not registered with machined (the host may run no
# systemd) and shares the host's network, so apt-get works inside.

ct_nspawn_pid=
ct_leader=

ct() {
  nsenter -t "$ct_leader" -m -u -i -n -p -r -w \
    env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    LANG=C.UTF-8 HOME=/root "$@"
}

ct_boot() {
  local dir=$1 log=$1.console i state
  systemd-nspawn -q -b -D "$dir" -M "hush-$$" --register=no --keep-unit \
    </dev/null >"$log" 2>&1 &
  ct_nspawn_pid=$!
  # PID 1 is the child of systemd-nspawn that runs systemd (an earlier
  # child is nspawn's own set-up process, which exits)
  for i in $(seq 1 300); do
    ct_leader=
    for p in $(pgrep -P "$ct_nspawn_pid" || true); do
      [ "$(cat "/proc/$p/comm" 2>/dev/null)" != systemd ] || ct_leader=$p
    done
    [ -z "$ct_leader" ] || break
    kill -0 "$ct_nspawn_pid" 2>/dev/null ||
      { cat "$log" >&2; echo "systemd-nspawn exited" >&2; return 1; }
    sleep 0.2
  done
  [ -n "$ct_leader" ] || { echo "no container PID 1" >&2; return 1; }
  # Boot is over when systemd says so; degraded is reported, not fatal,
  # since the checks look at hush's own units.
  for i in $(seq 1 60); do
    state=$(ct timeout 120 systemctl is-system-running --wait 2>/dev/null ||
      true)
    case $state in
      running) return 0 ;;
      degraded) ct systemctl --failed --no-pager >&2; return 0 ;;
    esac
    sleep 1
  done
  echo "container did not finish booting (state: $state)" >&2
  tail -n 30 "$log" >&2
  return 1
}

ct_stop() {
  local i
  [ -n "$ct_nspawn_pid" ] || return 0
  # SIGTERM asks nspawn to shut the container down in order
  kill -TERM "$ct_nspawn_pid" 2>/dev/null || true
  for i in $(seq 1 60); do
    kill -0 "$ct_nspawn_pid" 2>/dev/null || break
    sleep 0.5
  done
  kill -KILL "$ct_nspawn_pid" 2>/dev/null || true
  wait "$ct_nspawn_pid" 2>/dev/null || true
  ct_nspawn_pid=
}
