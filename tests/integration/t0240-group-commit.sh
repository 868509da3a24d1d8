#!/usr/bin/env bash
# Group commit through the mount: 16 writers close at once, on the disk the
# test directory is on. Every close that returned 0 has its version in
# history at the timestamp stat showed after it, the live tree shows each
# file's last one, and after kill -9 of the daemon (every close returned)
# a remount finds them all.
. "$(dirname "$0")/lib.sh"

WRITERS=16 ROUNDS=25
S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c"
export M TMP

# writer ID: ROUNDS versions over ID-0.json .. ID-2.json; logs
# "path<TAB>ts<TAB>body" for each version whose close returned 0.
cat >"$TMP/writer.py" <<'PY'
import json, os, sys, time
wid, rounds = sys.argv[1], int(sys.argv[2])
def ts_of(p):
    ns = os.stat(p).st_mtime_ns
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + \
        ".%09dZ" % (ns % 10**9)
with open("%s/acked.%s" % (os.environ["TMP"], wid), "w") as log:
    for i in range(rounds):
        path = "db/c/%s-%d.json" % (wid, i % 3)
        full = os.path.join(os.environ["M"], path)
        body = json.dumps({"w": wid, "i": i, "pad": "x" * (i * 37 % 900)})
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.write(fd, body.encode())
        os.close(fd)
        log.write("%s\t%s\t%s\n" % (path, ts_of(full), body))
PY

# check: every logged version at its timestamp, and each file's last one
# live; prints "<versions> <distinct timestamps>".
cat >"$TMP/check.py" <<'PY'
import glob, os
M, TMP = os.environ["M"], os.environ["TMP"]
n, stamps, last = 0, set(), {}
for f in glob.glob(TMP + "/acked.*"):
    for line in open(f):
        path, ts, body = line.rstrip("\n").split("\t")
        got = open("%s/@%s/%s" % (M, ts, path)).read()
        assert got == body, ("version lost", path, ts, got[:60])
        last[path] = body
        stamps.add(ts)
        n += 1
for path, body in last.items():
    got = open("%s/%s" % (M, path)).read()
    assert got == body, ("live is not the last version", path)
print(n, len(stamps))
PY

test_expect_success "$WRITERS writers close at once: every version committed" '
	pids=
	for w in $(seq $WRITERS); do
		python3 "$TMP/writer.py" w$w $ROUNDS &
		pids="$pids $!"
	done
	for p in $pids; do wait $p; done
	set -- $(python3 "$TMP/check.py")
	[ "$1" = $((WRITERS * ROUNDS)) ]
	echo "$1 versions in $2 transactions" >"$TMP/stamps"
'
echo "# $(cat "$TMP/stamps" 2>/dev/null)"

test_expect_success 'kill -9 after the closes returned: nothing lost' '
	crash_fs "$M"
	mount_fs "$S" "$M"
	set -- $(python3 "$TMP/check.py")
	[ "$1" = $((WRITERS * ROUNDS)) ]
	"$PITR" verify "$S" | grep -q ", ok$"
'

test_expect_success 'a refused close in a crowd fails alone' '
	pids=
	for w in $(seq 8); do
		python3 "$TMP/writer.py" v$w 5 &
		pids="$pids $!"
	done
	expect_errno EINVAL "
fd = os.open(os.environ[\"M\"] + \"/db/c/bad.json\", os.O_WRONLY | os.O_CREAT)
os.write(fd, b\"[1, 2]\")
os.close(fd)"
	for p in $pids; do wait $p; done
	set -- $(python3 "$TMP/check.py")
	[ "$1" = $((WRITERS * ROUNDS + 8 * 5)) ]
	[ ! -e "$M/db/c/bad.json" ]
'

test_expect_success 'a scratch file renamed to a document while open commits as one at close' '
	python3 - <<-\PY
	import os
	d = os.environ["M"] + "/db/c/"
	fd = os.open(d + "draft.tmp", os.O_WRONLY | os.O_CREAT)
	os.write(fd, b"{\"draft\": 1}")
	os.rename(d + "draft.tmp", d + "draft.json")
	os.close(fd)
	PY
	[ "$(cat "$M/db/c/draft.json")" = "{\"draft\": 1}" ]
	[ ! -e "$M/db/c/draft.tmp" ]
	# a document, so in history (scratch files never are)
	T=$(ts_of "$M/db/c/draft.json")
	[ "$(cat "$M/@$T/db/c/draft.json")" = "{\"draft\": 1}" ]
'

unmount_fs "$M"
test_done
