# lib.sh - sourced by every integration test: TAP steps, mounts that are
# always unmounted, and exact errno checks.
#
#   test_expect_success 'what' 'commands'   a step: passes if commands do
#   test_must_fail CMD...                   CMD must exit non-zero (not crash)
#   not CMD...                              CMD must fail (any way)
#   expect_errno ENAME 'python statements'  the statements raise ENAME
#   mount_fs STORE MNT [pitrfs options]     mount, wait until it serves
#   verify_ok STORE                         pitr verify passes
#   unmount_fs MNT                          unmount; the daemon must exit 0
#
# Steps run in a subshell with `set -e`: state that later steps need is
# kept in files under $TMP, or set outside the steps.

set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
# PITR_BIN / PITRFS_BIN: other builds of the binaries (sanitizers)
PITR=${PITR_BIN:-$TOP/bin/pitr}
PITRFS=${PITRFS_BIN:-$TOP/bin/pitrfs}
TMP=$(mktemp -d /tmp/pitrfs-test.XXXXXX)
LOG=$TMP/daemon.log
export TOP PITR PITRFS TMP LOG
test_count=0
test_failed=0

# Mounts are recorded in files, not variables: steps run in subshells.
key_of() { printf '%s' "$1" | md5sum | cut -c1-12; }

cleanup() {
	local m k
	if [ -f "$TMP/mounts" ]; then
		while read -r m; do
			k=$(key_of "$m")
			fusermount3 -u "$m" 2>/dev/null ||
				fusermount3 -uz "$m" 2>/dev/null
			[ -f "$TMP/pid.$k" ] && kill -9 "$(cat "$TMP/pid.$k")" 2>/dev/null
		done <"$TMP/mounts"
	fi
	wait 2>/dev/null
	# whatever else a failed step left mounted under $TMP (a small
	# tmpfs, a bind mount), deepest first
	grep -o " $TMP/[^ ]*" /proc/mounts | sort -r | while read -r m; do
		umount -l "$m"
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if ! [ -e /dev/fuse ] || ! command -v fusermount3 >/dev/null; then
	echo "1..0 # SKIP FUSE is not available (/dev/fuse, fusermount3)"
	exit 0
fi

# need CMD PACKAGE...: a test that needs CMD fails loudly without it
# (a check that silently checks nothing is worse than none).
need() {
	local cmd=$1
	shift
	command -v "$cmd" >/dev/null && return 0
	echo "Bail out! $cmd is not installed (Debian: apt-get install $*, or make deps)"
	exit 1
}
for _c in python3:python3 mountpoint:util-linux getfattr:attr jq:jq \
	rsync:rsync perl:perl pgrep:procps pkill:procps timeout:coreutils; do
	need "${_c%%:*}" "${_c#*:}"
done

test_expect_success() {
	local rc
	test_count=$((test_count + 1))
	# A plain statement: in an if, && or || list, bash would ignore the
	# step's set -e, and only its last command would count.
	(
		set -eE
		trap 'echo "failed: $BASH_COMMAND" >&2' ERR
		eval "$2"
	) >"$TMP/step.out" 2>&1
	rc=$?
	if [ "$rc" = 0 ]; then
		echo "ok $test_count - $1"
	else
		test_failed=$((test_failed + 1))
		echo "not ok $test_count - $1"
		# on stderr too: a harness running scripts in parallel shows it
		{
			sed 's/^/#   /' "$TMP/step.out"
			if [ -s "$LOG" ]; then
				echo "#   daemon log (last lines):"
				tail -5 "$LOG" | sed 's/^/#   /'
			fi
		} | tee /dev/stderr
	fi
}

# `not CMD...`: CMD must fail. Unlike `! CMD`, it stops a step under set -e.
# verify_ok STORE: `pitr verify` passes; its output is shown when not.
verify_ok() {
	"$PITR" verify "$1" >"$TMP/verify" &&
		grep -q "records checked, ok$" "$TMP/verify" ||
		{ cat "$TMP/verify" >&2; return 1; }
}

# wait_for SECONDS CMD...: until CMD succeeds, at most SECONDS (its
# output is discarded)
wait_for() {
	local n=$(($1 * 5)) i
	shift
	for i in $(seq "$n"); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.2
	done
	return 1
}

not() {
	if "$@"; then
		echo "expected to fail: $*" >&2
		return 1
	fi
	return 0
}

test_done() {
	echo "1..$test_count"
	echo "$((test_count - test_failed)) passed, $test_failed failed"
	[ "$test_failed" = 0 ]
}

# Run a command that must fail cleanly: non-zero, and not killed by a signal.
test_must_fail() {
	local rc=0
	"$@" || rc=$?
	if [ "$rc" = 0 ]; then
		echo "expected failure, succeeded: $*" >&2
		return 1
	fi
	if [ "$rc" -gt 128 ]; then
		echo "died of signal $((rc - 128)): $*" >&2
		return 1
	fi
	return 0
}

# expect_errno ENAME 'python statements': they must raise OSError(ENAME).
expect_errno() {
	python3 - "$1" "$2" <<'EOF'
import errno, os, sys
want, code = sys.argv[1], sys.argv[2]
try:
    exec(code)
except OSError as e:
    got = errno.errorcode.get(e.errno, str(e.errno))
    if got == want:
        sys.exit(0)
    print(f"got {got}, want {want}: {e}", file=sys.stderr)
    sys.exit(1)
print(f"no error, want {want}", file=sys.stderr)
sys.exit(1)
EOF
}

# write_file PATH TEXT: write, fsync nothing, close; prints close's error.
write_file() {
	python3 - "$1" "$2" <<'EOF'
import os, sys
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, sys.argv[2].encode())
os.close(fd)
EOF
}

mount_fs() {
	local store=$1 mnt=$2 k i
	shift 2
	k=$(key_of "$mnt")
	mkdir -p "$mnt"
	rm -f "$TMP/status.$k" "$TMP/pid.$k"
	echo "$mnt" >>"$TMP/mounts"
	# The wrapper records the daemon's pid and exit status (without the
	# set -e of a step: the status of a killed daemon is the point).
	(
		set +eE
		trap - ERR
		"$PITRFS" -f "$@" "$store" "$mnt" >>"$LOG" 2>&1 &
		echo $! >"$TMP/pid.$k"
		wait $!
		# whole or absent: a reader never sees it half written
		echo $? >"$TMP/status.$k.new"
		mv "$TMP/status.$k.new" "$TMP/status.$k"
	) </dev/null >/dev/null 2>&1 &
	for i in $(seq 200); do
		mountpoint -q "$mnt" && return 0
		[ -f "$TMP/status.$k" ] && break
		sleep 0.05
	done
	echo "mount of $store at $mnt failed" >&2
	return 1
}

# Wait for the daemon of MNT to exit; print its status.
daemon_status() {
	local k i
	k=$(key_of "$1")
	for i in $(seq 200); do
		[ -f "$TMP/status.$k" ] && { cat "$TMP/status.$k"; return 0; }
		sleep 0.05
	done
	echo "daemon did not exit" >&2
	echo timeout
}

unmount_fs() {
	local st
	fusermount3 -u "$1" || return 1
	st=$(daemon_status "$1")
	[ "$st" = 0 ] || { echo "daemon exited with status $st" >&2; return 1; }
}

# kill -9 the daemon of MNT and clear the dead mount.
crash_fs() {
	local k
	k=$(key_of "$1")
	kill -9 "$(cat "$TMP/pid.$k")"
	daemon_status "$1" >/dev/null
	fusermount3 -uz "$1" 2>/dev/null || umount -l "$1" 2>/dev/null
	return 0
}

# dump_instants STORE T...: every listing and document of STORE at each
# instant T, as pitr ls --json and pitr cat print them.
dump_instants() {
	local s=$1 at db ct id
	shift
	for at in "$@"; do
		echo "@ $at"
		"$PITR" ls "$s" --at "$at" --json
		for db in $("$PITR" ls "$s" --at "$at" --json | jq -r .name); do
			"$PITR" ls "$s" "$db" --at "$at" --json
			for ct in $("$PITR" ls "$s" "$db" --at "$at" --json |
				jq -r .name); do
				"$PITR" ls "$s" "$db/$ct" --at "$at" --json
				for id in $("$PITR" ls "$s" "$db/$ct" --at "$at" \
					--json | jq -r .id); do
					"$PITR" cat "$s" "$db/$ct/$id.json" \
						--at "$at"
				done
			done
		done
	done
}

# The timestamp of the version of FILE, as pitr prints it: its mtime, to
# the nanosecond.
ts_of() {
	python3 -c '
import os, sys, time
ns = os.stat(sys.argv[1]).st_mtime_ns
print(time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) +
      ".%09dZ" % (ns % 10**9))' "$1"
}

# Directory $1 (over 2,000 entries) is listed once, whole, even when the
# kernel drops its cache of the listing half way; and from positions
# telldir gave, seekdir then readdir lists what the first pass did.
check_seekdir() {
	perl -e '
	my $d = shift;
	opendir(my $h, $d) or die "$d: $!\n";
	my (@names, @pos, %seen);
	for (;;) {
		if (@names == 1500) {
			# the kernel loses its cache of the listing half way
			open(my $f, ">", "/proc/sys/vm/drop_caches") or die;
			print $f "1\n";
			close($f) or die "drop_caches: $!\n";
		}
		my $p = telldir($h);
		my $e = readdir($h);
		last unless defined $e;
		push @names, $e;
		push @pos, $p;
	}
	die "$d: only " . @names . " entries\n" if @names < 2000;
	$seen{$_}++ and die "$d: $_ listed twice\n" for @names;
	for my $i (int(@names / 2), 3, 0, $#names, 1700, 1, 2) {
		seekdir($h, $pos[$i]);
		my @rest;
		while (defined(my $e = readdir($h))) { push @rest, $e }
		my @want = @names[$i .. $#names];
		die "$d: from entry $i: " . @rest . " entries, want " .
		    @want . "\n" unless "@rest" eq "@want";
	}
	' "$1"
}
