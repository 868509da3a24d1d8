#!/usr/bin/env bash
# Power loss: the store lives on ext4 on a loop device whose disk is
# flakydisk, a disk with a volatile write cache. Writers fsync() versions
# through the mount and record those acknowledged; at a random moment the
# power fails: a random half of the blocks written since the disk's last
# flush reach it, the rest are lost. After each recovery (ext4 replays its
# journal) every acknowledged version is readable at its timestamp, the
# current documents are whole versions some writer wrote, and pitr verify
# passes. POWERLOSS_ROUNDS=N for a longer run (default 3).
. "$(dirname "$0")/../integration/lib.sh"

ROUNDS=${POWERLOSS_ROUNDS:-3}
FLAKY=$TOP/build/tests/flakydisk
for tool in losetup mkfs.ext4 mount umount; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool is not installed"
		exit 0
	fi
done
if [ "$(id -u)" != 0 ] || ! [ -e /dev/loop-control ]; then
	echo "1..0 # SKIP loop devices need root and /dev/loop-control"
	exit 0
fi
[ -x "$FLAKY" ] || { echo "Bail out! $FLAKY missing: make all"; exit 1; }

# The disk, its loop device and the ext4 on it live outside $TMP: they
# are taken down after the daemons lib.sh kills, before anything else.
DISK=$(mktemp -d /tmp/pitrfs-disk.XXXXXX)
S=$DISK/fs/store M=$TMP/mnt
export M DISK

disk_down() {
	umount -l "$DISK/fs" 2>/dev/null || true
	if [ -f "$DISK/loopdev" ]; then
		losetup -d "$(cat "$DISK/loopdev")" 2>/dev/null || true
		rm -f "$DISK/loopdev"
	fi
	fusermount3 -uz "$DISK/flaky" 2>/dev/null || true
	pkill -9 -f "flakydisk $DISK/image" 2>/dev/null || true
}

disk_up() {
	local i dev
	mkdir -p "$DISK/flaky" "$DISK/fs"
	"$FLAKY" "$DISK/image" "$DISK/flaky" "$1" || return 1
	for i in $(seq 100); do
		[ -e "$DISK/flaky/disk" ] && break
		sleep 0.05
	done
	dev=$(losetup -f --show "$DISK/flaky/disk") || return 1
	echo "$dev" >"$DISK/loopdev"
	[ "${2:-}" != mkfs ] || mkfs.ext4 -q -F "$dev" || return 1
	mount -t ext4 "$dev" "$DISK/fs"
}

powerloss_cleanup() {
	cleanup # lib.sh: unmount pitrfs, kill its daemon, remove $TMP
	disk_down
	rm -rf "$DISK"
}
trap powerloss_cleanup EXIT

truncate -s 256M "$DISK/image"
if ! disk_up 1 mkfs; then
	echo "1..0 # SKIP cannot put ext4 on a loop device here"
	exit 0
fi
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c"

# writer ID ROUND: versions of db/c/ID-K.json until the disk dies. Before
# each attempt it logs "try<TAB>path<TAB>body"; after an fsync() that
# returned 0, "path<TAB>ts<TAB>body". Every third version is only closed:
# it may be lost, but never seen in part.
cat >"$TMP/writer.py" <<'PY'
import json, os, random, sys, time
def ts_of(p):
    # the version's timestamp, as pitr prints it: the mtime, to the ns
    ns = os.stat(p).st_mtime_ns
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + \
        ".%09dZ" % (ns % 10**9)
wid, rnd = sys.argv[1], sys.argv[2]
log = open("%s/log.%s.%s" % (os.environ["TMP"], wid, rnd), "w", buffering=1)
random.seed(wid + rnd)
i = 0
while True:
    path = "db/c/%s-%d.json" % (wid, i % 7)
    full = os.path.join(os.environ["M"], path)
    body = json.dumps({"w": wid, "round": rnd, "i": i,
                       "pad": "y" * random.randint(0, 6000)})
    log.write("try\t%s\t%s\n" % (path, body))
    try:
        fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.write(fd, body.encode())
        if i % 3:
            os.fsync(fd)
            os.close(fd)
            ts = ts_of(full)
            log.write("%s\t%s\t%s\n" % (path, ts, body))
        else:
            os.close(fd)
    except OSError:
        break
    i += 1
PY

# check: every acknowledged version of every round at its timestamp; each
# current document is a whole version that was tried.
cat >"$TMP/check.py" <<'PY'
import glob, json, os
M, TMP = os.environ["M"], os.environ["TMP"]
acked, tried = 0, set()
for f in glob.glob(TMP + "/log.*"):
    for line in open(f):
        parts = line.rstrip("\n").split("\t")
        if parts[0] == "try":
            tried.add(parts[2])
            continue
        path, ts, body = parts
        got = open("%s/@%s/%s" % (M, ts, path)).read()
        assert got == body, ("acknowledged version lost", path, ts)
        acked += 1
d = M + "/db/c"
for name in os.listdir(d):
    if "-" not in name:
        continue  # not a writer's
    body = open(os.path.join(d, name)).read()
    json.loads(body)
    assert body in tried, ("a version nobody wrote", name, body[:80])
print(acked)
PY

for r in $(seq "$ROUNDS"); do
	test_expect_success "round $r: power fails while 2 writers fsync" '
		for w in a b; do
			python3 "$TMP/writer.py" $w '"$r"' 2>/dev/null &
		done
		for i in $(seq 200); do
			n=$(cat "$TMP"/log.?.'"$r"' 2>/dev/null | grep -cv "^try" || true)
			[ "$n" -ge 4 ] && break
			sleep 0.05
		done
		sleep 0.$((RANDOM % 8 + 1))
		echo cut >"$DISK/flaky/ctl" 2>/dev/null || true
		for i in $(seq 100); do # the power is off only once it is gone
			pgrep -f "flakydisk $DISK/image" >/dev/null || break
			sleep 0.05
		done
		not pgrep -f "flakydisk $DISK/image"
		crash_fs "$M"
		wait
		disk_down
		disk_up '"$((r + 1))"'
		"$PITR" verify "$S" | grep -q ", ok$"
		mount_fs "$S" "$M"
		n=$(python3 "$TMP/check.py")
		echo "$n" >"$TMP/acked-total"
		echo "round '"$r"': $n acknowledged versions found"
		[ "$(cat "$TMP"/log.?.'"$r"' | grep -cv "^try")" -gt 0 ]
	'
done

test_expect_success 'writes go on after the last recovery' '
	write_file "$M/db/c/after.json" "{\"after\": true}"
	python3 "$TMP/check.py" >/dev/null
'
echo "# $ROUNDS power failures, $(cat "$TMP/acked-total" 2>/dev/null || echo 0) acknowledged versions checked at their timestamps"

unmount_fs "$M"
test_done
