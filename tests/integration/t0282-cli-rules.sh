#!/usr/bin/env bash
# One language across pitr's commands, command by command: --help lists
# every option its parser takes (and nothing it does not), --json is
# valid JSON wherever a command prints, usage errors exit 2 with "pitr:"
# or the usage, a missing store exits 1 with "pitr:"; pitr diff names
# paths as they were at each instant; tables align UTF-8 names.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S" >/dev/null
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/a" "$M/db/x"
echo '{"v": 1}' >"$M/db/a/one.json"
echo '{"v": 1}' >"$M/db/x/k.json"
T1=$(ts_of "$M/db/x/k.json")
echo "$T1" >"$TMP/T1"
export S M

COMMANDS="create info events ls cat log diff restore undo policy prune backup verify"

test_expect_success 'every --help lists every option its parser takes, and no other' '
	python3 - "$TOP" "$PITR" <<-"PY"
	import glob, re, subprocess, sys
	top, pitr = sys.argv[1], sys.argv[2]
	funcs = {}
	for f in glob.glob(top + "/tools/*.c"):
	    text = open(f).read()
	    for m in re.finditer(r"^(?:static )?int (\w+)\(int argc, char \*argv\[\][^)]*\)\n\{(.*?)^\}", text, re.S | re.M):
	        body = m.group(2)
	        opts = set(re.findall(r"\{ \"([a-z-]+)\", \w+_argument", body))
	        opts |= set(o[2:] for o in re.findall(r"\"(--[a-z][a-z-]*)\"", body))
	        funcs[m.group(1)] = (opts, body)
	helpers = {n: o for n, (o, b) in funcs.items() if not n.startswith("cmd_")}
	bad = 0
	cmds = [n for n in funcs if n.startswith("cmd_")]
	assert len(cmds) >= 13, cmds
	for n in cmds:
	    opts, body = funcs[n]
	    for h, ho in helpers.items():
	        if re.search(r"\b%s\(" % h, body):
	            opts = opts | ho
	    cmd = n[4:]
	    if cmd == "cat":
	        opts.discard("json")  # refused: a document is JSON already
	    opts.discard("help")
	    out = subprocess.run([pitr, cmd, "--help"], capture_output=True, text=True, check=True).stdout
	    listed = set(re.findall(r"\[--([a-z][a-z-]*)", out)) | set(re.findall(r"^\s+--([a-z][a-z-]*)", out, re.M))
	    for o in sorted(opts - listed):
	        print("%s: --help does not list --%s" % (cmd, o)); bad = 1
	    for o in sorted(listed - opts):
	        print("%s: --help lists --%s, which it does not take" % (cmd, o)); bad = 1
	sys.exit(bad)
	PY
	"$PITR" --version | grep -q "^pitr [0-9]"
	"$PITR" --help | grep -q "^   undo "
'

test_expect_success 'usage errors exit 2, saying so; a missing store exits 1 with pitr:' '
	for c in $COMMANDS; do
		rc=0; "$PITR" $c --no-such-option >/dev/null 2>"$TMP/err" || rc=$?
		[ $rc = 2 ] || { echo "$c --no-such-option: exit $rc" >&2; false; }
		grep -q "^pitr: \|^usage: pitr $c" "$TMP/err"
		rc=0; "$PITR" $c >/dev/null 2>"$TMP/err" || rc=$?
		[ $rc = 2 ] || { echo "$c without operands: exit $rc" >&2; false; }
		grep -q "^usage: pitr $c" "$TMP/err"
	done
	N=$TMP/nosuch
	for args in "info $N" "events $N" "ls $N" "cat $N db/a/one.json" \
		"log $N db/a/one.json" "diff $N -1s -0s" "restore $N $TMP/t --at -0s" \
		"undo $N db/a --at -0s" "policy $N" "prune $N" "backup $N status" \
		"verify $N" "info $N --json" "prune $N --json" "verify $N --json"; do
		rc=0; "$PITR" $args >"$TMP/out" 2>"$TMP/err" || rc=$?
		[ $rc = 1 ] || { echo "$args: exit $rc" >&2; false; }
		grep -q "^pitr: " "$TMP/err" || { echo "$args: $(cat "$TMP/err")" >&2; false; }
		[ ! -s "$TMP/out" ]
	done
	rc=0; "$PITR" create "$S" 2>"$TMP/err" || rc=$?
	[ $rc = 1 ]; grep -q "^pitr: cannot create" "$TMP/err"
'

test_expect_success 'the same error, the same exit status, in every command' '
	# a malformed time or duration, a malformed path: usage, 2
	for args in "ls $S --at yesterday" "cat $S db/a/one.json --at yesterday" \
		"events $S --since yesterday" "log $S db/a/one.json --since yesterday" \
		"log $S db/a --until yesterday" "diff $S yesterday -0s" \
		"restore $S $TMP/t --at yesterday" "undo $S db/a --at yesterday" \
		"undo $S db/a --at -0s --until yesterday" "log $S db --every x" \
		"events $S --gap x" "create $TMP/n --retention x" "policy $S --retention x" \
		"ls $S a/b/c/d" "cat $S db/a/one" "undo $S db --at -0s" "diff $S -0s -0s a/b/c"; do
		rc=0; "$PITR" $args >/dev/null 2>"$TMP/err" || rc=$?
		[ $rc = 2 ] || { echo "$args: exit $rc" >&2; false; }
		grep -q "^pitr: invalid" "$TMP/err" || { echo "$args: $(cat "$TMP/err")" >&2; false; }
	done
	# an instant outside the window, a name that does not exist: 1
	for args in "ls $S --at 1999-01-01T00:00:00Z" "cat $S db/a/one.json --at 1999-01-01T00:00:00Z" \
		"diff $S 1999-01-01T00:00:00Z -0s" "restore $S $TMP/t --at 1999-01-01T00:00:00Z" \
		"undo $S db/a --at 1999-01-01T00:00:00Z"; do
		rc=0; "$PITR" $args >/dev/null 2>"$TMP/err" || rc=$?
		[ $rc = 1 ] || { echo "$args: exit $rc" >&2; false; }
		grep -q "^pitr: time .* is outside the restorable window \[" "$TMP/err"
	done
	for args in "ls $S nosuch" "cat $S nosuch/c/x.json" "log $S nosuch/c/x.json" \
		"log $S nosuch" "restore $S $TMP/t --at -0s --database nosuch" \
		"undo $S nosuch/c --at -0s" "diff $S $(cat "$TMP/T1") -0s nosuch"; do
		rc=0; "$PITR" $args >/dev/null 2>"$TMP/err" || rc=$?
		[ $rc = 1 ] || { echo "$args: exit $rc" >&2; false; }
		grep -q "^pitr: .*nosuch" "$TMP/err" || { echo "$args: $(cat "$TMP/err")" >&2; false; }
	done
	[ ! -e "$TMP/t" ] && [ ! -e "$TMP/n" ]
'

test_expect_success '--json is valid JSON on every command that prints' '
	T1=$(cat "$TMP/T1")
	check() { "$PITR" "$@" >"$TMP/j" && [ -s "$TMP/j" ] && jq -e . "$TMP/j" >/dev/null ||
		{ echo "not JSON: pitr $*" >&2; cat "$TMP/j" >&2; return 1; }; }
	check create "$TMP/new" --json
	jq -e ".account == \"new\" and .policy.mode == \"continuous\"" "$TMP/j"
	check info "$M" --json
	jq -e ".live_documents == 2 and (.disk_bytes | type) == \"number\"" "$TMP/j"
	check policy "$M" --json
	check prune "$M" --dry-run --json
	check prune "$TMP/new" --json
	check verify "$TMP/new" --json
	jq -e ".ok and .kind == \"store\"" "$TMP/j"
	check events "$M" --json
	for i in 1 2 3; do echo "{}" >"$M/db/a/tmp$i.json"; done
	rm "$M"/db/a/tmp*.json
	check events "$M" --bulk --json --min 3 --since "$T1"
	jq -e ".change == \"deletes\" and .documents == 3" "$TMP/j"
	check ls "$M" --json
	check ls "$M" db/a --json
	check log "$M" db/a/one.json --json
	check log "$M" db/a --json
	T0=$("$PITR" info "$M" --json | jq -r .created)
	check diff "$M" "$T0" "$T1" --json
	jq -es "length == 2 and all(.change == \"added\")" "$TMP/j"
	check restore "$S" "$TMP/r" --at -0s --json
	jq -e ".documents == 2" "$TMP/j"
	check undo "$M" db/a --at "$T1" --dry-run --json
	check backup "$M" status --json
	mkdir "$TMP/media"
	check backup "$TMP/new" set "$TMP/media" --json
	check backup "$TMP/new" flush --json
	check verify "$TMP/media" --json
	jq -e ".kind == \"backup\"" "$TMP/j"
	check backup "$TMP/new" unset --json
	jq -e ".dir == null" "$TMP/j"
'

test_expect_success 'diff names paths as they were at each instant, across renames and incarnations' '
	T1=$(cat "$TMP/T1")
	mv "$M/db/a" "$M/db/b"
	echo "{\"v\": 2}" >"$M/db/b/one.json"
	rm -r "$M/db/x"
	mkdir "$M/db/x"
	echo "{\"v\": 3}" >"$M/db/x/k.json"
	"$PITR" diff "$M" "$T1" -0s >"$TMP/d"
	grep -qx "changed  db/a/one.json -> db/b/one.json" "$TMP/d"
	grep -q "^deleted  db/x/k.json  (incarnation [0-9]*)$" "$TMP/d"
	grep -q "^added    db/x/k.json  (incarnation [0-9]*)$" "$TMP/d"
	[ "$(grep -c incarnation "$TMP/d")" = 2 ]
	# filtered by the name at either instant
	"$PITR" diff "$M" "$T1" -0s db/a --json >"$TMP/j"
	jq -e "select(.id == \"one\") | .from == \"db/a/one.json\" and .to == \"db/b/one.json\"" "$TMP/j"
	"$PITR" diff "$M" "$T1" -0s db/b --json | jq -es "length == 1"
	"$PITR" diff "$M" "$T1" -0s db/x --json >"$TMP/j"
	jq -es "map(select(.reincarnated)) | length == 2" "$TMP/j"
	jq -es "map(.incarnation) | unique | length == 2" "$TMP/j"
	# backwards, the other way round
	"$PITR" diff "$M" -0s "$T1" db/b | grep -qx "changed  db/b/one.json -> db/a/one.json"
'

test_expect_success 'tables align UTF-8 names by their width, sizes read as sizes' '
	mkdir "$M/日本語" "$M/café" "$M/plain"
	"$PITR" ls "$M" >"$TMP/l"
	# the INCARNATION column starts at column 23 on every line
	python3 - "$TMP/l" <<-"PY"
	import sys, unicodedata
	for line in open(sys.argv[1], encoding="utf-8").read().splitlines()[1:]:
	    name, rest = line[:line.index("  ")], line[line.index("  "):]
	    w = sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in name)
	    col = w + len(rest) - len(rest.lstrip(" "))
	    assert col == 22, (line, col)
	PY
	"$PITR" info "$M" | grep -q "^size on disk: *[0-9.]* [KMG]iB ("
	"$PITR" info "$M" --json | jq -e "(.disk_bytes | type) == \"number\""
'

unmount_fs "$M"
test_expect_success 'the store verifies' '
	verify_ok "$S"
'

test_done
