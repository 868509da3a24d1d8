#!/usr/bin/env bash
# Recovering from an accident: find the instant with pitr events, restore
# into a new account, and compare with the view at that instant.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
cp -a "$TOP/examples/data/." "$M/"
echo '{"extra": true}' >"$M/blog/posts/extra.json"
sleep 0.05
rm -r "$M/shop/orders"
echo '{"after": 1}' >"$M/blog/posts/after.json"

test_expect_success 'pitr events shows the delete and when the container was last full' '
	"$PITR" events "$S" --database shop --container orders >"$TMP/ev"
	grep -q "delete-container  shop .* orders" "$TMP/ev"
	"$PITR" events "$S" --json | python3 -c "
import json, sys
evs = [json.loads(l) for l in sys.stdin]
d = [e for e in evs if e[\"event\"] == \"delete-container\"][0]
assert d[\"database\"] == \"shop\" and d[\"container\"] == \"orders\", d
assert d[\"last_full\"] < d[\"time\"], d
print(d[\"last_full\"])" >"$TMP/before"
	T=$(cat "$TMP/before")
	[ "$(ls "$M/@$T/shop/orders" | wc -l)" = 8 ]
'

test_expect_success 'pitr diff from one instant to another, either way, and a filter that never existed' '
	E=$(ts_of "$M/blog/posts/extra.json")
	A=$(ts_of "$M/blog/posts/after.json")
	"$PITR" diff "$S" "$E" "$A" >"$TMP/d1"
	grep -qx "added    blog/posts/after.json" "$TMP/d1"
	grep -qx "deleted  shop/orders/order-1001.json" "$TMP/d1"
	[ "$(grep -c "shop/orders/" "$TMP/d1")" = 8 ]
	"$PITR" diff "$S" "$A" "$E" >"$TMP/d2"
	grep -qx "deleted  blog/posts/after.json" "$TMP/d2"
	grep -qx "added    shop/orders/order-1001.json" "$TMP/d2"
	[ "$("$PITR" diff "$S" "$E" "$A" blog | wc -l)" = 1 ]
	"$PITR" diff "$S" "$E" "$A" shop/orders --json | python3 -c "
import json, sys
evs = [json.loads(l) for l in sys.stdin]
assert len(evs) == 8 and all(e[\"change\"] == \"deleted\" for e in evs), evs"
	rc=0; "$PITR" diff "$S" "$E" "$A" nope 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "did not exist" "$TMP/e"
	rc=0; "$PITR" diff "$S" "$E" "$A" shop/nope 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	mkdir "$M/dd" "$M/dd/c"
	echo "{\"d\": 1}" >"$M/dd/c/d1.json"
	D1=$(ts_of "$M/dd/c/d1.json")
	echo "{\"d\": 2}" >"$M/dd/c/d2.json"
	D2=$(ts_of "$M/dd/c/d2.json")
	mv "$M/dd" "$M/dd2"
	[ "$("$PITR" diff "$S" "$D1" "$D2" dd | wc -l)" = 1 ]
	[ "$("$PITR" diff "$S" "$D1" "$D2" dd/c | wc -l)" = 1 ]
	rm -r "$M/dd2"
'

test_expect_success 'restore at that instant brings the container back, mounted' '
	T=$(cat "$TMP/before")
	mkdir "$TMP/rmnt"
	echo "$TMP/rmnt" >>"$TMP/mounts"
	"$PITR" restore "$S" "$TMP/restored" --at "$T" --mount "$TMP/rmnt" 2>"$TMP/out"
	grep -q "into .*restored.: 30 documents" "$TMP/out"
	diff -r "$M/@$T/" "$TMP/rmnt/"
	cmp "$TOP/examples/data/shop/orders/order-1001.json" "$TMP/rmnt/shop/orders/order-1001.json"
	[ ! -e "$TMP/rmnt/blog/posts/after.json" ]
	fusermount3 -u "$TMP/rmnt"
'

test_expect_success 'the restored account has its own history and default policy' '
	"$PITR" info "$TMP/restored" >"$TMP/info"
	grep -q "^account: *restored$" "$TMP/info"
	grep -q "continuous, retention 30d" "$TMP/info"
	"$PITR" events "$TMP/restored" | grep -c create-container | grep -qx 5
'

test_expect_success 'selective restore holds exactly the selection' '
	T=$(cat "$TMP/before")
	"$PITR" restore "$S" "$TMP/sel" --at "$T" --database shop/orders --database blog 2>/dev/null
	mount_fs "$TMP/sel" "$TMP/selm"
	[ "$(ls "$TMP/selm" | tr "\n" " ")" = "blog shop " ]
	[ "$(ls "$TMP/selm/shop")" = orders ]
	[ "$(ls "$TMP/selm/blog" | tr "\n" " ")" = "comments posts " ]
	diff -r "$M/@$T/shop/orders" "$TMP/selm/shop/orders"
	diff -r "$M/@$T/blog" "$TMP/selm/blog"
	unmount_fs "$TMP/selm"
'

test_expect_success 'restore at a +05:30 offset time' '
	T=$(cat "$TMP/before")
	sec=${T%%.*}; frac=${T#*.}; frac=${frac%Z}
	ist=$(date -u -d "${sec}Z + 330 minutes" +%Y-%m-%dT%H:%M:%S).${frac}+05:30
	"$PITR" restore "$S" "$TMP/ist" --at "$ist" --database shop 2>/dev/null
	mount_fs "$TMP/ist" "$TMP/istm"
	diff -r "$M/@$T/shop" "$TMP/istm/shop"
	unmount_fs "$TMP/istm"
'

test_expect_success 'refusals: each with its message and exit status, nothing created' '
	T=$(cat "$TMP/before")
	rc=0; "$PITR" restore "$S" "$TMP/restored" --at "$T" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "it exists; restore creates a new account" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/no/such/t" --at "$T" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "no parent directory" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at "$T" --database nope 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "database .nope. did not exist at" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at "$T" --database shop/nope 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "container .shop/nope. did not exist at" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at 2001-01-01T00:00:00Z 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "outside the restorable window \[" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at 2500-01-01T00:00:00Z 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "outside the restorable window" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at yesterday 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]
	grep -q "invalid time .yesterday." "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]
	grep -q "usage: pitr restore" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at "$T" --database "a#b" 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]
	for sel in shop/orders/x /shop shop/; do
		rc=0; "$PITR" restore "$S" "$TMP/t1" --at "$T" --database "$sel" 2>"$TMP/e" || rc=$?
		[ $rc = 2 ]
		grep -q "invalid --database .$sel." "$TMP/e"
	done
	rc=0; "$PITR" restore "$S" "" --at "$T" 2>"$TMP/e" || rc=$?
	[ $rc = 2 ]
	grep -q "TARGET must not be empty" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at "$T" --mount "$TMP/nomnt" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "cannot mount at .*nomnt.: No such file or directory" "$TMP/e"
	mkdir "$TMP/bm"
	mount --bind "$TMP/bm" "$TMP/bm"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at "$T" --mount "$TMP/bm/" 2>"$TMP/e" || rc=$?
	umount "$TMP/bm"
	[ $rc = 1 ]
	grep -q "something is mounted there" "$TMP/e"
	rc=0; "$PITR" restore "$S" "$TMP/t1" --at "$T" --mount "$M" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "something is mounted there" "$TMP/e"
	rc=0; "$PITR" restore "$TMP/plain-nothing" "$TMP/t1" --at "$T" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "cannot open store" "$TMP/e"
	[ ! -e "$TMP/t1" ]
	not grep -q restoring <(ls "$TMP")
'

test_expect_success 'a full disk: ENOSPC, exit 1, nothing left behind' '
	mkdir "$TMP/full"
	for size in 32k 48k 64k; do
		mount -t tmpfs -o size=$size tmpfs "$TMP/full"
		rc=0; "$PITR" restore "$S" "$TMP/full/r" --at -0s 2>"$TMP/e" || rc=$?
		[ $rc = 1 ] || { cat "$TMP/e" >&2; echo "size $size: exit $rc" >&2; false; }
		grep -q "No space left on device" "$TMP/e"
		[ -z "$(ls -A "$TMP/full")" ]
		umount "$TMP/full"
	done
	"$PITR" verify "$S" | grep -q "records checked, ok$"
'

test_expect_success 'TARGET paths: a symlinked parent works, a symlink TARGET is refused' '
	T=$(cat "$TMP/before")
	mkdir "$TMP/real"
	ln -s "$TMP/real" "$TMP/link"
	"$PITR" restore "$S" "$TMP/link/viaLink" --at "$T" --database blog 2>/dev/null
	"$PITR" info "$TMP/real/viaLink" | grep -q "^account: *viaLink$"
	ln -s "$TMP/nowhere" "$TMP/dangling"
	rc=0; "$PITR" restore "$S" "$TMP/dangling" --at "$T" 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "it exists" "$TMP/e"
	[ ! -e "$TMP/nowhere" ]
	"$PITR" restore "$S" "$TMP/real/../dotdot" --at "$T" --database blog 2>/dev/null
	[ -d "$TMP/dotdot" ]
'

test_expect_success 'a deleted database can be restored' '
	rm -r "$M/crm" 2>/dev/null || true
	mkdir "$M/gone" "$M/gone/c"
	echo "{\"g\": 1}" >"$M/gone/c/g.json"
	G=$(ts_of "$M/gone/c/g.json")
	rm -r "$M/gone"
	"$PITR" restore "$S" "$TMP/gone" --at "$G" --database gone 2>/dev/null
	mount_fs "$TMP/gone" "$TMP/gonem"
	[ "$(cat "$TMP/gonem/gone/c/g.json")" = "{\"g\": 1}" ]
	unmount_fs "$TMP/gonem"
'

test_expect_success 'events name a renamed database as it was named then, and restore takes that name' '
	mkdir "$M/rn" "$M/rn/c1"
	echo "{\"r\": 1}" >"$M/rn/c1/r.json"
	R=$(ts_of "$M/rn/c1/r.json")
	mv "$M/rn" "$M/rn2"
	mkdir "$M/rn2/c2"
	"$PITR" events "$S" >"$TMP/rnev"
	grep -q "create-container  rn  .* c1 " "$TMP/rnev"
	grep -q "create-container  rn2 .* c2 " "$TMP/rnev"
	[ "$("$PITR" events "$S" --database rn --container c1 | grep -c create-container)" = 1 ]
	"$PITR" restore "$S" "$TMP/rnr" --at "$R" --database rn/c1 2>/dev/null
	mount_fs "$TMP/rnr" "$TMP/rnrm"
	[ "$(cat "$TMP/rnrm/rn/c1/r.json")" = "{\"r\": 1}" ]
	unmount_fs "$TMP/rnrm"
'

test_expect_success 'kill -9 of a restore half-way leaves no TARGET, and a retry works' '
	mkdir "$M/big" "$M/big/c"
	python3 -c "
import os, sys
for i in range(20000):
    with open(os.path.join(sys.argv[1], \"d%05d.json\" % i), \"w\") as f:
        f.write(\"{\\\"i\\\": %d, \\\"pad\\\": \\\"%s\\\"}\" % (i, \"x\" * 200))" "$M/big/c"
	"$PITR" restore "$S" "$TMP/killed" --at -0s 2>/dev/null &
	pid=$!
	for i in $(seq 2000); do
		ls "$TMP" | grep -q "killed.restoring" && break
		sleep 0.001
	done
	kill -9 $pid
	wait $pid 2>/dev/null || true
	[ ! -e "$TMP/killed" ]
	"$PITR" restore "$S" "$TMP/killed" --at -0s 2>/dev/null
	[ -d "$TMP/killed" ]
	not grep -q "killed.restoring" <(ls "$TMP")
	"$PITR" info "$TMP/killed" | grep -q "^account: *killed$"
'

test_expect_success 'restore while the source is written reads one snapshot' '
	python3 -c "
import os, sys, time
end = time.time() + 2
i = 0
while time.time() < end:
    with open(os.path.join(sys.argv[1], \"w%d.json\" % (i % 50)), \"w\") as f:
        f.write(\"{\\\"i\\\": %d}\" % i)
    i += 1" "$M/big/c" &
	w=$!
	sleep 0.3
	"$PITR" restore "$S" "$TMP/live" --at -0s --database big 2>"$TMP/out"
	wait $w
	T=$(sed -n "s/.* at \([^ ]*\) into .*/\1/p" "$TMP/out")
	mount_fs "$TMP/live" "$TMP/livem"
	diff -r "$M/@$T/big" "$TMP/livem/big"
	unmount_fs "$TMP/livem"
'

unmount_fs "$M"
test_expect_success 'the store and every restored account verify' '
	find "$TMP" -xdev -maxdepth 3 -name data.mdb >"$TMP/stores"
	[ "$(wc -l <"$TMP/stores")" -gt 2 ]
	while read -r f; do
		verify_ok "${f%/data.mdb}" || return 1
	done <"$TMP/stores"
'

test_done
