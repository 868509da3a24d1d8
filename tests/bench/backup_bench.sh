#!/usr/bin/env bash
# Shipping to backup media while writing flat out through the mount: the
# lag (age of the oldest mutation not yet on the media) sampled every
# 0.1 s, p50/p99/max; bytes on the media per 1 KB version. Then pruning a
# window of 1,000,000 expired versions with a writer running.
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_DOCS:-20000}
ROUNDS=${BENCH_SHIP_ROUNDS:-3}
PRUNE_DOCS=${BENCH_PRUNE_DOCS:-100000}
B=$TOP/build/bench
mkdir -p "$B"
cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror "$TOP/tests/bench/fsops.c" \
	-o "$B/fsops"
cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$TOP/core" \
	"$TOP/tests/bench/prune_bench.c" "$TOP/build/libpitr.a" \
	$CORE_LIBS -o "$B/prune_bench"
W=$(mktemp -d "${BENCH_TMP:-/dev/shm}/pitr-backup-bench.XXXXXX")
M=$W/mnt
cleanup() {
	fusermount3 -u "$M" 2>/dev/null || true
	[ -n "${SAMPLER:-}" ] && kill "$SAMPLER" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT

echo "shipping benchmark: $N documents of ~1 KB, created then overwritten" \
	"$ROUNDS times, store and media on tmpfs"
"$TOP/bin/pitr" create "$W/store" >/dev/null
mkdir -p "$M" "$W/media"
"$TOP/bin/pitrfs" --backup-dir "$W/media" "$W/store" "$M"
mkdir "$M/db" "$M/db/c"

# the sampler: one lag figure (ns) per line
(
	while :; do
		"$TOP/bin/pitr" backup "$W/store" status --json 2>/dev/null |
			sed -n 's/.*"lag_ns":\([0-9]*\).*/\1/p'
		sleep 0.1
	done
) >"$W/lags" &
SAMPLER=$!
t0=$(date +%s.%N)
"$B/fsops" create "$M/db/c" "$N" 0 >/dev/null
for r in $(seq "$ROUNDS"); do
	"$B/fsops" overwrite "$M/db/c" "$N" "$r" >/dev/null
done
t1=$(date +%s.%N)
kill "$SAMPLER"
wait "$SAMPLER" 2>/dev/null || true
SAMPLER=
"$TOP/bin/pitr" backup "$W/store" flush >/dev/null
versions=$((N * (ROUNDS + 1)))
media=$(cat "$W"/media/seg-*.pseg | wc -c)
json=$(du -sb "$M/db/c" | cut -f1)
sort -n "$W/lags" | awk -v secs="$(awk "BEGIN{print $t1 - $t0}")" \
	-v versions="$versions" -v media="$media" -v json="$json" -v n="$N" '
	{ v[NR] = $1 }
	END {
		p50 = v[int(NR * 0.50) + 1] / 1e9; p99 = v[int(NR * 0.99) + 1] / 1e9
		printf "  writes: %d versions in %.1f s (%.0f/s)\n", versions, secs, versions / secs
		printf "  lag while writing (%d samples): p50 %.2f s, p99 %.2f s, max %.2f s" \
			"  (target: under 10 s)\n", NR, p50, p99, v[NR] / 1e9
		printf "  media: %d bytes for %d versions: %.0f bytes per version" \
			" of %.0f bytes of JSON\n", media, versions, media / versions, json / n
	}'
"$TOP/bin/pitr" verify "$W/media" | sed 's/^/  /'
fusermount3 -u "$M"
sleep 0.2

echo
echo "pruning benchmark: $PRUNE_DOCS documents x 11 versions, 10 of each expired"
"$B/prune_bench" "$W/prune" "$PRUNE_DOCS" 11
