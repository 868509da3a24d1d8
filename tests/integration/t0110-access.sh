#!/usr/bin/env bash
# Access: the live tree obeys normal permissions; history views are a
# separate permission (owner, root and --history-group only); the tools
# refuse stores they cannot read.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
export M
chmod 755 "$TMP"
"$PITR" create "$S"
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
# Another user must be able to run a program at all: a chroot unpacked
# from a mode-0700 directory has a / that only root may search.
if ! as_nobody true 2>/dev/null; then
	echo "1..0 # SKIP another user cannot run programs here (/ is mode $(stat -c %a /))"
	exit 0
fi

mount_fs "$S" "$M" -o allow_other
mkdir "$M/db" "$M/db/c"
echo '{"open": true}' >"$M/db/c/x.json"
T=$(ts_of "$M/db/c/x.json")

test_expect_success 'another user reads the live tree' '
	[ "$(as_nobody cat "$M/db/c/x.json")" = "{\"open\": true}" ]
'

test_expect_success 'but not history, even of a world-readable file' '
	not as_nobody cat "$M/@$T/db/c/x.json" 2>"$TMP/e"
	grep -q "Permission denied" "$TMP/e"
	not as_nobody ls "$M/@$T/db" 2>/dev/null
	[ "$(cat "$M/@$T/db/c/x.json")" = "{\"open\": true}" ]
'

test_expect_success 'nor write the live tree as another user' '
	not as_nobody sh -c "echo {} >\"$M/db/c/x.json\"" 2>/dev/null
	[ "$(cat "$M/db/c/x.json")" = "{\"open\": true}" ]
'
unmount_fs "$M"

test_expect_success '--history-group lets its members read history' '
	mount_fs "$S" "$M" -o allow_other --history-group nogroup
	[ "$(as_nobody cat "$M/@$T/db/c/x.json")" = "{\"open\": true}" ]
	[ "$(stat -c %G "$M/@$T/db/c/x.json")" = nogroup ]
	unmount_fs "$M"
'

# Without allow_other the kernel admits the mounting user alone, checks no
# modes, and asks the daemon for access(2).
test_expect_success 'without allow_other: others refused, access(2) answered' '
	mount_fs "$S" "$M"
	not as_nobody cat "$M/db/c/x.json" 2>"$TMP/e"
	grep -q "Permission denied" "$TMP/e"
	python3 - "$M" "$T" <<-\EOF
	import ctypes, errno, os, sys
	libc = ctypes.CDLL(None, use_errno=True)
	def access(path, mode):
	    rc = libc.access((sys.argv[1] + "/" + path).encode(), mode)
	    return 0 if rc == 0 else errno.errorcode[ctypes.get_errno()]
	view = "@" + sys.argv[2]
	assert access("db/c/x.json", os.R_OK | os.W_OK) == 0
	assert access("db/c/x.json", os.X_OK) == "EACCES"
	assert access("db/c", os.R_OK | os.W_OK | os.X_OK) == 0
	assert access(view + "/db/c/x.json", os.R_OK) == 0
	assert access(view + "/db/c/x.json", os.W_OK) == "EROFS"
	assert access(view + "/db/c", os.W_OK) == "EROFS"
	assert access(view + "/db", os.R_OK | os.X_OK) == 0
	assert access(view + "/db/c/nope.json", os.R_OK) == "ENOENT"
	EOF
	test -w "$M/db/c/x.json"
	not test -w "$M/@$T/db/c/x.json"
	expect_errno EROFS "open(os.environ[\"M\"] + \"/@$T/db/c/x.json\", \"w\")"
	expect_errno EROFS "os.mkdir(os.environ[\"M\"] + \"/@$T/db/d\")"
	[ "$(cat "$M/@$T/db/c/x.json")" = "{\"open\": true}" ]
	unmount_fs "$M"
'

test_expect_success 'the tools refuse a store they cannot read, clearly' '
	chmod 700 "$S"
	rc=0; as_nobody "$PITR" info "$S" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "cannot open store .*Permission denied" "$TMP/e"
'

test_done
