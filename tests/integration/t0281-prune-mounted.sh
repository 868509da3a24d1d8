#!/usr/bin/env bash
# pitr prune on a mounted account prunes, beside the daemon's own pruner
# (one pruner at a time per account) and a writer that keeps writing
# through the mount.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
# a retention of 1h: the daemon's pruner then runs once a minute, so
# the pruning below is pitr prune's
"$PITR" create "$S" --retention 1h >/dev/null
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c"
export S M

# The writer: a new version of w.json and a new document n-N.json every
# 0.4 s until $TMP/stop; each write's close status is checked, and a
# failure recorded in $TMP/w.err.
writer_start() {
	rm -f "$TMP/stop"
	(
		i=0
		while [ ! -e "$TMP/stop" ] && [ $i -lt 3000 ]; do
			echo "{\"i\": $i}" >"$M/db/c/w.json" || echo "w $i" >>"$TMP/w.err"
			echo "{\"n\": $i}" >"$M/db/c/n-$i.json" || echo "n $i" >>"$TMP/w.err"
			i=$((i + 1))
			echo $i >"$TMP/w.count.tmp"
			mv "$TMP/w.count.tmp" "$TMP/w.count"
			sleep 0.4
		done
	) &
	echo $! >"$TMP/w.pid"
}
writer_wait() {
	local from n
	from=$(cat "$TMP/w.count" 2>/dev/null || echo 0)
	for n in $(seq 600); do
		[ "$(cat "$TMP/w.count" 2>/dev/null || echo 0)" -ge $((from + $1)) ] &&
			return 0
		sleep 0.1
	done
	echo "the writer wrote nothing for 60 s" >&2
	return 1
}
writer_stop() {
	touch "$TMP/stop"
	wait "$(cat "$TMP/w.pid")" 2>/dev/null || true
}
export -f writer_start writer_wait writer_stop

test_expect_success 'history to prune, written through the mount' '
	for i in $(seq 1 50); do echo "{\"v\": $i}" >"$M/db/c/old.json"; done
	mkdir "$M/db/gone"
	echo "{}" >"$M/db/gone/x.json"
	rm -r "$M/db/gone"
	writer_start
	writer_wait 3
	"$PITR" log "$M" db/c/old.json | grep -c "create\|replace" | grep -qx 50
	"$PITR" events "$M" --json | jq -es "map(select(.container == \"gone\")) | length == 2"
'

test_expect_success 'a shorter retention, set while mounted; the window moves past the old history' '
	"$PITR" policy "$M" --retention 2s --json | jq -e ".retention_ns == 2000000000"
	T=$(ts_of "$M/db/c/old.json")
	# bounded wait for the window to pass T (2 s of retention)
	for i in $(seq 100); do
		"$PITR" ls "$M" db/c --at "$T" >/dev/null 2>&1 || break
		sleep 0.1
	done
	not "$PITR" ls "$M" db/c --at "$T" 2>/dev/null
	"$PITR" prune "$M" --dry-run --json >"$TMP/dry"
	jq -e ".dry_run and .versions >= 49 and .events >= 2" "$TMP/dry"
'

test_expect_success 'pitr prune MNT prunes while the writer writes' '
	"$PITR" prune "$M" --json >"$TMP/p"
	jq -e "(.dry_run | not) and .versions >= 49 and .events >= 2 and .bytes > 0" "$TMP/p"
	writer_wait 3
	# one version of old.json left, the state at the window start
	"$PITR" log "$M" db/c/old.json | grep -c "create\|replace" | grep -qx 1
	[ "$(cat "$M/db/c/old.json")" = "{\"v\": 50}" ]
	"$PITR" events "$M" --json | jq -es "map(select(.container == \"gone\")) | length == 0"
	"$PITR" prune "$S" | grep -q "^removed [0-9]* document versions"
'

test_expect_success 'the writer never failed, every document it wrote is there' '
	writer_stop
	[ ! -e "$TMP/w.err" ]
	n=$(cat "$TMP/w.count")
	[ "$(ls "$M/db/c" | grep -c "^n-")" = "$n" ]
	[ "$(jq -r .i "$M/db/c/w.json")" = $((n - 1)) ]
	verify_ok "$S"
'

test_expect_success 'two pruners at once, the daemon'"'"'s and this one: both end, the store verifies' '
	# remounted with a retention of 1 s, the daemon prunes every second
	"$PITR" policy "$M" --retention 1s >/dev/null
	unmount_fs "$M"
	mount_fs "$S" "$M"
	writer_start
	writer_wait 2
	pids=
	for i in 1 2 3; do
		(for j in $(seq 10); do "$PITR" prune "$M" >/dev/null || exit 1; sleep 0.3; done) &
		pids="$pids $!"
	done
	for p in $pids; do wait $p; done
	writer_stop
	[ ! -e "$TMP/w.err" ]
	verify_ok "$S"
'

test_expect_success 'unmount cleanly' '
	unmount_fs "$M"
	verify_ok "$S"
'

test_done
