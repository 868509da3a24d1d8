#!/usr/bin/env bash
# Shell idioms, each followed at once by a read and by another write, on a
# scratch file and on a document, compared with the same commands on a
# tmpfs directory (the oracle): `: > f`, `>`, `>>`, `truncate -s`, `cp`,
# `install`, `dd` (with and without conv=notrunc). Documents stay valid JSON
# at every close, so every close commits a version.
. "$(dirname "$0")/lib.sh"

S=$TMP/store M=$TMP/mnt O=$TMP/oracle
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir -p "$M/db/c" "$O"
mount -t tmpfs -o size=16m tmpfs "$O" 2>/dev/null || true
printf 'hi\n' >"$TMP/src"
printf '{"c":3}\n' >"$TMP/src.json"
export SRC=$TMP/src SRCJ=$TMP/src.json

# NAME<TAB>COMMANDS on "$F"; what they print, and the file's bytes after,
# must be the same in the mount and in the oracle.
cat >"$TMP/scratch" <<'EOF_IDIOMS'
truncating redirection, then append	printf 'hello world\n' >"$F"; : >"$F"; echo x >>"$F"; cat "$F"
truncating redirection, read, append	printf 'hello world\n' >"$F"; : >"$F"; cat "$F"; echo x >>"$F"; cat "$F"
> over a longer file, read, append	printf 'hello world\n' >"$F"; printf 'bye\n' >"$F"; cat "$F"; printf 'again\n' >>"$F"; cat "$F"
>> twice, read	printf 'a\n' >"$F"; printf 'b\n' >>"$F"; cat "$F"; printf 'c\n' >>"$F"; cat "$F"
truncate -s shorter, read, append	printf 'hello world\n' >"$F"; truncate -s 5 "$F"; cat "$F"; echo x >>"$F"; cat "$F"
truncate -s longer, read, dd notrunc	printf 'hello world\n' >"$F"; truncate -s 20 "$F"; od -c "$F"; printf z | dd of="$F" bs=1 seek=3 conv=notrunc status=none; od -c "$F"
truncate -s 0, append	printf 'hello world\n' >"$F"; truncate -s 0 "$F"; echo y >>"$F"; cat "$F"
cp over a longer file, read, append	printf 'hello world\n' >"$F"; cp "$SRC" "$F"; cat "$F"; echo x >>"$F"; cat "$F"
cp /dev/null, read, append	printf 'hello world\n' >"$F"; cp /dev/null "$F"; cat "$F"; echo y >>"$F"; cat "$F"
install over a longer file, read, append	printf 'hello world\n' >"$F"; install -m 644 "$SRC" "$F"; cat "$F"; echo x >>"$F"; cat "$F"
dd conv=notrunc, read, dd again	printf 'hello world\n' >"$F"; printf HE | dd of="$F" conv=notrunc status=none; cat "$F"; printf LLO | dd of="$F" bs=1 seek=2 conv=notrunc status=none; cat "$F"
dd (truncating at seek), read, append	printf 'hello world\n' >"$F"; printf HE | dd of="$F" bs=1 seek=3 status=none; od -c "$F"; echo x >>"$F"; od -c "$F"
dd ftruncate only, read, dd notrunc past it	printf 'hello world\n' >"$F"; dd if=/dev/null of="$F" bs=1 seek=4 status=none; cat "$F"; echo; printf Z | dd of="$F" bs=1 seek=6 conv=notrunc status=none; od -c "$F"
EOF_IDIOMS
cat >"$TMP/document" <<'EOF_IDIOMS'
> over a longer body, read, append	printf '{"long": "xxxxxxxxxxxxxxxxxxxx"}\n' >"$F"; printf '{"s":1}\n' >"$F"; cat "$F"; printf ' \n' >>"$F"; cat "$F"
>> whitespace twice, read	printf '{"a":1}' >"$F"; printf '  ' >>"$F"; cat "$F"; printf '\n' >>"$F"; cat "$F"
truncate -s into trailing spaces, read, append	printf '{"a":1}                    \n' >"$F"; truncate -s 7 "$F"; cat "$F"; printf '  ' >>"$F"; cat "$F"
dd ftruncate only, then dd notrunc a byte	printf '{"a":1}                    \n' >"$F"; dd if=/dev/null of="$F" bs=1 seek=7 status=none; cat "$F"; echo; printf 2 | dd of="$F" bs=1 seek=5 conv=notrunc status=none; od -c "$F"
cp over a longer body, read, append	printf '{"long": "xxxxxxxxxxxxxxxxxxxx"}\n' >"$F"; cp "$SRCJ" "$F"; cat "$F"; printf ' ' >>"$F"; cat "$F"
install over a longer body, read, append	printf '{"long": "xxxxxxxxxxxxxxxxxxxx"}\n' >"$F"; install -m 644 "$SRCJ" "$F"; cat "$F"; printf ' ' >>"$F"; cat "$F"
dd conv=notrunc a byte, read, again	printf '{"a":1}\n' >"$F"; printf 9 | dd of="$F" bs=1 seek=5 conv=notrunc status=none; cat "$F"; printf 8 | dd of="$F" bs=1 seek=5 conv=notrunc status=none; cat "$F"
dd truncating at seek, read, append	printf '{"a":123456}\n' >"$F"; printf '7}' | dd of="$F" bs=1 seek=6 status=none; cat "$F"; printf ' ' >>"$F"; od -c "$F"
EOF_IDIOMS

# run_idioms LIST NAME: each line of LIST on $M/db/c/NAME and $O/NAME, in
# the mount three times (what goes wrong there goes wrong in a race with
# the kernel's release, not every time).
run_idioms() {
	local list=$1 name=$2 title cmds n=0 bad=0
	while IFS=$'\t' read -r title cmds; do
		n=$((n + 1))
		rm -f "$O/$name" "$M/db/c/$name"
		F=$O/$name bash -c "$cmds" >"$TMP/want" 2>&1
		od -c "$O/$name" >>"$TMP/want" 2>&1
		for r in 1 2 3; do
			rm -f "$M/db/c/$name"
			F=$M/db/c/$name bash -c "$cmds" >"$TMP/got" 2>&1
			od -c "$M/db/c/$name" >>"$TMP/got" 2>&1
			cmp -s "$TMP/want" "$TMP/got" && continue
			bad=$((bad + 1))
			echo "differs (run $r): $title: $cmds"
			diff "$TMP/want" "$TMP/got" | sed 's/^/    /'
			break
		done
	done <"$list"
	echo "$bad of $n idioms differ from the oracle"
	[ "$bad" = 0 ]
}

test_expect_success 'scratch file: idioms, each read and written again at once, as on tmpfs' '
	run_idioms "$TMP/scratch" idiom.txt
'

test_expect_success 'document: idioms that keep it JSON, read and written again at once, as on tmpfs' '
	run_idioms "$TMP/document" idiom.json
'

test_expect_success 'document: `: >` records nothing (README), the previous version stays' '
	printf "{\"v\":1}\n" >"$M/db/c/empty.json"
	: >"$M/db/c/empty.json" || true
	[ "$(cat "$M/db/c/empty.json")" = "{\"v\":1}" ]
	truncate -s 0 "$M/db/c/empty.json"
	[ "$(cat "$M/db/c/empty.json")" = "{\"v\":1}" ]
	printf "{\"v\":2}\n" >"$M/db/c/empty.json"
	[ "$(cat "$M/db/c/empty.json")" = "{\"v\":2}" ]
'

umount "$O" 2>/dev/null
unmount_fs "$M"
test_expect_success 'the store verifies: every index agrees with the log' '
	verify_ok "$S"
'

test_done
