#!/usr/bin/env bash
# An account in on-disk format 5 (as builds before format 6 made it: each
# delta a compact record that names its document), written by
# tests/unit/format1.c: a mount writes its deltas compact as before, every
# version reads, repair and compact keep format 5, and its backup media
# restore each version into a format-6 account. A format-6 account writes
# its deltas short, and its media (which carry them in the form that
# stands alone) verify and restore each version.
. "$(dirname "$0")/lib.sh"

GEN=$TOP/build/tests/format1
if ! [ -x "$GEN" ]; then
	echo "1..0 # SKIP $GEN is not built (make build/tests/format1)"
	exit 0
fi
S=$TMP/f5 M=$TMP/mnt
read -r T1 T2 T3 T4 < <("$GEN" "$S" 5)
export T1 T2 T3 T4

# firsts STORE BYTE: how many of its log records begin with BYTE (hex):
# a0 a short delta, a1 a compact delta of a put
firsts() {
	mdb_dump -s log "$1" | awk -v b="$2" '/^HEADER=END/ { d = 1; next }
		d && /^ / { if (++n % 2 == 0 && substr($0, 2, 2) == b) c++ }
		END { print c + 0 }'
}
# ship STORE MEDIA: STORE's whole log on new media MEDIA, which verify
ship() {
	mkdir "$2"
	"$PITR" backup "$1" set "$2" >/dev/null
	"$PITR" backup "$1" flush >/dev/null
	"$PITR" verify "$2" >/dev/null
}
# big V: version V of a 2 KB document, one field apart from the others
big() {
	printf '{"v": %d, "pad": "%s"}\n' "$1" "$(head -c 2000 /dev/zero | tr '\0' x)"
}

test_expect_success 'a format-5 account' '
	[ -n "$T4" ]
	"$PITR" info "$S" | grep -q "^format: *5$"
	verify_ok "$S"
'

test_expect_success 'a mount writes its deltas compact, as format 5' '
	mount_fs "$S" "$M"
	for v in 1 2 3 4; do
		big $v >"$M/shop/orders/big.json"
		ts_of "$M/shop/orders/big.json" >"$TMP/t$v"
	done
	unmount_fs "$M"
	"$PITR" info "$S" | grep -q "^format: *5$"
	[ "$(firsts "$S" a0)" = 0 ]
	[ "$(firsts "$S" a1)" -ge 3 ]
	verify_ok "$S"
	for v in 1 2 3 4; do
		"$PITR" cat "$S" shop/orders/big.json --at "$(cat "$TMP/t$v")" >"$TMP/got"
		big $v | cmp - "$TMP/got"
	done
	[ "$("$PITR" log "$S" shop/orders/big.json --json | wc -l)" = 4 ]
'

test_expect_success 'repair and compact keep format 5 and its records' '
	"$PITR" repair "$S" "$TMP/fixed" >/dev/null
	"$PITR" compact "$S" "$TMP/packed" >/dev/null
	for c in fixed packed; do
		"$PITR" info "$TMP/$c" | grep -q "^format: *5$"
		[ "$(firsts "$TMP/$c" a0)" = 0 ]
		verify_ok "$TMP/$c"
		for v in 1 2 3 4; do
			"$PITR" cat "$TMP/$c" shop/orders/big.json \
				--at "$(cat "$TMP/t$v")" >"$TMP/got"
			big $v | cmp - "$TMP/got"
		done
	done
'

test_expect_success 'its media verify, and restore each version into format 6' '
	cp -a "$S" "$TMP/f5b"
	ship "$TMP/f5b" "$TMP/media"
	for v in 1 2 3 4; do
		"$PITR" restore "$TMP/media" "$TMP/r$v" --from-backup \
			--at "$(cat "$TMP/t$v")" >/dev/null
		"$PITR" info "$TMP/r$v" | grep -q "^format: *6$"
		verify_ok "$TMP/r$v"
		"$PITR" cat "$TMP/r$v" shop/orders/big.json >"$TMP/got"
		big $v | cmp - "$TMP/got"
	done
'

test_expect_success 'a format-6 account: its deltas short, shipped whole' '
	"$PITR" create "$TMP/six"
	mount_fs "$TMP/six" "$M"
	mkdir -p "$M/db/ct"
	for v in 1 2 3 4; do
		big $v >"$M/db/ct/big.json"
		ts_of "$M/db/ct/big.json" >"$TMP/s$v"
	done
	unmount_fs "$M"
	[ "$(firsts "$TMP/six" a0)" -ge 3 ]
	[ "$(firsts "$TMP/six" a1)" = 0 ]
	verify_ok "$TMP/six"
	"$PITR" log "$TMP/six" db/ct/big.json --json | jq -r .etag >"$TMP/e"
	[ "$(sort -u "$TMP/e" | wc -l)" = 4 ]
	ship "$TMP/six" "$TMP/media6"
	for v in 1 2 3 4; do
		"$PITR" restore "$TMP/media6" "$TMP/q$v" --from-backup \
			--at "$(cat "$TMP/s$v")" >/dev/null
		"$PITR" cat "$TMP/q$v" db/ct/big.json >"$TMP/got"
		big $v | cmp - "$TMP/got"
		"$PITR" log "$TMP/q$v" db/ct/big.json --json | jq -r .etag |
			tail -1 >"$TMP/qe"
		[ "$(cat "$TMP/qe")" = "$(sed -n ${v}p "$TMP/e")" ]
	done
'

test_done
