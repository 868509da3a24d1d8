#!/usr/bin/env bash
# Versions stored as deltas on keyframes, keyframes on a container
# dictionary: 80 documents of ~1 KB (enough for a dictionary), then rounds
# of small edits through the mount. Every round reads back whole from its
# history view; the store verifies (every body decoded to its etag); a
# restore at a past instant, and a rebuild from the backup media, hold the
# very documents of that instant and verify.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt D=$TMP/media
"$PITR" create "$S"
mkdir "$D"
mount_fs "$S" "$M" --backup-dir "$D"
mkdir "$M/db" "$M/db/c"
export S M D

# gen DIR ROUND: round ROUND of the documents, written into DIR
gen() {
	python3 - "$1" "$2" <<'PY'
import json, sys
d, r = sys.argv[1], int(sys.argv[2])
words = "amber cedar delta ember falcon garnet harbor island jasper lagoon maple".split()
for i in range(80):
    doc = {"id": "doc-%03d" % i, "status": ["open", "paid", "shipped"][(i + r) % 3],
           "updated_at": "2026-12-%02dT%02d:00:00Z" % (1 + r, i % 24),
           "counter": r * 7 + i,
           "lines": [{"sku": "SKU-%04d" % (i * 13 + j), "qty": j + 1,
                      "note": " ".join(words[(i + j + k) % len(words)] for k in range(6))}
                     for j in range(6)],
           "text": " ".join(words[(i * 7 + k) % len(words)] for k in range(40))}
    with open("%s/d%03d.json" % (d, i), "w") as f:
        json.dump(doc, f)
PY
}

for r in 0 1 2 3 4; do
	mkdir -p "$TMP/expect/$r"
	gen "$TMP/expect/$r" "$r"
	gen "$M/db/c" "$r"
	ts_of "$M/db/c/d079.json" >"$TMP/T$r"
done

test_expect_success 'every round reads back whole from its history view' '
	for r in 0 1 2 3 4; do
		diff -r "$TMP/expect/$r" "$M/@$(cat "$TMP/T$r")/db/c"
	done
	diff -r "$TMP/expect/4" "$M/db/c"
'

test_expect_success 'pitr log lists every version, pitr diff one round' '
	"$PITR" log "$S" db/c/d005.json >"$TMP/log"
	[ "$(grep -c "create\|replace" "$TMP/log")" = 5 ]
	"$PITR" diff "$S" "$(cat "$TMP/T1")" "$(cat "$TMP/T2")" >"$TMP/diff"
	[ "$(grep -c "d0" "$TMP/diff")" = 80 ]
'

test_expect_success 'the store verifies: every body decodes to its etag' '
	verify_ok "$S"
'

test_expect_success 'edits cost a fraction of a version on disk' '
	# 80 documents x 4 edits: far less than the 320 x ~1 KB they are
	"$PITR" backup "$S" flush >/dev/null
	n0=$(cat "$D"/seg-*.pseg | wc -c)
	gen "$M/db/c" 5
	"$PITR" backup "$S" flush >/dev/null
	n1=$(cat "$D"/seg-*.pseg | wc -c)
	json=$(cat "$M"/db/c/*.json | wc -c)
	echo "media: $((n1 - n0)) bytes for a round of edits of $json bytes of JSON"
	[ $((n1 - n0)) -lt $((json / 4)) ]
'

test_expect_success 'a restore at round 2 holds round 2, standalone, and verifies' '
	"$PITR" restore "$S" "$TMP/r2" --at "$(cat "$TMP/T2")" 2>/dev/null
	verify_ok "$TMP/r2"
	mount_fs "$TMP/r2" "$TMP/r2m"
	diff -r "$TMP/expect/2" "$TMP/r2m/db/c"
	unmount_fs "$TMP/r2m"
'

test_expect_success 'a rebuild from the media at round 3 holds round 3 and verifies' '
	"$PITR" restore "$D" "$TMP/fb" --from-backup --at "$(cat "$TMP/T3")" 2>/dev/null
	verify_ok "$TMP/fb"
	mount_fs "$TMP/fb" "$TMP/fbm"
	diff -r "$TMP/expect/3" "$TMP/fbm/db/c"
	unmount_fs "$TMP/fbm"
'

test_expect_success 'unmount' '
	unmount_fs "$M"
'

test_done
