#!/usr/bin/env bash
# Concurrent writers and readers, kill -9 of the daemon, a full disk.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c"
export M

# writer ID COUNT DOC: writes COUNT versions of DOC, logging each one whose
# close() returned 0 to $TMP/acked.ID.
cat >"$TMP/writer.py" <<'PY'
import json, os, sys
wid, count, doc = sys.argv[1], int(sys.argv[2]), sys.argv[3]
log = open(os.environ["TMP"] + "/acked." + wid, "w")
for i in range(count):
    body = json.dumps({"writer": wid, "i": i, "pad": "p" * (i % 300)})
    fd = os.open(doc, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.write(fd, body.encode())
    os.close(fd)
    log.write(body + "\n"); log.flush()
PY
cat >"$TMP/reader.py" <<'PY'
import json, os, sys, time
docs, until = sys.argv[1:-1], time.time() + float(sys.argv[-1])
n = 0
while time.time() < until:
    for d in docs:
        try:
            b = open(d).read()
        except FileNotFoundError:
            continue
        json.loads(b)  # never a partial document
        n += 1
print(n)
PY

test_expect_success '4 writers on one document, 4 on their own, 2 readers: nothing lost or torn' '
	pids=
	for w in 1 2 3 4; do
		python3 "$TMP/writer.py" s$w 150 "$M/db/c/shared.json" &
		pids="$pids $!"
		python3 "$TMP/writer.py" o$w 150 "$M/db/c/own$w.json" &
		pids="$pids $!"
	done
	python3 "$TMP/reader.py" "$M/db/c/shared.json" "$M/db/c/own1.json" 3 >"$TMP/r1" &
	pids="$pids $!"
	python3 "$TMP/reader.py" "$M/db/c/shared.json" "$M/db/c/own2.json" 3 >"$TMP/r2" &
	pids="$pids $!"
	for p in $pids; do wait $p; done
	[ "$(cat "$TMP/r1")" -gt 0 ]
	[ "$(cat "$TMP/r2")" -gt 0 ]
	for w in 1 2 3 4; do
		[ "$(wc -l <"$TMP/acked.o$w")" = 150 ]
		[ "$(cat "$M/db/c/own$w.json")" = "$(tail -1 "$TMP/acked.o$w")" ]
	done
	cat "$TMP"/acked.s* | grep -qxF "$(cat "$M/db/c/shared.json")"
'

test_expect_success 'every acknowledged version of the shared document is in history' '
	# 1200 acknowledged versions and two mkdirs: each one is in the log
	"$PITR" info "$S" | grep -E "^mutations: +([0-9]+)" | awk "{exit !(\$2 >= 1202)}"
'

test_expect_success 'kill -9 while writing: every acknowledged version survives' '
	python3 "$TMP/writer.py" k 100000 "$M/db/c/killed.json" 2>/dev/null &
	wpid=$!
	# until the writer has more than 10 acknowledged versions (bounded:
	# 60 s), however slow the machine is to start it
	for i in $(seq 600); do
		[ "$(cat "$TMP/acked.k" 2>/dev/null | wc -l)" -gt 10 ] && break
		kill -0 $wpid 2>/dev/null || break
		sleep 0.1
	done
	crash_fs "$M"
	wait $wpid || true
	n=$(wc -l <"$TMP/acked.k")
	[ "$n" -gt 10 ]
	mount_fs "$S" "$M"
	last=$(tail -1 "$TMP/acked.k")
	got=$(cat "$M/db/c/killed.json")
	# the last acknowledged version, or one written after it whose
	# close was cut short by the kill
	[ "$got" = "$last" ] || python3 -c "
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert b[\"i\"] == a[\"i\"] + 1, (a, b)" "$last" "$got"
	"$PITR" info "$S" >/dev/null
'

test_expect_success 'after the crash the store still takes writes and old views read' '
	echo "{\"after\": \"crash\"}" >"$M/db/c/after.json"
	[ "$(cat "$M/db/c/after.json")" = "{\"after\": \"crash\"}" ]
	cat "$M/@-0s/db/c/own3.json" | python3 -c "import json,sys; json.load(sys.stdin)"
'
test_expect_success 'a commit racing a rename lands under one name only' '
	python3 - "$M/db/c" <<-\EOF
	import os, sys, threading, time
	d = sys.argv[1]
	big = "{\"pad\": \"%s\"}" % ("z" * 1500000)
	for n in range(4):
	    a, b = d + "/race-a.json", d + "/race-b.json"
	    for p in (a, b):
	        if os.path.exists(p):
	            os.unlink(p)
	    open(a, "w").write("{}")
	    f = open(a, "w")
	    f.write(big)
	    t = threading.Thread(target=f.close)
	    t.start()
	    time.sleep(0.002 * n)  # while the daemon parses the document
	    os.rename(a, b)
	    t.join()
	    names = [x for x in os.listdir(d) if x.startswith("race-")]
	    assert names == ["race-b.json"], names
	    assert open(b).read() == big
	EOF
'

unmount_fs "$M"

test_expect_success 'full disk: ENOSPC to the writer, history intact, writes resume when space is freed' '
	mkdir "$TMP/small"
	mount -t tmpfs -o size=3m tmpfs "$TMP/small"
	"$PITR" create "$TMP/small/store"
	dd if=/dev/zero of="$TMP/small/filler" bs=64k count=8 status=none
	mount_fs "$TMP/small/store" "$TMP/small-mnt"
	mkdir "$TMP/small-mnt/d" "$TMP/small-mnt/d/c"
	echo "{\"first\": 1}" >"$TMP/small-mnt/d/c/first.json"
	F1=$(ts_of "$TMP/small-mnt/d/c/first.json")
	python3 - "$TMP/small-mnt/d/c" <<PY
import errno, os, random, sys
random.seed(1)
for i in range(100000):
    body = ("{\"i\": %d, \"r\": \"%s\"}" % (i, "%x" % random.getrandbits(4000))).encode()
    fd = os.open(os.path.join(sys.argv[1], "n%d.json" % i), os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        os.write(fd, body)
        os.close(fd)
    except OSError as e:
        assert e.errno == errno.ENOSPC, e
        print("ENOSPC after", i)
        break
else:
    raise SystemExit("never ran out of space")
PY
	[ "$(cat "$TMP/small-mnt/d/c/first.json")" = "{\"first\": 1}" ]
	[ "$(cat "$TMP/small-mnt/@$F1/d/c/first.json")" = "{\"first\": 1}" ]
	cat "$TMP/small-mnt/d/c/n0.json" >/dev/null
	rm "$TMP/small/filler"
	echo "{\"again\": 1}" >"$TMP/small-mnt/d/c/again.json" || { tail -3 "$LOG"; df "$TMP/small"; exit 1; }
	[ "$(cat "$TMP/small-mnt/d/c/again.json")" = "{\"again\": 1}" ]
	unmount_fs "$TMP/small-mnt"
'

umount -l "$TMP/small" 2>/dev/null
test_expect_success 'the store verifies: every index agrees with the log' '
	verify_ok "$S"
'

test_done
