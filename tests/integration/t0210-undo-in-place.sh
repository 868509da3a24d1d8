#!/usr/bin/env bash
# Undo in place, as the README gives it: rsync a container's view at T
# over the live container. The undo is new versions, so it is undoable.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S" >/dev/null
mount_fs "$S" "$M"
mkdir "$M/db" "$M/db/c" "$M/db/other"
for i in $(seq 1 20); do
	echo "{\"n\": $i, \"state\": \"good\"}" >"$M/db/c/d$i.json"
done
echo '{"keep": 1}' >"$M/db/other/o.json"
T=$(ts_of "$M/db/other/o.json")
cp -a "$M/db/c" "$TMP/good"

test_expect_success 'the accident: sed -i over every document, and a delete' '
	sed -i "s/good/bad/" "$M"/db/c/*.json
	rm "$M/db/c/d7.json"
	echo "{\"mark\": 1}" >"$M/db/other/mark.json"
	B=$(ts_of "$M/db/other/mark.json")
	echo "$B" >"$TMP/B"
	cp -a "$M/db/c" "$TMP/broken"
	[ "$(grep -l bad "$M"/db/c/*.json | wc -l)" = 19 ]
	[ "$("$PITR" diff "$M" "$T" "$B" db/c --json | wc -l)" = 20 ]
'

test_expect_success 'rsync --checksum -a --delete MNT/@T/db/c/ MNT/db/c/ undoes it' '
	rsync --checksum -a --delete "$M/@$T/db/c/" "$M/db/c/"
	diff -r "$TMP/good" "$M/db/c"
	diff -r "$M/@$T/db/c" "$M/db/c"
	# the container now equals the container at T, by the tools alone
	"$PITR" diff "$M" "$T" -0s db/c --json >"$TMP/d"
	[ ! -s "$TMP/d" ]
	"$PITR" diff "$M" "$T" -0s db/c >"$TMP/d"
	[ "$(grep -c "\.json" "$TMP/d")" = 0 ]
	[ "$("$PITR" cat "$M" db/c/d7.json)" = "{\"n\": 7, \"state\": \"good\"}" ]
'

test_expect_success 'the state before the undo is still viewable, between' '
	B=$(cat "$TMP/B")
	diff -r "$TMP/broken" "$M/@$B/db/c"
	[ ! -e "$M/@$B/db/c/d7.json" ]
	[ "$("$PITR" diff "$M" "$B" -0s db/c --json | wc -l)" = 20 ]
'

test_expect_success 'the undo is new versions: undoable itself' '
	"$PITR" log "$M" db/c/d7.json >"$TMP/l"
	[ "$(grep -c " create " "$TMP/l")" = 2 ]
	[ "$(grep -c " delete " "$TMP/l")" = 1 ]
	"$PITR" log "$M" db/c/d1.json | grep -c " replace " | grep -qx 2
	B=$(cat "$TMP/B")
	rsync --checksum -a --delete "$M/@$B/db/c/" "$M/db/c/"
	diff -r "$TMP/broken" "$M/db/c"
'

test_expect_success 'unmount cleanly' '
	unmount_fs "$M"
'

test_done
