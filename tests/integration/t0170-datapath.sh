#!/usr/bin/env bash
# The data path of issue 13: views resolved during concurrent commits never
# change (not after the writers end, not after a remount); read-only
# handles share the committed body (the daemon's memory does not grow with
# them); renames across levels are EPERM and change nothing; truncate(2)
# of a file not committed yet works on its writer's state; a truncation is
# committed by close() as a write is; and handles opened before and after
# a commit each read their own version.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir -p "$M/db/c"
echo '{"seed": 1}' >"$M/db/c/seed.json"
export M S

# The pid of the daemon serving MNT, as mount_fs recorded it.
daemon_pid() {
	cat "$TMP/pid.$(key_of "$1")"
}

test_skip() {
	test_count=$((test_count + 1))
	echo "ok $test_count # skip $1"
}

# --- 1. views never change once read ----------------------------------

# A writer: create N documents named PREFIX-i.json, as fast as it can,
# once the reader has taken its first view (no wall-clock window).
cat >"$TMP/writer.py" <<'EOF'
import os, sys, time
d, prefix, n, ready = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
for _ in range(2000):
    if os.path.exists(ready):
        break
    time.sleep(0.01)
else:
    sys.exit("the reader never started")
for i in range(n):
    with open(os.path.join(d, "%s-%04d.json" % (prefix, i)), "w") as f:
        f.write('{"w": "%s", "i": %d}\n' % (prefix, i))
EOF

# The reader: up to MAX views at an instant 1 ms before now, while the
# writers run (until every DONE file exists); one JSON line per view: the
# instant and the sorted listing of @instant/db/c.
cat >"$TMP/reader.py" <<'EOF'
import json, os, sys, time
mnt, out, ready, maxreads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
done = sys.argv[5:]
def instant():
    ns = time.time_ns() - 1000000
    s, frac = divmod(ns, 1000000000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(s)) + ".%09dZ" % frac
views = []
while len(views) < maxreads:
    t = instant()
    names = sorted(os.listdir(os.path.join(mnt, "@" + t, "db", "c")))
    views.append({"t": t, "names": names})
    if len(views) == 1:
        open(ready, "w").close()
    if all(os.path.exists(f) for f in done):
        break
with open(out, "w") as f:
    for v in views:
        f.write(json.dumps(v) + "\n")
print(len(views), "views,", sum(1 for v in views if 1 < len(v["names"]) < 1201),
      "of them while the writers ran")
EOF

# Compare every recorded view with the same instant now; views must also
# grow with their instant (the writers only create).
cat >"$TMP/recheck.py" <<'EOF'
import json, os, sys
mnt, rec = sys.argv[1], sys.argv[2]
views = [json.loads(l) for l in open(rec)]
bad = 0
prev = set()
for v in views:
    now = sorted(os.listdir(os.path.join(mnt, "@" + v["t"], "db", "c")))
    if now != v["names"]:
        bad += 1
        a, b = set(v["names"]), set(now)
        print("@%s: first read %d documents, now %d; now also %s, no longer %s"
              % (v["t"], len(a), len(b), sorted(b - a)[:5], sorted(a - b)[:5]))
    if not prev <= set(v["names"]):
        bad += 1
        print("@%s lacks documents an earlier view showed: %s"
              % (v["t"], sorted(prev - set(v["names"]))[:5]))
    prev = set(v["names"])
print("%d of %d views differ" % (bad, len(views)))
sys.exit(1 if bad else 0)
EOF

test_expect_success 'views at now - 1 ms during three concurrent writers: recorded' '
	rm -f "$TMP/ready" "$TMP"/done.*
	pids=
	for w in a b c; do
		( python3 "$TMP/writer.py" "$M/db/c" "$w" 400 "$TMP/ready" &&
			touch "$TMP/done.$w" ) &
		pids="$pids $!"
	done
	python3 "$TMP/reader.py" "$M" "$TMP/views" "$TMP/ready" 300 \
		"$TMP/done.a" "$TMP/done.b" "$TMP/done.c" >"$TMP/reader.out"
	for p in $pids; do wait "$p"; done
	cat "$TMP/reader.out"
	[ "$(ls "$M/db/c" | wc -l)" = 1201 ]
	[ "$(wc -l <"$TMP/views")" -ge 2 ]
'
sed 's/^/# /' "$TMP/reader.out" 2>/dev/null

test_expect_success 'every view read again after the writers end is the same' '
	python3 "$TMP/recheck.py" "$M" "$TMP/views"
'

test_expect_success 'every view read again after a remount is the same' '
	unmount_fs "$M"
	mount_fs "$S" "$M"
	python3 "$TMP/recheck.py" "$M" "$TMP/views"
'

# --- 2. memory per handle -----------------------------------------------

# Open N read-only descriptors of PATH, read a byte from each (so the
# daemon has loaded it), and print the daemon's VmRSS (KiB) before and
# while they are open.
cat >"$TMP/handles.py" <<'EOF'
import os, sys
pid, path, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
def rss():
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
    raise SystemExit("no VmRSS for pid " + pid)
size = os.stat(path).st_size
with open(path, "rb") as f:
    data = f.read()
if len(data) != size:
    raise SystemExit("read %d bytes, size %d" % (len(data), size))
before = rss()
fds = [os.open(path, os.O_RDONLY) for _ in range(n)]
# a byte from each descriptor at each eighth of the file, and its last
offs = [size * k // 8 for k in range(8)] + [size - 1]
for i, fd in enumerate(fds):
    for off in offs:
        got = os.pread(fd, 1, off)
        if got != data[off:off + 1]:
            raise SystemExit("descriptor %d read %r at %d, want %r"
                             % (i, got, off, data[off:off + 1]))
during = rss()
for fd in fds:
    os.close(fd)
print(before, during)
EOF

# check_rss PATH N WHAT: growth with N handles open below 16 MiB.
check_rss() {
	local b d
	python3 "$TMP/handles.py" "$(daemon_pid "$M")" "$1" "$2" >"$TMP/rss.out"
	read -r b d <"$TMP/rss.out"
	echo "$3: VmRSS $b KiB before, $d KiB with $2 read-only descriptors open (+$((d - b)) KiB)" |
		tee -a "$TMP/rss"
	[ $((d - b)) -lt 16384 ]
}

if [ -n "${PITR_SANITIZED:-}" ]; then
	test_skip 'daemon RSS with 40 descriptors of an 8 MiB scratch file (a sanitizer build: RSS is not meaningful)'
	test_skip 'daemon RSS with 100 descriptors of a 2 MiB document (a sanitizer build: RSS is not meaningful)'
else
	test_expect_success 'daemon RSS grows < 16 MiB with 40 read-only descriptors of an 8 MiB scratch file' '
		head -c 8M /dev/urandom >"$M/db/c/big.bin"
		[ "$(stat -c %s "$M/db/c/big.bin")" = 8388608 ]
		check_rss "$M/db/c/big.bin" 40 "8 MiB scratch file"
	'
	test_expect_success 'daemon RSS grows < 16 MiB with 100 read-only descriptors of a 2 MiB document' '
		python3 -c "import sys; sys.stdout.write(\"{\\\"k\\\":\\\"\" + \"x\" * (2 * 1024 * 1024 - 8) + \"\\\"}\")" \
			>"$M/db/c/big.json"
		[ "$(stat -c %s "$M/db/c/big.json")" = 2097152 ]
		check_rss "$M/db/c/big.json" 100 "2 MiB document"
	'
	sed 's/^/# /' "$TMP/rss" 2>/dev/null
fi

# --- 3. renames across levels -------------------------------------------

echo '{"x": 1}' >"$M/db/c/x.json"

# The state a refused rename must leave unchanged.
snapshot() {
	{
		"$PITR" events "$S"
		"$PITR" log "$S" db/c/x.json
		ls -a "$M" "$M/db"
		cat "$M/db/c/x.json"
	} >"$1"
}

test_expect_success 'rename of a container to database level: EPERM, nothing changes' '
	snapshot "$TMP/before"
	expect_errno EPERM "os.rename(\"$M/db/c\", \"$M/c2\")"
	test_must_fail mv "$M/db/c" "$M/c2"
	snapshot "$TMP/after"
	diff "$TMP/before" "$TMP/after"
	[ -d "$M/db/c" ] && [ ! -e "$M/c2" ]
	[ -z "$("$PITR" events "$S" | grep c2)" ]
'

test_expect_success 'rename of a document outside its container: EPERM, nothing changes' '
	snapshot "$TMP/before"
	expect_errno EPERM "os.rename(\"$M/db/c/x.json\", \"$M/db/x.json\")"
	test_must_fail mv "$M/db/c/x.json" "$M/db/x.json"
	snapshot "$TMP/after"
	diff "$TMP/before" "$TMP/after"
	[ ! -e "$M/db/x.json" ]
	[ "$(cat "$M/db/c/x.json")" = "{\"x\": 1}" ]
	[ "$("$PITR" log "$S" db/c/x.json | wc -l)" = 2 ]
'

# --- 4. truncate(2) of a file created and not committed yet -------------

# A writer creates PATH and writes BODY without closing; another process
# truncates it by path to N; then the writer closes.
cat >"$TMP/trunc_uncommitted.py" <<'EOF'
import os, subprocess, sys
path, body, n = sys.argv[1], sys.argv[2].encode(), int(sys.argv[3])
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
os.write(fd, body)
subprocess.check_call([sys.executable, "-c",
                       "import os, sys; os.truncate(sys.argv[1], int(sys.argv[2]))",
                       path, str(n)])
st = os.stat(path).st_size
if st != n:
    raise SystemExit("size %d after truncate, want %d" % (st, n))
os.close(fd)
EOF

test_expect_success 'truncate(2) of a document not committed yet: on its writer state' '
	python3 "$TMP/trunc_uncommitted.py" "$M/db/c/new.json" "{\"a\":1}          " 7
	printf "{\"a\":1}" >"$TMP/want"
	cmp "$TMP/want" "$M/db/c/new.json"
	"$PITR" cat "$S" db/c/new.json >"$TMP/got"
	cmp "$TMP/want" "$TMP/got"
	[ "$("$PITR" log "$S" db/c/new.json --json | wc -l)" = 1 ]
	"$PITR" log "$S" db/c/new.json --json | grep -q "\"size\":7,"
'

test_expect_success 'truncate(2) of a scratch file not written back yet: on its writer state' '
	python3 "$TMP/trunc_uncommitted.py" "$M/db/c/new.txt" "hello world" 5
	[ "$(cat "$M/db/c/new.txt")" = hello ]
'

# --- 5. a truncation is committed by close() ----------------------------

# In one process, so that nothing (a fork, an exec) gives the kernel's
# release time to arrive before the next open: v1 with trailing spaces;
# ftruncate to 7 and close; read at once; pwrite a byte within the cut
# length, close; read at once.
cat >"$TMP/ftruncate.py" <<'EOF'
import os, sys
path = sys.argv[1]
def read(path):
    fd = os.open(path, os.O_RDONLY)
    b = os.pread(fd, 4096, 0)
    os.close(fd)
    return b
fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
os.write(fd, b'{"a":1}' + b" " * 20 + b"\n")
os.close(fd)
fd = os.open(path, os.O_WRONLY)
os.ftruncate(fd, 7)
os.close(fd)
got = read(path)
if got != b'{"a":1}':
    raise SystemExit("after ftruncate and close: %r" % got)
fd = os.open(path, os.O_WRONLY)
os.pwrite(fd, b"2", 5)
os.close(fd)
got = read(path)
if got != b'{"a":2}':
    raise SystemExit("after pwrite and close: %r" % got)
EOF

test_expect_success 'ftruncate then close commits the document at once' '
	cd "$M/db/c"
	printf "{\"a\":1}                    \n" >d.json
	python3 -c "import os; fd = os.open(\"d.json\", os.O_WRONLY); os.ftruncate(fd, 7); os.close(fd)"
	printf "{\"a\":1}" >"$TMP/want"
	cmp "$TMP/want" d.json
	"$PITR" log "$S" db/c/d.json --json >"$TMP/log"
	[ "$(wc -l <"$TMP/log")" = 2 ]
	tail -1 "$TMP/log" | grep -q "\"op\":\"replace\",\"size\":7,"
	for i in 1 2 3 4 5; do
		python3 "$TMP/ftruncate.py" "$M/db/c/ft$i.json"
		"$PITR" log "$S" db/c/ft$i.json --json >"$TMP/log"
		[ "$(wc -l <"$TMP/log")" = 3 ]
		sed -n 2p "$TMP/log" | grep -q "\"op\":\"replace\",\"size\":7,"
		printf "{\"a\":2}" >"$TMP/want"
		"$PITR" cat "$S" db/c/ft$i.json >"$TMP/got"
		cmp "$TMP/want" "$TMP/got"
	done
'

test_expect_success 'scratch file: : > s; echo x >> s gives x' '
	cd "$M/db/c"
	for i in 1 2 3 4 5; do
		printf "hello world\n" >s
		: >s
		echo x >>s
		[ "$(cat s)" = x ]
		[ "$(stat -c %s s)" = 2 ]
	done
'

# --- 6. snapshot isolation with shared bodies ---------------------------

cat >"$TMP/isolation.py" <<'EOF'
import os, sys
path = sys.argv[1]
v1 = b'{"v": 1}\n'
v2 = b'{"v": 2, "pad": "' + b"y" * 300000 + b'"}\n'
v3 = b'{"v": 3}\n'
def commit(body):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, body)
    os.close(fd)
def whole(fd):
    out, off = b"", 0
    while True:
        b = os.pread(fd, 65536, off)
        if not b:
            return out
        out += b
        off += len(b)
def check(what, got, want):
    if got != want:
        raise SystemExit("%s: read %d bytes %r..., want %d bytes %r..."
                         % (what, len(got), got[:20], len(want), want[:20]))
commit(v1)
fd1 = os.open(path, os.O_RDONLY)
check("fd1 before v2", whole(fd1), v1)
commit(v2)
fd2 = os.open(path, os.O_RDONLY)
check("fd1 after v2", whole(fd1), v1)
check("fd2", whole(fd2), v2)
commit(v3)
fd3 = os.open(path, os.O_RDONLY)
check("fd1 after v3", whole(fd1), v1)
check("fd2 after v3", whole(fd2), v2)
check("fd3", whole(fd3), v3)
os.close(fd2)
check("fd1 after fd2 closed", whole(fd1), v1)
for fd in (fd1, fd3):
    os.close(fd)
EOF

test_expect_success 'descriptors opened before and after commits read their own versions' '
	python3 "$TMP/isolation.py" "$M/db/c/iso.json"
'

cat >"$TMP/race.py" <<'PY'
import os, sys, threading
# truncate(2) by path while the file's writer closes it: whichever comes
# first, the truncation holds; on new files, then on committed ones
d = sys.argv[1]
for i in range(100):
    p = os.path.join(d, "race-%d.tmp" % (i % 50))
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, b"z" * 200000)
    err = []
    def cut():
        try:
            os.truncate(p, 10)
        except OSError as e:
            err.append(e)
    t = threading.Thread(target=cut)
    t.start()
    os.close(fd)
    t.join()
    if err:
        sys.exit("round %d: truncate: %s" % (i, err[0]))
    n = os.stat(p).st_size
    if n != 10 or len(open(p, "rb").read()) != 10:
        sys.exit("round %d: size %d after truncate to 10" % (i, n))
PY

test_expect_success 'truncate(2) racing its writer close: never ENOENT, never lost' '
	python3 "$TMP/race.py" "$M/db/c"
'

cat >"$TMP/toobig.py" <<'PY'
import errno, os, sys
# a write refused as too big dooms its writer's close, not a child's
p = sys.argv[1]
fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
try:
    os.pwrite(fd, b"y", 17 << 20)
    sys.exit("a write past 16 MiB was taken")
except OSError as e:
    assert e.errno == errno.EFBIG, e
pid = os.fork()
if pid == 0:
    try:
        os.close(fd)
    except OSError as e:
        os._exit(3)
    os._exit(0)
_, st = os.waitpid(pid, 0)
if os.waitstatus_to_exitcode(st) != 0:
    sys.exit("the child close failed")
try:
    os.close(fd)
    sys.exit("the writer close succeeded")
except OSError as e:
    assert e.errno == errno.EFBIG, e
PY

test_expect_success 'a write refused as too big fails its writer close, not a child close' '
	python3 "$TMP/toobig.py" "$M/db/c/big.bin"
'

test_expect_success 'unmount: the daemon exits 0' '
	unmount_fs "$M"
'

test_done
