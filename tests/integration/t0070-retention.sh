#!/usr/bin/env bash
# Retention with second-scale windows: the daemon prunes what leaves the
# window, keeps the state at its start, and refuses instants before it.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S" --retention 3s
mount_fs "$S" "$M"
export M
mkdir "$M/db" "$M/db/c" "$M/db/gone"
echo '{"v": 1}' >"$M/db/c/x.json"
T1=$(ts_of "$M/db/c/x.json")
echo '{"g": 1}' >"$M/db/gone/g.json"
echo '{"v": 2}' >"$M/db/c/x.json"
echo '{"y": 1}' >"$M/db/c/y.json"
T2=$(ts_of "$M/db/c/y.json")
rm -r "$M/db/gone"
sleep 4.5 # the window (3 s) has passed them; the daemon prunes every 1 s

test_expect_success 'instants outside the window are refused' '
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@$T1\")"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@$T2\")"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@-4s\")"
	rc=0; "$PITR" restore "$S" "$TMP/r" --at "$T2" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "outside the restorable window" "$TMP/e"
'

test_expect_success 'the state at the window start is kept' '
	[ "$(cat "$M/@-2s/db/c/x.json")" = "{\"v\": 2}" ]
	[ "$(cat "$M/@-2s/db/c/y.json")" = "{\"y\": 1}" ]
	[ "$(ls "$M/@-2s/db")" = c ]
'

test_expect_success 'the daemon pruned: old versions and deleted containers are gone' '
	"$PITR" log "$S" db/c/x.json >"$TMP/log"
	[ "$(grep -c "create\|replace" "$TMP/log")" = 1 ]
	not grep -q gone <("$PITR" events "$S")
	"$PITR" prune "$S" --dry-run >"$TMP/p"
	grep -q "would remove 0 document versions, 0 database/container events" "$TMP/p"
'

test_expect_success 'writes go on, and a new window keeps moving' '
	echo "{\"v\": 3}" >"$M/db/c/x.json"
	[ "$(cat "$M/db/c/x.json")" = "{\"v\": 3}" ]
	[ "$(cat "$M/@-0s/db/c/x.json")" = "{\"v\": 3}" ]
'
unmount_fs "$M"

test_expect_success 'pitr prune on an unmounted account reports what it removed' '
	"$PITR" create "$TMP/s2" --retention 2s
	mount_fs "$TMP/s2" "$TMP/m2"
	mkdir "$TMP/m2/d" "$TMP/m2/d/c"
	for i in 1 2 3 4 5; do echo "{\"i\": $i}" >"$TMP/m2/d/c/a.json"; done
	unmount_fs "$TMP/m2"
	sleep 2.5
	"$PITR" prune "$TMP/s2" --dry-run | grep -q "would remove 4 document versions"
	"$PITR" prune "$TMP/s2" | grep -q "^removed 4 document versions"
	"$PITR" prune "$TMP/s2" | grep -q "^removed 0 document versions"
	"$PITR" info "$TMP/s2" | grep -q "^earliest restorable"
	mount_fs "$TMP/s2" "$TMP/m2"
	[ "$(cat "$TMP/m2/@-1s/d/c/a.json")" = "{\"i\": 5}" ]
	unmount_fs "$TMP/m2"
'

test_expect_success 'pruned stores verify: every index agrees with the log' '
	for s in "$S" "$TMP/s2"; do
		verify_ok "$s" || return 1
	done
'

test_done
