#!/usr/bin/env bash
# Crash consistency: writers record every version whose close() returned
# 0; the daemon is killed with SIGKILL at a random moment; after each
# remount every acknowledged version is readable at its timestamp, nothing
# partial is visible, and pitr verify passes. CRASH_ROUNDS=50 for the long
# form (default 4).
. "$(dirname "$0")/../integration/lib.sh"

ROUNDS=${CRASH_ROUNDS:-4}
S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c"
export M

# writer ID ROUND: versions of db/c/ID-K.json (K = 0..4) until the mount
# dies; logs "path<TAB>ts<TAB>body" for each acknowledged version, and the
# version in flight as "pending<TAB>path<TAB>body" before each attempt.
cat >"$TMP/writer.py" <<'PY'
import json, os, random, sys, time
def ts_of(p):
    # the version's timestamp, as pitr prints it: the mtime, to the ns
    ns = os.stat(p).st_mtime_ns
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + \
        ".%09dZ" % (ns % 10**9)
wid, rnd = sys.argv[1], sys.argv[2]
log = open(os.environ["TMP"] + "/acked.%s.%s" % (wid, rnd), "w", buffering=1)
random.seed(hash((wid, rnd)))
i = 0
while True:
    path = "db/c/%s-%d.json" % (wid, i % 5)
    body = json.dumps({"w": wid, "round": rnd, "i": i,
                       "pad": "x" * random.randint(0, 3000)})
    log.write("pending\t%s\t%s\n" % (path, body))
    try:
        fd = os.open(os.path.join(os.environ["M"], path),
                     os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
        os.write(fd, body.encode())
        os.close(fd)
        ts = ts_of(os.path.join(os.environ["M"], path))
    except OSError:
        break
    log.write("%s\t%s\t%s\n" % (path, ts, body))
    i += 1
PY

# snapshot ROUND: the documents' contents before the round
cat >"$TMP/snapshot.py" <<'PY'
import json, os, sys
d = os.path.join(os.environ["M"], "db/c")
json.dump({"db/c/" + f: open(os.path.join(d, f)).read() for f in os.listdir(d)},
          open("%s/base.%s" % (os.environ["TMP"], sys.argv[1]), "w"))
PY

# check ROUND: every acknowledged version of the round at its timestamp;
# the current state is the last acknowledged version (or, with none this
# round, the one before the round) or the one in flight, whole.
cat >"$TMP/check.py" <<'PY'
import glob, json, os, sys
M, TMP, rnd = os.environ["M"], os.environ["TMP"], sys.argv[1]
base = json.load(open("%s/base.%s" % (TMP, rnd)))
checked = 0
for f in glob.glob("%s/acked.*.%s" % (TMP, rnd)):
    last, pending = {}, {}
    for line in open(f):
        parts = line.rstrip("\n").split("\t")
        if parts[0] == "pending":
            pending[parts[1]] = parts[2]
            continue
        path, ts, body = parts
        got = open("%s/@%s/%s" % (M, ts, path)).read()
        assert got == body, ("acknowledged version lost", path, ts)
        last[path] = body
        checked += 1
    for path, body in pending.items():
        p = "%s/%s" % (M, path)
        now = open(p).read() if os.path.exists(p) else None
        # the last acknowledged version, or the one in flight, whole
        assert now in (last.get(path, base.get(path)), body), (
            "neither acknowledged nor in flight", path, now and now[:80])
print(checked)
PY

for r in $(seq "$ROUNDS"); do
	test_expect_success "round $r: kill -9 while 3 writers commit" '
		python3 "$TMP/snapshot.py" '"$r"'
		for w in a b c; do
			python3 "$TMP/writer.py" $w '"$r"' 2>/dev/null &
		done
		# every writer under way (a busy machine starts them slowly),
		# then a random moment
		for i in $(seq 200); do
			n=0
			for w in a b c; do
				grep -qv "^pending" "$TMP/acked.$w.'"$r"'" 2>/dev/null &&
					n=$((n + 1))
			done
			[ $n = 3 ] && break
			sleep 0.05
		done
		sleep 0.$((RANDOM % 6 + 1))
		crash_fs "$M"
		wait
		mount_fs "$S" "$M"
		n=$(python3 "$TMP/check.py" '"$r"')
		[ "$n" -gt 0 ]
		echo "$n" >>"$TMP/acked-total"
		"$PITR" verify "$S" | grep -q ", ok$"
	'
done

test_expect_success 'every round acknowledged versions, and all were found' '
	[ "$(wc -l <"$TMP/acked-total")" = "$ROUNDS" ]
'
echo "# $ROUNDS kills, $(awk '{n += $1} END {print n}' "$TMP/acked-total" 2>/dev/null) acknowledged versions checked at their timestamps"

unmount_fs "$M"
test_done
