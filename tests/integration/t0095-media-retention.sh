#!/usr/bin/env bash
# Retention on the backup media, through a real daemon that writes, prunes
# and ships with a 2 s window: once the media hold two windows, the state a
# window ago becomes their base and, a base later, the segments before it
# leave them; a restore from the media alone equals the account's state at
# their latest instant, refuses older ones, and the oldest restore point
# moves on with each base. The store's pruning rewrites deltas as keyframes meanwhile,
# which the media must survive.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt D=$TMP/media
"$PITR" create "$S" --retention 2s
mkdir "$D"
mount_fs "$S" "$M" --backup-dir "$D"
mkdir -p "$M/shop/orders" "$M/shop/users" "$M/logs/events"

# one round: every order edited (a delta on its keyframe), some users
# replaced, an event added and an old one removed
round() {
	python3 - "$M" "$1" <<'EOF'
import json, os, sys
m, r = sys.argv[1], int(sys.argv[2])
for i in range(60):
    doc = {"id": "o%03d" % i, "status": ["open", "paid", "sent"][(i + r) % 3],
           "round": r, "lines": [{"sku": "s%04d" % (i * 7 + k), "qty": k + 1}
                                 for k in range(8)],
           "note": "order %d of customer %d, shipped by the north depot" % (i, i % 13)}
    with open(os.path.join(m, "shop/orders/o%03d.json" % i), "w") as f:
        json.dump(doc, f)
if r % 3 == 0:
    for i in range(5):
        with open(os.path.join(m, "shop/users/u%d.json" % i), "w") as f:
            json.dump({"user": i, "seen": r}, f)
with open(os.path.join(m, "logs/events/e%04d.json" % r), "w") as f:
    json.dump({"event": r}, f)
old = os.path.join(m, "logs/events/e%04d.json" % (r - 4))
if os.path.exists(old):
    os.unlink(old)
EOF
}

# bases_after N: a base stands before a segment numbered over N, and no
# segment numbered N or lower is left
bases_after() {
	ls "$D" | grep -q "^base-" || return 1
	local f n
	f=$(ls "$D" | sed -n 's/^base-\([0-9]*\)-.*/\1/p' | sort | tail -1)
	n=$((10#$f))
	[ "$n" -gt "$1" ] || return 1
	! ls "$D" | awk -v n="$1" -F- '/^seg-/ && $2 + 0 <= n { f = 1 } END { exit !f }'
}

wait_shipped() {
	wait_for 30 eval '"$PITR" backup "$S" status | grep -q "^pending: 0$"'
}

R=0
test_expect_success 'after two windows the media get a base; a base later the first segments go' '
	for i in $(seq 400); do
		R=$((R + 1)); round $R
		bases_after 1 && break
		sleep 0.1
	done
	bases_after 1
	"$PITR" verify "$D" >"$TMP/v"
	grep -q "ok; complete up to" "$TMP/v"
'

# expect DIR: the live tree, copied while nothing writes: the state the
# media's latest instant must restore. (Not a view: with a 2 s window a
# slow machine may have pruned the instant, and the media moved past it,
# by the time the restore is done.)
expect() {
	mkdir "$1"
	cp -r "$M/shop" "$M/logs" "$1/"
}

test_expect_success 'a restore from the media alone equals the state at their latest instant' '
	R=$((R + 1)); round $R
	expect "$TMP/x1"
	wait_shipped
	"$PITR" restore "$D" "$TMP/r1" --from-backup --at -0s 2>/dev/null
	mount_fs "$TMP/r1" "$TMP/m1"
	diff -r "$TMP/x1/" "$TMP/m1/"
	unmount_fs "$TMP/m1"
'

test_expect_success 'an instant before the media start is refused, naming it' '
	rc=0
	"$PITR" restore "$D" "$TMP/r0" --from-backup --at 2020-01-01T00:00:00Z \
		2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "holds history from .* on; .* is earlier" "$TMP/e"
	[ ! -e "$TMP/r0" ]
'

test_expect_success 'the start moves on with a second base, and restores still match' '
	first=$(ls "$D" | sed -n "s/^base-\([0-9]*\)-.*/\1/p" | sort | tail -1)
	for i in $(seq 400); do
		R=$((R + 1)); round $R
		bases_after $((10#$first)) && break
		sleep 0.1
	done
	bases_after $((10#$first))
	# the previous base stays a window more, for restores that read it
	two_bases() { [ "$(ls "$D" | sed -n "s/^base-\([0-9]*\)-.*/\1/p" | sort -u | wc -l)" -le 2 ]; }
	wait_for 10 two_bases
	R=$((R + 1)); round $R
	expect "$TMP/x2"
	wait_shipped
	"$PITR" verify "$D" | grep -q "ok; complete up to"
	"$PITR" restore "$D" "$TMP/r2" --from-backup --at -0s 2>/dev/null
	mount_fs "$TMP/r2" "$TMP/m2"
	diff -r "$TMP/x2/" "$TMP/m2/"
	unmount_fs "$TMP/m2"
'

unmount_fs "$M"
test_done
