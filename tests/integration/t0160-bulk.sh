#!/usr/bin/env bash
# Finding the restore point with the tools alone while an application
# keeps writing: pitr events --bulk, pitr log DB/C, pitr ls, pitr cat.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
export S M

# many documents of a container, quickly, from one process
fill() {
	python3 - "$@" <<'PY'
import json, os, sys
d, prefix, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
os.makedirs(d, exist_ok=True)
for i in range(n):
    with open(os.path.join(d, "%s%d.json" % (prefix, i)), "w") as f:
        json.dump({"id": i, "body": "x" * (i % 50)}, f)
PY
}

# The application: a new document in $1 every 0.2 s until $TMP/stop
# exists (at most 3000 of them); $TMP/app.count says how many.
app_start() {
	rm -f "$TMP/stop"
	(
		i=0
		while [ ! -e "$TMP/stop" ] && [ $i -lt 3000 ]; do
			echo "{\"app\": $i}" >"$1/app-$i.json" 2>/dev/null || true
			i=$((i + 1))
			echo $i >"$TMP/app.count.tmp"
			mv "$TMP/app.count.tmp" "$TMP/app.count"
			sleep 0.2
		done
	) &
	echo $! >"$TMP/app.pid"
}
# Wait (bounded: 60 s) until the application has written $1 more.
app_wait() {
	local from n
	from=$(cat "$TMP/app.count" 2>/dev/null || echo 0)
	for n in $(seq 600); do
		[ "$(cat "$TMP/app.count" 2>/dev/null || echo 0)" -ge $((from + $1)) ] &&
			return 0
		sleep 0.1
	done
	echo "the application wrote nothing for 60 s" >&2
	return 1
}
app_stop() {
	touch "$TMP/stop"
	wait "$(cat "$TMP/app.pid")" 2>/dev/null || true
}
export -f fill app_start app_wait app_stop

# documents named $2<n>.json at `pitr ls STORE $1` (a restored account)
count_docs() {
	"$PITR" ls "$1" "$2" --json | jq -r .id | grep -c "^$3[0-9]*$" || true
}
export -f count_docs

test_expect_success 'rm -r of 300 documents while an application writes there' '
	fill "$M/db/c" d 300
	app_start "$M/db/c"
	app_wait 2
	rm -r "$M/db/c" 2>"$TMP/rm.err" || grep -q "Directory not empty" "$TMP/rm.err"
	app_wait 2
	app_stop
	[ "$(ls "$M/db/c" 2>/dev/null | grep -c "^d")" = 0 ]
'

test_expect_success 'pitr events --bulk finds it, with the instant before' '
	"$PITR" events "$S" --bulk --gap 1m --json >"$TMP/bulk"
	jq -es "map(select(.container == \"c\")) | .[0].documents >= 300" "$TMP/bulk"
	jq -r "select(.container == \"c\") | .before" "$TMP/bulk" >"$TMP/before"
	[ "$(wc -l <"$TMP/before")" = 1 ]
	"$PITR" events "$S" --bulk --gap 1m >"$TMP/table"
	grep -q "pitr restore $S TARGET --at $(cat "$TMP/before") --database db/c" "$TMP/table"
'

test_expect_success 'its restore command, run as given, brings back all 300' '
	cmd=$(jq -r "select(.container == \"c\") | .restore" "$TMP/bulk")
	[ "$cmd" = "pitr restore $S TARGET --at $(cat "$TMP/before") --database db/c" ]
	cmd=${cmd#pitr }
	eval "\"\$PITR\" ${cmd/TARGET/$TMP/r1}"
	[ "$(count_docs "$TMP/r1" db/c d)" = 300 ]
	"$PITR" cat "$TMP/r1" db/c/d7.json >"$TMP/d7"
	"$PITR" cat "$S" db/c/d7.json --at "$(cat "$TMP/before")" | cmp - "$TMP/d7"
	jq -e ".id == 7" "$TMP/d7"
'

test_expect_success 'the container timeline shows the creates and the deletes' '
	"$PITR" log "$S" db/c --every 1d --json >"$TMP/tl"
	[ "$(jq -s "map(.creates) | add" "$TMP/tl")" -ge 302 ]
	[ "$(jq -s "map(.deletes) | add" "$TMP/tl")" -ge 300 ]
	"$PITR" log "$S" db/c --full --json >"$TMP/full"
	[ "$(jq -r "select(.op == \"delete\") | .id" "$TMP/full" | grep -c "^d")" = 300 ]
	[ "$(jq -s "map(select(.op == \"create\")) | length" "$TMP/full")" = \
	  "$(jq -s "map(.creates) | add" "$TMP/tl")" ]
	"$PITR" log "$S" db/c --since "$(cat "$TMP/before")" --every 1d --json >"$TMP/tl2"
	[ "$(jq -s "map(.deletes) | add" "$TMP/tl2")" = "$(jq -s "map(.deletes) | add" "$TMP/tl")" ]
	[ "$(jq -s "map(.creates) | add" "$TMP/tl2")" -lt 300 ]
	"$PITR" log "$S" db/c --every 1d | head -1 | grep -q "^FROM *DOCUMENTS *CREATES *REPLACES *DELETES *BYTES"
	test_must_fail "$PITR" log "$S" db/nosuch 2>"$TMP/err"
	grep -q "^pitr: no container .db/nosuch." "$TMP/err"
'

test_expect_success 'a dropped database (rm -r of it) gets a restore point' '
	fill "$M/db2/c1" a 100
	fill "$M/db2/c2" b 50
	mkdir "$M/db2/empty"
	mkdir -p "$M/db/app"
	app_start "$M/db/app"
	app_wait 2
	rm -r "$M/db2"
	app_wait 2
	app_stop
	[ ! -e "$M/db2" ]
	"$PITR" events "$S" --bulk --gap 1m --database db2 --json >"$TMP/bulk2"
	jq -es "map(select(.change == \"drop-database\")) | .[0].documents == 150" "$TMP/bulk2"
	at=$(jq -r "select(.change == \"drop-database\") | .before" "$TMP/bulk2")
	"$PITR" restore "$S" "$TMP/r2" --at "$at" --database db2
	[ "$(count_docs "$TMP/r2" db2/c1 a)" = 100 ]
	[ "$(count_docs "$TMP/r2" db2/c2 b)" = 50 ]
	"$PITR" ls "$TMP/r2" db2 | grep -q "^empty "
	# LAST-FULL of the first container delete and of the database
	# delete is the start of the drop
	"$PITR" events "$S" --database db2 --container c1 --json >"$TMP/ev2"
	[ "$(jq -r "select(.event == \"delete-container\") | .last_full" "$TMP/ev2")" = "$at" ]
	"$PITR" events "$S" --database db2 --json >"$TMP/ev3"
	[ "$(jq -r "select(.event == \"delete-database\") | .last_full" "$TMP/ev3")" = "$at" ]
'

test_expect_success 'sed -i over 100 documents amid creates: a run of replaces' '
	fill "$M/db3/e" e 100
	app_start "$M/db3/e"
	app_wait 1
	sed -i "s/\"body\"/\"edited\"/" "$M"/db3/e/e*.json
	app_wait 1
	app_stop
	"$PITR" events "$S" --bulk --gap 1m --container e --json >"$TMP/bulk3"
	jq -es "map(select(.change == \"replaces\")) | .[0].documents == 100" "$TMP/bulk3"
	at=$(jq -r "select(.change == \"replaces\") | .before" "$TMP/bulk3")
	"$PITR" cat "$S" db3/e/e5.json --at "$at" | jq -e "has(\"body\")"
	"$PITR" cat "$S" db3/e/e5.json | jq -e "has(\"edited\")"
	"$PITR" restore "$S" "$TMP/r3" --at "$at" --database db3/e
	for i in 0 42 99; do
		"$PITR" cat "$TMP/r3" db3/e/e$i.json | jq -e "has(\"body\")"
	done
'

test_expect_success 'pitr ls and cat: now, at an instant, errors' '
	mkdir -p "$M/rd/c"
	printf "{\"a\": 1}" >"$M/rd/c/x.json"
	T=$(ts_of "$M/rd/c/x.json")
	printf "{\"a\":  2}\n" >"$M/rd/c/x.json"
	"$PITR" cat "$S" rd/c/x.json --at "$T" >"$TMP/x1"
	printf "{\"a\": 1}" | cmp - "$TMP/x1"
	"$PITR" cat "$S" rd/c/x.json | cmp - "$M/rd/c/x.json"
	"$PITR" ls "$S" rd/c --at "$T" --json | jq -es "map(select(.id == \"x\")) | .[0].size == 8"
	"$PITR" ls "$S" | grep -q "^rd "
	test_must_fail "$PITR" cat "$S" rd/c/nosuch.json 2>"$TMP/err"
	grep -q "^pitr: cannot read .rd/c/nosuch.json.: no such document" "$TMP/err"
	rc=0; "$PITR" cat "$S" rd/c/x.json --at 2001-01-01T00:00:00Z 2>"$TMP/err" || rc=$?
	[ $rc = 1 ]; grep -q "^pitr: .*outside the restorable window" "$TMP/err"
	rc=0; "$PITR" cat "$S" rd/c 2>/dev/null || rc=$?
	[ $rc = 2 ]
	rc=0; "$PITR" ls "$S" a/b/c 2>/dev/null || rc=$?
	[ $rc = 2 ]
	rc=0; "$PITR" ls "$TMP/nostore" 2>"$TMP/err" || rc=$?
	[ $rc = 1 ]; grep -q "^pitr: cannot open store" "$TMP/err"
'

test_expect_success 'names with control characters are escaped in tables' '
	mkdir "$M/rd/$(printf "x\033[2Jy")"
	"$PITR" ls "$S" rd >"$TMP/ls"
	grep -q "^x\\\\x1b\[2Jy " "$TMP/ls"
	not grep -q "$(printf "\033")" "$TMP/ls"
	"$PITR" events "$S" >"$TMP/ev"
	not grep -q "$(printf "\033")" "$TMP/ev"
	"$PITR" log "$S" rd --full >"$TMP/lg"
	not grep -q "$(printf "\033")" "$TMP/lg"
	"$PITR" ls "$S" rd --json | jq -es "map(select(.name == \"x\u001b[2Jy\")) | length == 1"
'

test_expect_success 'one language: --help, --version, exit 2 for usage, pitr: first' '
	"$PITR" --version | grep -q "^pitr [0-9]"
	for c in create info events log diff restore policy prune backup verify ls cat; do
		"$PITR" $c --help >"$TMP/help"
		grep -q "^usage: pitr $c" "$TMP/help"
		rc=0; "$PITR" $c --no-such-option >/dev/null 2>"$TMP/err" || rc=$?
		[ $rc = 2 ] || { echo "$c: exit $rc" >&2; false; }
		grep -q "^pitr: \|^usage: pitr" "$TMP/err"
	done
	"$PITR" restore --help | grep -q -- --from-backup
	"$PITR" events --help | grep -q -- --bulk
	"$PITR" log --help | grep -q -- --every
	rc=0; "$PITR" events "$S" --since yesterday 2>"$TMP/err" || rc=$?
	[ $rc = 2 ]; grep -q "^pitr: invalid time" "$TMP/err"
	rc=0; "$PITR" ls "$S" --at yesterday 2>/dev/null || rc=$?
	[ $rc = 2 ]
	rc=0; "$PITR" nosuch 2>"$TMP/err" || rc=$?
	[ $rc = 2 ]; grep -q "^pitr: " "$TMP/err"
'

unmount_fs "$M"
test_expect_success 'the store verifies: every index agrees with the log' '
	verify_ok "$S"
'

test_done
