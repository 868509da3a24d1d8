#!/usr/bin/env bash
# A daemon in the background (no -f: forked after opening its store) keeps
# LMDB's record locks on the store's lock file, so that `pitr backup
# status` run while documents are written cannot reset the lock file, the
# write lock included, under the daemon's feet. Without them, a write
# waited for ever for a write lock no one held, its writer blocked with it.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt D=$TMP/media
K=$(key_of "$M")
"$PITR" create "$S" >/dev/null
mkdir -p "$M" "$D"

# mount_fs runs the daemon in the foreground: this one goes to the
# background itself, and is found by its mount point (unique under $TMP)
test_expect_success 'a daemon mounts in the background' '
	echo "$M" >>"$TMP/mounts"
	"$PITRFS" --backup-dir "$D" --log-file="$LOG" "$S" "$M"
	for i in $(seq 200); do mountpoint -q "$M" && break; sleep 0.05; done
	mountpoint -q "$M"
	pgrep -f -x "$PITRFS --backup-dir $D --log-file=$LOG $S $M" >"$TMP/pid.$K"
	test "$(wc -l <"$TMP/pid.$K")" = 1
	mkdir "$M/db" "$M/db/c"
	echo "{\"n\": 0}" >"$M/db/c/d0.json"
'

# What LMDB does at every open: the first to take a write lock on the
# first byte of lock.mdb is alone, and initialises the file anew.
test_expect_success 'no other process can take LMDB'"'"'s exclusive lock' '
	expect_errno EAGAIN "
import fcntl
fd = os.open(\"$S/lock.mdb\", os.O_RDWR)
try:
    fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB, 1, 0)
finally:
    os.close(fd)
"
'

test_expect_success 'the daemon holds its reader lock under its own pid' '
	ino=$(stat -c %i "$S/lock.mdb")
	pid=$(cat "$TMP/pid.$K")
	grep -E "POSIX +ADVISORY +[A-Z]+ +$pid [0-9a-f:]+:$ino " /proc/locks
'

# The hang itself, bounded: writes through the mount while backup status
# opens the store again and again; every write must end.
test_expect_success 'writes go on while backup status runs in a loop' '
	touch "$TMP/go"
	(
		while [ -e "$TMP/go" ]; do
			timeout 20 "$PITR" backup "$S" status >/dev/null ||
				echo "status: $?" >>"$TMP/status.err"
		done
	) &
	loop=$!
	rc=0
	timeout 120 python3 - "$M/db/c" <<-EOF || rc=$?
	import sys
	for i in range(1500):
	    with open("%s/d%d.json" % (sys.argv[1], i % 100), "w") as f:
	        f.write("{\"n\": %d}" % i)
	EOF
	rm "$TMP/go"
	wait $loop
	test "$rc" = 0
	! [ -s "$TMP/status.err" ]
	grep -q "\"n\": 1499" "$M/db/c/d99.json"
'

test_expect_success 'unmount: the daemon exits and the store verifies' '
	pid=$(cat "$TMP/pid.$K")
	fusermount3 -u "$M"
	for i in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
	not kill -0 "$pid" 2>/dev/null
	verify_ok "$S"
'

test_done
