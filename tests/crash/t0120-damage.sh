#!/usr/bin/env bash
# Damaged stores: one record of one table changed through LMDB itself
# (cut short, grown, a bit flipped, emptied, its key flipped or cut, an
# oversized name, huge length fields), then every pitr command and a
# mount (ls and cat of the live tree and of a view, and a few changes)
# over it. Each must end by itself, with an error or with data: never a
# signal, a sanitizer report or a hang. DAMAGE_SEEDS=N for the long form
# (default 7, over 300 damaged stores; 3 against sanitizer builds, which
# are slower); DAMAGE_TABLES and DAMAGE_KINDS to pick.
. "$(dirname "$0")/../integration/lib.sh"

SEEDS=${DAMAGE_SEEDS:-$([ -n "${PITR_SANITIZED:-}" ] && echo 3 || echo 7)}
DAMAGE=$TOP/build/tests/damage
TABLES=${DAMAGE_TABLES:-meta log versions live names incs}
KINDS=${DAMAGE_KINDS:-trunc extend flip empty keyflip keytrunc bigname hugelen}
if ! [ -x "$DAMAGE" ]; then
	echo "1..0 # SKIP $DAMAGE is not built (make build/tests/damage)"
	exit 0
fi

# The store every damaged copy starts from: two databases, versions (some
# stored as deltas), deletes, a renamed and a deleted container, and backup
# media.
S=$TMP/base M=$TMP/mnt D=$TMP/media
"$PITR" create "$S"
mkdir "$D"
mount_fs "$S" "$M" --backup-dir "$D"
mkdir -p "$M/shop/orders" "$M/shop/users" "$M/crm/leads" "$M/crm/gone" \
	"$M/crm/old" "$M/shop/empty"
for i in 1 2 3 4 5 6; do
	echo "{\"n\": $i, \"s\": \"$(head -c 300 /dev/zero | tr '\0' x)\"}" \
		>"$M/shop/orders/o$i.json"
	echo "{\"u\": $i}" >"$M/shop/users/u$i.json"
	echo "{\"l\": $i}" >"$M/crm/leads/l$i.json"
done
T1=$(ts_of "$M/shop/orders/o6.json")
for i in 1 2 3; do echo "{\"n\": $i, \"v\": 2}" >"$M/shop/orders/o$i.json"; done
# small edits of o5 and o6: versions stored as deltas on a keyframe
for v in 2 3 4; do
	for i in 5 6; do
		echo "{\"n\": $i, \"v\": $v, \"s\": \"$(head -c 300 /dev/zero | tr '\0' y)\"}" \
			>"$M/shop/orders/o$i.json"
	done
done
rm "$M/shop/orders/o4.json"
echo '{"x": 1}' >"$M/crm/old/x.json"
mv "$M/crm/old" "$M/crm/new"
echo '{"g": 1}' >"$M/crm/gone/g.json"
rm "$M/crm/gone/g.json"
rmdir "$M/crm/gone"
T2=$(ts_of "$M/crm/new/x.json")
sleep 1
"$PITR" backup "$S" flush >/dev/null
unmount_fs "$M"
cp -a "$D" "$TMP/media.orig"
T0=$("$PITR" info "$S" | sed -n 's/^created: *//p')
export T0 T1 T2

W=$TMP/work
FAILS=$TMP/fails
: >"$FAILS"

# run NAME CMD...: CMD must end by itself, not by a signal, and report no
# sanitizer error.
run() {
	local name=$1 rc=0
	shift
	timeout -k 5 30 "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
		echo "$CASE: $name: did not end" >>"$FAILS"
	elif [ "$rc" -gt 128 ]; then
		echo "$CASE: $name: killed by signal $((rc - 128))" >>"$FAILS"
	elif grep -q "Sanitizer\|runtime error" "$TMP/err"; then
		echo "$CASE: $name: sanitizer report" >>"$FAILS"
		head -20 "$TMP/err" >>"$FAILS"
	fi
	return 0
}

# Every command and the daemon over the damaged store $W/s.
exercise() {
	local s=$W/s m=$W/mnt st
	run info "$PITR" info "$s"
	run events "$PITR" events "$s"
	run events-json "$PITR" events "$s" --json
	run log "$PITR" log "$s" shop/orders/o1.json
	run log-gone "$PITR" log "$s" shop/orders/o4.json
	run diff "$PITR" diff "$s" "$T0" "$T1"
	run diff-2 "$PITR" diff "$s" "$T1" "$T2" shop
	run restore "$PITR" restore "$s" "$W/r" --at "$T1"
	run restore-db "$PITR" restore "$s" "$W/r2" --at "$T1" --database crm
	run verify "$PITR" verify "$s"
	run undo-dry "$PITR" undo "$s" shop/orders --at "$T1" --dry-run --json
	run diff-json "$PITR" diff "$s" "$T0" "$T2" --json
	run status "$PITR" backup "$s" status
	run prune "$PITR" prune "$s"
	run undo "$PITR" undo "$s" shop/orders --at "$T1" --include-later --delete-created
	: >"$LOG"
	if mount_fs "$s" "$m" 2>/dev/null; then
		echo x >>"$TMP/mounted"
		run ls timeout 20 ls -lR "$m"
		run cat sh -c "find '$m' -type f -exec cat {} + >/dev/null"
		run ls-at ls -lR "$m/@$T1"
		run cat-at sh -c "find '$m/@$T1' -type f -exec cat {} + >/dev/null"
		run write sh -c "echo '{\"w\": 1}' >'$m/shop/users/u9.json'"
		run rm rm -f "$m/shop/users/u1.json"
		run mkdir mkdir "$m/shop/added"
		run mv-ct mv "$m/crm/new" "$m/crm/renamed"
		run mv-db mv "$m/crm" "$m/crm2"
		run rmdir rmdir "$m/shop/empty"
		# every document, container and database deleted
		run rm-all rm -rf "$m/shop" "$m/crm2" "$m/crm"
		run ls-after ls -lR "$m" "$m/@$T1"
		if ! timeout 20 fusermount3 -u "$m"; then
			echo "$CASE: unmount failed" >>"$FAILS"
			crash_fs "$m"
		fi
	fi
	st=$(daemon_status "$m")
	if [ "$st" = timeout ] || [ "$st" -gt 128 ]; then
		echo "$CASE: daemon: status $st" >>"$FAILS"
	fi
	if grep -q "Sanitizer\|runtime error" "$LOG"; then
		echo "$CASE: daemon: sanitizer report" >>"$FAILS"
		grep -A20 "Sanitizer\|runtime error" "$LOG" | head -30 >>"$FAILS"
	fi
}

for table in $TABLES; do
	test_expect_success "damaged $table records: no crash, no hang" '
		n=0
		: >"$FAILS"
		for kind in $KINDS; do
			for seed in $(seq $SEEDS); do
				rm -rf "$W" "$D"
				mkdir -p "$W"
				cp -a "$S" "$W/s"
				cp -a "$TMP/media.orig" "$D" 2>/dev/null || true
				CASE="$table $kind $seed"
				rc=0
				"$DAMAGE" "$W/s" "$table" "$kind" "$seed" || rc=$?
				[ "$rc" = 2 ] && continue
				[ "$rc" = 0 ]
				exercise
				n=$((n + 1))
			done
		done
		echo "$n" >>"$TMP/count"
		if [ -s "$FAILS" ]; then cat "$FAILS" >&2; false; fi
	'
done

test_expect_success "every table damaged at every seed" '
	total=0
	while read -r c; do total=$((total + c)); done <"$TMP/count"
	echo "# $total damaged stores" >&2
	[ "$total" -ge $((SEEDS * 40 * $(echo $TABLES | wc -w) / 6)) ]
'

echo "# $(cat "$TMP/count" 2>/dev/null | paste -sd+) damaged stores," \
	"$(cat "$TMP/mounted" 2>/dev/null | wc -l) mounts served"
test_done
