#!/usr/bin/env bash
# Mounting and unmounting: clean exits, clear refusals, nothing changed.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"

test_expect_success 'mount an account, unmount with status 0' '
	mount_fs "$S" "$M"
	[ -d "$M" ]
	ls "$M" >/dev/null
	unmount_fs "$M"
'

test_expect_success 'a plain directory is refused, nothing created' '
	mkdir "$TMP/plain"
	test_must_fail "$PITRFS" -f "$TMP/plain" "$M" 2>"$TMP/err"
	grep -q "not a pitrfs account" "$TMP/err"
	[ -z "$(ls -A "$TMP/plain")" ]
	not mountpoint -q "$M"
'

test_expect_success 'a missing store is refused' '
	test_must_fail "$PITRFS" -f "$TMP/nope" "$M" 2>"$TMP/err"
	grep -q "No such file" "$TMP/err"
'

test_expect_success 'a missing mountpoint is refused' '
	test_must_fail "$PITRFS" -f "$S" "$TMP/nomnt" 2>"$TMP/err"
	grep -qi "mount" "$TMP/err"
'

test_expect_success 'a store mounted by another daemon is refused' '
	mount_fs "$S" "$M"
	mkdir -p "$TMP/m2"
	test_must_fail "$PITRFS" -f "$S" "$TMP/m2" 2>"$TMP/err"
	grep -q "mounted by another daemon" "$TMP/err"
	not mountpoint -q "$TMP/m2"
	unmount_fs "$M"
'

test_expect_success 'SIGTERM unmounts cleanly with status 0' '
	mount_fs "$S" "$M"
	mkdir "$M/db1"
	kill -TERM "$(cat "$TMP/pid.$(key_of "$M")")"
	[ "$(daemon_status "$M")" = 0 ]
	not mountpoint -q "$M"
	mount_fs "$S" "$M"
	[ -d "$M/db1" ]
	unmount_fs "$M"
'

test_expect_success 'SIGTERM with files and listings open: status 0, nothing half-written kept' '
	mount_fs "$S" "$M"
	mkdir "$M/db1/c"
	echo "{\"v\": 1}" >"$M/db1/c/x.json"
	printf "{\"s\": 1}" >"$M/db1/c/scratch"
	python3 - "$M/db1/c" "$TMP/holding" <<-\EOF &
	import os, sys, time
	d = sys.argv[1]
	f = open(d + "/x.json", "w")
	f.write("{\"v\": 2}")
	f.flush()
	t = os.open(d + "/scratch", os.O_WRONLY | os.O_TRUNC)
	listing = os.scandir(d)
	next(listing)
	open(sys.argv[2], "w").close()
	time.sleep(30)
	EOF
	holder=$!
	for i in $(seq 100); do [ -e "$TMP/holding" ] && break; sleep 0.05; done
	kill -TERM "$(cat "$TMP/pid.$(key_of "$M")")"
	[ "$(daemon_status "$M")" = 0 ]
	kill "$holder"
	wait "$holder" || true
	mount_fs "$S" "$M"
	[ "$(cat "$M/db1/c/x.json")" = "{\"v\": 1}" ]
	[ -z "$(cat "$M/db1/c/scratch")" ]
	rm -r "$M/db1/c"
	unmount_fs "$M"
'

test_expect_success 'SIGINT unmounts cleanly with status 0' '
	mount_fs "$S" "$M"
	kill -INT "$(cat "$TMP/pid.$(key_of "$M")")"
	[ "$(daemon_status "$M")" = 0 ]
	not mountpoint -q "$M"
'

test_expect_success '--help and --version' '
	"$PITRFS" --help | grep -q "usage: pitrfs"
	"$PITRFS" --version | grep -q "^pitrfs "
'

test_expect_success 'usage errors exit 2' '
	rc=0; "$PITRFS" "$S" 2>/dev/null || rc=$?
	[ "$rc" = 2 ]
	rc=0; "$PITRFS" --sync-interval=abc "$S" "$M" 2>/dev/null || rc=$?
	[ "$rc" = 2 ]
	rc=0; "$PITRFS" --backup-interval=0 "$S" "$M" 2>/dev/null || rc=$?
	[ "$rc" = 2 ]
	rc=0; "$PITRFS" --history-group=no-such-group "$S" "$M" 2>/dev/null || rc=$?
	[ "$rc" = 2 ]
'

test_done
