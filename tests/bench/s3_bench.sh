#!/usr/bin/env bash
# Backup media side by side: a directory on tmpfs and an S3 bucket on a
# single-node Ceph (radosgw, started here, see tests/integration/ceph.sh).
#  1. N documents of ~1 KB created then overwritten ROUNDS times through
#     the mount, flat out: lag (age of the oldest mutation not on the
#     media) sampled every 0.1 s (BENCH_SAMPLE), p50/p99/max; objects created (PUTs) per
#     1,000 mutations; bytes on the media per 1 KB version.
#  2. A restore of R documents (10% with 10 versions) from each media.
# Run as root (FUSE, Ceph): BENCH_DOCS, BENCH_SHIP_ROUNDS, BENCH_S3_RESTORE_DOCS,
# BENCH_SAMPLE (seconds between lag samples; each opens the store).
set -eu
# core's libraries as tests/bench/run names them (this runs on its own too)
CORE_LIBS=${CORE_LIBS:-"-llmdb -l:liblz4.a -lxxhash -ljansson -lcurl -lcrypto -pthread"}
TOP=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_DOCS:-20000}
ROUNDS=${BENCH_SHIP_ROUNDS:-2}
R=${BENCH_S3_RESTORE_DOCS:-100000}
B=$TOP/build/bench
mkdir -p "$B"
cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror "$TOP/tests/bench/fsops.c" \
	-o "$B/fsops"
cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$TOP/core" \
	"$TOP/tests/bench/restore_source.c" "$TOP/build/libpitr.a" \
	$CORE_LIBS -o "$B/restore_source"
TMP=$(mktemp -d "${BENCH_TMP:-/dev/shm}/pitr-s3-bench.XXXXXX")
M=$TMP/mnt
SAMPLER=
cleanup() {
	fusermount3 -u "$M" 2>/dev/null || true
	[ -n "$SAMPLER" ] && kill "$SAMPLER" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$TMP"
}
# ceph.sh waits with lib.sh's wait_for; lib.sh itself (the test steps,
# their temporary directory and exit trap) is not for a benchmark
wait_for() { # SECONDS CMD...: until CMD succeeds, at most SECONDS
	local n=$(($1 * 5)) i
	shift
	for i in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}
. "$TOP/tests/integration/ceph.sh"
PITR=$TOP/bin/pitr
now() { date +%s.%N; }
calc() { awk "BEGIN { print $1 }"; }

# name SIZE per object of a media: "dir" or s3 prefix
objects() {
	if [ "$1" = dir ]; then
		(cd "$TMP/media" && stat -c '%n %s' ACCOUNT seg-* manifest-*)
	else
		s3 GET "/$S3_BUCKET?list-type=2&prefix=$2%2F" | tr '<' '\n' |
			sed -n 's/^Key>[^/]*\///p; s/^Size>//p' | paste - -
	fi
}

ship() { # ship KIND LOCATION
	local kind=$1 where=$2 opt
	[ "$kind" = dir ] && opt=--backup-dir || opt=--backup-url
	[ "$kind" = dir ] && mkdir -p "$where"
	rm -rf "$TMP/store"
	"$PITR" create "$TMP/store" >/dev/null
	mkdir -p "$M"
	"$TOP/bin/pitrfs" "$opt" "$where" "$TMP/store" "$M"
	mkdir "$M/db" "$M/db/c"
	(
		while :; do
			"$PITR" backup "$TMP/store" status --json 2>/dev/null |
				sed -n 's/.*"lag_ns":\([0-9]*\).*/\1/p'
			sleep "${BENCH_SAMPLE:-0.1}"
		done
	) >"$TMP/lags" &
	SAMPLER=$!
	local t0 t1
	t0=$(now)
	"$B/fsops" create "$M/db/c" "$N" 0 >/dev/null
	for r in $(seq "$ROUNDS"); do
		"$B/fsops" overwrite "$M/db/c" "$N" "$r" >/dev/null
	done
	t1=$(now)
	kill "$SAMPLER"
	wait "$SAMPLER" 2>/dev/null || true
	SAMPLER=
	"$PITR" backup "$TMP/store" flush >/dev/null
	local versions=$((N * (ROUNDS + 1))) json
	json=$(du -sb "$M/db/c" | cut -f1)
	fusermount3 -u "$M"
	sleep 0.5
	# objects ever created: ACCOUNT, every segment (none is removed),
	# and manifests numbered 1..latest (older ones were retired)
	objects "$kind" "${where##*/}" >"$TMP/objs"
	local segs mf bytes
	segs=$(grep -c "^seg-" "$TMP/objs")
	mf=$(grep "^manifest-" "$TMP/objs" | sort | tail -1 | sed 's/^manifest-0*\([0-9]*\).*/\1/')
	bytes=$(grep "^seg-" "$TMP/objs" | awk '{ s += $2 } END { print s }')
	sort -n "$TMP/lags" | awk -v kind="$kind" -v secs="$(calc "$t1 - $t0")" \
		-v versions="$versions" -v bytes="$bytes" -v json="$json" -v n="$N" \
		-v puts="$((segs + mf + 1))" -v segs="$segs" -v mf="$mf" '
		{ v[NR] = $1 }
		END {
			p50 = v[int(NR * 0.50) + 1] / 1e9; p99 = v[int(NR * 0.99) + 1] / 1e9
			printf "  %-4s writes: %d versions in %.1f s (%.0f/s)\n", kind, versions, secs, versions / secs
			printf "  %-4s lag (%d samples): p50 %.2f s, p99 %.2f s, max %.2f s\n", kind, NR, p50, p99, v[NR] / 1e9
			printf "  %-4s objects created: %d (%d segments, %d manifests, ACCOUNT): %.2f per 1,000 mutations\n", kind, puts, segs, mf, puts * 1000 / versions
			printf "  %-4s segment bytes: %d for %d versions: %.0f bytes per version of %.0f bytes of JSON\n", kind, bytes, versions, bytes / versions, json / n
		}'
}

echo "backup media benchmark (machine shared with other work): $N documents" \
	"of ~1 KB, created then overwritten $ROUNDS times; store, directory" \
	"media and Ceph under ${BENCH_TMP:-/dev/shm}"
ceph_start >/dev/null
ship dir "$TMP/media"
ship s3 "s3://$S3_BUCKET/bench"

echo "restore from the media: $R documents of ~1 KB, 10% with 10 versions"
rm -rf "$TMP/media"
mkdir "$TMP/media"
T=$("$B/restore_source" "$TMP/src" "$R")
"$PITR" backup "$TMP/src" set "$TMP/media" >/dev/null
"$PITR" backup "$TMP/src" flush >/dev/null
"$PITR" backup "$TMP/src" set "s3://$S3_BUCKET/restore" >/dev/null
"$PITR" backup "$TMP/src" flush >/dev/null
for kind in dir s3; do
	[ $kind = dir ] && from=$TMP/media || from=s3://$S3_BUCKET/restore
	t0=$(now)
	"$PITR" restore "$from" "$TMP/r-$kind" --from-backup --at "$T" 2>"$TMP/out"
	t1=$(now)
	grep -q "$R documents" "$TMP/out" || { cat "$TMP/out"; exit 1; }
	printf '  %-4s restore: %.2f s (%.0f docs/s)\n' "$kind" "$(calc "$t1 - $t0")" \
		"$(calc "$R / ($t1 - $t0)")"
	rm -rf "$TMP/r-$kind"
done
