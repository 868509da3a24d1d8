#!/usr/bin/env bash
# Restore of an account of N documents of about 1 KB (10% with 10 versions)
# from the live store on tmpfs, side by side with LMDB's own compacting copy
# of the same environment (mdb_copy -c).
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
N=${BENCH_RESTORE_DOCS:-1000000}
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
echo "restore benchmark: $N documents of ~1 KB, 10% with 10 versions, on tmpfs"
t0=$(now)
T=$("$B/restore_source" "$W/src" "$N")
t1=$(now)
echo "  source built in $(calc "$t1 - $t0") s: $(du -sh "$W/src" | cut -f1) on disk"
sleep 0.01

mkdir "$W/copy"
t0=$(now)
mdb_copy -c "$W/src" "$W/copy"
t1=$(now)
copy=$(calc "$t1 - $t0")

t0=$(now)
"$TOP/bin/pitr" restore "$W/src" "$W/restored" --at "$T" 2>"$W/out"
t1=$(now)
restore=$(calc "$t1 - $t0")
grep -q "$N documents" "$W/out" || { cat "$W/out"; exit 1; }

printf '  %-28s %8.2f s\n' "mdb_copy -c" "$copy"
printf '  %-28s %8.2f s  (%.0f docs/s)\n' "pitr restore" "$restore" \
	"$(calc "$N / $restore")"
printf '  %-28s %8.2f x  (target <= 2.0)\n' "restore / mdb_copy" \
	"$(calc "$restore / $copy")"
printf '  %-28s %s, restored %s\n' "sizes" "$(du -sh "$W/src" | cut -f1) source" \
	"$(du -sh "$W/restored" | cut -f1)"
