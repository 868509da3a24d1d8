#!/usr/bin/env bash
# The commands that only read (info, ls, cat, log, events, diff, verify,
# backup status, and restore's source) work on a read-only copy of an
# account: every file and directory without write permission, read by a
# user who cannot write it (nobody), so LMDB's lock file cannot be opened
# for writing. Each gives what it gives on the original; the copy is not
# changed.
. "$(dirname "$0")/lib.sh"

as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups "$@"; }
if [ "$(id -u)" != 0 ] || ! as_nobody true 2>/dev/null; then
	echo "1..0 # SKIP needs root to run commands as nobody"
	exit 0
fi

S=$TMP/orig M=$TMP/mnt D=$TMP/media
"$PITR" create "$S"
mkdir "$D"
mount_fs "$S" "$M" --backup-dir "$D"
mkdir -p "$M/shop/orders" "$M/crm/leads"
for i in 1 2 3; do
	echo "{\"n\": $i}" >"$M/shop/orders/o$i.json"
	echo "{\"l\": $i}" >"$M/crm/leads/l$i.json"
done
T1=$(ts_of "$M/shop/orders/o3.json")
echo '{"n": 1, "v": 2}' >"$M/shop/orders/o1.json"
rm "$M/crm/leads/l2.json"
T2=$(ts_of "$M/shop/orders/o1.json")
"$PITR" backup "$S" flush >/dev/null
unmount_fs "$M"

# The read-only copy, in a directory nobody may enter but not write.
chmod 711 "$TMP"
R=$TMP/ro
mkdir "$R"
cp -a "$S" "$R/s"
chmod -R a+rX,a-w "$R"
mkdir "$TMP/out"
chown nobody "$TMP/out"
(cd "$R/s" && find . -type f -exec md5sum {} + | sort) >"$TMP/sums"

# both CMD-ARGS...: the command on the original (as root) and on the copy
# (as nobody) must both succeed with the same output.
both() {
	"$PITR" "$1" "$S" "${@:2}" >"$TMP/want"
	as_nobody "$PITR" "$1" "$R/s" "${@:2}" >"$TMP/got"
	diff "$TMP/want" "$TMP/got"
}

test_expect_success 'the copy cannot be written by nobody' '
	not as_nobody touch "$R/s/x" 2>/dev/null
	not as_nobody sh -c "echo >>\"$R/s/lock.mdb\"" 2>/dev/null
'

test_expect_success 'ls and cat, now and at instants' '
	both ls
	both ls shop/orders --json
	both ls crm/leads --at "$T1"
	both cat shop/orders/o1.json
	both cat shop/orders/o1.json --at "$T1"
	both cat crm/leads/l2.json --at "$T1"
	grep -q "\"l\": 2" "$TMP/got"
'

test_expect_success 'log, events, diff' '
	both log shop/orders/o1.json
	both log shop/orders
	both events
	both events --json
	both diff "$T1" "$T2"
	[ -s "$TMP/got" ]
'

test_expect_success 'info, verify, backup status' '
	as_nobody "$PITR" info "$R/s" >"$TMP/got"
	grep -q "^account: *orig$" "$TMP/got"
	as_nobody "$PITR" verify "$R/s" >"$TMP/got"
	grep -q "records checked, ok$" "$TMP/got"
	as_nobody "$PITR" backup "$R/s" status >"$TMP/got"
	grep -q "$D" "$TMP/got"
'

test_expect_success 'restore from the copy into a writable directory' '
	as_nobody "$PITR" restore "$R/s" "$TMP/out/r" --at "$T1" 2>"$TMP/e"
	"$PITR" cat "$TMP/out/r" shop/orders/o1.json >"$TMP/got"
	[ "$(cat "$TMP/got")" = "{\"n\": 1}" ]
	"$PITR" ls "$TMP/out/r" crm/leads --json | grep -q "\"id\":\"l2\""
	verify_ok "$TMP/out/r"
'

test_expect_success 'writes are refused with a clear error, nothing changed' '
	test_must_fail as_nobody "$PITR" prune "$R/s" 2>"$TMP/e"
	grep -q "cannot" "$TMP/e"
	(cd "$R/s" && find . -type f -exec md5sum {} + | sort) >"$TMP/sums2"
	diff "$TMP/sums" "$TMP/sums2"
'

test_expect_success 'a copy its owner may still write: never read without the lock file' '
	# someone may be writing it: nobody is refused rather than read it
	# without the LMDB lock
	cp -a "$S" "$TMP/rw"
	chmod -R a+rX "$TMP/rw"
	test_must_fail as_nobody "$PITR" ls "$TMP/rw" 2>"$TMP/e"
	grep -q "Permission denied" "$TMP/e"
'

chmod -R u+w "$R"
test_done
