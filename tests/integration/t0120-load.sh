#!/usr/bin/env bash
# Load: 4 writers and 4 readers for LOAD_SECONDS (default 5; 60 for the
# long form), on one shared container and across containers. No version is
# lost or torn, no reader sees a partial document, the daemon's memory
# stays flat and it leaks no descriptor.
. "$(dirname "$0")/lib.sh"

SECS=${LOAD_SECONDS:-5}
S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
for c in shared w0 w1 w2 w3; do mkdir -p "$M/db/$c"; done
export M SECS
PID=$(cat "$TMP/pid.$(key_of "$M")")

cat >"$TMP/load.py" <<'PY'
import hashlib, json, os, random, sys, time
role, n = sys.argv[1], int(sys.argv[2])
M, end = os.environ["M"], time.time() + float(os.environ["SECS"])
rnd = random.Random(n)
def doc(i):
    pad = "%x" % rnd.getrandbits(rnd.randint(8, 12000))
    return json.dumps({"w": n, "i": i, "pad": pad,
                       "sum": hashlib.md5(pad.encode()).hexdigest()})
if role == "writer":
    acked = open(os.environ["TMP"] + "/acked.%d" % n, "w")
    i = 0
    while time.time() < end:
        c = "shared" if i % 2 else "w%d" % n
        path = "%s/db/%s/d%d.json" % (M, c, rnd.randint(0, 19))
        body = doc(i)
        with open(path, "w") as f:
            f.write(body)
        acked.write("%s\t%s\n" % (path, body))
        i += 1
else:
    reads = 0
    while time.time() < end:
        c = rnd.choice(["shared", "w0", "w1", "w2", "w3"])
        path = "%s/db/%s/d%d.json" % (M, c, rnd.randint(0, 19))
        try:
            b = open(path).read()
        except FileNotFoundError:
            continue
        d = json.loads(b)  # never partial
        assert hashlib.md5(d["pad"].encode()).hexdigest() == d["sum"], path
        reads += 1
    print(reads)
PY

fds0=$(ls "/proc/$PID/fd" | wc -l)
test_expect_success "4 writers and 4 readers for ${SECS}s" '
	pids=
	for n in 0 1 2 3; do
		python3 "$TMP/load.py" writer $n &
		pids="$pids $!"
		python3 "$TMP/load.py" reader $n >"$TMP/reads.$n" &
		pids="$pids $!"
	done
	( for i in $(seq $((SECS * 2))); do
		grep RssAnon "/proc/'"$PID"'/status" | awk "{print \$2}"
		sleep 0.5
	done ) >"$TMP/rss" &
	sampler=$!
	# each writer and reader must exit 0 (a failed write or a torn read)
	failed=0
	for p in $pids; do wait $p || failed=$((failed + 1)); done
	wait $sampler
	[ "$failed" = 0 ] || { echo "$failed of 8 writers and readers failed"; exit 1; }
	for n in 0 1 2 3; do [ "$(cat "$TMP/reads.$n")" -gt 0 ]; done
'

test_expect_success 'no version lost: each document holds an acknowledged version, a private one the last' '
	python3 - <<PY
import glob, os
last, every = {}, {}
for f in glob.glob(os.environ["TMP"] + "/acked.*"):
    for line in open(f):
        path, body = line.rstrip("\n").split("\t")
        last[(f, path)] = body
        every.setdefault(path, set()).add(body)
for (f, path), body in last.items():
    now = open(path).read()
    assert now in every[path], path
    if "/shared/" not in path:
        assert now == body, ("private document lost its last version", path)
acks = sum(1 for f in glob.glob(os.environ["TMP"] + "/acked.*") for _ in open(f))
print(acks, "acknowledged versions")
PY
	acks=$(cat "$TMP"/acked.* | wc -l)
	muts=$("$PITR" info "$S" | awk "/^mutations:/ {print \$2}")
	[ "$muts" -ge "$acks" ]
'

test_expect_success 'memory stays flat and no descriptor leaks' '
	n=$(wc -l <"$TMP/rss")
	early=$(sed -n "$(( (n + 3) / 4 ))p" "$TMP/rss")
	late=$(tail -1 "$TMP/rss")
	echo "# RSS KiB over time: $(tr "\n" " " <"$TMP/rss")" >&2
	# (AddressSanitizer holds freed memory in quarantine: not under it)
	[ -n "${PITR_SANITIZED:-}" ] || [ "$late" -le $((early * 3 / 2 + 16384)) ]
	sleep 0.5
	fds1=$(ls "/proc/'"$PID"'/fd" | wc -l)
	[ "$fds1" -le $(('"$fds0"' + 2)) ]
'
echo "# daemon anonymous RSS (KiB), every 0.5 s: $(tr '\n' ' ' <"$TMP/rss" 2>/dev/null)"
echo "# reads: $(cat "$TMP"/reads.* 2>/dev/null | paste -sd' '), versions written: $(cat "$TMP"/acked.* 2>/dev/null | wc -l)"

unmount_fs "$M"
test_done
