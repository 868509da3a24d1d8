#!/usr/bin/env bash
# pitr repair STORE TARGET: stores whose indexes (versions, live, names,
# incs) were damaged by the damage tool, with the log intact, are rebuilt
# from the log into a new account that verifies and reads, at several
# instants, exactly as the undamaged original (every listing with its
# times and etags, every document's bytes). A damaged log record is named
# and nothing is built. REPAIR_SEEDS=N for more cases per kind (1).
. "$(dirname "$0")/lib.sh"

SEEDS=${REPAIR_SEEDS:-1}
DAMAGE=$TOP/build/tests/damage
if ! [ -x "$DAMAGE" ]; then
	echo "1..0 # SKIP $DAMAGE is not built (make build/tests/damage)"
	exit 0
fi

# The original: two databases, versions, deletes, a renamed and a deleted
# container, a renamed database.
S=$TMP/orig M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir -p "$M/shop/orders" "$M/shop/users" "$M/crm/leads" "$M/crm/gone" \
	"$M/crm/old"
for i in 1 2 3 4 5; do
	echo "{\"n\": $i}" >"$M/shop/orders/o$i.json"
	echo "{\"u\": $i}" >"$M/shop/users/u$i.json"
	echo "{\"l\": $i}" >"$M/crm/leads/l$i.json"
done
T1=$(ts_of "$M/crm/leads/l5.json")
for i in 1 2; do echo "{\"n\": $i, \"v\": 2}" >"$M/shop/orders/o$i.json"; done
rm "$M/shop/orders/o4.json"
echo '{"x": 1}' >"$M/crm/old/x.json"
mv "$M/crm/old" "$M/crm/new"
echo '{"g": 1}' >"$M/crm/gone/g.json"
T2=$(ts_of "$M/crm/gone/g.json")
rm "$M/crm/gone/g.json"
rmdir "$M/crm/gone"
mv "$M/crm" "$M/sales"
echo '{"y": 1}' >"$M/sales/leads/y.json"
T3=$(ts_of "$M/sales/leads/y.json")
unmount_fs "$M"
export T1 T2 T3

dump() { dump_instants "$1" "$T1" "$T2" "$T3"; }
dump "$S" >"$TMP/orig.dump"

test_expect_success 'the original dumps every instant' '
	grep -q "\"name\":\"gone\"" "$TMP/orig.dump"
	grep -q "\"name\":\"sales\"" "$TMP/orig.dump"
	grep -q "\"v\": 2" "$TMP/orig.dump"
	[ "$(grep -c "^@ " "$TMP/orig.dump")" = 3 ]
'

test_expect_success 'an undamaged store repairs into an equal one' '
	"$PITR" repair "$S" "$TMP/same" >"$TMP/out"
	grep -q "records replayed into" "$TMP/out"
	verify_ok "$TMP/same"
	dump "$TMP/same" >"$TMP/same.dump"
	diff "$TMP/orig.dump" "$TMP/same.dump"
	"$PITR" info "$TMP/same" | grep -q "^account: *orig$"
'

test_expect_success 'a target that exists, or no parent: exit 1, nothing made' '
	test_must_fail "$PITR" repair "$S" "$TMP/same" 2>"$TMP/e"
	grep -q "it exists" "$TMP/e"
	test_must_fail "$PITR" repair "$S" "$TMP/no/dir" 2>"$TMP/e"
	[ ! -e "$TMP/no" ]
	test_must_fail "$PITR" repair "$TMP/nothing" "$TMP/x" 2>"$TMP/e"
	[ ! -e "$TMP/x" ]
	test_must_fail "$PITR" repair "$S"
'

# One damaged copy per table, kind and seed: verify names the damage,
# repair rebuilds an equal store.
W=$TMP/work
for table in versions live names incs; do
	test_expect_success "damaged $table: repaired equal to the original" '
		n=0 found=0
		for kind in trunc extend flip empty keyflip keytrunc bigname \
			hugelen; do
			for seed in $(seq $SEEDS); do
				rm -rf "$W"
				mkdir -p "$W"
				cp -a "$S" "$W/s"
				rc=0
				"$DAMAGE" "$W/s" '"$table"' "$kind" "$seed" || rc=$?
				[ "$rc" = 2 ] && continue
				[ "$rc" = 0 ]
				"$PITR" verify "$W/s" >/dev/null 2>&1 ||
					found=$((found + 1))
				if ! "$PITR" repair "$W/s" "$W/r" >"$W/out" 2>&1; then
					echo "'"$table"' $kind $seed: repair failed" >&2
					cat "$W/out" >&2
					false
				fi
				verify_ok "$W/r"
				dump "$W/r" >"$W/dump"
				if ! diff "$TMP/orig.dump" "$W/dump" >&2; then
					echo "'"$table"' $kind $seed: differs" >&2
					false
				fi
				[ -z "$(ls "$W" | grep "\.repairing-\|\.creating-")" ]
				n=$((n + 1))
			done
		done
		echo "'"$table"': $n damaged stores repaired equal," \
			"$found of them found damaged by verify" >>"$TMP/stats"
		# versions keeps fixed-size items (format 5): no value of
		# another length, so trunc, extend and empty do not apply
		want=8
		[ "'"$table"'" = versions ] && want=5
		[ "$n" -ge "$want" ] && [ "$found" = "$n" ]
	'
done

test_expect_success 'a damaged log record: named, nothing built' '
	rm -rf "$W"
	mkdir -p "$W"
	cp -a "$S" "$W/s"
	"$DAMAGE" "$W/s" log flip 1
	test_must_fail "$PITR" repair "$W/s" "$W/r" >"$TMP/out" 2>"$TMP/e"
	grep -q "^damaged: log .*fails its checksum" "$TMP/out"
	grep -q "cannot repair" "$TMP/e"
	[ -z "$(ls "$W" | grep -v "^s$")" ]
'

sed 's/^/# /' "$TMP/stats" 2>/dev/null
test_done
