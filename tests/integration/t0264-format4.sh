#!/usr/bin/env bash
# An account in on-disk format 4 (as builds before format 5 made it: a
# plain versions table), written by tests/unit/format1.c: this build
# reads every instant of it, a mount writes it as format 4, and repair,
# compact give the same instants; a restore from its backup media is a
# new account of today's format (6), with its versions as items.
. "$(dirname "$0")/lib.sh"

GEN=$TOP/build/tests/format1
if ! [ -x "$GEN" ]; then
	echo "1..0 # SKIP $GEN is not built (make build/tests/format1)"
	exit 0
fi
S=$TMP/f4 M=$TMP/mnt
read -r T1 T2 T3 T4 < <("$GEN" "$S" 4)
export T1 T2 T3 T4

# items STORE: 1 when its versions table keeps items (MDB_DUPSORT)
items() { mdb_dump -s versions "$1" | grep -c "^duplicates=1$" || true; }
ids() { "$PITR" ls "$1" "$2" --at "$3" --json | jq -r .id | paste -sd' '; }
dump() { dump_instants "$1" "$T1" "$T2" "$T3" "$T4"; }

test_expect_success 'a format-4 account, its versions table plain' '
	[ -n "$T4" ]
	"$PITR" info "$S" | grep -q "^format: *4$"
	[ "$(items "$S")" = 0 ]
	verify_ok "$S"
	"$PITR" create "$TMP/new"
	"$PITR" info "$TMP/new" | grep -q "^format: *6$"
	[ "$(items "$TMP/new")" = 1 ]
'

test_expect_success 'every instant reads as written' '
	[ "$(ids "$S" shop/orders "$T1")" = "o1 o2 o3" ]
	[ "$(ids "$S" shop/orders "$T2")" = "o1 o3" ]
	[ "$(ids "$S" shop/people "$T3")" = "u9" ]
	[ "$("$PITR" cat "$S" shop/orders/o1.json --at "$T1")" = "{\"n\": 1}" ]
	[ "$("$PITR" cat "$S" shop/orders/o2.json --at "$T1")" = "{\"n\": 2}" ]
	test_must_fail "$PITR" cat "$S" shop/orders/o2.json --at "$T2" 2>/dev/null
	[ "$("$PITR" log "$S" shop/orders/o2.json --json | wc -l)" = 2 ]
	dump "$S" >"$TMP/orig.dump"
'

test_expect_success 'writes through a mount keep format 4 and every view' '
	mount_fs "$S" "$M"
	[ "$(cat "$M/@$T1/shop/orders/o2.json")" = "{\"n\": 2}" ]
	for v in 1 2 3; do
		echo "{\"n\": 4, \"v\": $v}" >"$M/shop/orders/o4.json"
	done
	T5=$(ts_of "$M/shop/orders/o4.json")
	rm "$M/shop/orders/o3.json"
	[ "$(ls "$M/@$T5/shop/orders" | paste -sd" ")" = "o1.json o3.json o4.json" ]
	[ "$(ls "$M/shop/orders" | paste -sd" ")" = "o1.json o4.json" ]
	unmount_fs "$M"
	echo "$T5" >"$TMP/t5"
	"$PITR" info "$S" | grep -q "^format: *4$"
	[ "$(items "$S")" = 0 ]
	verify_ok "$S"
	[ "$("$PITR" log "$S" shop/orders/o4.json --json | wc -l)" = 3 ]
	[ "$("$PITR" cat "$S" shop/orders/o4.json --at "$T5")" = "{\"n\": 4, \"v\": 3}" ]
	dump "$S" >"$TMP/orig.dump"
'

test_expect_success 'repair and compact keep format 4 and every instant' '
	"$PITR" repair "$S" "$TMP/fixed" >/dev/null
	"$PITR" compact "$S" "$TMP/packed" >/dev/null
	for c in fixed packed; do
		"$PITR" info "$TMP/$c" | grep -q "^format: *4$"
		[ "$(items "$TMP/$c")" = 0 ]
		verify_ok "$TMP/$c"
		dump "$TMP/$c" >"$TMP/$c.dump"
		diff "$TMP/orig.dump" "$TMP/$c.dump"
	done
	diff <(mdb_dump -a -p "$S") <(mdb_dump -a -p "$TMP/packed")
'

test_expect_success 'its backup media restore into format-6 accounts' '
	mkdir "$TMP/media"
	cp -a "$S" "$TMP/f4b"
	"$PITR" backup "$TMP/f4b" set "$TMP/media" >/dev/null
	"$PITR" backup "$TMP/f4b" flush >/dev/null
	[ "$(head -1 "$TMP/media/ACCOUNT")" = "pitr-backup 2" ]
	T5=$(cat "$TMP/t5")
	for at in "$T2" "$T5" -0s; do
		"$PITR" restore "$TMP/media" "$TMP/r$at" --from-backup \
			--at "$at" >/dev/null
		"$PITR" info "$TMP/r$at" | grep -q "^format: *6$"
		[ "$(items "$TMP/r$at")" = 1 ]
		verify_ok "$TMP/r$at"
	done
	[ "$(ids "$TMP/r$T2" shop/orders -0s)" = "o1 o3" ]
	[ "$(ids "$TMP/r$T5" shop/orders -0s)" = "o1 o3 o4" ]
	[ "$(ids "$TMP/r-0s" shop/orders -0s)" = "o1 o4" ]
	[ "$("$PITR" cat "$TMP/r-0s" shop/orders/o4.json)" = \
		"{\"n\": 4, \"v\": 3}" ]
'

test_done
