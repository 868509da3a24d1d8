#!/bin/bash
# size_bench.sh - what history costs on disk: N realistic ~1 KB JSON
# documents (orders, users, events, products, notes) written through the
# mount, then ROUNDS rounds of small edits to every document (a status,
# updated_at, a counter). Reported: bytes per first version and per
# edit-version of the store (pages its tables use), of the backup media
# (segment bytes), of the store after `pitr compact` (a copy whose pages
# are full), and of a git repository holding the same sequence of
# states (a commit per round, then `git gc`), side by side.
#
# Called by tests/bench/run (BENCH_ONLY=size), which builds build/bench/
# sizegen first. Environment:
#   BENCH_SIZE_DOCS    documents (default 5000)
#   BENCH_SIZE_ROUNDS  rounds of edits (default 10)
#   BENCH_TMP          where the temporary directory goes (default /dev/shm)
#   PITR_BIN, PITRFS_BIN  other builds of the binaries (default bin/)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
GEN=$ROOT/build/bench/sizegen
PITR=${PITR_BIN:-$ROOT/bin/pitr}
PITRFS=${PITRFS_BIN:-$ROOT/bin/pitrfs}
N=${BENCH_SIZE_DOCS:-5000}
ROUNDS=${BENCH_SIZE_ROUNDS:-10}
for f in "$GEN" "$PITR" "$PITRFS"; do
	[ -x "$f" ] || { echo "size_bench: $f missing: run tests/bench/run" >&2; exit 1; }
done
command -v git >/dev/null || { echo "size_bench: git is not installed" >&2; exit 1; }

W=$(mktemp -d "${BENCH_TMP:-/dev/shm}/pitr-size.XXXXXX")
M=$W/mnt
DPID=
cleanup() {
	local rc=$? i
	set +e
	mountpoint -q "$M" && fusermount3 -u "$M"
	if [ -n "$DPID" ]; then
		for i in $(seq 100); do kill -0 "$DPID" 2>/dev/null || break; sleep 0.1; done
	fi
	rm -rf "$W"
	exit "$rc"
}
trap cleanup EXIT

echo "history size: $N documents of ~1 KB, then $ROUNDS rounds of small edits to each"
"$PITR" create "$W/store" >/dev/null
mkdir -p "$M" "$W/media" "$W/git"
"$PITRFS" --backup-dir "$W/media" "$W/store" "$M"
DPID=$(pgrep -n -f "^$PITRFS --backup-dir $W/media") || true
mkdir "$M/db"
git -C "$W/git" init -q
git -C "$W/git" config user.email bench@example.invalid
git -C "$W/git" config user.name bench
git -C "$W/git" config gc.auto 0

media() { "$PITR" backup "$W/store" flush >/dev/null; cat "$W"/media/seg-*.pseg 2>/dev/null | wc -c; }
pack() { git -C "$W/git" gc -q; du -sb "$W/git/.git/objects" | cut -f1; }
# packed N: the pages of a compacted copy of the store (made while mounted)
packed() {
	"$PITR" compact "$W/store" "$W/packed$1" >/dev/null
	"$GEN" pages "$W/packed$1"
	rm -rf "$W/packed$1"
}

s0=$("$GEN" pages "$W/store")
c0=$(packed 0)
m0=$(media)
g0=$(du -sb "$W/git/.git/objects" | cut -f1)
t0=$(date +%s.%N)
"$GEN" write "$M/db" "$N" 0
t1=$(date +%s.%N)
"$GEN" write "$W/git" "$N" 0
git -C "$W/git" add -A && git -C "$W/git" commit -qm "round 0"
s1=$("$GEN" pages "$W/store")
c1=$(packed 1)
"$GEN" tables "$W/store" >"$W/tables1"
m1=$(media)
g1=$(pack)
json=$(cat "$W"/git/*/*.json | wc -c)
te=0
for r in $(seq "$ROUNDS"); do
	a=$(date +%s.%N)
	"$GEN" write "$M/db" "$N" "$r"
	b=$(date +%s.%N)
	te=$(awk "BEGIN{print $te + $b - $a}")
	"$GEN" write "$W/git" "$N" "$r"
	git -C "$W/git" add -A && git -C "$W/git" commit -qm "round $r"
done
s2=$("$GEN" pages "$W/store")
c2=$(packed 2)
"$GEN" tables "$W/store" >"$W/tables2"
m2=$(media)
g2=$(pack)
edits=$((N * ROUNDS))
awk -v n="$N" -v e="$edits" -v json="$json" -v s0="$s0" -v s1="$s1" -v s2="$s2" \
	-v c0="$c0" -v c1="$c1" -v c2="$c2" \
	-v m0="$m0" -v m1="$m1" -v m2="$m2" -v g0="$g0" -v g1="$g1" -v g2="$g2" \
	-v tc="$(awk "BEGIN{print $t1 - $t0}")" -v te="$te" 'BEGIN {
	printf "  JSON: %.0f bytes per document\n", json / n
	printf "  %-22s %14s %14s\n", "bytes per", "first version", "edit-version"
	printf "  %-22s %14.0f %14.0f\n", "pitrfs store", (s1 - s0) / n, (s2 - s1) / e
	printf "  %-22s %14.0f %14.0f\n", "  after pitr compact", (c1 - c0) / n, (c2 - c1) / e
	printf "  %-22s %14.0f %14.0f\n", "pitrfs backup media", (m1 - m0) / n, (m2 - m1) / e
	printf "  %-22s %14.0f %14.0f\n", "git (after git gc)", (g1 - g0) / n, (g2 - g1) / e
	printf "  writes through the mount: %.0f creates/s, %.0f edits/s\n", n / tc, e / te
}'
echo "  store by table (bytes of pages: per first version, per edit-version)"
awk -v n="$N" -v e="$edits" 'NR == FNR && NF == 3 { a[$1] = $2; next }
	NF == 3 { printf "    %-10s %8.0f %8.0f\n", $1, a[$1] / n, ($2 - a[$1]) / e }' \
	"$W/tables1" "$W/tables2"
"$PITR" verify "$W/store" | sed 's/^/  /'
fusermount3 -u "$M"
