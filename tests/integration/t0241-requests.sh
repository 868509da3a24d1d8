#!/usr/bin/env bash
# The FUSE requests common operations cost, counted in the daemon's debug
# log (-d): ls -l and a truncating overwrite send no GETXATTR per file
# (without -o xattr the first is answered ENOSYS and the kernel asks no
# more), and an overwrite of a file the kernel knows costs OPEN, WRITE,
# FLUSH, RELEASE and nothing else.
. "$(dirname "$0")/lib.sh"

N=100
S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M" -d
mkdir "$M/db" "$M/db/c"
export M N

# count OPCODE: the requests of that opcode logged so far, once the log
# holds still (every request of the last step is in).
count() {
	local a b i
	b=$(grep -c "opcode: $1 " "$LOG" || true)
	for i in $(seq 100); do
		sleep 0.1
		a=$b
		b=$(grep -c "opcode: $1 " "$LOG" || true)
		[ "$a" = "$b" ] && break
	done
	echo "$b"
}

python3 - <<'PY'
import os
for i in range(int(os.environ["N"])):
    open("%s/db/c/d%03d.json" % (os.environ["M"], i), "w").write('{"i": %d}' % i)
PY

test_expect_success 'ls -l: at most one GETXATTR for the whole mount' '
	before=$(count GETXATTR)
	[ "$(ls -l "$M/db/c" | grep -c "^-")" = $N ]
	ls -l "$M/db/c" >/dev/null
	after=$(count GETXATTR)
	[ $((after - before)) -le 1 ]
	expect_errno ENOTSUP "os.getxattr(os.environ[\"M\"] + \"/db/c/d001.json\", \"user.pitr.ts\")"
	[ "$(count GETXATTR)" = "$after" ]
'

test_expect_success 'overwrite with O_TRUNC: OPEN, WRITE, FLUSH, RELEASE per file, no GETXATTR' '
	for op in GETXATTR LOOKUP OPEN WRITE FLUSH RELEASE SETATTR; do
		eval "b_$op=$(count $op)"
	done
	python3 - <<-\PY
	import os
	for i in range(int(os.environ["N"])):
	    fd = os.open("%s/db/c/d%03d.json" % (os.environ["M"], i),
	                 os.O_WRONLY | os.O_TRUNC)
	    os.write(fd, b"{\"v\": 2}")
	    os.close(fd)
	PY
	[ $(($(count GETXATTR) - b_GETXATTR)) = 0 ]
	[ $(($(count LOOKUP) - b_LOOKUP)) = 0 ]
	[ $(($(count SETATTR) - b_SETATTR)) = 0 ]
	for op in OPEN WRITE FLUSH RELEASE; do
		eval "b=\$b_$op"
		[ $(($(count $op) - b)) = $N ]
	done
	[ "$(cat "$M/db/c/d042.json")" = "{\"v\": 2}" ]
'

unmount_fs "$M"
test_done
