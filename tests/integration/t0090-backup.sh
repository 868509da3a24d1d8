#!/usr/bin/env bash
# Backup media: shipping that survives a missing, read-only or full
# directory and a killed daemon; verify; restore from the media alone.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt D=$TMP/media
"$PITR" create "$S" --retention 1h
mount_fs "$S" "$M" --backup-dir "$D"
mkdir "$M/db" "$M/db/c"
echo '{"v": 1}' >"$M/db/c/x.json"

# wait_shipped: until nothing is pending (at most 20 s)
wait_shipped() {
	local i
	for i in $(seq 100); do
		"$PITR" backup "$S" status | grep -q "^pending: 0$" && return 0
		sleep 0.2
	done
	"$PITR" backup "$S" status >&2
	return 1
}

test_expect_success 'DIR missing at mount: writes succeed, status says why' '
	echo "{\"v\": 2}" >"$M/db/c/x.json"
	sleep 1.5
	"$PITR" backup "$S" status >"$TMP/st"
	grep -q "^pending: [1-9]" "$TMP/st"
	grep -q "^last-error: .*No such file or directory" "$TMP/st"
	grep -q "^latest-restorable: -$" "$TMP/st"
	"$PITR" backup "$S" status --json | python3 -c "
import json, sys
s = json.load(sys.stdin)
assert s[\"pending\"] > 0 and s[\"latest_restorable\"] is None, s"
'

test_expect_success 'DIR created: everything is shipped within seconds' '
	mkdir "$D"
	wait_shipped
	"$PITR" backup "$S" status | grep -q "^last-error: none$"
	ls "$D" | grep -q "^seg-0000000001-[0-9]\{19\}-[0-9]\{19\}.pseg$"
	grep -c "backup to .* failing" "$LOG" | grep -qx 1
	grep -q "backup to .* works again" "$LOG"
'

test_expect_success 'DIR read-only, then writable again' '
	mount --bind "$D" "$D"
	mount -o remount,ro,bind "$D"
	echo "{\"v\": 3}" >"$M/db/c/x.json"
	echo "{\"y\": 1}" >"$M/db/c/y.json"
	sleep 1.5
	"$PITR" backup "$S" status | grep -q "^last-error: .*Read-only file system"
	umount "$D"
	"$PITR" backup "$S" flush | grep -q "^flushed [1-9]"
	"$PITR" backup "$S" status | grep -q "^pending: 0$"
'

test_expect_success 'DIR full: writes still succeed, shipping resumes when space comes back' '
	mkdir "$TMP/small"
	mount -t tmpfs -o size=256k tmpfs "$TMP/small"
	"$PITR" create "$TMP/s2"
	mount_fs "$TMP/s2" "$TMP/m2" --backup-dir "$TMP/small/media"
	mkdir "$TMP/small/media" "$TMP/m2/d" "$TMP/m2/d/c"
	dd if=/dev/zero of="$TMP/small/filler" bs=64k count=3 status=none 2>/dev/null || true
	python3 -c "
import os, random, sys
random.seed(3)
for i in range(60):
    with open(os.path.join(sys.argv[1], \"n%d.json\" % i), \"w\") as f:
        f.write(\"{\\\"r\\\": \\\"%x\\\"}\" % random.getrandbits(8000))" "$TMP/m2/d/c"
	"$PITR" backup "$TMP/s2" flush 2>"$TMP/e" && exit 1
	grep -q "No space left on device" "$TMP/e"
	[ "$(ls "$TMP/m2/d/c" | wc -l)" = 60 ]
	rm "$TMP/small/filler"
	"$PITR" backup "$TMP/s2" flush | grep -q "^flushed"
	"$PITR" verify "$TMP/small/media" | grep -q "ok; complete up to"
	unmount_fs "$TMP/m2"
	umount "$TMP/small"
'

test_expect_success 'kill -9 while shipping: nothing lost, nothing twice' '
	python3 -c "
import os, sys
for i in range(3000):
    with open(os.path.join(sys.argv[1], \"k%d.json\" % (i % 300)), \"w\") as f:
        f.write(\"{\\\"i\\\": %d}\" % i)" "$M/db/c"
	crash_fs "$M"
	mount_fs "$S" "$M"
	wait_shipped
	"$PITR" verify "$D" | grep -q "ok; complete up to"
	T=$("$PITR" backup "$S" status | sed -n "s/^latest-restorable: //p")
	"$PITR" restore "$D" "$TMP/fromb" --from-backup --at "$T" 2>/dev/null
	mount_fs "$TMP/fromb" "$TMP/fbm"
	diff -r "$M/@$T/" "$TMP/fbm/"
	unmount_fs "$TMP/fbm"
'

test_expect_success 'renamed containers and databases: the store and the media verify and restore' '
	mkdir "$M/rn" "$M/rn/c"
	echo "{\"before\": 1}" >"$M/rn/c/a.json"
	mv "$M/rn/c" "$M/rn/c2"
	echo "{\"after\": 1}" >"$M/rn/c2/b.json"
	mv "$M/rn" "$M/rn2"
	echo "{\"later\": 1}" >"$M/rn2/c2/c.json"
	T=$(ts_of "$M/rn2/c2/c.json")
	wait_shipped
	"$PITR" verify "$S" | grep -q "records checked, ok$"
	"$PITR" verify "$D" | grep -q "ok; complete up to"
	"$PITR" restore "$D" "$TMP/fromrn" --from-backup --at "$T" 2>/dev/null
	"$PITR" verify "$TMP/fromrn" | grep -q "records checked, ok$"
	mount_fs "$TMP/fromrn" "$TMP/rnm"
	diff -r "$M/@$T/" "$TMP/rnm/"
	[ "$(ls "$TMP/rnm/rn2/c2")" = "a.json
b.json
c.json" ]
	unmount_fs "$TMP/rnm"
'

test_expect_success 'lost last segments are found, and restore refuses what they held' '
	"$PITR" backup "$S" flush >/dev/null
	last=$(ls "$D"/seg-*.pseg | tail -1)
	cp -a "$D" "$TMP/lost"
	rm "$TMP/lost/$(basename "$last")"
	rc=0; "$PITR" verify "$TMP/lost" >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	seq=$(basename "$last" | cut -d- -f2)
	grep -q "seg-$seq-\*: missing" "$TMP/v"
	T=$("$PITR" backup "$S" status | sed -n "s/^latest-restorable: //p")
	rc=0; "$PITR" restore "$TMP/lost" "$TMP/lostr" --from-backup --at "$T" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "complete only up to" "$TMP/e"
	[ ! -e "$TMP/lostr" ]
	rm "$TMP/lost"/seg-*.pseg
	rc=0; "$PITR" verify "$TMP/lost" >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	grep -q "seg-0000000001-\*.*: missing" "$TMP/v"
	mf=$(ls "$TMP/lost"/manifest-* | tail -1)
	sed "s/^seq: .*/seq: 99999999999/" "$mf" >"$TMP/lost/manifest-9999999998"
	rc=0; timeout 10 "$PITR" verify "$TMP/lost" >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	[ "$(grep -c missing "$TMP/v")" = 1 ]
	echo "garbage" >"$TMP/lost/manifest-9999999999"
	rc=0; timeout 10 "$PITR" verify "$TMP/lost" >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	grep -q "manifest-9999999999: damaged" "$TMP/v"
	mkdir "$TMP/nomedia"
	for d in "$TMP/nomedia" /etc; do
		rc=0; "$PITR" verify "$d" 2>"$TMP/e" || rc=$?
		[ $rc = 1 ]
		grep -q "not a backup directory" "$TMP/e"
	done
	rc=0; "$PITR" restore "$S" "$TMP/notm" --from-backup --at -0s 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "not a backup directory" "$TMP/e"
	[ ! -e "$TMP/notm" ]
'

test_expect_success 'the primary store lost: restore from the media equals the views' '
	echo "{\"late\": 1}" >"$M/db/c/late.json"
	T=$(ts_of "$M/db/c/late.json")
	rm -r "$M/db/c/k1.json" "$M/db/c/k2.json"
	wait_shipped
	mkdir "$TMP/saved"
	cp -a "$M/@$T/." "$TMP/saved/"
	"$PITR" restore "$S" "$TMP/fromlive" --at "$T" 2>/dev/null
	unmount_fs "$M"
	rm -rf "$S"
	"$PITR" restore "$D" "$TMP/fromb2" --from-backup --at "$T" 2>/dev/null
	mount_fs "$TMP/fromb2" "$TMP/fb2"
	mount_fs "$TMP/fromlive" "$TMP/fl"
	diff -r "$TMP/saved" "$TMP/fb2"
	diff -r "$TMP/fl" "$TMP/fb2"
	unmount_fs "$TMP/fb2"
	unmount_fs "$TMP/fl"
'

test_expect_success 'restore --from-backup --at -0s: the latest instant the media prove complete' '
	T=$("$PITR" verify "$D" | sed -n "s/.* ok; complete up to //p")
	[ -n "$T" ]
	"$PITR" restore "$D" "$TMP/latest" --from-backup --at -0s 2>"$TMP/e"
	grep -q "at $T into" "$TMP/e"
	"$PITR" restore "$D" "$TMP/atT" --from-backup --at "$T" 2>/dev/null
	mount_fs "$TMP/latest" "$TMP/lm"
	mount_fs "$TMP/atT" "$TMP/tm"
	diff -r "$TMP/tm" "$TMP/lm"
	[ -e "$TMP/lm/db/c/late.json" ]
	[ ! -e "$TMP/lm/db/c/k1.json" ]
	unmount_fs "$TMP/lm"
	unmount_fs "$TMP/tm"
	# relative times count back from there, not from now
	"$PITR" restore "$D" "$TMP/before" --from-backup --at -1s 2>"$TMP/e"
	X=$(sed -n "s/^restored .* at \(.*\) into .*/\1/p" "$TMP/e")
	python3 -c "
import datetime, sys
def ns(t):
    d = datetime.datetime.strptime(t[:19], \"%Y-%m-%dT%H:%M:%S\")
    return int(d.replace(tzinfo=datetime.timezone.utc).timestamp()) * 10**9 + int(t[20:29])
assert ns(sys.argv[1]) - ns(sys.argv[2]) == 10**9, sys.argv" "$T" "$X"
'

test_expect_success 'a short window ends where the media end, not at the end of the replay' '
	# an account of a 2 s window whose media ended more than 2 s ago (as
	# when a replay takes longer than the window): -0s and the media s
	# last instant still restore, an instant before the window does not
	mkdir "$TMP/d7"
	"$PITR" create "$TMP/s7" --retention 2s
	mount_fs "$TMP/s7" "$TMP/m7" --backup-dir "$TMP/d7"
	mkdir "$TMP/m7/d" "$TMP/m7/d/c"
	echo "{\"w\": 7}" >"$TMP/m7/d/c/w.json"
	"$PITR" backup "$TMP/s7" flush >/dev/null
	unmount_fs "$TMP/m7"
	T=$("$PITR" verify "$TMP/d7" | sed -n "s/.* ok; complete up to //p")
	[ -n "$T" ]
	sleep 3
	"$PITR" restore "$TMP/d7" "$TMP/r7" --from-backup --at -0s 2>"$TMP/e"
	grep -q "at $T into" "$TMP/e"
	"$PITR" restore "$TMP/d7" "$TMP/r7b" --from-backup --at "$T" 2>/dev/null
	mount_fs "$TMP/r7" "$TMP/rm7"
	jq -e ".w == 7" "$TMP/rm7/d/c/w.json" >/dev/null
	unmount_fs "$TMP/rm7"
	rc=0; "$PITR" restore "$TMP/d7" "$TMP/r7c" --from-backup --at -3s \
		2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "outside the backup.s restorable window" "$TMP/e"
	[ ! -e "$TMP/r7c" ]
'

test_expect_success 'a corrupted byte is found by pitr verify, and restore refuses what it cannot prove' '
	last=$(ls "$D"/seg-*.pseg | tail -1)
	first=$(ls "$D"/seg-*.pseg | head -1)
	python3 -c "
import sys
p = sys.argv[1]
b = bytearray(open(p, \"rb\").read())
# the middle of the payload, after the 76-byte header (a segment of a
# single small record is short enough for the middle of the whole to fall
# in the header, which verify reports as such)
b[76 + (len(b) - 76) // 2] ^= 0x40
open(p, \"wb\").write(b)" "$last"
	rc=0; "$PITR" verify "$D" >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	grep -q "damaged: $(basename "$last"): payload checksum mismatch" "$TMP/v" ||
		{ ls -l "$D" >&2; cat "$TMP/v" >&2; false; }
	rc=0; "$PITR" restore "$D" "$TMP/bad" --from-backup --at 2500-01-01T00:00:00Z 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "complete only up to" "$TMP/e"
	[ ! -e "$TMP/bad" ]
	# -0s: the latest instant before the damage, and it says so
	T=$("$PITR" verify "$D" | sed -n "s/.* DAMAGED; complete up to //p")
	[ -n "$T" ] && [ "$T" != - ]
	"$PITR" restore "$D" "$TMP/bad0" --from-backup --at -0s 2>"$TMP/e"
	grep -q "damaged after $T" "$TMP/e"
	grep -q "at $T into" "$TMP/e"
	[ -d "$TMP/bad0" ]
	not grep -q replay <(ls "$TMP")
'

test_expect_success 'nothing unshipped is pruned' '
	"$PITR" create "$TMP/s3" --retention 2s
	mount_fs "$TMP/s3" "$TMP/m3" --backup-dir "$TMP/nowhere"
	mkdir "$TMP/m3/d" "$TMP/m3/d/c"
	for i in 1 2 3; do echo "{\"i\": $i}" >"$TMP/m3/d/c/a.json"; done
	sleep 3
	"$PITR" prune "$TMP/s3" --dry-run | grep -q "^would remove 0 document versions"
	"$PITR" log "$TMP/s3" d/c/a.json | grep -c "create\|replace" | grep -qx 3
	"$PITR" prune "$TMP/s3" | grep -q "^removed 0 document versions"
	"$PITR" log "$TMP/s3" d/c/a.json | grep -c "create\|replace" | grep -qx 3
	mkdir "$TMP/nowhere"
	"$PITR" backup "$TMP/s3" flush >/dev/null
	for i in $(seq 50); do
		n=$("$PITR" log "$TMP/s3" d/c/a.json | grep -c "create\|replace")
		[ "$n" = 1 ] && break
		sleep 0.2
	done
	[ "$n" = 1 ]
	unmount_fs "$TMP/m3"
'

test_expect_success 'an ACCOUNT file that cannot be read as one is refused, never replaced' '
	"$PITR" create "$TMP/s4"
	mkdir "$TMP/d4"
	head -c 3000 /dev/zero | tr "\\0" x >"$TMP/d4/ACCOUNT"
	cp "$TMP/d4/ACCOUNT" "$TMP/account.before"
	"$PITR" backup "$TMP/s4" set "$TMP/d4" >/dev/null
	test_must_fail "$PITR" backup "$TMP/s4" flush 2>/dev/null
	cmp "$TMP/account.before" "$TMP/d4/ACCOUNT"
	"$PITR" backup "$TMP/s4" status | grep -q "^last-error: $TMP/d4: "
'

test_expect_success 'ACCOUNT says version 2; a newer one is refused as newer, never replaced' '
	"$PITR" create "$TMP/s5"
	mount_fs "$TMP/s5" "$TMP/m5"
	mkdir -p "$TMP/m5/d/c"
	echo "{\"a\": 1}" >"$TMP/m5/d/c/x.json"
	unmount_fs "$TMP/m5"
	mkdir "$TMP/d5"
	"$PITR" backup "$TMP/s5" set "$TMP/d5" >/dev/null
	"$PITR" backup "$TMP/s5" flush >/dev/null
	[ "$(head -1 "$TMP/d5/ACCOUNT")" = "pitr-backup 2" ]
	"$PITR" verify "$TMP/d5" | grep -q ", ok; complete up to"
	cp -a "$TMP/d5" "$TMP/d6"
	sed -i "1s/.*/pitr-backup 3/" "$TMP/d6/ACCOUNT"
	cp "$TMP/d6/ACCOUNT" "$TMP/account6"
	rc=0; "$PITR" verify "$TMP/d6" >/dev/null 2>"$TMP/e" || rc=$?
	[ "$rc" = 1 ]
	grep -q "newer on-disk format" "$TMP/e"
	test_must_fail "$PITR" restore "$TMP/d6" "$TMP/r6" --from-backup --at -0s 2>"$TMP/e"
	grep -q "newer on-disk format" "$TMP/e"
	[ ! -e "$TMP/r6" ]
	"$PITR" backup "$TMP/s5" set "$TMP/d6" >/dev/null
	test_must_fail "$PITR" backup "$TMP/s5" flush 2>"$TMP/e"
	grep -q "newer on-disk format" "$TMP/e"
	cmp "$TMP/account6" "$TMP/d6/ACCOUNT"
	# damage, not a version: a leading zero, no number, zero
	for v in 02 x 0 ""; do
		sed "1s/.*/pitr-backup $v/" "$TMP/account6" >"$TMP/d6/ACCOUNT"
		"$PITR" verify "$TMP/d6" 2>&1 | grep -q "^damaged: ACCOUNT" ||
			{ echo "version \"$v\" not read as damage" >&2; false; }
	done
'

test_done
