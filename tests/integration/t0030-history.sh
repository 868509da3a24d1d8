#!/usr/bin/env bash
# History views: MNT/@T/ shows the account as it was at T, read-only,
# stable, incarnation-correct, never listed, never sharing inodes.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
export M

mkdir "$M/db" "$M/db/c"
echo '{"v": 1}' >"$M/db/c/x.json"
echo '{"y": 1}' >"$M/db/c/y.json"
T1=$(ts_of "$M/db/c/y.json")
sleep 0.01
echo '{"v": 2}' >"$M/db/c/x.json"
T2=$(ts_of "$M/db/c/x.json")
rm "$M/db/c/y.json"
export T1 T2

test_expect_success 'the view at T1 shows the state then' '
	[ "$(cat "$M/@$T1/db/c/x.json")" = "{\"v\": 1}" ]
	[ "$(cat "$M/@$T1/db/c/y.json")" = "{\"y\": 1}" ]
	[ "$(ls "$M/@$T1/db/c" | tr "\n" " ")" = "x.json y.json " ]
'

test_expect_success 'the view at T2 shows the second version; y is deleted later' '
	[ "$(cat "$M/@$T2/db/c/x.json")" = "{\"v\": 2}" ]
	[ "$(cat "$M/@$T2/db/c/y.json")" = "{\"y\": 1}" ]
	[ ! -e "$M/db/c/y.json" ]
'

test_expect_success 'one nanosecond before T2 shows version 1' '
	before=$(python3 -c "
import sys; t = sys.argv[1]; n = int(t[20:29]) - 1
print(t[:20] + \"%09d\" % n + \"Z\")" "$T2")
	[ "$(cat "$M/@$before/db/c/x.json")" = "{\"v\": 1}" ]
'

test_expect_success 'offsets and fractions name the same instant' '
	sec=${T1%%.*}; frac=${T1#*.}; frac=${frac%Z}
	plus=$(date -u -d "${sec}Z + 2 hours" +%Y-%m-%dT%H:%M:%S).${frac}+02:00
	[ "$(cat "$M/@$plus/db/c/x.json")" = "{\"v\": 1}" ]
	ist=$(date -u -d "${sec}Z + 330 minutes" +%Y-%m-%dT%H:%M:%S).${frac}+05:30
	[ "$(cat "$M/@$ist/db/c/y.json")" = "{\"y\": 1}" ]
'

test_expect_success 'relative views: @-0s is now, @-1h is before creation' '
	[ "$(cat "$M/@-0s/db/c/x.json")" = "{\"v\": 2}" ]
	[ ! -e "$M/@-0s/db/c/y.json" ]
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@-1h\")"
'

test_expect_success 'malformed, future and too-early instants: ENOENT' '
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@yesterday\")"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@2021-13-01T00:00:00Z\")"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@2021-01-01T00:00:00\")"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@2999-01-01T00:00:00Z\")"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@2001-01-01T00:00:00Z\")"
'

test_expect_success 'the log says why a view is not there, with the window' '
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@nope\\nforged\")"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/@2001-02-03T00:00:00Z\")"
	grep -q "no view @nope?forged: not a time" "$LOG"
	not grep -q "^forged" "$LOG"
	grep "no view @2001-02-03T00:00:00Z: outside the window" "$LOG" |
		grep -Eq "window [0-9-]+T[0-9:.]+Z to [0-9-]+T[0-9:.]+Z"
'

test_expect_success 'views are not listed by readdir of the root' '
	[ "$(ls -a "$M" | tr "\n" " ")" = ". .. db " ]
	[ -z "$(find "$M" -name "@*")" ]
'

test_expect_success 'every mutating call in a view: EROFS' '
	V="$M/@$T1/db/c"; export V
	expect_errno EROFS "open(os.environ[\"V\"] + \"/x.json\", \"w\")"
	expect_errno EROFS "open(os.environ[\"V\"] + \"/new.json\", \"w\")"
	expect_errno EROFS "os.unlink(os.environ[\"V\"] + \"/x.json\")"
	expect_errno EROFS "os.rename(os.environ[\"V\"] + \"/x.json\", os.environ[\"V\"] + \"/z.json\")"
	expect_errno EROFS "os.rename(os.environ[\"V\"] + \"/x.json\", os.environ[\"M\"] + \"/db/c/z.json\")"
	expect_errno EROFS "os.mkdir(os.environ[\"V\"] + \"/sub\")"
	expect_errno EROFS "os.mkdir(os.environ[\"M\"] + \"/@\" + os.environ[\"T1\"] + \"/newdb\")"
	expect_errno EROFS "os.rmdir(os.environ[\"M\"] + \"/@\" + os.environ[\"T1\"] + \"/db/c\")"
	expect_errno EROFS "os.rmdir(os.environ[\"M\"] + \"/@\" + os.environ[\"T1\"])"
	expect_errno EROFS "os.rename(os.environ[\"M\"] + \"/@\" + os.environ[\"T1\"], os.environ[\"M\"] + \"/v\")"
	expect_errno EROFS "os.rename(os.environ[\"M\"] + \"/@-0s\", os.environ[\"M\"] + \"/v\")"
	expect_errno EROFS "os.rename(os.environ[\"M\"] + \"/db\", os.environ[\"M\"] + \"/@\" + os.environ[\"T1\"])"
	expect_errno ENOENT "os.rmdir(os.environ[\"M\"] + \"/@nonsense\")"
	expect_errno EROFS "os.truncate(os.environ[\"V\"] + \"/x.json\", 0)"
	expect_errno EROFS "os.chmod(os.environ[\"V\"] + \"/x.json\", 0o644)"
	expect_errno EROFS "os.utime(os.environ[\"V\"] + \"/x.json\")"
	expect_errno EROFS "os.setxattr(os.environ[\"V\"] + \"/x.json\", \"user.a\", b\"1\")"
	expect_errno EROFS "os.symlink(\"x\", os.environ[\"V\"] + \"/l\")"
	[ "$(cat "$M/@$T1/db/c/x.json")" = "{\"v\": 1}" ]
'

test_expect_success 'a view never changes: same bytes twice, after more writes' '
	a=$(cat "$M/@$T2/db/c/x.json"; ls -l --time-style=+%s.%N "$M/@$T2/db/c")
	echo "{\"v\": 3}" >"$M/db/c/x.json"
	b=$(cat "$M/@$T2/db/c/x.json"; ls -l --time-style=+%s.%N "$M/@$T2/db/c")
	[ "$a" = "$b" ]
'

test_expect_success 'inodes: a view file never shares the live one, nor another version' '
	live=$(stat -c %i "$M/db/c/x.json")
	v1=$(stat -c %i "$M/@$T1/db/c/x.json")
	v2=$(stat -c %i "$M/@$T2/db/c/x.json")
	[ "$live" != "$v1" ]
	[ "$live" != "$v2" ]
	[ "$v1" != "$v2" ]
	now=$(stat -c %i "$M/@-0s/db/c/x.json")
	[ "$now" != "$live" ]
'

test_expect_success 'diff -r sees the real differences between a view and live' '
	not diff -r "$M/@$T1/db" "$M/db" >"$TMP/diff"
	grep -q "v\": 1" "$TMP/diff"
	grep -q "Only in $M/@$T1/db/c: y.json" "$TMP/diff"
	diff -r "$M/@-0s/db" "$M/db"
'

test_expect_success 'restore one document by copying it out of a view' '
	cp -a "$M/@$T1/db/c/y.json" "$M/db/c/"
	[ "$(cat "$M/db/c/y.json")" = "{\"y\": 1}" ]
	[ "$(stat -c %a "$M/db/c/y.json")" = 644 ]
'

test_expect_success 'a deleted and re-created container is a new incarnation' '
	mkdir "$M/db/inc"
	echo "{\"gen\": 1}" >"$M/db/inc/old.json"
	G1=$(ts_of "$M/db/inc/old.json")
	rm -r "$M/db/inc"
	mkdir "$M/db/inc"
	echo "{\"gen\": 2}" >"$M/db/inc/new.json"
	G2=$(ts_of "$M/db/inc/new.json")
	[ "$(ls "$M/@$G1/db/inc")" = old.json ]
	[ "$(ls "$M/@$G2/db/inc")" = new.json ]
	[ "$(ls "$M/db/inc")" = new.json ]
'

test_expect_success 'views are readable only by the owner' '
	[ "$(stat -c %a "$M/@$T1/db/c/x.json")" = 400 ]
	[ "$(stat -c %a "$M/@$T1/db/c")" = 500 ]
	[ "$(stat -c %a "$M/db/c/x.json")" = 644 ]
'

# Documents of exact sizes around page edges and the kernel-cache fill limit.
SIZES="2 4095 4096 4097 8193 262144 262145 300000"
cat >"$TMP/sized.py" <<'EOF'
import sys
n = int(sys.argv[1])
sys.stdout.write("{}" if n == 2 else '{"s": "' + "a" * (n - 9) + '"}')
EOF
cat >"$TMP/mmapcmp.py" <<'EOF'
import mmap, sys
with open(sys.argv[1], "rb") as a, open(sys.argv[2], "rb") as b:
    m = mmap.mmap(a.fileno(), 0, prot=mmap.PROT_READ)
    sys.exit(m[:] != b.read())
EOF

# Every document of SIZES in view directory $1 equals its original: in a
# listing first (sizes, inode numbers), then by stat and by read.
check_sized() {
	local n total=0 listed
	listed=$(ls -li "$1" | awk "/json/ { s += \$6; print \$1, \$10 } END { print s }")
	for n in $SIZES; do
		total=$((total + n))
		grep -qx "$(stat -c %i "$1/p$n.json") p$n.json" <<<"$listed"
		[ "$(stat -c %s "$1/p$n.json")" = "$n" ]
		cmp "$TMP/p$n.json" "$1/p$n.json"
	done
	[ "$(tail -1 <<<"$listed")" = "$total" ]
	[ "$(find "$1" -type f | wc -l)" = 8 ]
}

test_expect_success 'view content at page edges, by mmap, after the kernel drops its caches' '
	mkdir "$M/db/pg"
	for n in $SIZES; do
		python3 "$TMP/sized.py" "$n" >"$TMP/p$n.json"
		cp "$TMP/p$n.json" "$M/db/pg/"
	done
	P=$(ts_of "$M/db/pg/p300000.json")
	echo "$P" >"$TMP/P"
	for n in $SIZES; do echo "{\"other\": 1}" >"$M/db/pg/p$n.json"; done
	V=$M/@$P/db/pg
	# several first opens at once
	for n in $SIZES $SIZES $SIZES; do cat "$V/p$n.json" >/dev/null & done
	wait
	check_sized "$V"
	for n in $SIZES; do python3 "$TMP/mmapcmp.py" "$V/p$n.json" "$TMP/p$n.json"; done
	for drop in 1 2 3; do
		echo $drop >/proc/sys/vm/drop_caches
		check_sized "$V"
	done
	[ "$(cat "$M/db/pg/p4096.json")" = "{\"other\": 1}" ]
	a=$(ls -li "$M/@$P/db"; ls -li "$M/@$P")
	b=$(ls -li "$M/@$P/db"; ls -li "$M/@$P")
	[ "$a" = "$b" ]
	grep -q " pg$" <<<"$a"
'

test_expect_success 'views survive a remount' '
	unmount_fs "$M"
	mount_fs "$S" "$M"
	[ "$(cat "$M/@$T1/db/c/x.json")" = "{\"v\": 1}" ]
	[ "$(cat "$M/@$T1/db/c/y.json")" = "{\"y\": 1}" ]
'

test_expect_success 'a view document is read from the kernel cache its first open filled' '
	unmount_fs "$M"
	mount_fs "$S" "$M" -d
	V=$M/@$(cat "$TMP/P")/db/pg
	ls -l "$V" >/dev/null
	from=$(($(wc -c <"$LOG") + 1))
	for n in 2 4095 4096 4097 8193 262144; do cat "$V/p$n.json" >/dev/null; done
	reads() { tail -c +"$from" "$LOG" | grep -c "opcode: READ " || true; }
	[ "$(reads)" = 0 ] || { echo "READ for a document up to 256 KiB" >&2; false; }
	check_sized "$V"
	# a larger one is read as asked
	echo 1 >/proc/sys/vm/drop_caches
	cat "$V/p300000.json" >/dev/null
	[ "$(reads)" -gt 0 ]
'

unmount_fs "$M"
test_expect_success 'the store verifies: every index agrees with the log' '
	verify_ok "$S"
'

test_done
