#!/usr/bin/env bash
# The random file exerciser (tests/fsx/fsx.c) through a mount: on a scratch
# file, and in JSON mode on a document, whose every close commits a version.
# FSX_OPS operations each (default 3000; 100000 for the long form), from
# FSX_SEED (default: a new seed each run, printed; a failure prints the
# command that repeats it).
. "$(dirname "$0")/lib.sh"

OPS=${FSX_OPS:-3000}
FSX=$TOP/build/tests/fsx
[ -x "$FSX" ] || { echo "Bail out! $FSX is not built (make integration)"; exit 1; }
seed() { echo "${FSX_SEED:-$(( $(date +%s%N) % 1000000007 + $1 ))}"; }

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S"
mount_fs "$S" "$M"
mkdir -p "$M/db/c"

test_expect_success "fsx, $OPS ops on a scratch file" '
	"$FSX" -N "$OPS" -S "$(seed 1)" "$M/db/c/scratch.bin"
'

test_expect_success "fsx -j, $OPS ops on a document" '
	"$FSX" -j -N "$OPS" -S "$(seed 2)" "$M/db/c/doc.json"
	# every version it committed is JSON: the last one is what is read
	python3 -c "import json,sys; json.load(open(sys.argv[1]))" "$M/db/c/doc.json"
'

test_expect_success 'the same after a remount: nothing committed was lost' '
	cp "$M/db/c/doc.json" "$TMP/doc.before"
	cp "$M/db/c/scratch.bin" "$TMP/scratch.before"
	unmount_fs "$M"
	mount_fs "$S" "$M"
	cmp "$TMP/doc.before" "$M/db/c/doc.json"
	cmp "$TMP/scratch.before" "$M/db/c/scratch.bin"
'

test_expect_success 'fsx on a tmpfs-like local directory agrees with the model (the exerciser itself)' '
	"$FSX" -N 2000 -S 7 "$TMP/local.bin"
	"$FSX" -j -N 2000 -S 8 "$TMP/local.json"
'

unmount_fs "$M"
test_done
