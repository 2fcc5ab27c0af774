#!/usr/bin/env bash
# A throwaway loopback-only Ceph cluster for the RADOS store's tests, built from
# Debian's packages (ceph-mon, ceph-mgr, ceph-osd, ceph-common):
# one monitor, one manager and three bluestore OSDs on sparse files, pools of
# size 3 / min_size 2, short heartbeats so fault tests see a killed OSD go down
# within seconds.
#
#   test/ceph/cluster.sh start [DIR]     bootstrap, start, wait until HEALTH_OK
#                                        with every PG active+clean
#   test/ceph/cluster.sh env [DIR]       print `export CAIRN_CEPH_CONF=DIR/ceph.conf`
#   test/ceph/cluster.sh status [DIR]    `ceph -s` of the cluster
#   test/ceph/cluster.sh wait [DIR]      wait until healthy again (all OSDs up
#                                        and in, every PG active+clean)
#   test/ceph/cluster.sh stop [DIR]      kill every daemon, remove DIR
#   test/ceph/cluster.sh osd-stop|osd-kill|osd-start DIR ID
#                                        SIGTERM / SIGKILL / restart one OSD
#                                        (fault tests)
#   test/ceph/cluster.sh osd-freeze|osd-thaw DIR ID
#                                        SIGSTOP / SIGCONT one OSD: a hung
#                                        OSD, which only the heartbeat grace
#                                        finds (a killed one is refused
#                                        connections and marked down at once)
#   test/ceph/cluster.sh mon-stop|mon-start DIR
#                                        SIGTERM / restart the only monitor:
#                                        a cluster without quorum (timeouts)
#
# DIR defaults to ${TMPDIR:-/tmp}/cairn-ceph. Everything the cluster owns
# lives in DIR (config, data, sockets, logs, pid files), and the monitor's
# port is picked free on 127.0.0.1, so two clusters in two DIRs coexist.
# Daemons other than the monitor bind free ports in 6800-7300 on 127.0.0.1.
# Auth is off (`auth_*_required = none`): acceptable for a loopback-only
# cluster that lives for one test run.
set -euo pipefail

OSDS=${CAIRN_CEPH_OSDS:-3}
# Sparse: the files only take what bluestore writes.
OSD_SIZE=${CAIRN_CEPH_OSD_SIZE:-4G}
START_TIMEOUT=${CAIRN_CEPH_START_TIMEOUT:-90}

die() {
	echo "ceph cluster: $*" >&2
	exit 1
}

need_packages() {
	local missing=()
	for bin in ceph-mon ceph-mgr ceph-osd ceph monmaptool ceph-authtool; do
		command -v "$bin" >/dev/null 2>&1 || missing+=("$bin")
	done
	if ((${#missing[@]})); then
		die "missing ${missing[*]}; install Debian's packages first:
    apt-get install -y ceph-mon ceph-mgr ceph-osd ceph-common librados-dev"
	fi
}

# free_port asks the kernel for a port nobody holds on 127.0.0.1 right now.
free_port() {
	/usr/bin/python3 -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

ceph_cli() {
	timeout 30 ceph -c "$DIR/ceph.conf" --connect-timeout 10 "$@"
}

write_conf() {
	local fsid=$1 v2=$2 v1=$3
	cat >"$DIR/ceph.conf" <<CONF
# Written by test/ceph/cluster.sh: a loopback-only test cluster.
[global]
fsid = $fsid
mon host = [v2:127.0.0.1:$v2,v1:127.0.0.1:$v1]
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv4 = true
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth allow insecure global id reclaim = true
mon warn on insecure global id reclaim allowed = false
mon warn on insecure global id reclaim = false
keyring = $DIR/keyring
run dir = $DIR/run
pid file = $DIR/run/\$name.pid
log file = $DIR/log/\$name.log
crash dir = $DIR/crash
log to stderr = false
err to stderr = false

# The test shape: three replicas on three OSDs of one host.
osd pool default size = 3
osd pool default min size = 2
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
osd crush chooseleaf type = 0
mon allow pool delete = true
mon warn on pool no app = false
mon warn on pool no redundancy = false
mon data avail warn = 2
mon data avail crit = 1
mon max pg per osd = 1000
# The manager's always-on modules suffice (status, pools, PG states).
mgr initial modules = iostat

# Fault tests: a killed OSD is marked down within a few seconds. The reporter
# level is the OSD, as every OSD sits on this one host.
osd heartbeat grace = 5
osd heartbeat interval = 1
mon osd reporter subtree level = osd
mon osd min down reporters = 1
mon osd adjust heartbeat grace = false
osd mon report interval = 1
# PG states reach the monitor (and so health and the wait below) each second.
mgr stats period = 1
mon mgr digest period = 1

[mon]
admin socket = $DIR/run/\$name.asok
mon data = $DIR/mon.\$id

[mgr]
admin socket = $DIR/run/\$name.asok
mgr data = $DIR/mgr.\$id

[osd]
admin socket = $DIR/run/\$name.asok
osd data = $DIR/osd.\$id
osd objectstore = bluestore
bluestore block create = true
bluestore block size = $(numfmt --from=iec "$OSD_SIZE")
bluestore fsck on mkfs = false
# Small memory and thread footprint: the machines are small and shared.
osd memory target = 939524096
bluestore cache autotune = false
bluestore cache size = 134217728
osd op num shards = 2
osd op num threads per shard = 1
osd crush update on start = true

[client]
# Many test processes share the client name; sockets would collide.
admin socket =
log file = $DIR/log/client.log
CONF
}

bootstrap_mon() {
	local fsid v2 v1
	fsid=$(uuidgen)
	v2=$(free_port)
	v1=$(free_port)
	[[ $v1 != "$v2" ]] || v1=$(free_port)
	write_conf "$fsid" "$v2" "$v1"
	ceph-authtool --create-keyring "$DIR/keyring" --gen-key -n mon. --cap mon 'allow *' >/dev/null
	ceph-authtool "$DIR/keyring" --gen-key -n client.admin \
		--cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' >/dev/null
	monmaptool --create --fsid "$fsid" --addv a "[v2:127.0.0.1:$v2,v1:127.0.0.1:$v1]" \
		"$DIR/monmap" >/dev/null
	ceph-mon -c "$DIR/ceph.conf" -i a --mkfs --monmap "$DIR/monmap" --keyring "$DIR/keyring"
	ceph-mon -c "$DIR/ceph.conf" -i a
}

start_mgr() {
	mkdir -p "$DIR/mgr.x"
	ceph-mgr -c "$DIR/ceph.conf" -i x
}

# make_osd registers OSD $1 with the monitor and formats its sparse file.
make_osd() {
	local id=$1 uuid got
	uuid=$(uuidgen)
	got=$(ceph_cli osd new "$uuid" "$id")
	[[ $got == "$id" ]] || die "osd new gave id '$got', wanted $id"
	mkdir -p "$DIR/osd.$id"
	ceph-osd -c "$DIR/ceph.conf" -i "$id" --mkfs --osd-uuid "$uuid" \
		>"$DIR/log/osd.$id.mkfs.log" 2>&1 || die "mkfs of osd.$id failed: see $DIR/log/osd.$id.mkfs.log"
}

start_osd() {
	ceph-osd -c "$DIR/ceph.conf" -i "$1"
}

# healthy reads `ceph status` once: HEALTH_OK, every OSD up and in, the
# manager available, and every PG active+clean (HEALTH_OK alone still allows
# PGs that are peering).
healthy() {
	ceph_cli status -f json 2>/dev/null | /usr/bin/python3 -c '
import json, sys
want = int(sys.argv[1])
s = json.load(sys.stdin)
osd, pg = s["osdmap"], s["pgmap"]
clean = sum(x["count"] for x in pg["pgs_by_state"] if x["state_name"] == "active+clean")
ok = (s["health"]["status"] == "HEALTH_OK" and s["mgrmap"]["available"]
      and osd["num_up_osds"] == want and osd["num_in_osds"] == want
      and pg["num_pgs"] > 0 and clean == pg["num_pgs"])
sys.exit(0 if ok else 1)' "$OSDS"
}

# wait_healthy waits, bounded, until healthy.
wait_healthy() {
	local deadline=$((SECONDS + START_TIMEOUT))
	while ((SECONDS < deadline)); do
		healthy && return 0
		sleep 0.5
	done
	ceph_cli status >&2 || true
	die "not healthy after ${START_TIMEOUT}s; logs in $DIR/log"
}

start() {
	need_packages
	if [[ -e $DIR/ceph.conf ]]; then
		die "$DIR already holds a cluster; stop it first: $0 stop $DIR"
	fi
	mkdir -p "$DIR"/{run,log,crash}
	# A failed start leaves nothing running behind it, and shows why.
	trap failed_start EXIT
	local t0=$SECONDS
	bootstrap_mon
	start_mgr
	local pids=() id
	for ((id = 0; id < OSDS; id++)); do
		make_osd "$id" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || die "an OSD failed to format"; done
	# Each ceph-osd returns once its store is mounted: start them side by side.
	pids=()
	for ((id = 0; id < OSDS; id++)); do
		start_osd "$id" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid" || die "an OSD failed to start: see $DIR/log"; done
	wait_healthy
	trap - EXIT
	echo "ceph cluster: healthy in $((SECONDS - t0))s; $(env_line)"
}

# failed_start shows the end of every daemon's log (CI keeps no files), then
# kills the daemons and keeps DIR for a closer look.
failed_start() {
	local f
	for f in "$DIR"/log/*.log; do
		[[ -e $f ]] || continue
		echo "--- tail of $f" >&2
		tail -n 15 "$f" >&2
	done
	kill_daemons
	echo "ceph cluster: start failed; daemons killed, $DIR kept (remove with: $0 stop $DIR)" >&2
}

pid_of() {
	local f="$DIR/run/$1.pid"
	[[ -s $f ]] && cat "$f"
}

# stop_daemon sends $2 to daemon $1 (e.g. osd.2) and waits, bounded, until it
# is gone, then SIGKILLs it.
stop_daemon() {
	local name=$1 sig=$2 pid i
	pid=$(pid_of "$name") || return 0
	kill "-$sig" "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	rm -f "$DIR/run/$name.pid"
}

# signal_daemon sends $2 to daemon $1 and returns.
signal_daemon() {
	local pid
	pid=$(pid_of "$1") || die "$1 is not running"
	kill "-$2" "$pid"
}

# kill_leftovers SIGKILLs any daemon still started with this cluster's config
# (one that died before writing its pid file, or whose file went missing).
kill_leftovers() {
	local f
	# -z: cmdline's arguments are NUL-separated; -x: the whole argument.
	for f in $(grep -lzxF -- "$DIR/ceph.conf" /proc/[0-9]*/cmdline 2>/dev/null); do
		f=${f#/proc/}
		kill -KILL "${f%/cmdline}" 2>/dev/null || true
	done
}

kill_daemons() {
	local f name
	for f in "$DIR"/run/*.pid; do
		[[ -e $f ]] || continue
		name=$(basename "$f" .pid)
		# Throwaway data: nothing to shut down cleanly.
		stop_daemon "$name" KILL &
	done
	wait
	kill_leftovers
}

stop() {
	[[ -d $DIR ]] || return 0
	kill_daemons
	rm -rf "$DIR"
	echo "ceph cluster: stopped, $DIR removed"
}

env_line() {
	echo "export CAIRN_CEPH_CONF=$DIR/ceph.conf"
}

cmd=${1:-}
DIR=${2:-${TMPDIR:-/tmp}/cairn-ceph}
DIR=$(realpath -m "$DIR")
case $cmd in
start) start ;;
stop) stop ;;
env) env_line ;;
status) ceph_cli -s ;;
wait) wait_healthy ;;
osd-stop) stop_daemon "osd.${3:?osd id}" TERM ;;
osd-kill) stop_daemon "osd.${3:?osd id}" KILL ;;
osd-start) start_osd "${3:?osd id}" ;;
osd-freeze) signal_daemon "osd.${3:?osd id}" STOP ;;
osd-thaw) signal_daemon "osd.${3:?osd id}" CONT ;;
mon-stop) stop_daemon mon.a TERM ;;
mon-start) ceph-mon -c "$DIR/ceph.conf" -i a ;;
*) die "usage: $0 start|stop|env|status|wait [DIR] | osd-stop|osd-kill|osd-start|osd-freeze|osd-thaw DIR ID | mon-stop|mon-start DIR" ;;
esac
