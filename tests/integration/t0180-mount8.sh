#!/usr/bin/env bash
# Mounting as other FUSE filesystems are: mount -t fuse.pitrfs and an
# fstab line, every pitrfs option as -o name=value, mount(8)'s own options
# passed through mount.fuse3; bad options are usage errors (exit 2).
#
# mount(8) gives its helpers no PATH: the shell mount.fuse3 runs finds
# `pitrfs` in its default one, where `make install` puts it. The test
# runs in a mount namespace of its own, where /usr/local/sbin shows the
# binary under test. Where there can be none (a chroot, whose / is no
# mount), it runs mount.fuse3 as mount(8) would, with a PATH.
if [ "$(id -u)" = 0 ] && [ -z "${PITRFS_NS:-}" ] &&
	command -v unshare >/dev/null &&
	unshare --mount --propagation private true 2>/dev/null; then
	PITRFS_NS=1 exec unshare --mount --propagation private "$0" "$@"
fi
# In a mount namespace other than its parent's: one of its own.
own_ns() {
	[ "$(readlink /proc/self/ns/mnt)" != "$(readlink /proc/$PPID/ns/mnt)" ]
}
. "$(dirname "$0")/lib.sh"
need mount mount
if [ "$(id -u)" != 0 ] || ! [ -x /sbin/mount.fuse3 ]; then
	echo "1..0 # SKIP mount(8) of FUSE needs root and /sbin/mount.fuse3"
	exit 0
fi
mkdir "$TMP/sbin"
ln -s "$PITRFS" "$TMP/sbin/pitrfs"
if own_ns; then
	mount --bind "$TMP/sbin" /usr/local/sbin || exit 1
	mount8() { mount -t fuse.pitrfs "$@"; }
else
	echo "# no mount namespace here: mount.fuse3 is run as mount(8) runs it"
	mount8() {
		local s=$1 m=$2
		shift 2
		PATH=$TMP/sbin:$PATH /sbin/mount.fuse3 "$s" "$m" "$@" -t fuse.pitrfs
	}
fi
export -f mount8

S=$TMP/store M=$TMP/mnt B=$TMP/media
"$PITR" create "$S"
mkdir -p "$M" "$B"
export S M B

# Unmount MNT with umount(8) and wait for its daemon to end.
umount_wait() {
	local i
	umount "$1"
	for i in $(seq 100); do
		pgrep -f "pitrfs $S " >/dev/null || return 0
		sleep 0.05
	done
	echo "daemon of $S still running" >&2
	return 1
}
# lib.sh's cleanup knows the mount
echo "$M" >>"$TMP/mounts"

test_expect_success 'unknown and empty options: exit 2, nothing mounted or kept' '
	for a in "-o bogus" "--bogus" "--backup-dir=" "-o backup_dir=" \
		"-o log_file=" "--backup-dir" "-o backup_dir"; do
		rc=0; "$PITRFS" -f "$S" "$M" $a 2>"$TMP/err" || rc=$?
		[ "$rc" = 2 ] || { echo "$a: exit $rc" >&2; exit 1; }
		not mountpoint -q "$M"
	done
	"$PITR" backup "$S" status >"$TMP/st" 2>&1
	not grep -q "$B" "$TMP/st"
'

test_expect_success 'mount -t fuse.pitrfs with -o backup_dir= and mount(8) options' '
	mount8 "$S" "$M" \
		-o rw,nodev,nosuid,noatime,_netdev,backup_dir="$B",backup_interval=1,sync_interval=0.5,log_file="$TMP/pitrfs.log"
	mountpoint -q "$M"
	grep -q "^$S $M fuse.pitrfs .*nosuid,nodev" /proc/mounts
	mkdir -p "$M/db/c"
	echo "{\"v\": 1}" >"$M/db/c/x.json"
	for i in $(seq 100); do
		[ -n "$(ls -A "$B")" ] && break
		sleep 0.1
	done
	[ -n "$(ls -A "$B")" ]
	"$PITR" backup "$S" status | grep -q "$B"
'

test_expect_success 'the log file: RFC 3339 times, the file, line and column, the process' '
	not write_file "$M/db/c/bad.json" "$(printf "{\n  \"v\": \n")" 2>/dev/null
	cat "$TMP/pitrfs.log" >&2
	grep -E "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?Z pitrfs\[[0-9]+\]: db/c/bad.json: not committed: .*line [0-9]+, column [0-9]+.*\(pid [0-9]+" \
		"$TMP/pitrfs.log"
'

test_expect_success 'a second mount of the same account is refused, and says where' '
	mkdir -p "$TMP/m2"
	test_must_fail mount8 "$S" "$TMP/m2" 2>"$TMP/err"
	grep -q "mounted by another daemon at .$M" "$TMP/err"
	not mountpoint -q "$TMP/m2"
	umount_wait "$M"
	not mountpoint -q "$M"
'

if own_ns; then
test_expect_success 'an fstab line: mount MNT' '
	printf "%s %s fuse.pitrfs defaults,noauto,_netdev,nofail,sync_interval=2,history_group=%s 0 0\n" \
		"$S" "$M" "$(id -gn)" >"$TMP/fstab"
	mount --fstab "$TMP/fstab" "$M"
	mountpoint -q "$M"
	[ "$(cat "$M/db/c/x.json")" = "{\"v\": 1}" ]
	umount_wait "$M"
'

test_expect_success 'an unknown option in fstab: the mount fails, nothing mounted' '
	printf "%s %s fuse.pitrfs noauto,no_such_option=1 0 0\n" "$S" "$M" \
		>"$TMP/fstab"
	test_must_fail mount --fstab "$TMP/fstab" "$M" 2>"$TMP/err"
	grep -q "unknown option" "$TMP/err"
	not mountpoint -q "$M"
'
else
	test_count=$((test_count + 1))
	echo "ok $test_count # SKIP fstab: no mount namespace for mount(8) here"
	test_expect_success 'an unknown option: the mount fails, nothing mounted' '
	test_must_fail mount8 "$S" "$M" -o no_such_option=1 2>"$TMP/err"
	grep -q "unknown option" "$TMP/err"
	not mountpoint -q "$M"
'
fi

test_expect_success 'a clean unmount ships what is pending, or logs that it could not' '
	mount8 "$S" "$M" -o backup_interval=60,log_file="$TMP/u.log"
	echo "{\"v\": 2}" >"$M/db/c/x.json"
	umount_wait "$M"
	"$PITR" backup "$S" status | grep -qx "pending: 0"
	mv "$B" "$B.gone"
	mount8 "$S" "$M" -o backup_interval=60,log_file="$TMP/u.log"
	echo "{\"v\": 3}" >"$M/db/c/x.json"
	umount_wait "$M"
	grep -q "unmounting: 1 mutations not shipped to .$B.: .*after the next mount" "$TMP/u.log"
	mv "$B.gone" "$B"
'

test_expect_success 'pitr backup set and unset change the media; an empty one is refused' '
	"$PITR" backup "$S" unset
	"$PITR" backup "$S" status | grep -qx "dir: (none)"
	rc=0; "$PITR" backup "$S" set "" 2>/dev/null || rc=$?
	[ "$rc" = 2 ]
	"$PITR" backup "$S" set "$B"
	"$PITR" backup "$S" status | grep -qx "dir: $B"
'

test_done
