#!/usr/bin/env bash
# An account in on-disk format 1 (no marks of when a document last left a
# container), written by tests/unit/format1.c: the tools and a mount read
# every instant of it as written, the daemon writes it as format 1, and
# repair and compact keep its format.
. "$(dirname "$0")/lib.sh"

GEN=$TOP/build/tests/format1
if ! [ -x "$GEN" ]; then
	echo "1..0 # SKIP $GEN is not built (make build/tests/format1)"
	exit 0
fi
S=$TMP/f1 M=$TMP/mnt
read -r T1 T2 T3 T4 < <("$GEN" "$S")
export T1 T2 T3 T4

# left_marks STORE: the live table's marks of when a document last left a
# container (format 2 writes them, format 1 never).
left_marks() {
	mdb_dump -s live -p "$1" | grep -cE '^ (\\[0-9a-f]{2}|[^\\]){8}\\02$' || true
}

# ids STORE DB/C AT: the document ids listed, one line.
ids() { "$PITR" ls "$1" "$2" --at "$3" --json | jq -r .id | paste -sd' '; }

test_expect_success 'a format-1 account' '
	[ -n "$T4" ]
	"$PITR" info "$S" | grep -q "^format: *1$"
	verify_ok "$S"
	[ "$(left_marks "$S")" = 0 ]
	# a format-2 account with a delete has one
	"$PITR" create "$TMP/f2"
	mount_fs "$TMP/f2" "$M"
	mkdir -p "$M/d/c"
	echo "{}" >"$M/d/c/x.json"
	rm "$M/d/c/x.json"
	unmount_fs "$M"
	[ "$(left_marks "$TMP/f2")" = 1 ]
'

test_expect_success 'pitr ls and cat at each instant' '
	[ "$(ids "$S" shop/orders "$T1")" = "o1 o2 o3" ]
	[ "$(ids "$S" shop/orders "$T2")" = "o1 o3" ]
	[ "$(ids "$S" shop/users "$T1")" = "u1" ]
	[ "$(ids "$S" shop/users "$T2")" = "u9" ]
	[ "$(ids "$S" shop/people "$T3")" = "u9" ]
	[ "$(ids "$S" crm/leads "$T3")" = "l1" ]
	test_must_fail "$PITR" ls "$S" crm --at "$T4" 2>/dev/null
	[ "$("$PITR" cat "$S" shop/orders/o1.json --at "$T1")" = "{\"n\": 1}" ]
	[ "$("$PITR" cat "$S" shop/orders/o1.json)" = "{\"n\": 1, \"v\": 2}" ]
	[ "$("$PITR" cat "$S" shop/orders/o2.json --at "$T1")" = "{\"n\": 2}" ]
	"$PITR" ls "$S" --at "$T3" --json | jq -r .name | paste -sd" " >"$TMP/dbs"
	[ "$(cat "$TMP/dbs")" = "crm shop" ]
'

test_expect_success 'pitr events, log, diff' '
	"$PITR" events "$S" --json >"$TMP/ev"
	grep -q "\"event\":\"delete-database\",\"database\":\"crm\"" "$TMP/ev"
	[ "$("$PITR" log "$S" shop/orders/o2.json --json | wc -l)" = 2 ]
	"$PITR" diff "$S" "$T1" "$T2" >"$TMP/diff"
	grep -q "o2" "$TMP/diff"
'

test_expect_success 'a mount reads the live tree and views at each instant' '
	mount_fs "$S" "$M"
	[ "$(ls "$M/shop/orders" | paste -sd" ")" = "o1.json o3.json" ]
	[ "$(ls "$M/@$T1/shop/orders" | paste -sd" ")" = "o1.json o2.json o3.json" ]
	[ "$(cat "$M/@$T1/shop/orders/o2.json")" = "{\"n\": 2}" ]
	[ "$(ls "$M/@$T2/shop/users")" = "u9.json" ]
	[ "$(ls "$M/shop")" = "$(printf "orders\npeople")" ]
	[ "$(cat "$M/@$T3/crm/leads/l1.json")" = "{\"l\": 1}" ]
	[ ! -e "$M/crm" ]
'

test_expect_success 'writes through the mount keep format 1 and every view' '
	echo "{\"n\": 4}" >"$M/shop/orders/o4.json"
	rm "$M/shop/orders/o3.json"
	[ "$(ls "$M/shop/orders" | paste -sd" ")" = "o1.json o4.json" ]
	T6=$(ts_of "$M/shop/orders/o4.json")
	[ "$(ls "$M/@$T6/shop/orders" | paste -sd" ")" = "o1.json o3.json o4.json" ]
	[ "$(ls "$M/@$T2/shop/orders" | paste -sd" ")" = "o1.json o3.json" ]
	unmount_fs "$M"
	"$PITR" info "$S" | grep -q "^format: *1$"
	verify_ok "$S"
	[ "$(left_marks "$S")" = 0 ]
	[ "$(ids "$S" shop/orders "$T2")" = "o1 o3" ]
	[ "$(ids "$S" shop/orders -0s)" = "o1 o4" ]
'

test_expect_success 'repair keeps format 1 and every instant' '
	"$PITR" repair "$S" "$TMP/fixed" >/dev/null
	"$PITR" info "$TMP/fixed" | grep -q "^format: *1$"
	verify_ok "$TMP/fixed"
	for at in "$T1" "$T2" "$T3" "$T4"; do
		[ "$(ids "$S" shop/orders "$at")" = \
			"$(ids "$TMP/fixed" shop/orders "$at")" ]
	done
	[ "$(ids "$TMP/fixed" shop/orders "$T1")" = "o1 o2 o3" ]
'

test_expect_success 'backup media of format 1 say version 1 and restore' '
	mkdir "$TMP/media1"
	cp -a "$S" "$TMP/f1b"
	"$PITR" backup "$TMP/f1b" set "$TMP/media1" >/dev/null
	"$PITR" backup "$TMP/f1b" flush >/dev/null
	[ "$(head -1 "$TMP/media1/ACCOUNT")" = "pitr-backup 1" ]
	"$PITR" verify "$TMP/media1" | grep -q ", ok; complete up to"
	"$PITR" restore "$TMP/media1" "$TMP/from1" --from-backup --at "$T4" >/dev/null
	[ "$("$PITR" ls "$TMP/from1" shop/orders --json | jq -r .id | paste -sd" ")" = \
		"$(ids "$S" shop/orders "$T4")" ]
'

test_expect_success 'compact keeps format 1, its tables and every instant' '
	"$PITR" compact "$S" "$TMP/packed" >/dev/null
	"$PITR" info "$TMP/packed" | grep -q "^format: *1$"
	verify_ok "$TMP/packed"
	for at in "$T1" "$T2" "$T3" "$T4"; do
		[ "$(ids "$S" shop/orders "$at")" = \
			"$(ids "$TMP/packed" shop/orders "$at")" ]
	done
	# every table, every entry, byte for byte
	diff <(mdb_dump -a -p "$S") <(mdb_dump -a -p "$TMP/packed")
	# as a build before format 3 made it: no dicts table
	mkdir "$TMP/nodicts"
	for t in meta log versions live names incs; do
		mdb_dump -s "$t" "$S" | mdb_load -s "$t" "$TMP/nodicts" 2>/dev/null
	done
	: >"$TMP/nodicts/daemon.lock"
	"$PITR" compact "$TMP/nodicts" "$TMP/packed2" >/dev/null
	verify_ok "$TMP/packed2"
	[ "$(mdb_stat -a "$TMP/packed2" | sed -n "s/^Status of //p" | paste -sd" ")" = \
		"Main DB incs live log meta names versions" ]
	for t in meta log versions live names incs; do
		diff <(mdb_dump -p -s "$t" "$S") <(mdb_dump -p -s "$t" "$TMP/packed2")
	done
'

test_done
