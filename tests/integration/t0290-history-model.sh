#!/usr/bin/env bash
# Random history against a model (history_model.py): thousands of changes
# through the mount (documents created, edited, rewritten, replaced through
# scratch files, renamed, deleted, refused; containers made, renamed and
# dropped), then every recorded instant's view must be the model's account
# at that instant, byte for byte: on the store as written, on a compacted
# copy, in restores, and after pruning half of it; and a container undone
# to an instant is that instant's again. MODEL_OPS and MODEL_SEED
# change the run (defaults 2000 and 1).
. "$(dirname "$0")/lib.sh"
need mdb_stat lmdb-utils

S=$TMP/store M=$TMP/mnt
MODEL="python3 $TOP/tests/integration/history_model.py"
REC=$TMP/model.json
OPS=${MODEL_OPS:-2000} SEED=${MODEL_SEED:-1}
export S M MODEL REC OPS SEED
echo "# seed $SEED, $OPS changes"

"$PITR" create "$S" >/dev/null
mount_fs "$S" "$M"

# marks: how many instants were recorded
marks() { jq '.marks | length' "$REC"; }
export -f marks

test_expect_success 'random changes through the mount, each as the model expects' '
	$MODEL run "$M" "$REC" "$OPS" "$SEED" 3 >"$TMP/run.out"
	cat "$TMP/run.out"
	[ "$(marks)" -ge 10 ]
'

test_expect_success 'every recorded instant: the view is the model' '
	$MODEL check "$M" "$REC"
'

test_expect_success 'pitr undo of a container to a middle instant: that instant is back' '
	read -r i ct <<<"$($MODEL pick-undo "$REC")"
	at=$(jq -r ".marks[$i].at" "$REC")
	"$PITR" undo "$S" "$ct" --at "$at" --include-later --delete-created >"$TMP/undo.out"
	$MODEL undone "$M" "$REC" "$i" "$ct"
	unmount_fs "$M"
	verify_ok "$S"
	# containers grew past the size that gives them a dictionary
	[ "$(mdb_stat -s dicts "$S" | sed -n "s/.*Entries: //p")" -ge 1 ]
'

test_expect_success 'a compacted copy: every instant the same' '
	"$PITR" compact "$S" "$TMP/compact" >/dev/null
	verify_ok "$TMP/compact"
	mount_fs "$TMP/compact" "$TMP/cmnt"
	$MODEL check "$TMP/cmnt" "$REC"
	unmount_fs "$TMP/cmnt"
'

test_expect_success 'restores of the first, a middle and the last instant are the model' '
	n=$(marks)
	for i in 0 $((n / 2)) $((n - 1)); do
		at=$(jq -r ".marks[$i].at" "$REC")
		"$PITR" restore "$S" "$TMP/r$i" --at "$at" >/dev/null
		verify_ok "$TMP/r$i"
		mount_fs "$TMP/r$i" "$TMP/rmnt$i"
		$MODEL live "$TMP/rmnt$i" "$REC" "$i"
		unmount_fs "$TMP/rmnt$i"
	done
'

# Pruning: the retention set (in whole seconds) so that the window starts
# in the quiet time halfway through the run, wherever it lands; then set
# back, so that nothing more is pruned. Instants before the window's start
# must be gone, the others as they were.
test_expect_success 'pruned halfway: the instants kept are the model, the others gone' '
	q0=$(jq -r ".quiet[0]" "$REC")
	now=$(date +%s%N)
	"$PITR" policy "$S" --retention "$(((now - q0) / 1000000000))s" >/dev/null
	"$PITR" prune "$S" >"$TMP/prune.out"
	"$PITR" policy "$S" --retention 30d >/dev/null
	verify_ok "$S"
	from=$("$PITR" info "$S" --json | jq -r .earliest_restorable)
	k=$(jq --arg e "$from" "[.marks[] | select(.at < \$e)] | length" "$REC")
	n=$(marks)
	echo "window from $from: instants 0 to $((k - 1)) pruned, $k to $((n - 1)) kept"
	mount_fs "$S" "$M"
	$MODEL check "$M" "$REC" "$k" $((n - 1))
	for i in $(seq 0 $((k - 1))); do $MODEL gone "$M" "$REC" "$i"; done
	unmount_fs "$M"
'

test_done
