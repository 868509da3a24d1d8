#!/bin/bash
# fs_bench.sh - the same file workload on tmpfs, on libfuse's passthrough_ll
# over tmpfs, and on pitrfs with its store on tmpfs; then, on pitrfs, reads
# and listings of a history view @T against the live tree.
#
# Called by tests/bench/run, which builds build/bench/fsops and
# build/bench/passthrough_ll first. Environment:
#   BENCH_DOCS    documents in the container (default 20000)
#   BENCH_ROUNDS  rounds of the workload; figures are medians (default 3)
#   BENCH_TMP     where the temporary directory goes (default /dev/shm)
#
# The three filesystems are mounted side by side and every phase runs on
# each in turn (tmpfs, passthrough_ll, pitrfs; the next round begins with
# passthrough_ll, and so on), so that noise from the rest of the machine, and
# whatever one phase leaves behind for the next, fall on all three alike.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
B=$ROOT/build/bench
FSOPS=$B/fsops
PT=$B/passthrough_ll
PITR=$ROOT/bin/pitr
PITRFS=$ROOT/bin/pitrfs
N=${BENCH_DOCS:-20000}
VERSIONS=10
ROUNDS=${BENCH_ROUNDS:-3}
TMPBASE=${BENCH_TMP:-/dev/shm}

for f in "$FSOPS" "$PT" "$PITR" "$PITRFS"; do
	[ -x "$f" ] || { echo "fs_bench: $f missing: run tests/bench/run" >&2; exit 1; }
done
case $N in ''|*[!0-9]*) echo "fs_bench: BENCH_DOCS must be a number" >&2; exit 2;; esac
[ "$N" -ge 10 ] || { echo "fs_bench: BENCH_DOCS >= 10" >&2; exit 2; }
case $ROUNDS in ''|0|*[!0-9]*) echo "fs_bench: BENCH_ROUNDS >= 1" >&2; exit 2;; esac

# passthrough_ll keeps one O_PATH descriptor open per inode the kernel
# knows, so N files need N descriptors: raise the soft limit to the hard
# one, and if that is still too small, run fewer files on all three.
soft=$(ulimit -n)
if [ "$soft" != unlimited ] && [ "$soft" -lt $((N + 100)) ]; then
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
	soft=$(ulimit -n)
fi
NOTE_N=
if [ "$soft" != unlimited ] && [ "$soft" -lt $((N + 100)) ]; then
	NOTE_N="(reduced from $N: passthrough_ll holds an fd per inode; open-file limit $soft)"
	N=$((soft - 100))
fi

TMP=$(mktemp -d "$TMPBASE/pitr-fsbench.XXXXXX")
MOUNTS=()
PIDS=()

cleanup() {
	local rc=$? m pid i
	set +e
	trap - EXIT INT TERM
	for m in "${MOUNTS[@]}"; do
		mountpoint -q "$m" || continue
		for i in 1 2 3 4 5; do
			fusermount3 -u "$m" 2>/dev/null && break
			sleep 0.2
		done
		mountpoint -q "$m" && fusermount3 -uz "$m"
	done
	for pid in "${PIDS[@]}"; do
		for i in $(seq 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		if kill -0 "$pid" 2>/dev/null; then
			echo "fs_bench: daemon $pid did not exit after unmount; killing it" >&2
			kill "$pid" 2>/dev/null
		fi
		wait "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# One build for the whole run, even if bin/ is rebuilt meanwhile.
mkdir "$TMP/bin"
cp "$PITR" "$PITRFS" "$TMP/bin/"
PITR=$TMP/bin/pitr
PITRFS=$TMP/bin/pitrfs

# Start a FUSE daemon in the foreground, in the background; wait for its
# mount. Sets DPID.
mount_fs() {
	local mnt=$1 log=$2 i
	shift 2
	"$@" >"$log" 2>&1 &
	DPID=$!
	PIDS+=("$DPID")
	MOUNTS+=("$mnt")
	for i in $(seq 200); do
		mountpoint -q "$mnt" && return 0
		if ! kill -0 "$DPID" 2>/dev/null; then
			echo "fs_bench: $1 exited before mounting $mnt:" >&2
			cat "$log" >&2
			exit 1
		fi
		sleep 0.05
	done
	echo "fs_bench: $mnt not mounted after 10 s" >&2
	exit 1
}

# Unmount and wait for the daemon; its exit status must be 0.
unmount_fs() {
	local mnt=$1 pid=$2 log=$3 i rc=0
	for i in 1 2 3 4 5 6 7 8 9 10; do
		fusermount3 -u "$mnt" 2>/dev/null && break
		sleep 0.2
	done
	if mountpoint -q "$mnt"; then
		echo "fs_bench: cannot unmount $mnt" >&2
		exit 1
	fi
	wait "$pid" || rc=$?
	if [ "$rc" != 0 ]; then
		echo "fs_bench: daemon for $mnt exited with status $rc; its log:" >&2
		cat "$log" >&2
		exit 1
	fi
}

declare -A RATE SECS SUM ALL

# op KEY OP DIR [ROUND]: run fsops, keep its figures under KEY; ALL[KEY]
# collects the rate of every run under KEY.
op() {
	local key=$1 out
	shift
	if ! out=$("$FSOPS" "$1" "$2" "$N" ${3+"$3"}); then
		echo "fs_bench: FAILED: $key ($*)" >&2
		for l in "$TMP"/*.log; do
			[ -s "$l" ] && { echo "--- $l" >&2; tail -20 "$l" >&2; }
		done
		exit 1
	fi
	read -r RATE[$key] _ SECS[$key] SUM[$key] <<<"$out"
	ALL[$key]="${ALL[$key]:-} ${RATE[$key]}"
}

# lsl KEY DIR: time coreutils' ls -l of DIR (N entries); its rate
# (entries/s) goes under KEY as op()'s do.
lsl() {
	local key=$1 t0 t1 n
	t0=$(date +%s%N)
	if ! n=$(LC_ALL=C ls -l "$2" | grep -c '^-'); then
		echo "fs_bench: FAILED: ls -l $2" >&2
		exit 1
	fi
	t1=$(date +%s%N)
	if [ "$n" != "$N" ]; then
		echo "fs_bench: ls -l $2 listed $n files, not $N" >&2
		exit 1
	fi
	RATE[$key]=$(awk -v n="$N" -v ns=$((t1 - t0)) 'BEGIN { printf "%.0f", n / (ns / 1e9) }')
	ALL[$key]="${ALL[$key]:-} ${RATE[$key]}"
}

# Median of the rates collected under KEY.
median() {
	echo ${ALL[$1]:-} | tr ' ' '\n' | sort -n |
		awk 'NF { v[++n] = $1 } END { if (n == 0) print "-";
			else if (n % 2) print v[(n + 1) / 2];
			else printf "%.0f\n", (v[n / 2] + v[n / 2 + 1]) / 2 }'
}

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }

# RFC 3339 UTC with nanoseconds, from ns since the epoch.
fmt_ns() {
	printf '%s.%09dZ' "$(date -u -d "@$(($1 / 1000000000))" +%Y-%m-%dT%H:%M:%S)" \
		$(($1 % 1000000000))
}

mount_pitrfs() {
	mount_fs "$TMP/pitr-mnt" "$TMP/pitrfs.log" "$PITRFS" -f "$TMP/store" "$TMP/pitr-mnt"
	PITR_PID=$DPID
}

echo "== filesystems: $N JSON documents of ~1 KB in one directory $NOTE_N =="
echo "   (tmp dir $TMP; each phase is one run of build/bench/fsops over all files;"
echo "    $ROUNDS rounds, the filesystems taking turns phase by phase, the first turn"
echo "    moving on by one each round; figures are medians)"
t_start=$(date +%s)

FSES="tmpfs pt pitrfs"
declare -A DIR=([tmpfs]=$TMP/native [pt]=$TMP/pt-mnt [pitrfs]=$TMP/pitr-mnt)
mkdir "$TMP/native" "$TMP/pt-src" "$TMP/pt-mnt" "$TMP/pitr-mnt"
mount_fs "$TMP/pt-mnt" "$TMP/passthrough.log" "$PT" -f -o source="$TMP/pt-src" "$TMP/pt-mnt"
PT_PID=$DPID
"$PITR" create "$TMP/store" >/dev/null
mount_pitrfs
M=$TMP/pitr-mnt
mid_round=$((VERSIONS / 2 - 1))
top=$((VERSIONS - 1))

for ((round = 1; round <= ROUNDS; round++)); do
	# Each round starts the turns one filesystem later, so that none is
	# always the one to follow another's phase.
	read -ra turn <<<"$FSES"
	shift_by=$(((round - 1) % ${#turn[@]}))
	ORDER="${turn[*]:shift_by} ${turn[*]:0:shift_by}"
	for fs in $FSES; do
		mkdir "${DIR[$fs]}/db" "${DIR[$fs]}/db/ct"
	done
	for fs in $ORDER; do op "$fs.create" create "${DIR[$fs]}/db/ct" 0; done
	for fs in $ORDER; do op "$fs.read" read "${DIR[$fs]}/db/ct" 0; done
	for fs in $ORDER; do op "$fs.stat" stat "${DIR[$fs]}/db/ct"; done
	for fs in $ORDER; do lsl "$fs.lsl" "${DIR[$fs]}/db/ct"; done
	for fs in $ORDER; do op "$fs.overwrite" overwrite "${DIR[$fs]}/db/ct" 1; done
	for fs in $ORDER; do op "$fs.reread" read "${DIR[$fs]}/db/ct" 1; done
	if [ "$round" = "$ROUNDS" ]; then
		# pitrfs: versions 3..VERSIONS of every document.
		for ((r = 2; r < VERSIONS; r++)); do
			op "pitrfs.ow$r" overwrite "$M/db/ct" "$r"
			if [ "$r" = "$mid_round" ]; then
				T_MID=$(fmt_ns "$(date +%s%N)")
			fi
		done
		T_NS=$(date +%s%N)
		T=$(fmt_ns "$T_NS")
		T2=$(fmt_ns $((T_NS + 1)))
		last=$(printf 'doc%06d.json' $((N - 1)))
		LAST_TS=$(fmt_ns "$(stat -c '%.9Y' "$M/db/ct/$last" | tr -d .)")
		if [[ "$LAST_TS" > "$T" ]]; then
			echo "fs_bench: last commit $LAST_TS is after T=$T (clock?)" >&2
			exit 1
		fi
		declare -A VIEW=([live]=$M/db/ct [at]=$M/@$T/db/ct [mid]=$M/@$T_MID/db/ct)
		declare -A VVER=([live]=$top [at]=$top [mid]=$mid_round)
		# Live tree against views, each time on a fresh mount: nothing
		# in the kernel's caches for either; then a second pass. The
		# order alternates, so that neither is always first.
		for ((k = 0; k < ROUNDS; k++)); do
			unmount_fs "$M" "$PITR_PID" "$TMP/pitrfs.log"
			mount_pitrfs
			if ((k % 2 == 0)); then order="live at mid"; else order="mid at live"; fi
			for v in $order; do
				op "$v.read" read "${VIEW[$v]}" "${VVER[$v]}"
			done
			for v in $order; do op "$v.stat" stat "${VIEW[$v]}"; done
			for v in $order; do lsl "$v.lsl" "${VIEW[$v]}"; done
			for v in $order; do
				[ "$v" = mid ] && continue
				op "$v.read2" read "${VIEW[$v]}" "${VVER[$v]}"
			done
			for v in $order; do
				[ "$v" = mid ] && continue
				op "$v.stat2" stat "${VIEW[$v]}"
			done
			if [ "${SUM[live.read]}" != "${SUM[at.read]}" ]; then
				echo "fs_bench: @T content differs from the live content" >&2
				exit 1
			fi
		done
	fi
	for fs in $ORDER; do op "$fs.unlink" unlink "${DIR[$fs]}/db/ct"; done
	for fs in $FSES; do rmdir "${DIR[$fs]}/db/ct" "${DIR[$fs]}/db"; done
done
# The view survives the deletes (a new instant: not cached by the kernel).
op after.stat stat "$M/@$T2/db/ct"
op after.read read "$M/@$T2/db/ct" "$top"
unmount_fs "$TMP/pt-mnt" "$PT_PID" "$TMP/passthrough.log"
unmount_fs "$M" "$PITR_PID" "$TMP/pitrfs.log"

# Report
echo
printf ' %-30s %10s %16s %10s %11s %11s\n' "operation ($N files)" "tmpfs" "passthrough_ll" "pitrfs" "pitrfs/pt" "pitrfs/tmpfs"
printf ' %-30s %10s %16s %10s %11s %11s\n' "" "ops/s" "ops/s" "ops/s" "ratio" "ratio"
for row in "create:create+write+close" "read:read (cat every file)" \
	   "stat:readdir+lstat" "lsl:ls -l (coreutils)" \
	   "overwrite:overwrite (O_TRUNC)" \
	   "reread:read after overwrite" "unlink:unlink"; do
	k=${row%%:*}
	a=$(median "tmpfs.$k") b=$(median "pt.$k") c=$(median "pitrfs.$k")
	printf ' %-30s %10s %16s %10s %11s %11s\n' "${row#*:}" "$a" "$b" "$c" \
		"$(ratio "$c" "$b")" "$(ratio "$c" "$a")"
done
echo "   every round (ops/s):"
for k in create read stat lsl overwrite reread unlink; do
	printf '     %-10s tmpfs%-24s pt%-22s pitrfs%s\n' "$k" "${ALL[tmpfs.$k]}" \
		"${ALL[pt.$k]}" "${ALL[pitrfs.$k]}"
done

ow_ops=0
ow_sec=0
rates=
for ((r = 2; r < VERSIONS; r++)); do
	ow_ops=$((ow_ops + N))
	ow_sec=$(awk -v a="$ow_sec" -v b="${SECS[pitrfs.ow$r]}" 'BEGIN { print a + b }')
	rates+=" ${RATE[pitrfs.ow$r]}"
done

echo
echo " pitrfs history: $VERSIONS versions of each of the $N documents"
echo "   T     = $T  (taken after the last write; last commit $LAST_TS)"
echo "   T_mid = $T_MID  (after version $((mid_round + 1)) of $VERSIONS)"
printf '   overwrite, versions 3..%d: %.0f ops/s over %d commits (%.1f s)\n' \
	"$VERSIONS" "$(awk -v a=$ow_ops -v b="$ow_sec" 'BEGIN { print (b > 0 ? a / b : 0) }')" \
	"$ow_ops" "$ow_sec"
echo "   overwrite ops/s by version (3..$VERSIONS):$rates"
echo
printf ' %-36s %10s %10s %10s %10s %12s\n' "pitrfs, median of $ROUNDS fresh mounts" "live" "@T" "@T_mid" "@T/live" "@T_mid/live"
printf ' %-36s %10s %10s %10s %10s %12s\n' "" "ops/s" "ops/s" "ops/s" "ratio" "ratio"
for row in "read:read (cat every file)" "stat:readdir+lstat" \
	   "lsl:ls -l (coreutils)" \
	   "read2:read, second pass" "stat2:readdir+lstat, second pass"; do
	k=${row%%:*}
	l=$(median "live.$k") a=$(median "at.$k") m=$(median "mid.$k")
	if [ "$m" = - ]; then
		printf ' %-36s %10s %10s %10s %10s\n' "${row#*:}" "$l" "$a" "" "$(ratio "$a" "$l")"
	else
		printf ' %-36s %10s %10s %10s %10s %12s\n' "${row#*:}" "$l" "$a" "$m" \
			"$(ratio "$a" "$l")" "$(ratio "$m" "$l")"
	fi
done
pt_lsl=$(median pt.lsl)
printf ' %-36s %10s %10s %10s\n' "ls -l against passthrough_ll's" \
	"$(ratio "$(median live.lsl)" "$pt_lsl")" "$(ratio "$(median at.lsl)" "$pt_lsl")" \
	"$(ratio "$(median mid.lsl)" "$pt_lsl")"
echo "   (passthrough_ll's ls -l of the same files: $pt_lsl entries/s, median of the rounds above)"
printf ' %-36s %10s %10s\n' "@T+1ns after unlinking all: readdir+lstat" "" "${RATE[after.stat]}"
printf ' %-36s %10s %10s\n' "@T+1ns after unlinking all: read" "" "${RATE[after.read]}"
echo "   (contents checked byte for byte: live and @T = version $VERSIONS, @T_mid = version $((mid_round + 1)))"
echo
echo " notes: ratios are throughputs (> 1: faster). passthrough_ll is libfuse's"
echo "   example as shipped (cache=auto: 1 s attribute/entry timeout; pitrfs keeps"
echo "   live entries 60 s, views 1 day), and it finds inodes by a linear list scan,"
echo "   so its lookup-heavy rows (ls -l, create) slow down as N grows."
echo "   ls -l rows are entries/s of coreutils' ls -l (lstat, and getxattr for"
echo "   the ACL and security label of each file, which neither filesystem serves)."
if [ -s "$TMP/pitrfs.log" ]; then
	echo
	echo " pitrfs daemon log ($(wc -l <"$TMP/pitrfs.log") lines), last lines:"
	tail -5 "$TMP/pitrfs.log" | sed 's/^/   /'
fi
echo
echo " (filesystem benchmark: $(($(date +%s) - t_start)) s)"
