#!/bin/bash
# format_bench.sh - what the formats since 3 (deltas and container
# dictionaries; format 4's compact log records) cost core/ in time:
# store_bench linked with this tree's library and with an earlier
# revision's (default: the last commit before format 3, which stores every
# version as a whole lz4 body), run in turns on the same machine; prints
# each operation's median over the rounds, for both builds, and the ratio.
# "rewrite" puts a new document under each id; "small edit" adds a field
# to each, as applications edit.
#
# Called by tests/bench/run (BENCH_ONLY=format). Needs the repository's
# history (git); says so and stops when the revision is not there.
# Environment:
#   BENCH_FORMAT_REV     the earlier revision (default 847cdd2)
#   BENCH_FORMAT_ROUNDS  rounds, each running both builds (default 3)
#   BENCH_FORMAT_DOCS    documents (default 20000)
#   BENCH_DEPTH          versions of the deep document (default 10000)
#   BENCH_TMP            directory for the stores (default /dev/shm)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
REV=${BENCH_FORMAT_REV:-847cdd2}
ROUNDS=${BENCH_FORMAT_ROUNDS:-3}
DOCS=${BENCH_FORMAT_DOCS:-20000}
DEPTH=${BENCH_DEPTH:-10000}
CC=${CC:-cc}
CFLAGS_BENCH="-std=gnu11 -D_GNU_SOURCE -O2 -Wall -Wextra -Werror"
LIBS=$CORE_LIBS

for v in "$ROUNDS" "$DOCS" "$DEPTH"; do
	case $v in ''|0|*[!0-9]*) echo "format_bench: counts must be >= 1" >&2; exit 2;; esac
done
[ -f build/libpitr.a ] || { echo "format_bench: run 'make all' first" >&2; exit 1; }
if ! rev=$(git rev-parse --verify -q "$REV^{commit}" 2>/dev/null); then
	echo "format_bench: revision $REV not in this repository's history; skipped"
	exit 0
fi

TMP=$(mktemp -d "${BENCH_TMP:-/dev/shm}/pitr-formatbench.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# The earlier build: its own tree, library and benchmark, as it was.
mkdir "$TMP/old"
git archive "$rev" | tar -x -C "$TMP/old"
make -s -C "$TMP/old" build/libpitr.a >"$TMP/old-build.log" 2>&1 ||
	{ cat "$TMP/old-build.log" >&2; exit 1; }
# The same benchmark against both libraries: this tree's store_bench.c,
# or where it needs what the earlier library lacks, the earlier one's.
$CC $CFLAGS_BENCH -I"$TMP/old/core" tests/bench/store_bench.c \
	"$TMP/old/build/libpitr.a" $LIBS -o "$TMP/store_bench.old" 2>/dev/null ||
	$CC $CFLAGS_BENCH -I"$TMP/old/core" "$TMP/old/tests/bench/store_bench.c" \
		"$TMP/old/build/libpitr.a" $LIBS -o "$TMP/store_bench.old"
$CC $CFLAGS_BENCH -Icore tests/bench/store_bench.c build/libpitr.a $LIBS \
	-o "$TMP/store_bench.new"

# Turns alternate, and the first turn changes every round.
for ((r = 1; r <= ROUNDS; r++)); do
	order="old new"
	((r % 2 == 0)) && order="new old"
	for b in $order; do
		mkdir "$TMP/s"
		"$TMP/store_bench.$b" "$TMP/s" "$DOCS" "$DEPTH" >"$TMP/out.$b.$r" 2>&1 ||
			{ cat "$TMP/out.$b.$r" >&2; exit 1; }
		rm -rf "$TMP/s"
	done
done

echo "== this build (format $(sed -n 's/^#define PITR_FORMAT \([0-9]*\)$/\1/p' core/pitr.h)) against $(git log -1 --format='%h (%cs)' "$rev"), core/ alone =="
echo "   store_bench $DOCS documents, deep document of $DEPTH versions;"
echo "   $ROUNDS rounds, the builds taking turns; medians of the rounds"
# Each line's rate is the number before "puts/s" or "gets/s".
awk -v rounds="$ROUNDS" '
	function label(s) {
		if (s ~ /put, 1 doc per txn/) return "put, a commit each"
		if (s ~ /put, 100 docs per txn/) return "put, 100 per commit"
		if (s ~ /overwrite, 100 docs per txn/) return "rewrite, 100 per commit"
		if (s ~ /small edit, 100 docs per txn/) return "small edit, 100 per commit"
		if (s ~ /^ *get now/) return "read now"
		if (s ~ /get at past T \(middle/) return "read at an instant"
		if (s ~ /one document with 1 version/) return "read, 1 version"
		if (s ~ /one document with [0-9]+ versions/) return "read, deep document"
		return ""
	}
	function median(a, n,   i, j, t) {
		for (i = 2; i <= n; i++)
			for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
				t = a[j]; a[j] = a[j - 1]; a[j - 1] = t
			}
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	FNR == 1 { m = split(FILENAME, q, "/"); split(q[m], p, "."); b = p[2]; f++ }
	{
		l = label($0)
		if (l == "" || (f, l) in seen) next
		for (i = 2; i <= NF; i++)
			if ($i == "puts/s" || $i == "gets/s") {
				seen[f, l] = 1
				n[b, l]++; v[b, l, n[b, l]] = $(i - 1)
				if (!(l in known)) { known[l] = 1; order[++k] = l }
				break
			}
	}
	END {
		printf " %-28s %14s %14s %14s\n", "operation (ops/s)", "earlier", "this build", "time ratio"
		for (i = 1; i <= k; i++) {
			l = order[i]
			if (n["old", l] != rounds || n["new", l] != rounds) continue
			for (j = 1; j <= rounds; j++) { o[j] = v["old", l, j]; w[j] = v["new", l, j] }
			mo = median(o, rounds); mw = median(w, rounds)
			printf " %-28s %14.0f %14.0f %13.2fx\n", l, mo, mw, mo / mw
		}
		print "   (time ratio: time of this build / earlier time per operation)"
	}' $(for ((r = 1; r <= ROUNDS; r++)); do echo "$TMP/out.old.$r" "$TMP/out.new.$r"; done)
