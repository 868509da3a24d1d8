#!/bin/bash
# fs_requests.sh - the FUSE requests each file operation costs, as the daemon
# sees them: pitrfs and libfuse's passthrough_ll run in debug mode (-d, which
# logs every request's opcode), the same operations driven on both, and the
# requests of each phase counted by opcode and divided by the files.
#
# Called by tests/bench/run (build/bench/fsops and build/bench/passthrough_ll
# built first). Environment:
#   REQ_DOCS   files per phase (default 500)
#   BENCH_TMP  where the temporary directory goes (default /dev/shm)
#
# Phases: create (open O_CREAT|O_TRUNC, write, close), read (open, read,
# close), overwrite (open O_TRUNC, write, close), stat (readdir + lstat of
# every file), ls -l (coreutils), unlink. Each runs after the last one's
# requests were all logged (the count stops changing), on a fresh mount for
# read and ls -l, so that the kernel's caches hold what a cold run finds.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build/bench
FSOPS=$B/fsops
PT=$B/passthrough_ll
PITR=$ROOT/bin/pitr
PITRFS=$ROOT/bin/pitrfs
N=${REQ_DOCS:-500}
TMPBASE=${BENCH_TMP:-/dev/shm}

for f in "$FSOPS" "$PT" "$PITR" "$PITRFS"; do
	[ -x "$f" ] || { echo "fs_requests: $f missing: run tests/bench/run" >&2; exit 1; }
done
case $N in ''|*[!0-9]*) echo "fs_requests: REQ_DOCS must be a number" >&2; exit 2;; esac

TMP=$(mktemp -d "$TMPBASE/pitr-fsreq.XXXXXX")
MNT=
DPID=

stop() {
	local i
	[ -n "$MNT" ] || return 0
	for i in $(seq 50); do
		fusermount3 -u "$MNT" 2>/dev/null && break
		sleep 0.1
	done
	mountpoint -q "$MNT" && fusermount3 -uz "$MNT"
	[ -n "$DPID" ] && wait "$DPID" 2>/dev/null || true
	MNT= DPID=
}
cleanup() {
	local rc=$?
	set +e
	stop
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# start FS: mount FS (pt or pitrfs) in debug mode, logging to $TMP/FS.log.
start() {
	local i
	MNT=$TMP/$1-mnt
	mkdir -p "$MNT"
	if [ "$1" = pt ]; then
		"$PT" -d -o source="$TMP/pt-src" "$MNT" >>"$TMP/$1.log" 2>&1 &
	else
		"$PITRFS" -d "$TMP/store" "$MNT" >>"$TMP/$1.log" 2>&1 &
	fi
	DPID=$!
	for i in $(seq 200); do
		mountpoint -q "$MNT" && return 0
		kill -0 "$DPID" 2>/dev/null || break
		sleep 0.05
	done
	echo "fs_requests: $1 did not mount" >&2
	tail "$TMP/$1.log" >&2
	exit 1
}

# The requests logged so far; once the count holds still for 0.3 s, the
# last phase's requests are all in.
settled() {
	local log=$1 a b
	b=$(grep -c 'opcode: ' "$log" || true)
	while :; do
		sleep 0.3
		a=$b
		b=$(grep -c 'opcode: ' "$log" || true)
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}

declare -A COUNT OPS
# phase FS NAME CMD...: run CMD, count the requests it caused by opcode.
phase() {
	local fs=$1 name=$2 log=$TMP/$1.log from op n
	shift 2
	from=$(settled "$log")
	"$@" >/dev/null
	settled "$log" >/dev/null
	while read -r n op; do
		COUNT[$fs.$name.$op]=$n
		OPS[$op]=1
	done < <(tail -n +1 "$log" | grep -o 'opcode: [A-Z_]*' |
		tail -n +"$((from + 1))" | awk '{ print $2 }' | sort | uniq -c)
}

mkdir "$TMP/pt-src"
"$PITR" create "$TMP/store" >/dev/null
for fs in pt pitrfs; do
	start $fs
	mkdir -p "$MNT/db/ct"
	D=$MNT/db/ct
	phase $fs create "$FSOPS" create "$D" "$N" 0
	stop; start $fs; D=$MNT/db/ct
	phase $fs read "$FSOPS" read "$D" "$N" 0
	phase $fs overwrite "$FSOPS" overwrite "$D" "$N" 1
	stop; start $fs; D=$MNT/db/ct
	phase $fs stat "$FSOPS" stat "$D" "$N"
	stop; start $fs; D=$MNT/db/ct
	phase $fs ls ls -l "$D"
	phase $fs unlink "$FSOPS" unlink "$D" "$N"
	stop
done

echo "== FUSE requests per file operation ($N files; pt = passthrough_ll) =="
printf ' %-10s %-14s %8s %8s\n' phase request pt pitrfs
for name in create read overwrite stat ls unlink; do
	tp=0 tq=0
	for op in $(printf '%s\n' "${!OPS[@]}" | sort); do
		a=${COUNT[pt.$name.$op]:-0} b=${COUNT[pitrfs.$name.$op]:-0}
		[ "$a" = 0 ] && [ "$b" = 0 ] && continue
		tp=$((tp + a)) tq=$((tq + b))
		printf ' %-10s %-14s %8.2f %8.2f\n' "$name" "$op" \
			"$(awk -v x="$a" -v n="$N" 'BEGIN { print x / n }')" \
			"$(awk -v x="$b" -v n="$N" 'BEGIN { print x / n }')"
	done
	printf ' %-10s %-14s %8.2f %8.2f\n' "$name" "(all)" \
		"$(awk -v x="$tp" -v n="$N" 'BEGIN { print x / n }')" \
		"$(awk -v x="$tq" -v n="$N" 'BEGIN { print x / n }')"
done
