#!/usr/bin/env bash
# Periodic mode: history only at interval boundaries; views and restores
# show the latest boundary at or before the instant asked for.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt

test_expect_success 'periodic needs retention of at least two intervals' '
	rc=0; "$PITR" create "$TMP/bad" --backup-mode periodic --interval 2s --retention 3s 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]
	grep -q "at least two intervals" "$TMP/e"
	[ ! -e "$TMP/bad" ]
'

"$PITR" create "$S" --backup-mode periodic --interval 1s --retention 20s
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c"
echo '{"v": 1}' >"$M/db/c/x.json"
sleep 1.2 # a boundary passes
echo '{"v": 2}' >"$M/db/c/x.json"
echo '{"v": 3}' >"$M/db/c/x.json"
NOW=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)

test_expect_success 'a view shows the latest boundary: writes after it are not seen' '
	[ "$(cat "$M/@$NOW/db/c/x.json")" = "{\"v\": 1}" ]
	[ "$(cat "$M/db/c/x.json")" = "{\"v\": 3}" ]
'

test_expect_success 'after the next boundary the last write of the interval shows' '
	sleep 1.1
	[ "$(cat "$M/@-0s/db/c/x.json")" = "{\"v\": 3}" ]
'

test_expect_success 'pitr info lists the restore points' '
	"$PITR" info "$S" >"$TMP/info"
	grep -q "periodic, interval 1s, retention 20s" "$TMP/info"
	[ "$(sed -n "/^restore points:/,\$p" "$TMP/info" | grep -c "Z$")" -ge 2 ]
'

test_expect_success 'the daemon prunes versions no boundary shows' '
	sleep 1.5
	"$PITR" log "$S" db/c/x.json >"$TMP/log"
	[ "$(grep -c "create\|replace" "$TMP/log")" = 2 ]
'

test_expect_success 'restore at an instant between boundaries takes the boundary before it' '
	"$PITR" restore "$S" "$TMP/r" --at "$NOW" 2>"$TMP/out"
	mount_fs "$TMP/r" "$TMP/rm"
	[ "$(cat "$TMP/rm/db/c/x.json")" = "{\"v\": 1}" ]
	unmount_fs "$TMP/rm"
'

test_expect_success 'periodic becomes continuous, never the reverse' '
	"$PITR" policy "$S" --backup-mode periodic | grep -q "^policy: *periodic"
	"$PITR" policy "$S" --backup-mode continuous | grep -q "continuous, retention 20s"
	"$PITR" info "$S" | grep -q "continuous, retention 20s"
	# the history kept so far has only boundaries: it still shows them
	[ "$(cat "$M/@$NOW/db/c/x.json")" = "{\"v\": 1}" ]
	rc=0; "$PITR" policy "$S" --backup-mode periodic 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]
	grep -q "cannot switch to periodic" "$TMP/e"
'

unmount_fs "$M"
test_expect_success 'the pruned periodic store verifies: every index agrees with the log' '
	verify_ok "$S"
'

test_done
