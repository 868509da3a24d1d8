#!/usr/bin/env bash
# Every command that takes STORE takes a mount point of it too: the
# daemon names the store as the mount's source (fuse.pitrfs).
. "$(dirname "$0")/lib.sh"

# a name the mount table escapes (space) and FUSE's options escape (comma)
S="$TMP/my store,1" M="$TMP/mnt point"
"$PITR" create "$S" >/dev/null
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c"
echo '{"v": 1}' >"$M/db/c/x.json"
echo '{"v": 2}' >"$M/db/c/x.json"
echo '{"w": 1}' >"$M/db/c/y.json"

test_expect_success 'pitr info MNT is pitr info STORE' '
	"$PITR" info "$S" | grep -v "^latest restorable:" >"$TMP/a"
	"$PITR" info "$M" | grep -v "^latest restorable:" >"$TMP/b"
	diff "$TMP/a" "$TMP/b"
	grep -q "^live: *2 documents" "$TMP/b"
'

test_expect_success 'log, ls, cat, events, diff, backup, verify: MNT as STORE' '
	"$PITR" log "$S" db/c/x.json >"$TMP/a"
	"$PITR" log "$M" db/c/x.json >"$TMP/b"
	diff "$TMP/a" "$TMP/b"
	[ "$(grep -c "create\|replace" "$TMP/b")" = 2 ]
	"$PITR" log "$M" db/c >"$TMP/b"
	"$PITR" log "$S" db/c | diff - "$TMP/b"
	"$PITR" ls "$S" db/c >"$TMP/a"
	"$PITR" ls "$M" db/c >"$TMP/b"
	diff "$TMP/a" "$TMP/b"
	grep -q " x.json$" "$TMP/b"
	grep -q " y.json$" "$TMP/b"
	[ "$("$PITR" cat "$M" db/c/x.json)" = "{\"v\": 2}" ]
	"$PITR" events "$S" >"$TMP/a"
	"$PITR" events "$M" | diff "$TMP/a" -
	T=$(ts_of "$M/db/c/y.json")
	"$PITR" diff "$M" "$T" -0s db/c --json >"$TMP/b"
	"$PITR" diff "$S" "$T" -0s db/c --json | diff - "$TMP/b"
	"$PITR" backup "$M" status | grep -qx "dir: (none)"
	"$PITR" verify "$M" | grep -q "^$M: [0-9]* records checked, ok$"
'

test_expect_success 'a relative or dotted path to the mount point works too' '
	(cd "$TMP" && "$PITR" info "./mnt point/." >/dev/null)
	ln -s "$M" "$TMP/link"
	"$PITR" ls "$TMP/link" db | grep -q "^c  *2$"
'

test_expect_success 'pitr restore MNT TARGET restores the mounted store' '
	T=$(ts_of "$M/db/c/y.json")
	"$PITR" restore "$M" "$TMP/r" --at "$T" 2>/dev/null
	"$PITR" ls "$TMP/r" db/c | grep -c "\.json$" | grep -qx 2
'

test_expect_success 'a directory that is no store, nor a mount of one, still fails with 1' '
	mkdir "$TMP/plain"
	for cmd in info "log @ db/c/x.json" "ls @ db/c" events "restore @ $TMP/r2 --at -0s"; do
		set -- ${cmd//@/$TMP/plain}
		[ $# = 1 ] && set -- "$1" "$TMP/plain"
		rc=0; "$PITR" "$@" 2>"$TMP/e" || rc=$?
		[ $rc = 1 ] || { echo "$cmd: exit $rc" >&2; exit 1; }
		grep -q "^pitr: cannot open store .*$TMP/plain" "$TMP/e"
	done
	[ ! -e "$TMP/r2" ]
	# a subdirectory of the mount is not its mount point
	rc=0; "$PITR" info "$M/db" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
'

test_expect_success 'unmounted, the mount point is a plain directory again' '
	unmount_fs "$M"
	rc=0; "$PITR" info "$M" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	"$PITR" info "$S" | grep -q "^live: *2 documents"
'

test_done
