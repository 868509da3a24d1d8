#!/usr/bin/env bash
# Everyday programs against the live tree and the views.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
export M

# A source tree of realistic documents.
SRC=$TMP/src
mkdir -p "$SRC/shop/orders" "$SRC/shop/users" "$SRC/crm/leads"
python3 - "$SRC" <<'PY'
import json, os, random, sys
random.seed(7)
root = sys.argv[1]
for c, n in (("shop/orders", 60), ("shop/users", 25), ("crm/leads", 15)):
    for i in range(n):
        doc = {"id": f"{c.split('/')[1]}-{i}", "n": i,
               "tags": random.sample(["a", "b", "c", "d", "e"], 3),
               "price": round(random.random() * 100, 2),
               "nested": {"ok": i % 2 == 0, "name": "x" * (i % 17)}}
        with open(os.path.join(root, c, f"{c.split('/')[1]}-{i}.json"), "w") as f:
            json.dump(doc, f, indent=2)
PY

test_expect_success 'cp -a a whole tree in, diff -r clean' '
	cp -a "$SRC/." "$M/"
	diff -r "$SRC" "$M"
	[ "$(find "$M" -name "*.json" | wc -l)" = 100 ]
'

test_expect_success 'rsync -a a changed tree (temp file then rename)' '
	python3 -c "
import json, sys
p = sys.argv[1]
d = json.load(open(p)); d[\"price\"] = 1.5
json.dump(d, open(p, \"w\"))" "$SRC/shop/orders/orders-3.json"
	rsync -a "$SRC/" "$M/"
	diff -r "$SRC" "$M"
	# mtimes are commit times, so only contents can match: nothing to send
	rsync -a --checksum --dry-run --itemize-changes "$SRC/" "$M/" >"$TMP/rs"
	not grep -q "^>f" "$TMP/rs"
'

test_expect_success 'rsync -a out of a view' '
	T=$(ts_of "$M/shop/orders/orders-3.json")
	mkdir "$TMP/out"
	rsync -a "$M/@$T/" "$TMP/out/"
	diff -r "$SRC" "$TMP/out"
'

test_expect_success 'sed -i edits in place as one new version' '
	before=$(ts_of "$M/shop/users/users-1.json")
	sed -i "s/\"n\": 1,/\"n\": 1001,/" "$M/shop/users/users-1.json"
	jq -e ".n == 1001" "$M/shop/users/users-1.json"
	after=$(ts_of "$M/shop/users/users-1.json")
	[ "$after" != "$before" ]
	jq -e ".n == 1" "$M/@$before/shop/users/users-1.json"
	[ -z "$(ls -A "$M/shop/users" | grep -v "\.json$")" ]
'

test_expect_success 'jq ... > tmp && mv tmp x.json' '
	jq ".n = 42" "$M/shop/users/users-2.json" >"$M/shop/users/.tmp"
	mv "$M/shop/users/.tmp" "$M/shop/users/users-2.json"
	jq -e ".n == 42" "$M/shop/users/users-2.json"
'

test_expect_success 'sed -i producing invalid JSON fails and keeps the document' '
	cp "$M/shop/users/users-4.json" "$TMP/u4"
	test_must_fail sed -i "s/{/[/" "$M/shop/users/users-4.json" 2>/dev/null
	cmp "$TMP/u4" "$M/shop/users/users-4.json"
'

test_expect_success 'python json reads every document' '
	python3 -c "
import json, os, sys
n = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        json.load(open(os.path.join(d, f))); n += 1
assert n == 100, n" "$M"
'

test_expect_success 'find, du, grep -r stay out of history' '
	[ "$(find "$M" -type d | wc -l)" = 6 ]
	grep -rl "\"n\": 1001" "$M" | grep -q users-1.json
	du -s "$M" >/dev/null
'

test_expect_success 'mv documents between containers and databases' '
	mv "$M/shop/orders/orders-0.json" "$M/crm/leads/"
	[ -f "$M/crm/leads/orders-0.json" ]
	[ ! -e "$M/shop/orders/orders-0.json" ]
	mv "$M/crm/leads/orders-0.json" "$M/shop/orders/orders-0.json"
'

test_expect_success 'rm -r a container, then cp it back from a view' '
	T=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
	sleep 0.01
	rm -r "$M/crm/leads"
	[ ! -e "$M/crm/leads" ]
	cp -a "$M/@$T/crm/leads" "$M/crm/"
	diff -r "$M/@$T/crm/leads" "$M/crm/leads"
	[ "$(ls "$M/crm/leads" | wc -l)" = 15 ]
'

test_expect_success 'an editor-style save: backup, write, remove backup' '
	f="$M/shop/orders/orders-5.json"
	cp "$f" "$f~"
	jq ".edited = true" "$f~" >"$f"
	rm "$f~"
	jq -e ".edited" "$f"
'

test_expect_success 'diff -r view vs live lists exactly the changes' '
	T=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
	sleep 0.01
	echo "{\"new\": true}" >"$M/shop/orders/zz.json"
	rm "$M/shop/orders/orders-9.json"
	diff -rq "$M/@$T/shop" "$M/shop" >"$TMP/d" || true
	[ "$(wc -l <"$TMP/d")" = 2 ]
	grep -q "Only in $M/shop/orders: zz.json" "$TMP/d"
	grep -q "Only in $M/@$T/shop/orders: orders-9.json" "$TMP/d"
'

unmount_fs "$M"
test_done
