#!/usr/bin/env bash
# pitr compact STORE TARGET: the copy holds every entry of every table of
# the source byte for byte (mdb_dump agrees), reads every instant as the
# source does, verifies, mounts and takes writes, and its pages take fewer
# bytes when documents of several containers were written in turns. It is
# made while the source is mounted and written. Wrong arguments, a target
# that exists, a full disk and a damaged source: exit 1, nothing made.
. "$(dirname "$0")/lib.sh"

DAMAGE=$TOP/build/tests/damage
S=$TMP/orig M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
# Three containers written in turns (their pages of versions and live fill
# by halves), enough for a container dictionary, then edits and deletes.
mkdir -p "$M/shop/orders" "$M/shop/users" "$M/crm/leads" "$M/crm/gone"
python3 - "$M" <<'EOF'
import json, sys
m = sys.argv[1]
for i in range(150):
    for c in ("shop/orders", "shop/users", "crm/leads"):
        d = {"id": i, "kind": c, "status": "new", "note": "x" * (i % 50),
             "tags": ["a", "b", str(i % 7)], "updated_at": "2026-12-06"}
        with open("%s/%s/d%04d.json" % (m, c, i), "w") as f:
            json.dump(d, f)
EOF
T1=$(ts_of "$M/crm/leads/d0149.json")
for i in 0001 0002 0003; do
	sed -i 's/"new"/"paid"/' "$M/shop/orders/d$i.json"
done
rm "$M/shop/users/d0005.json"
echo '{"g": 1}' >"$M/crm/gone/g.json"
T2=$(ts_of "$M/crm/gone/g.json")
rm "$M/crm/gone/g.json"
rmdir "$M/crm/gone"
mv "$M/crm" "$M/sales"
echo '{"y": 1}' >"$M/sales/leads/y.json"
T3=$(ts_of "$M/sales/leads/y.json")
export T1 T2 T3

# dump STORE: every listing at T1, T2 and T3 (each document with its etag,
# the hash of its bytes), and the bytes of the documents edited.
dump() {
	local at db ct
	for at in "$T1" "$T2" "$T3"; do
		echo "@ $at"
		"$PITR" ls "$1" --at "$at" --json
		for db in $("$PITR" ls "$1" --at "$at" --json | jq -r .name); do
			for ct in $("$PITR" ls "$1" "$db" --at "$at" --json |
				jq -r .name); do
				"$PITR" ls "$1" "$db/$ct" --at "$at" --json
			done
		done
		for id in d0001 d0002 d0003 d0004; do
			"$PITR" cat "$1" "shop/orders/$id.json" --at "$at"
		done
	done
}

test_expect_success 'compacted while mounted: every entry, fewer pages' '
	"$PITR" compact "$S" "$TMP/c" >"$TMP/out"
	read -r copied after before < <(sed -n \
		"s/.*: \([0-9]*\) entries copied.*: \([0-9]*\) bytes of pages, were \([0-9]*\)$/\1 \2 \3/p" \
		"$TMP/out")
	[ "$copied" -gt 900 ]
	# versions and live, written in turns, shrink
	[ "$after" -lt "$before" ] || { cat "$TMP/out" >&2; false; }
	verify_ok "$TMP/c"
	[ -z "$(ls "$TMP" | grep "\.compacting-\|\.creating-")" ]
'

test_expect_success 'the copy reads every instant as the source' '
	unmount_fs "$M"
	diff <(mdb_dump -a -p "$S") <(mdb_dump -a -p "$TMP/c")
	dump "$S" >"$TMP/orig.dump"
	dump "$TMP/c" >"$TMP/c.dump"
	diff "$TMP/orig.dump" "$TMP/c.dump"
	grep -q "\"status\": \"paid\"" "$TMP/c.dump"
	# the same but for the latest instant (the daemon wrote its clock
	# on unmount, after the copy) and the size
	"$PITR" info "$S" | grep -v "^latest\|^size" >"$TMP/i1"
	"$PITR" info "$TMP/c" | grep -v "^latest\|^size" >"$TMP/i2"
	[ "$(wc -l <"$TMP/i1")" -ge 6 ]
	diff "$TMP/i1" "$TMP/i2"
	diff <("$PITR" log "$S" shop/orders/d0001.json) \
		<("$PITR" log "$TMP/c" shop/orders/d0001.json)
'

test_expect_success 'the copy mounts, reads and takes writes' '
	mount_fs "$TMP/c" "$M"
	cmp "$M/shop/orders/d0002.json" <("$PITR" cat "$S" shop/orders/d0002.json)
	sed -i "s/\"paid\"/\"shipped\"/" "$M/shop/orders/d0002.json"
	grep -q shipped "$M/shop/orders/d0002.json"
	grep -q paid "$M/@$T2/shop/orders/d0002.json"
	T4=$(ts_of "$M/shop/orders/d0002.json")
	unmount_fs "$M"
	"$PITR" cat "$TMP/c" shop/orders/d0002.json --at "$T4" | grep -q shipped
	dump "$TMP/c" >"$TMP/c2.dump"
	diff "$TMP/orig.dump" "$TMP/c2.dump"
	verify_ok "$TMP/c"
'

test_expect_success 'compacted while written: the instant it began, whole' '
	mount_fs "$S" "$M"
	(for i in $(seq 300); do echo "{\"w\": $i}" >"$M/shop/orders/w.json"; done) &
	wpid=$!
	wait_for 20 test -e "$M/shop/orders/w.json"
	# named by its mount point, as every command takes it
	"$PITR" compact "$M" "$TMP/cw" >/dev/null
	wait "$wpid"
	unmount_fs "$M"
	verify_ok "$TMP/cw"
	at=$("$PITR" info "$TMP/cw" | sed -n "s/^last write: *//p")
	n=$("$PITR" cat "$TMP/cw" shop/orders/w.json | jq .w)
	[ "$n" -ge 1 ] && [ "$n" -le 300 ]
	cmp <("$PITR" cat "$TMP/cw" shop/orders/w.json) \
		<("$PITR" cat "$S" shop/orders/w.json --at "$at")
	[ "$("$PITR" log "$TMP/cw" shop/orders/w.json | grep -c "create\|replace")" = "$n" ]
'

test_expect_success 'wrong arguments, a target that exists: exit 1, nothing made' '
	test_must_fail "$PITR" compact "$S" "$TMP/c" 2>"$TMP/e"
	grep -q "it exists" "$TMP/e"
	test_must_fail "$PITR" compact "$S" "$TMP/no/dir" 2>"$TMP/e"
	[ ! -e "$TMP/no" ]
	test_must_fail "$PITR" compact "$TMP/nothing" "$TMP/x" 2>"$TMP/e"
	grep -q "cannot compact" "$TMP/e"
	[ ! -e "$TMP/x" ]
	rc=0; "$PITR" compact "$S" 2>/dev/null || rc=$?
	[ "$rc" = 2 ]
	rc=0; "$PITR" compact "$S" "" 2>/dev/null || rc=$?
	[ "$rc" = 2 ]
	"$PITR" compact --help | grep -q "^usage: pitr compact STORE TARGET"
	[ -z "$(ls "$TMP" | grep "\.compacting-\|\.creating-")" ]
'

test_expect_success 'a full disk: ENOSPC named, nothing left, the source whole' '
	mkdir "$TMP/small"
	mount -t tmpfs -o size=256k tmpfs "$TMP/small"
	# 64 KB left: less than the copy needs
	dd if=/dev/zero of="$TMP/small/filler" bs=64k count=3 status=none 2>/dev/null || true
	sum=$(md5sum <"$S/data.mdb")
	test_must_fail "$PITR" compact "$S" "$TMP/small/c" 2>"$TMP/e"
	grep -q "cannot compact.*No space left on device" "$TMP/e" ||
		{ cat "$TMP/e" >&2; false; }
	[ "$(ls -A "$TMP/small")" = filler ]
	[ "$(md5sum <"$S/data.mdb")" = "$sum" ]
	verify_ok "$S"
	umount "$TMP/small"
'

# A damaged index or log record: the copy fails its verification, the
# damage is named, and nothing is left beside the source.
W=$TMP/work
for table in versions live log; do
	test_expect_success "damaged $table: refused, nothing built" '
		[ -x "$DAMAGE" ] || { echo "# $DAMAGE not built" >&2; false; }
		rm -rf "$W"
		mkdir -p "$W"
		cp -a "$S" "$W/s"
		"$DAMAGE" "$W/s" '"$table"' flip 1
		test_must_fail "$PITR" compact "$W/s" "$W/c" >"$W/out" 2>"$W/e"
		grep -q "^damaged: " "$W/out" || { cat "$W/out" "$W/e" >&2; false; }
		grep -q "cannot compact" "$W/e"
		[ -z "$(ls "$W" | grep -v "^s$\|^out$\|^e$")" ]
	'
done

test_done
