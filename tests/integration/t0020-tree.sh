#!/usr/bin/env bash
# The live tree: databases, containers, documents, scratch files, and the
# exact errno of every refusal, with earlier data intact.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S" --max-doc-size 4096
mount_fs "$S" "$M"
export M

test_expect_success 'mkdir makes databases and containers' '
	mkdir "$M/shop" "$M/shop/orders" "$M/shop/users"
	[ "$(ls "$M/shop" | tr "\n" " ")" = "orders users " ]
	[ "$(stat -c %F "$M/shop/orders")" = directory ]
'

test_expect_success 'bad names: EINVAL; deeper than a container: EPERM' '
	expect_errno EINVAL "os.mkdir(os.environ[\"M\"] + \"/a#b\")"
	expect_errno EINVAL "os.mkdir(os.environ[\"M\"] + \"/a?b\")"
	expect_errno EINVAL "os.mkdir(os.environ[\"M\"] + \"/a\\\\b\")"
	expect_errno EINVAL "os.mkdir(os.environ[\"M\"] + \"/trailing \")"
	expect_errno EINVAL "os.mkdir(os.environ[\"M\"] + \"/@db\")"
	expect_errno EEXIST "os.mkdir(os.environ[\"M\"] + \"/shop\")"
	expect_errno EPERM "os.mkdir(os.environ[\"M\"] + \"/shop/orders/deeper\")"
	expect_errno ENAMETOOLONG "os.mkdir(os.environ[\"M\"] + \"/\" + \"x\" * 256)"
	mkdir "$M/$(printf "%0255d" 7)"
	rmdir "$M/$(printf "%0255d" 7)"
	expect_errno EINVAL "os.mkdir(os.environ[\"M\"].encode() + b\"/caf\\xe9\")"
	mkdir "$M/café"
	[ -d "$M/café" ]
	rmdir "$M/café"
	expect_errno ENOENT "os.stat(os.environ[\"M\"] + \"/shop/..hidden\")"
'

test_expect_success 'files only in containers; no links, symlinks, nodes' '
	expect_errno EPERM "open(os.environ[\"M\"] + \"/top.json\", \"w\")"
	expect_errno EPERM "open(os.environ[\"M\"] + \"/shop/x.json\", \"w\")"
	echo "{}" >"$M/shop/orders/a.json"
	expect_errno EPERM "os.symlink(\"a.json\", os.environ[\"M\"] + \"/shop/orders/l.json\")"
	expect_errno EPERM "os.link(os.environ[\"M\"] + \"/shop/orders/a.json\", os.environ[\"M\"] + \"/shop/orders/h.json\")"
	expect_errno EPERM "os.mkfifo(os.environ[\"M\"] + \"/shop/orders/f\")"
	expect_errno EPERM "os.mknod(os.environ[\"M\"] + \"/shop/orders/n\", 0o600 | 0o020000, os.makedev(1, 3))"
'

test_expect_success 'a document reads back byte for byte' '
	printf "{\n  \"id\": \"o1\",\n  \"total\": 12.5,\n  \"note\": \"caf\\u00e9 ☕\"\n}\n" >"$TMP/o1"
	cp "$TMP/o1" "$M/shop/orders/o1.json"
	cmp "$TMP/o1" "$M/shop/orders/o1.json"
	[ "$(stat -c %s "$M/shop/orders/o1.json")" = "$(stat -c %s "$TMP/o1")" ]
'

test_expect_success 'invalid JSON: close fails EINVAL, previous version stays, log names line and column' '
	expect_errno EINVAL "
fd = os.open(os.environ[\"M\"] + \"/shop/orders/o1.json\", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b\"{\\n  \\\"a\\\": 1,\\n}\")
os.close(fd)"
	cmp "$TMP/o1" "$M/shop/orders/o1.json"
	grep -q "shop/orders/o1.json: .*line 3, column 1" "$LOG"
'

test_expect_success 'not an object, empty, bad UTF-8: EINVAL at close' '
	expect_errno EINVAL "
fd = os.open(os.environ[\"M\"] + \"/shop/orders/o1.json\", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b\"[1, 2]\")
os.close(fd)"
	expect_errno EINVAL "
fd = os.open(os.environ[\"M\"] + \"/shop/orders/o1.json\", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b\"{\\\"a\\\": \\\"\\xff\\\"}\")
os.close(fd)"
	cmp "$TMP/o1" "$M/shop/orders/o1.json"
'

test_expect_success 'a close before any write commits nothing: a child may still write' '
	python3 - <<PY
import os, subprocess
d = os.environ["M"] + "/shop/orders/"
with open(d + "child.json", "w") as f:
    p = subprocess.Popen(["sh", "-c", "sleep 0.3; echo {\\\\\"child\\\\\": 1}"], stdout=f)
p.wait()
assert open(d + "child.json").read() == "{\"child\": 1}\n", open(d + "child.json").read()
PY
	touch "$M/shop/orders/new-empty.json"
	# dropped by the last close, the release, which the kernel sends
	# after close(2) has returned
	wait_for 20 not [ -e "$M/shop/orders/new-empty.json" ]
	grep -q "shop/orders/new-empty.json: not committed" "$LOG"
'

test_expect_success 'fsync of invalid JSON fails EINVAL too' '
	expect_errno EINVAL "
fd = os.open(os.environ[\"M\"] + \"/shop/orders/o1.json\", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b\"nope\")
os.fsync(fd)"
	cmp "$TMP/o1" "$M/shop/orders/o1.json"
'

test_expect_success 'a later valid rewrite succeeds' '
	echo "{\"v\": 2}" >"$M/shop/orders/o1.json"
	[ "$(cat "$M/shop/orders/o1.json")" = "{\"v\": 2}" ]
'

test_expect_success 'over the size limit: EFBIG, previous version stays' '
	expect_errno EFBIG "
fd = os.open(os.environ[\"M\"] + \"/shop/orders/o1.json\", os.O_WRONLY | os.O_TRUNC)
os.write(fd, b\"{\\\"big\\\": \\\"\" + b\"x\" * 5000 + b\"\\\"}\")
os.close(fd)"
	[ "$(cat "$M/shop/orders/o1.json")" = "{\"v\": 2}" ]
	python3 -c "import json; json.dump({\"k\": \"y\" * 4000}, open(\"$M/shop/orders/big.json\", \"w\"))"
	[ "$(stat -c %s "$M/shop/orders/big.json")" = 4009 ]
'

test_expect_success 'mtime is the version timestamp; no xattrs unless -o xattr' '
	ts=$(ts_of "$M/shop/orders/o1.json")
	case "$ts" in 20[0-9][0-9]-*T*.?????????Z) ;; *) exit 1 ;; esac
	sec=$(date -u -d "${ts%.*}Z" +%s)
	[ "$(stat -c %Y "$M/shop/orders/o1.json")" = "$sec" ]
	expect_errno ENOTSUP "os.getxattr(os.environ[\"M\"] + \"/shop/orders/o1.json\", \"user.pitr.ts\")"
	expect_errno ENOTSUP "os.listxattr(os.environ[\"M\"] + \"/shop/orders/o1.json\")"
	expect_errno ENOTSUP "os.setxattr(os.environ[\"M\"] + \"/shop/orders/o1.json\", \"user.x\", b\"1\")"
'

test_expect_success '-o xattr: user.pitr.ts is the mtime, user.pitr.etag the hash' '
	"$PITR" create "$TMP/xs"
	mount_fs "$TMP/xs" "$TMP/xm" -o xattr
	mkdir -p "$TMP/xm/shop/orders"
	echo "{\"v\": 1}" >"$TMP/xm/shop/orders/o1.json"
	f=$TMP/xm/shop/orders/o1.json
	[ "$(getfattr --absolute-names -n user.pitr.ts --only-values "$f")" = "$(ts_of "$f")" ]
	etag=$(getfattr --absolute-names -n user.pitr.etag --only-values "$f")
	[ ${#etag} = 16 ]
	getfattr --absolute-names -d "$f" | grep -q user.pitr.etag
	export X=$TMP/xm
	expect_errno ENOTSUP "os.setxattr(os.environ[\"X\"] + \"/shop/orders/o1.json\", \"user.x\", b\"1\")"
	expect_errno ENODATA "os.getxattr(os.environ[\"X\"] + \"/shop/orders/o1.json\", \"user.nope\")"
	unmount_fs "$TMP/xm"
'

test_expect_success 'after each close, stat shows that version, even if stat ran mid-write' '
	python3 - "$M/shop/orders" <<-\EOF
	import os, sys
	d = sys.argv[1]
	def same(p):
	    st = os.stat(p)
	    body = open(p, "rb").read()
	    assert st.st_size == len(body), (st.st_size, len(body))
	    return st
	p = d + "/attrs.json"
	open(p, "w").write("{\"v\": 1}")
	v1 = same(p)
	for i in range(2, 40):
	    f = open(p, "w")
	    f.write("{\"v\": %s}" % ("1" * i))
	    f.flush()
	    if i % 2:
	        os.stat(p)  # attributes handed out while uncommitted
	    f.close()
	    v = same(p)
	    assert v.st_size == len("{\"v\": }") + i, (i, v.st_size)
	    assert v.st_mtime_ns > v1.st_mtime_ns, i
	    v1 = v
	f = open(p, "w"); f.write("{\"v\": oops}"); f.flush(); os.stat(p)
	try:
	    f.close()
	    sys.exit("invalid JSON accepted")
	except OSError:
	    pass
	assert same(p).st_size == v1.st_size and os.stat(p).st_mtime_ns == v1.st_mtime_ns
	EOF
'

test_expect_success 'a file renamed or unlinked before its first commit' '
	python3 - "$M/shop/orders" <<-\EOF
	import json, os, sys, tempfile
	d = sys.argv[1]
	# the temporary-file idiom, renamed while still open and unwritten
	with tempfile.NamedTemporaryFile("w", dir=d, delete=False) as f:
	    json.dump({"via": "tempfile"}, f)
	    os.replace(f.name, d + "/fromtempfile.json")
	assert json.load(open(d + "/fromtempfile.json")) == {"via": "tempfile"}
	assert not os.path.exists(f.name)
	# onto an existing document, which goes at the rename
	open(d + "/target.json", "w").write("{\"old\": 1}")
	f = open(d + "/fresh.json", "w")
	os.rename(d + "/fresh.json", d + "/target.json")
	assert os.stat(d + "/target.json").st_size == 0
	f.write("{\"new\": 1}")
	f.close()
	assert open(d + "/target.json").read() == "{\"new\": 1}"
	assert not os.path.exists(d + "/fresh.json")
	# a second handle on a new file, closed first, leaves it uncommitted
	a = open(d + "/two.json", "w")
	b = open(d + "/two.json", "r+")
	b.close()
	os.rename(d + "/two.json", d + "/two-b.json")
	a.write("{\"two\": 2}")
	a.close()
	assert open(d + "/two-b.json").read() == "{\"two\": 2}"
	# renamed to a bad name before its first commit: refused, data kept
	f = open(d + "/badname.json", "w")
	try:
	    os.rename(d + "/badname.json", d + "/bad#name.json")
	    sys.exit("a bad name accepted")
	except OSError as e:
	    assert e.errno == 22, e
	f.write("{\"kept\": 1}")
	f.close()
	assert open(d + "/badname.json").read() == "{\"kept\": 1}"
	# unlinked before its first commit: its data goes nowhere
	f = open(d + "/never.json", "w")
	os.unlink(d + "/never.json")
	f.write("{\"n\": 1}")
	f.close()
	assert not os.path.exists(d + "/never.json")
	assert "never.json" not in os.listdir(d)
	EOF
'

test_expect_success 'files being written for the first time are listed, and keep their container' '
	mkdir "$M/shop/busy" "$M/shop/fresh" "$M/shop/other"
	python3 - "$M/shop" <<-\EOF
	import errno, json, os, subprocess, sys
	top = sys.argv[1]
	d = top + "/busy"
	def order(name):  # as the store lists: documents by id, then scratch
	    doc = name.endswith(".json") and not name.startswith(".")
	    return (0, name[:-5].encode()) if doc else (1, name.encode())
	def expect_errno(code, fn, *args):
	    try:
	        fn(*args)
	        sys.exit("%s%r succeeded" % (fn.__name__, args))
	    except OSError as e:
	        assert e.errno == code, (fn.__name__, args, e)
	for i in range(0, 3000, 2):
	    open("%s/c%04d.json" % (d, i), "w").write("{}")
	# open, written, not closed: documents spread over several replies of
	# the listing, one before and one past them all, and scratch files
	names = ["c%04d.json" % i for i in range(1, 3000, 150)]
	names += ["a.json", "z.json", ".part", "zz-scratch"]
	held = {n: open(d + "/" + n, "w") for n in names}
	for f in held.values():
	    f.write("{\"x\": 1}")
	    f.flush()
	want = sorted(["c%04d.json" % i for i in range(0, 3000, 2)] + names,
	              key=order)
	got = os.listdir(d)
	assert got == want, (len(got), len(want), sorted(set(want) ^ set(got)))
	out = subprocess.run(["ls", "-lAU", d], capture_output=True, text=True,
	                     check=True).stdout.split("\n")[1:-1]
	assert [l.split()[-1] for l in out] == want
	sizes = {l.split()[-1]: int(l.split()[4]) for l in out}
	for n in names:
	    assert sizes[n] == len("{\"x\": 1}"), (n, sizes[n])
	# an overwrite in progress is listed once, with its writer size
	f = open(d + "/c0100.json", "w"); f.write("{\"y\": 22}"); f.flush()
	assert os.listdir(d) == want
	# a container holding only files not committed yet is not empty
	g = open(top + "/fresh/only.json", "w"); g.write("{}"); g.flush()
	assert os.listdir(top + "/fresh") == ["only.json"]
	expect_errno(errno.ENOTEMPTY, os.rmdir, top + "/fresh")
	expect_errno(errno.ENOTEMPTY, os.rename, top + "/other", top + "/fresh")
	g.close()
	assert json.load(open(top + "/fresh/only.json")) == {}
	f.close()
	for f in held.values():
	    f.close()
	assert os.listdir(d) == want
	assert json.load(open(d + "/c0100.json")) == {"y": 22}
	assert json.load(open(d + "/z.json")) == {"x": 1}
	# unlinked while being written: gone from the listing at once
	g = open(d + "/gone.json", "w")
	os.unlink(d + "/gone.json")
	assert "gone.json" not in os.listdir(d)
	g.close()
	EOF
	rm -r "$M/shop/busy" "$M/shop/fresh" "$M/shop/other"
	test ! -e "$M/shop/busy"
'

test_expect_success 'seekdir goes back to where telldir was, in the live tree and in views' '
	mkdir "$M/shop/many"
	python3 -c "
import sys
for i in range(2400):
    open(\"%s/m%04d.json\" % (sys.argv[1], i), \"w\").write(\"{}\")
" "$M/shop/many"
	check_seekdir "$M/shop/many"
	T=$(ts_of "$M/shop/many/m2399.json")
	rm "$M/shop/many/m01"*
	check_seekdir "$M/shop/many"
	check_seekdir "$M/@$T/shop/many"
	check_seekdir "$M/@$T/shop/many"
	# a caller taking a few entries per call, while entries it has
	# already seen are removed: every other entry once, none skipped
	python3 - "$M/shop/many" <<-\EOF
	import ctypes, os, struct, sys
	d = sys.argv[1]
	libc = ctypes.CDLL(None, use_errno=True)
	before = set(os.listdir(d))
	fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
	buf = ctypes.create_string_buffer(256)
	seen, calls, removed = [], 0, False
	while True:
	    n = libc.syscall(217, fd, buf, 256)  # getdents64
	    assert n >= 0, ctypes.get_errno()
	    if n == 0:
	        break
	    calls += 1
	    pos = 0
	    while pos < n:
	        reclen = struct.unpack_from("H", buf.raw, pos + 16)[0]
	        name = buf.raw[pos + 19:pos + reclen].split(b"\0")[0].decode()
	        if name not in (".", ".."):
	            seen.append(name)
	        pos += reclen
	    if len(seen) >= 300 and not removed:
	        for name in seen[:40]:
	            os.unlink(d + "/" + name)
	        removed = True
	os.close(fd)
	assert calls > 100 and removed, calls
	assert len(seen) == len(set(seen)), "listed twice"
	missing = before - set(seen)
	assert not missing, sorted(missing)[:5]
	EOF
	rm -r "$M/shop/many"
'

test_expect_success 'chmod, chown, touch succeed' '
	chmod 600 "$M/shop/orders/o1.json"
	chown "$(id -u):$(id -g)" "$M/shop/orders/o1.json"
	touch -d "2001-01-01" "$M/shop/orders/o1.json"
	[ "$(cat "$M/shop/orders/o1.json")" = "{\"v\": 2}" ]
'

test_expect_success 'scratch files are kept and listed, then renamed onto a document' '
	printf "{\"v\": 3}" >"$M/shop/orders/.o1.json.tmp"
	ls -a "$M/shop/orders" | grep -qx ".o1.json.tmp"
	mv "$M/shop/orders/.o1.json.tmp" "$M/shop/orders/o1.json"
	[ "$(cat "$M/shop/orders/o1.json")" = "{\"v\": 3}" ]
	not grep -q tmp <(ls -a "$M/shop/orders")
'

test_expect_success 'renaming invalid scratch onto a document: EINVAL, both kept' '
	printf "junk" >"$M/shop/orders/scratch"
	expect_errno EINVAL "os.rename(os.environ[\"M\"] + \"/shop/orders/scratch\", os.environ[\"M\"] + \"/shop/orders/o1.json\")"
	[ "$(cat "$M/shop/orders/o1.json")" = "{\"v\": 3}" ]
	[ "$(cat "$M/shop/orders/scratch")" = junk ]
	rm "$M/shop/orders/scratch"
'

test_expect_success 'rename documents within and across containers' '
	mv "$M/shop/orders/a.json" "$M/shop/orders/b.json"
	[ "$(cat "$M/shop/orders/b.json")" = "{}" ]
	[ ! -e "$M/shop/orders/a.json" ]
	mv "$M/shop/orders/b.json" "$M/shop/users/u.json"
	[ "$(cat "$M/shop/users/u.json")" = "{}" ]
	[ ! -e "$M/shop/orders/b.json" ]
'

test_expect_success 'rename containers and databases' '
	mkdir "$M/tmpdb" "$M/tmpdb/c"
	echo "{\"k\": 1}" >"$M/tmpdb/c/d.json"
	mv "$M/tmpdb/c" "$M/tmpdb/c2"
	[ "$(cat "$M/tmpdb/c2/d.json")" = "{\"k\": 1}" ]
	mv "$M/tmpdb" "$M/db2"
	[ "$(cat "$M/db2/c2/d.json")" = "{\"k\": 1}" ]
	mv "$M/db2/c2" "$M/shop/moved"
	[ "$(cat "$M/shop/moved/d.json")" = "{\"k\": 1}" ]
'

test_expect_success 'a file renamed, unlinked or replaced while open for writing' '
	python3 - <<PY
import os
d = os.environ["M"] + "/shop/users/"
def opened(name, body):
    fd = os.open(d + name, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    os.write(fd, body)
    return fd
# renamed away: the data follows the file
open(d + "mv1.json", "w").write("{\"v\": 0}")
fd = opened("mv1.json", b"{\"v\": 1}")
os.rename(d + "mv1.json", d + "mv2.json")
os.close(fd)
assert open(d + "mv2.json").read() == "{\"v\": 1}"
assert not os.path.exists(d + "mv1.json")
# unlinked: the name stays gone
open(d + "rm.json", "w").write("{\"old\": 1}")
fd = opened("rm.json", b"{\"new\": 1}")
os.unlink(d + "rm.json")
os.close(fd)
assert not os.path.exists(d + "rm.json")
# replaced by a rename: the rename wins
open(d + "src.json", "w").write("{\"src\": 1}")
fd = opened("dst.json", b"{\"writer\": 1}")
os.rename(d + "src.json", d + "dst.json")
os.close(fd)
assert open(d + "dst.json").read() == "{\"src\": 1}", open(d + "dst.json").read()
# a refused ftruncate loses nothing written after it
fd = opened("tr.json", b"{}")
try:
    os.ftruncate(fd, 1 << 30)
    raise SystemExit("ftruncate past the limit succeeded")
except OSError as e:
    assert e.errno == 27, e  # EFBIG
os.ftruncate(fd, 0)
os.pwrite(fd, b"{\"t\": 1}", 0)
os.close(fd)
assert open(d + "tr.json").read() == "{\"t\": 1}"
PY
'

test_expect_success 'a reader keeps its file after unlink or replace: fstat, read, mmap' '
	python3 - <<PY
import mmap, os
d = os.environ["M"] + "/shop/users/"
old = b"{\"old\": \"" + b"o" * 3000 + b"\"}"
open(d + "gone.json", "wb").write(old)
f = open(d + "gone.json", "rb")
os.unlink(d + "gone.json")
st = os.fstat(f.fileno())
assert st.st_nlink == 0 and st.st_size == len(old), st
assert f.read() == old
f.close()
open(d + "dst.json", "wb").write(old)
open(d + "src.json", "wb").write(b"{\"new\": 1}")
f = open(d + "dst.json", "rb")
os.rename(d + "src.json", d + "dst.json")
st = os.fstat(f.fileno())
assert st.st_nlink == 0 and st.st_size == len(old), st
m = mmap.mmap(f.fileno(), 0, flags=mmap.MAP_PRIVATE, prot=mmap.PROT_READ)
assert m[:] == old, m[:40]
assert f.read() == old
m.close()
f.close()
assert open(d + "dst.json", "rb").read() == b"{\"new\": 1}"
assert os.stat(d + "dst.json").st_nlink == 1
PY
'

test_expect_success 'a child that inherits a written descriptor commits nothing when it exits' '
	python3 - <<PY
import os, subprocess
d = os.environ["M"] + "/shop/users/"
fd = os.open(d + "fork.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.write(fd, b"{\"step\": 1}")
subprocess.run(["true"], close_fds=False)  # exec, exit: closes it
subprocess.run(["true"])                   # closes it before exec
pid = os.fork()
if pid == 0:
    os._exit(0)
os.waitpid(pid, 0)
os.pwrite(fd, b"{\"step\": 2}", 0)
os.close(fd)
PY
	[ "$(cat "$M/shop/users/fork.json")" = "{\"step\": 2}" ]
	"$PITR" log "$S" shop/users/fork.json >"$TMP/forklog"
	[ "$(grep -c "create\|replace" "$TMP/forklog")" = 1 ]
	python3 - <<PY
import os
d = os.environ["M"] + "/shop/users/"
fd = os.open(d + "two.json", os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
os.write(fd, b"{\"parent\": 1}")
wrote, done = os.pipe(), os.pipe()
pid = os.fork()
if pid == 0:
    os.write(fd, b"\n")  # a writer too, which keeps it open
    os.write(wrote[1], b"x")
    os.read(done[0], 1)
    os._exit(0)
os.read(wrote[0], 1)
os.close(fd)  # a writer: commits what both wrote
assert open(d + "two.json").read() == "{\"parent\": 1}\n"
os.write(done[1], b"x")
os.waitpid(pid, 0)
PY
'

test_expect_success 'rmdir: ENOTEMPTY with documents, works when empty' '
	expect_errno ENOTEMPTY "os.rmdir(os.environ[\"M\"] + \"/shop/moved\")"
	expect_errno ENOTEMPTY "os.rmdir(os.environ[\"M\"] + \"/shop\")"
	rm "$M/shop/moved/d.json"
	rmdir "$M/shop/moved" "$M/db2"
	[ ! -e "$M/db2" ]
'

test_expect_success 'unlink: ENOENT for a missing document' '
	expect_errno ENOENT "os.unlink(os.environ[\"M\"] + \"/shop/orders/nope.json\")"
	expect_errno EISDIR "os.unlink(os.environ[\"M\"] + \"/shop/orders\")"
'

test_expect_success 'statfs works (df)' '
	df "$M" | tail -1 | grep -q pitrfs
'

test_expect_success 'everything survives a remount' '
	unmount_fs "$M"
	mount_fs "$S" "$M"
	[ "$(cat "$M/shop/orders/o1.json")" = "{\"v\": 3}" ]
	[ "$(cat "$M/shop/users/u.json")" = "{}" ]
'

unmount_fs "$M"
test_expect_success 'the store verifies: every index agrees with the log' '
	verify_ok "$S"
'

test_done
