#!/usr/bin/env bash
# pitr undo, both stories, with an application writing every 0.4 s the
# whole time: an accidental `sed -i` over 100 documents, and an `rm -r` of
# a 300-document container. The instant is found with the tools alone
# (pitr events --bulk), the undo runs through the mount while the
# application goes on writing, later writes are kept, and the undo is
# itself undone (once more without a mount, through the store).
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S" >/dev/null
mount_fs "$S" "$M"
export S M

# The application, until $TMP/stop exists (at most 3000 rounds): every
# 0.4 s a new document app-N.json in $1, and a new version of
# $M/db/status/s.json; $TMP/app.count says how many rounds; a write that
# fails is recorded in $TMP/app.err.
app_start() {
	rm -f "$TMP/stop" "$TMP/app.count"
	mkdir -p "$M/db/status"
	(
		i=0
		while [ ! -e "$TMP/stop" ] && [ $i -lt 3000 ]; do
			echo "{\"app\": $i}" >"$1/app-$i.json" 2>/dev/null ||
				[ ! -d "$1" ] || echo "app-$i" >>"$TMP/app.err"
			echo "{\"round\": $i}" >"$M/db/status/s.json" ||
				echo "s $i" >>"$TMP/app.err"
			i=$((i + 1))
			echo $i >"$TMP/app.count.tmp"
			mv "$TMP/app.count.tmp" "$TMP/app.count"
			sleep 0.4
		done
	) &
	echo $! >"$TMP/app.pid"
}
# Wait (bounded: 60 s) until the application has done $1 more rounds.
app_wait() {
	local from n
	from=$(cat "$TMP/app.count" 2>/dev/null || echo 0)
	for n in $(seq 600); do
		[ "$(cat "$TMP/app.count" 2>/dev/null || echo 0)" -ge $((from + $1)) ] &&
			return 0
		sleep 0.1
	done
	echo "the application wrote nothing for 60 s" >&2
	return 1
}
app_stop() {
	touch "$TMP/stop"
	wait "$(cat "$TMP/app.pid")" 2>/dev/null || true
}
export -f app_start app_wait app_stop

fill() {
	python3 - "$@" <<'PY'
import json, os, sys
d, prefix, n, state = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
os.makedirs(d, exist_ok=True)
for i in range(n):
    with open(os.path.join(d, "%s%d.json" % (prefix, i)), "w") as f:
        json.dump({"id": i, "state": state, "pad": "x" * (i % 40)}, f)
PY
}
export -f fill

test_expect_success 'the accident: sed -i over 100 documents while the application writes' '
	fill "$M/db/c" d 100 good
	cp -a "$M/db/c" "$TMP/good"
	app_start "$M/db/c"
	app_wait 2
	sed -i "s/good/bad/" "$M"/db/c/d*.json
	app_wait 2
	[ "$(grep -l "\"bad\"" "$M"/db/c/d*.json | wc -l)" = 100 ]
'

test_expect_success 'pitr events --bulk finds it: 100 replaces, the instant before' '
	"$PITR" events "$M" --bulk --container c --json >"$TMP/bulk"
	jq -e "select(.change == \"replaces\") | .documents == 100" "$TMP/bulk"
	jq -r "select(.change == \"replaces\") | .before" "$TMP/bulk" >"$TMP/B"
	jq -r "select(.change == \"replaces\") | .last" "$TMP/bulk" >"$TMP/E"
	[ "$(wc -l <"$TMP/B")" = 1 ]
	# with the ready command line that undoes it
	jq -r "select(.change == \"replaces\") | .undo" "$TMP/bulk" >"$TMP/cmd"
	[ "$(cat "$TMP/cmd")" = "pitr undo $M db/c --at $(cat "$TMP/B") --until $(cat "$TMP/E")" ]
	# the state just before it is the good one
	for i in 0 42 99; do
		"$PITR" cat "$M" db/c/d$i.json --at "$(cat "$TMP/B")" |
			cmp - "$TMP/good/d$i.json"
	done
'

test_expect_success 'a document fixed by hand after the accident, while the application writes' '
	echo "{\"id\": 7, \"state\": \"fixed by hand\"}" >"$M/db/c/d7.json"
	cp "$M/db/c/d7.json" "$TMP/d7"
	app_wait 1
'

test_expect_success 'pitr undo --dry-run lists 99 restores, the conflict, and changes nothing' '
	B=$(cat "$TMP/B") E=$(cat "$TMP/E")
	"$PITR" undo "$M" db/c --at "$B" --until "$E" --dry-run --json >"$TMP/plan"
	jq -es "length > 100" "$TMP/plan" >/dev/null
	[ "$(jq -r "select(.action == \"restore\") | .id" "$TMP/plan" | wc -l)" = 99 ]
	[ "$(jq -r "select(.action == \"keep-later\") | .id" "$TMP/plan" | grep "^d")" = d7 ]
	jq -e "select(.summary) | .summary.restore == 99 and .summary.dry_run" "$TMP/plan"
	# the application documents created since B are kept, and listed so
	# (keep-later for those created after E)
	n=$(jq -r "select(.action | startswith(\"keep-\")) | .id" "$TMP/plan" | grep -c "^app-")
	[ "$n" -ge 2 ]
	"$PITR" undo "$M" db/c --at "$B" --until "$E" --dry-run >"$TMP/table"
	grep -q "^keep-later .* d7.json$" "$TMP/table"
	grep -q "^would undo to $B: 99 restore, 0 re-create, 0 delete" "$TMP/table"
	[ "$(grep -l "\"bad\"" "$M"/db/c/d*.json | wc -l)" = 99 ]
'

test_expect_success 'pitr undo through the mount, while the application writes: documents back, later writes kept' '
	B=$(cat "$TMP/B") E=$(cat "$TMP/E")
	before=$(ls "$M/db/c" | grep -c "^app-")
	"$PITR" undo "$M" db/c --at "$B" --until "$E" >"$TMP/out"
	grep -q "^undone to $B: 99 restore" "$TMP/out"
	sed -n "s/^to undo this undo: .* --at //p" "$TMP/out" >"$TMP/U"
	[ -s "$TMP/U" ]
	app_wait 2
	for i in $(seq 0 99); do
		[ $i = 7 ] && continue
		cmp "$TMP/good/d$i.json" "$M/db/c/d$i.json"
	done
	cmp "$TMP/d7" "$M/db/c/d7.json"
	# every application document is still there, and it went on writing
	[ "$(ls "$M/db/c" | grep -c "^app-")" -ge $((before + 2)) ]
	n=$(cat "$TMP/app.count")
	r=$(jq -r .round "$M/db/status/s.json")
	[ "$r" -ge $((n - 2)) ]
	[ ! -s "$TMP/app.err" ]
	# the undo is new versions: each restored document has one more
	"$PITR" log "$M" db/c/d0.json | grep -c " replace " | grep -qx 2
	# nothing is left of its scratch files
	[ "$(ls -a "$M/db/c" | grep -c "^\.pitr-undo")" = 0 ]
	# and by the tools alone, the documents equal those at B now
	"$PITR" diff "$M" "$B" -0s db/c --json >"$TMP/d"
	[ "$(jq -r "select(.id | startswith(\"d\")) | .id" "$TMP/d")" = d7 ]
'

test_expect_success 'a second undo finds nothing more to do (the store named, mounted)' '
	B=$(cat "$TMP/B") E=$(cat "$TMP/E")
	"$PITR" undo "$S" db/c --at "$B" --until "$E" --json >"$TMP/plan2"
	jq -e "select(.summary) | .summary.restore == 0 and .summary.through_mount" "$TMP/plan2"
'

test_expect_success 'rm -r of a 300-document container while the application writes there' '
	app_stop
	fill "$M/db/r" d 300 kept
	cp -a "$M/db/r" "$TMP/r300"
	app_start "$M/db/r"
	app_wait 2
	rm -r "$M/db/r" 2>"$TMP/rm.err" || grep -q "Directory not empty" "$TMP/rm.err"
	app_wait 2
	[ "$(ls "$M/db/r" 2>/dev/null | grep -c "^d")" = 0 ]
'

test_expect_success 'found with pitr events --bulk, undone in place with pitr undo' '
	"$PITR" events "$M" --bulk --container r --json >"$TMP/bulk2"
	jq -r "select(.container == \"r\") | .before" "$TMP/bulk2" >"$TMP/B2"
	[ "$(wc -l <"$TMP/B2")" = 1 ]
	B=$(cat "$TMP/B2")
	"$PITR" undo "$M" db/r --at "$B" --dry-run --json >"$TMP/plan3"
	# the 300 documents, and the application documents rm -r took
	[ "$(jq -r "select(.action == \"re-create\") | .id" "$TMP/plan3" | grep -c "^d")" = 300 ]
	"$PITR" undo "$M" db/r --at "$B" >"$TMP/out3"
	grep -q "^undone to $B: 0 restore, [0-9]* re-create, 0 delete" "$TMP/out3"
	app_wait 2
	for i in $(seq 0 299); do
		cmp "$TMP/r300/d$i.json" "$M/db/r/d$i.json"
	done
	# the application kept writing there, and its documents are kept
	[ "$(ls "$M/db/r" | grep -c "^app-")" -ge 2 ]
	[ ! -s "$TMP/app.err" ]
	app_stop
'

test_expect_success 'unmounted, the undo of the undo is one write through the store' '
	unmount_fs "$M"
	U=$(cat "$TMP/U")
	"$PITR" undo "$S" db/c --at "$U" --dry-run >"$TMP/plan4"
	grep -q "^would undo to $U: 99 restore" "$TMP/plan4"
	"$PITR" undo "$S" db/c --at "$U" --json >"$TMP/out4"
	jq -e "select(.summary) | .summary.restore == 99 and (.summary.through_mount | not)" "$TMP/out4"
	for i in 0 42 99; do
		"$PITR" cat "$S" db/c/d$i.json | grep -q "\"bad\""
	done
	# one instant: every restored document has the same version time
	"$PITR" ls "$S" db/c --json | jq -r "select(.id | test(\"^d[0-9]+$\")) | select(.id != \"d7\") | .time" |
		sort -u | wc -l | grep -qx 1
	verify_ok "$S"
'

test_expect_success 'undo: wrong inputs' '
	rc=0; "$PITR" undo "$S" db/c 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]; grep -q "^usage: pitr undo" "$TMP/e"
	rc=0; "$PITR" undo "$S" db --at -1s 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]; grep -q "^pitr: invalid path" "$TMP/e"
	rc=0; "$PITR" undo "$S" db/c --at yesterday 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]; grep -q "^pitr: invalid time" "$TMP/e"
	rc=0; "$PITR" undo "$S" db/c --at -0s --gap x 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]; grep -q "^pitr: invalid --gap" "$TMP/e"
	rc=0; "$PITR" undo "$S" db/c --at -0s --gap 1s --until -0s 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]; grep -q "^pitr: invalid --gap with --until" "$TMP/e"
	rc=0; "$PITR" undo "$S" db/c --at -1s x.txt 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]; grep -q "^pitr: invalid document" "$TMP/e"
	rc=0; "$PITR" undo "$S" db/nosuch --at -0s 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]; grep -q "^pitr: cannot undo .*no container" "$TMP/e"
	rc=0; "$PITR" undo "$TMP/nosuch" db/c --at -0s 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]; grep -q "^pitr: cannot open store" "$TMP/e"
	rc=0; "$PITR" undo "$S" db/c --at -0s nosuch.json 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]; grep -q "^pitr: cannot undo .*no document" "$TMP/e"
'

test_expect_success 'chosen documents only' '
	U=$(cat "$TMP/U")
	B=$(cat "$TMP/B")
	"$PITR" undo "$S" db/c --at "$B" d1.json d2.json --include-later >"$TMP/out5"
	grep -q ": 2 restore" "$TMP/out5"
	"$PITR" cat "$S" db/c/d1.json | cmp - "$TMP/good/d1.json"
	"$PITR" cat "$S" db/c/d3.json | grep -q "\"bad\""
	verify_ok "$S"
'

test_done
