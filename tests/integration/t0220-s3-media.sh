#!/usr/bin/env bash
# Backup media on an S3 object store, against a real single-node Ceph
# (radosgw): shipping while writing flat out, the gateway killed and back,
# a full bucket, a read-only one, a throttling gateway, wrong credentials,
# a second writer, the store lost and restored from the bucket, damaged or
# missing segments, and a killed daemon.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/ceph.sh"

ceph_start || { echo "Bail out! the Ceph cluster did not start (logs in $CEPH_DIR/log)"; exit 1; }

S=$TMP/store M=$TMP/mnt U=s3://$S3_BUCKET/acct1
"$PITR" create "$S" --retention 1h >/dev/null
mount_fs "$S" "$M" --backup-url "$U"
mkdir "$M/db" "$M/db/c"

# wait_shipped STORE: until nothing is pending (at most 60 s)
wait_shipped() {
	local i
	for i in $(seq 300); do
		"$PITR" backup "$1" status | grep -q "^pending: 0$" && return 0
		sleep 0.2
	done
	"$PITR" backup "$1" status >&2
	return 1
}

# until STORE's last error matches PATTERN (at most 60 s)
wait_error() {
	local i
	for i in $(seq 300); do
		"$PITR" backup "$1" status | grep -q "^last-error: .*$2" && return 0
		sleep 0.2
	done
	"$PITR" backup "$1" status >&2
	return 1
}

# until STORE's last shipping call ended without error (at most 60 s):
# the pending count reaches 0 a moment before that call returns
wait_clean() {
	local i
	for i in $(seq 300); do
		"$PITR" backup "$1" status | grep -q "^last-error: none$" && return 0
		sleep 0.2
	done
	"$PITR" backup "$1" status >&2
	return 1
}

# keys under a prefix of the bucket
keys() {
	s3 GET "/$S3_BUCKET?list-type=2&prefix=${1//\//%2F}" | tr '<' '\n' | sed -n 's/^Key>//p'
}

# until a PUT of a probe object (outside every account's prefix) is
# refused with the S3 error CODE: the gateway enforces what was just set
# (at most 30 s)
wait_refused() {
	local i
	for i in $(seq 150); do
		s3 PUT "/$S3_BUCKET/probe-$1-$i" --data-binary probe \
			-o "$TMP/probe" -w "%{http_code}" | grep -q "^403$" &&
			grep -q "<Code>$1<" "$TMP/probe" && return 0
		sleep 0.2
	done
	cat "$TMP/probe" >&2
	return 1
}

# the bucket full: a quota of as many objects as it holds
bucket_full() {
	local n
	n=$(ceph_c radosgw-admin bucket stats --bucket "$S3_BUCKET" |
		jq '.usage["rgw.main"].num_objects // 0')
	ceph_c radosgw-admin quota set --quota-scope=bucket \
		--bucket "$S3_BUCKET" --max-objects "$n" >/dev/null
	ceph_c radosgw-admin quota enable --quota-scope=bucket \
		--bucket "$S3_BUCKET" >/dev/null
	wait_refused QuotaExceeded
}

bucket_unfull() {
	ceph_c radosgw-admin quota disable --quota-scope=bucket \
		--bucket "$S3_BUCKET" >/dev/null
}

# the bucket read-only: a bucket policy denies s3:PutObject to everyone
bucket_readonly() {
	printf '{"Version": "2012-10-17", "Statement": [{"Effect": "Deny",
 "Principal": "*", "Action": "s3:PutObject",
 "Resource": "arn:aws:s3:::%s/*"}]}' "$S3_BUCKET" >"$TMP/policy"
	s3 PUT "/$S3_BUCKET?policy=" --data-binary @"$TMP/policy" \
		-o /dev/null -w "%{http_code}" | grep -q "^20[04]$"
	wait_refused AccessDenied
}

bucket_writable() {
	s3 DELETE "/$S3_BUCKET?policy=" -o /dev/null -w "%{http_code}" |
		grep -q "^20[04]$"
}

# true once the daemon's log has at least N lines matching PATTERN
log_has() {
	[ "$(grep -c "$2" "$LOG")" -ge "$1" ]
}

# refused_by START LIFT WHY PREFIX: START makes the bucket (or the
# gateway) refuse every PUT with an error matching WHY. Writes through the
# mount go on, every one; status shows the lag, the pending mutations and WHY; nothing
# refused counts as shipped (latest-restorable stays before the first
# write); a flush fails with WHY; the daemon says it is failing once.
# Then LIFT: everything ships, the bucket verifies, and a restore from it
# equals the live store at the same instant, with every write in it.
refused_by() {
	local start=$1 lift=$2 why=$3 p=$4 failing works first T r=$TMP/r-$4
	failing=$(grep -c "backup to '$U' failing, will retry" "$LOG" || :)
	works=$(grep -c "backup to '$U' works again" "$LOG" || :)
	$start
	write_flat "$M/db/c" "$p" 300
	[ "$(ls "$M/db/c" | grep -c "^$p")" = 300 ]
	first=$(ts_of "$M/db/c/${p}0.json")
	wait_error "$S" "$why"
	test_must_fail "$PITR" backup "$S" flush 2>"$TMP/e"
	grep -q "$why" "$TMP/e"
	"$PITR" backup "$S" status --json >"$TMP/st"
	jq -e ".pending >= 300 and .lag_ns > 0" "$TMP/st" >/dev/null
	jq -r .last_error "$TMP/st" | grep -q "$why"
	T=$(jq -r .latest_restorable "$TMP/st")
	[[ "$T" < "$first" ]]
	wait_for 10 log_has $((failing + 1)) "backup to '$U' failing, will retry"
	$lift
	wait_shipped "$S"
	wait_clean "$S"
	wait_for 10 log_has $((works + 1)) "backup to '$U' works again"
	# once per change of state, not once per try
	[ "$(grep -c "backup to '$U' failing, will retry" "$LOG")" = $((failing + 1)) ]
	"$PITR" verify "$U" | grep -q "ok; complete up to"
	T=$("$PITR" backup "$S" status | sed -n "s/^latest-restorable: //p")
	[[ ! "$T" < "$(ts_of "$M/db/c/${p}299.json")" ]]
	"$PITR" restore "$U" "$r" --from-backup --at "$T" 2>/dev/null
	mount_fs "$r" "${r}m"
	diff -r "$M/@$T/" "${r}m/"
	[ "$(ls "${r}m/db/c" | grep -c "^$p")" = 300 ]
	unmount_fs "${r}m"
}

# write N documents, the I-th named PREFIX(I mod 500), as fast as they go
write_flat() {
	python3 -c "
import os, sys
d, p, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
for i in range(n):
    with open(os.path.join(d, '%s%d.json' % (p, i % 500)), 'w') as f:
        f.write('{\"i\": %d, \"pad\": \"%s\"}' % (i, 'x' * 900))" "$@"
}

test_expect_success 'writing flat out: everything ships, the bucket verifies' '
	write_flat "$M/db/c" a 3000
	wait_shipped "$S"
	wait_clean "$S"
	"$PITR" verify "$U" | grep -q "segments checked, ok; complete up to"
	keys acct1/ | grep -q "^acct1/seg-0000000001-[0-9]\{19\}-[0-9]\{19\}\.pseg$"
	keys acct1/ | grep -q "^acct1/manifest-[0-9]\{10\}$"
	keys acct1/ | grep -qx "acct1/ACCOUNT"
'

test_expect_success 'the gateway killed mid-stream: writes go on, status says why, all ships after' '
	write_flat "$M/db/c" b 4000 &
	w=$!
	sleep 0.5
	rgw_stop
	wait_error "$S" "cannot reach"
	wait $w
	[ "$(ls "$M/db/c" | grep -c "^b")" = 500 ]
	"$PITR" backup "$S" status | grep -q "^pending: [1-9]"
	grep -q "backup to .* failing, will retry" "$LOG"
	rgw_start
	wait_shipped "$S"
	wait_clean "$S"
	grep -q "backup to .* works again" "$LOG"
	"$PITR" verify "$U" | grep -q "ok; complete up to"
	T=$("$PITR" backup "$S" status | sed -n "s/^latest-restorable: //p")
	"$PITR" restore "$U" "$TMP/r1" --from-backup --at "$T" 2>/dev/null
	mount_fs "$TMP/r1" "$TMP/r1m"
	diff -r "$M/@$T/" "$TMP/r1m/"
	unmount_fs "$TMP/r1m"
'

test_expect_success 'the gateway stopped (requests time out): writes go on, then everything ships' '
	kill -STOP "$(cat "$CEPH_DIR/rgw.pid")"
	write_flat "$M/db/c" s 200
	wait_error "$S" "cannot reach.*\(timed out\|Timeout\)"
	kill -CONT "$(cat "$CEPH_DIR/rgw.pid")"
	wait_shipped "$S"
	wait_clean "$S"
'

# A full bucket answers 403 QuotaExceeded: that is no credentials
# problem, and the status says the bucket is full.
test_expect_success 'a full bucket (quota): writes go on, status says it is full, all ships after' '
	refused_by bucket_full bucket_unfull "is full: HTTP 403 QuotaExceeded" q
'
# whatever the step did, the next ones start with a bucket that takes
# objects and nothing pending
bucket_unfull
wait_shipped "$S" >/dev/null 2>&1 && wait_clean "$S" >/dev/null 2>&1

test_expect_success 'a read-only bucket (a policy denies PutObject): writes go on, status says why, all ships after' '
	refused_by bucket_readonly bucket_writable "access denied by .*(HTTP 403 AccessDenied)" o
'
bucket_writable >/dev/null 2>&1
wait_shipped "$S" >/dev/null 2>&1 && wait_clean "$S" >/dev/null 2>&1

# Throttling: the gateway answers every request 503 SlowDown; pitrfs
# takes that as the server being busy, and tries again later.
test_expect_success 'a throttling gateway (503 SlowDown): writes go on, status says so, all ships after' '
	refused_by rgw_throttle rgw_unthrottle "server busy: HTTP 503 SlowDown from" t
'
rgw_unthrottle >/dev/null 2>&1
wait_shipped "$S" >/dev/null 2>&1 && wait_clean "$S" >/dev/null 2>&1

test_expect_success 'wrong credentials: a clear error, writes kept, shipped once they are right' '
	"$PITR" create "$TMP/s2" >/dev/null
	AWS_SECRET_ACCESS_KEY=not-the-secret mount_fs "$TMP/s2" "$TMP/m2" \
		--backup-url "s3://$S3_BUCKET/acct2"
	mkdir "$TMP/m2/d" "$TMP/m2/d/c"
	write_flat "$TMP/m2/d/c" w 100
	wait_error "$TMP/s2" "access denied .*SignatureDoesNotMatch.*check the credentials"
	"$PITR" backup "$TMP/s2" status | grep -q "^pending: [1-9]"
	"$PITR" backup "$TMP/s2" status | grep -q "^latest-restorable: -$"
	[ "$(ls "$TMP/m2/d/c" | wc -l)" = 100 ]
	# a flush with the wrong key says so too, and exits 1
	rc=0; AWS_SECRET_ACCESS_KEY=not-the-secret "$PITR" backup "$TMP/s2" flush 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	unmount_fs "$TMP/m2"
	# no key anywhere it should not be
	not grep -rq "not-the-secret\|$AWS_SECRET_ACCESS_KEY" "$LOG" "$TMP/e"
	not grep -aq "not-the-secret\|$AWS_SECRET_ACCESS_KEY" "$TMP/s2/data.mdb"
	# the right key from a credentials file, named by an option
	printf "[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n" \
		"$AWS_ACCESS_KEY_ID" "$AWS_SECRET_ACCESS_KEY" >"$TMP/creds"
	chmod 600 "$TMP/creds"
	env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY "$PITRFS" -f \
		--backup-url "s3://$S3_BUCKET/acct2" --s3-credentials "$TMP/creds" \
		"$TMP/s2" "$TMP/m2" >>"$LOG" 2>&1 &
	echo $! >"$TMP/pid.m2"
	for i in $(seq 100); do mountpoint -q "$TMP/m2" && break; sleep 0.1; done
	wait_shipped "$TMP/s2"
	fusermount3 -u "$TMP/m2"
	wait "$(cat "$TMP/pid.m2")"
	"$PITR" verify "s3://$S3_BUCKET/acct2" | grep -q "ok; complete up to"
'

test_expect_success 'retention on the bucket: a base, the first segments deleted, a restore equals the account' '
	# a 2 s window, keys from a credentials file named relative to the
	# directory pitrfs starts in
	"$PITR" create "$TMP/s5" --retention 2s >/dev/null
	(cd "$TMP" && unset AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY &&
		mount_fs "$TMP/s5" "$TMP/m5" --backup-url "s3://$S3_BUCKET/acct5" \
		--s3-credentials creds)
	mkdir "$TMP/m5/d" "$TMP/m5/d/c"
	rebased() {
		[ -n "$(keys acct5/base-)" ] && [ -z "$(keys acct5/seg-0000000001-)" ]
	}
	for i in $(seq 300); do
		write_flat "$TMP/m5/d/c" r$((i % 3)) 40
		rebased && break
		sleep 0.1
	done
	rebased || { keys acct5/ >&2; "$PITR" backup "$TMP/s5" status >&2; false; }
	keys acct5/base- | grep -q "^acct5/base-[0-9]\{10\}-000001\.pbase$"
	echo "{\"last\": 1}" >"$TMP/m5/d/c/last.json"
	# the live tree while nothing writes: what the latest instant on the
	# media must restore (a view of a 2 s window may be pruned by then)
	mkdir "$TMP/x5" && cp -r "$TMP/m5/d" "$TMP/x5/"
	wait_shipped "$TMP/s5"
	# unmounted first: with a 2 s window the daemon may write a new base
	# and retire what a slow restore is reading (kept a window more)
	unmount_fs "$TMP/m5"
	"$PITR" verify "s3://$S3_BUCKET/acct5" | grep -q "ok; complete up to"
	"$PITR" restore "s3://$S3_BUCKET/acct5" "$TMP/rb" --from-backup --at -0s
	mount_fs "$TMP/rb" "$TMP/rbm"
	diff -r "$TMP/x5/" "$TMP/rbm/"
	unmount_fs "$TMP/rbm"
	rc=0; "$PITR" restore "s3://$S3_BUCKET/acct5" "$TMP/rb0" --from-backup \
		--at 2020-01-01T00:00:00Z 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "holds history from .* on" "$TMP/e"
'

test_expect_success 'a second writer on the same prefix is stopped with a clear error' '
	# another account: refused by the ACCOUNT object
	"$PITR" create "$TMP/s3" >/dev/null
	mount_fs "$TMP/s3" "$TMP/m3" --backup-url "$U"
	mkdir "$TMP/m3/d" "$TMP/m3/d/c"
	echo "{}" >"$TMP/m3/d/c/x.json"
	wait_error "$TMP/s3" "belongs to another account"
	unmount_fs "$TMP/m3"
	test_must_fail "$PITR" backup "$TMP/s3" flush 2>"$TMP/e"
	grep -q "another account" "$TMP/e"
	# the same account copied to another place, shipping to the same
	# prefix while the first one does: another writer, refused
	unmount_fs "$M"
	cp -a "$S" "$TMP/copy"
	mount_fs "$S" "$M" --backup-url "$U"
	echo "{\"first\": 0}" >"$M/db/c/first.json"
	wait_shipped "$S"
	mount_fs "$TMP/copy" "$TMP/m4"
	echo "{\"second\": 1}" >"$TMP/m4/db/c/second.json"
	wait_error "$TMP/copy" "another writer ([0-9a-f]\{16\}) ships to this media"
	test_must_fail "$PITR" backup "$TMP/copy" flush 2>"$TMP/e"
	grep -q "another writer" "$TMP/e"
	unmount_fs "$TMP/m4"
	# the first writer is not disturbed
	echo "{\"first\": 1}" >"$M/db/c/first.json"
	wait_shipped "$S"
	wait_clean "$S"
	"$PITR" verify "$U" | grep -q "ok; complete up to"
'

test_expect_success 'kill -9 of the daemon during uploads: the remount ships the rest' '
	write_flat "$M/db/c" k 3000
	crash_fs "$M"
	mount_fs "$S" "$M" --backup-url "$U"
	wait_shipped "$S"
	"$PITR" verify "$U" | grep -q "ok; complete up to"
	T=$("$PITR" backup "$S" status | sed -n "s/^latest-restorable: //p")
	"$PITR" restore "$U" "$TMP/r2" --from-backup --at "$T" 2>/dev/null
	mount_fs "$TMP/r2" "$TMP/r2m"
	diff -r "$M/@$T/" "$TMP/r2m/"
	unmount_fs "$TMP/r2m"
'

test_expect_success 'the store lost: a restore from the bucket elsewhere equals one from the live store' '
	rm "$M/db/c/a1.json"
	echo "{\"late\": 1}" >"$M/db/c/late.json"
	T=$(ts_of "$M/db/c/late.json")
	wait_shipped "$S"
	"$PITR" restore "$S" "$TMP/fromlive" --at "$T" 2>/dev/null
	unmount_fs "$M"
	rm -rf "$S"
	mkdir "$TMP/other"
	"$PITR" restore "$U" "$TMP/other/fromb" --from-backup --at "$T" 2>/dev/null
	mount_fs "$TMP/other/fromb" "$TMP/fbm"
	mount_fs "$TMP/fromlive" "$TMP/flm"
	diff -r "$TMP/flm" "$TMP/fbm"
	[ -e "$TMP/fbm/db/c/late.json" ] && [ ! -e "$TMP/fbm/db/c/a1.json" ]
	unmount_fs "$TMP/fbm"
	unmount_fs "$TMP/flm"
'

test_expect_success 'a segment deleted or damaged in the bucket: verify names it, restore refuses what it cannot prove' '
	keys acct1/seg- >"$TMP/segs"
	[ "$(wc -l <"$TMP/segs")" -ge 3 ]
	victim=$(sed -n 2p "$TMP/segs")
	first_end=$(sed -n 1p "$TMP/segs" | sed "s/.*-\([0-9]\{19\}\)\.pseg$/\1/")
	s3 GET "/$S3_BUCKET/$victim" -o "$TMP/victim"
	s3 DELETE "/$S3_BUCKET/$victim"
	rc=0; "$PITR" verify "$U" >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	seq=$(basename "$victim" | cut -d- -f2)
	grep -q "damaged: seg-$seq-\*: missing" "$TMP/v"
	grep -q "DAMAGED; complete up to" "$TMP/v"
	rc=0; "$PITR" restore "$U" "$TMP/r3" --from-backup --at 2500-01-01T00:00:00Z 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "complete only up to" "$TMP/e"
	[ ! -e "$TMP/r3" ]
	# what the first segment proves is still restorable
	"$PITR" restore "$U" "$TMP/r4" --from-backup --at "$(python3 -c "
import datetime, sys
ns = int(sys.argv[1])
t = datetime.datetime.fromtimestamp(ns // 10**9, datetime.timezone.utc)
print(t.strftime(\"%Y-%m-%dT%H:%M:%S\") + \".%09dZ\" % (ns % 10**9))" "$first_end")" 2>/dev/null
	[ -d "$TMP/r4" ]
	# back, with one byte changed: a checksum names it
	python3 -c "
import sys
b = bytearray(open(sys.argv[1], \"rb\").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[1], \"wb\").write(b)" "$TMP/victim"
	s3 PUT "/$S3_BUCKET/$victim" --data-binary @"$TMP/victim" -o /dev/null
	rc=0; "$PITR" verify "$U" >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	grep -q "damaged: $(basename "$victim"): payload checksum mismatch" "$TMP/v"
	rc=0; "$PITR" restore "$U" "$TMP/r5" --from-backup --at 2500-01-01T00:00:00Z 2>"$TMP/e" || rc=$?
	[ $rc = 1 ]
	grep -q "complete only up to" "$TMP/e"
	# a bounded verify reads a sample, and still finds the damaged last one
	s3 PUT "/$S3_BUCKET/$(tail -1 "$TMP/segs")" --data-binary @"$TMP/victim" -o /dev/null
	rc=0; "$PITR" verify "$U" --sample 1 >"$TMP/v" || rc=$?
	[ $rc = 1 ]
	grep -q "1 of [0-9]* segments read whole" "$TMP/v"
	grep -q "damaged: $(basename "$(tail -1 "$TMP/segs")"): " "$TMP/v"
'

test_done
