#!/usr/bin/env bash
# Restore of an account of N documents of about 1 KB (10% with 10 versions)
# from the live store on tmpfs, side by side with LMDB's own compacting copy
# of the same environment (mdb_copy -c). The two take turns for
# BENCH_ROUNDS rounds (default 5), the first turn moving on each round, so
# neither alone pays for memory the machine hands out for the first time;
# figures are medians of the rounds, with each round's ratio.
set -eu
shopt -s inherit_errexit # a failing command in $(...) ends the script
TOP=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_RESTORE_DOCS:-1000000}
ROUNDS=${BENCH_ROUNDS:-5}
case $ROUNDS in ''|*[!0-9]*) ROUNDS=0;; esac
[ "$ROUNDS" -ge 1 ] 2>/dev/null || { echo "restore_bench: BENCH_ROUNDS >= 1" >&2; exit 2; }
B=$TOP/build/bench
mkdir -p "$B"
cc -std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror -I"$TOP/core" \
	"$TOP/tests/bench/restore_source.c" "$TOP/build/libpitr.a" \
	$CORE_LIBS -o "$B/restore_source"
W=$(mktemp -d "${BENCH_TMP:-/dev/shm}/pitr-restore-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT

now() { date +%s.%N; }
# calc EXPR: floating-point arithmetic without bc
calc() { awk "BEGIN { print $1 }"; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ v[NR] = $1 }
	END { print NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "restore benchmark: $N documents of ~1 KB, 10% with 10 versions, on tmpfs"
t0=$(now)
T=$("$B/restore_source" "$W/src" "$N")
t1=$(now)
echo "  source built in $(calc "$t1 - $t0") s: $(du -sh "$W/src" | cut -f1) on disk"

# run_copy, run_restore: one timed turn each, its output removed after
run_copy() {
	mkdir "$W/copy"
	local t0 t1
	t0=$(now)
	mdb_copy -c "$W/src" "$W/copy"
	t1=$(now)
	rm -rf "$W/copy"
	calc "$t1 - $t0"
}
run_restore() {
	local t0 t1
	t0=$(now)
	"$TOP/bin/pitr" restore "$W/src" "$W/restored" --at "$T" 2>"$W/out"
	t1=$(now)
	grep -q "$N documents" "$W/out" || { cat "$W/out" >&2; exit 1; }
	du -sh "$W/restored" | cut -f1 >"$W/size"
	rm -rf "$W/restored"
	calc "$t1 - $t0"
}

copies="" restores="" ratios=""
for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		c=$(run_copy)
		x=$(run_restore)
	else
		x=$(run_restore)
		c=$(run_copy)
	fi
	copies="$copies $c" restores="$restores $x"
	ratios="$ratios $(awk "BEGIN { printf \"%.2f\", $x / $c }")"
	printf '  round %d: mdb_copy -c %.2f s, pitr restore %.2f s (%.2fx)\n' \
		"$r" "$c" "$x" "$(calc "$x / $c")"
done
copy=$(echo "$copies" | median)
restore=$(echo "$restores" | median)
printf '  %-28s %8.2f s\n' "mdb_copy -c" "$copy"
printf '  %-28s %8.2f s  (%.0f docs/s)\n' "pitr restore" "$restore" \
	"$(calc "$N / $restore")"
printf '  %-28s %8.2f x  (target <= 2.0; rounds:%s)\n' "restore / mdb_copy" \
	"$(calc "$restore / $copy")" "$ratios"
printf '  %-28s %s source, restored %s\n' "sizes" \
	"$(du -sh "$W/src" | cut -f1)" "$(cat "$W/size")"
