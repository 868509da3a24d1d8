#!/bin/bash
# fs_disk_bench.sh - commits per second through the mount with the store on
# a real disk, where every commit waits for its fdatasync: 1, 4 and 16
# writers at once, each overwriting its own documents (open O_TRUNC, write,
# close) in its own container; group commit lets the closes that wait at
# the same time share one transaction and one fdatasync.
#
# Called by tests/bench/run (build/bench/fsops built first). Environment:
#   BENCH_DISK          directory on the disk to measure (default
#                       build/bench-disk, on the disk of the build tree);
#                       must not be tmpfs
#   BENCH_DISK_COMMITS  commits per writer (default 500)
#   BENCH_PITRFS        the pitrfs binary to measure (default bin/pitrfs)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
FSOPS=$ROOT/build/bench/fsops
PITR=$ROOT/bin/pitr
PITRFS=${BENCH_PITRFS:-$ROOT/bin/pitrfs}
BASE=${BENCH_DISK:-$ROOT/build/bench-disk}
PER=${BENCH_DISK_COMMITS:-500}

for f in "$FSOPS" "$PITR" "$PITRFS"; do
	[ -x "$f" ] || { echo "fs_disk_bench: $f missing: run tests/bench/run" >&2; exit 1; }
done
case $PER in ''|0|*[!0-9]*) echo "fs_disk_bench: BENCH_DISK_COMMITS >= 1" >&2; exit 2;; esac
mkdir -p "$BASE"
fstype=$(stat -f -c %T "$BASE")
if [ "$fstype" = tmpfs ] || [ "$fstype" = ramfs ]; then
	echo "fs_disk_bench: $BASE is on $fstype, not a disk (BENCH_DISK=DIR)" >&2
	exit 2
fi

TMP=$(mktemp -d "$BASE/pitr-diskbench.XXXXXX")
MNT=$TMP/mnt
DPID=
cleanup() {
	local rc=$? i
	set +e
	if mountpoint -q "$MNT"; then
		for i in $(seq 50); do
			fusermount3 -u "$MNT" 2>/dev/null && break
			sleep 0.1
		done
		mountpoint -q "$MNT" && fusermount3 -uz "$MNT"
	fi
	[ -n "$DPID" ] && wait "$DPID" 2>/dev/null
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir "$MNT"
"$PITR" create "$TMP/store" >/dev/null
"$PITRFS" -f "$TMP/store" "$MNT" 2>"$TMP/pitrfs.log" &
DPID=$!
for i in $(seq 200); do
	mountpoint -q "$MNT" && break
	kill -0 "$DPID" 2>/dev/null || { cat "$TMP/pitrfs.log" >&2; exit 1; }
	sleep 0.05
done
mountpoint -q "$MNT" || { echo "fs_disk_bench: not mounted" >&2; exit 1; }
mkdir "$MNT/db"

# run W: W writers at once, PER commits each: each writer one process
# that overwrites its PER documents of round 0 with those of round 1 (a
# process per writer, so that starting programs is not what is timed);
# prints commits/s.
declare -A RATE
run() {
	local w=$1 i t0 t1 pids=()
	for ((i = 0; i < w; i++)); do
		mkdir -p "$MNT/db/w$w-$i"
		"$FSOPS" create "$MNT/db/w$w-$i" "$PER" 0 >/dev/null
	done
	t0=$(date +%s%N)
	for ((i = 0; i < w; i++)); do
		"$FSOPS" overwrite "$MNT/db/w$w-$i" "$PER" 1 >/dev/null &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	t1=$(date +%s%N)
	RATE[$w]=$(awk -v n=$((w * PER)) -v ns=$((t1 - t0)) \
		'BEGIN { printf "%.0f", n / (ns / 1e9) }')
}

for w in 1 4 16; do run $w; done

echo "== commits on disk: $BASE ($fstype, $(df -P "$BASE" | awk 'NR == 2 { print $1 }')) =="
echo "   each writer: $PER closes of ~1 KB documents (open O_TRUNC, write, close),"
echo "   each close durable (fdatasync) before it returns"
printf ' %-10s %12s %14s\n' writers commits/s "x 1 writer"
for w in 1 4 16; do
	printf ' %-10s %12s %14s\n' "$w" "${RATE[$w]}" \
		"$(awk -v a="${RATE[$w]}" -v b="${RATE[1]}" 'BEGIN { printf "%.2f", a / b }')"
done
