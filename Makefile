# pitrfs - see README.md. `make demo` runs the example; `make test` the tests.

CC      ?= cc
PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
# bash-completion also looks under /usr/local/share (XDG_DATA_DIRS)
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
CLANG   ?= clang
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wpointer-arith -Wformat=2 -Wvla \
           -Wwrite-strings
# Recursive (=): asked when a recipe runs, after `deps` may have installed
# libfuse3-dev, never when make reads this file.
FUSE_CFLAGS = $(shell pkg-config --cflags fuse3 2>/dev/null) -DFUSE_USE_VERSION=312
FUSE_LIBS   = $(shell pkg-config --libs fuse3 2>/dev/null || echo -lfuse3)
ALL_CFLAGS  = -std=gnu11 -D_GNU_SOURCE -pthread $(WARN) $(CFLAGS) -Icore
# liblz4 from its archive: core uses LZ4_attach_HC_dictionary, which the
# shared library does not export (liblz4-dev ships both).
CORE_LIBS   := -llmdb -l:liblz4.a -lxxhash -ljansson -lcurl -lcrypto -pthread
SAN         := -fsanitize=address,undefined -fno-omit-frame-pointer \
               -fno-sanitize-recover=all

CORE_SRC := $(wildcard core/*.c)
CORE_OBJ := $(CORE_SRC:core/%.c=build/core/%.o)
TOOL_SRC := $(wildcard tools/*.c)
FS_SRC   := $(wildcard fs/*.c)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=build/unit/%)
UNIT_SAN := $(UNIT_SRC:tests/unit/%.c=build/unit-san/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=build/fuzz/%)
FUZZ_SECONDS ?= 5

# Debian packages: to build, to test, to benchmark.
PACKAGES := gcc make pkg-config libfuse3-dev fuse3 liblmdb-dev \
            libxxhash-dev liblz4-dev libjansson-dev clang lmdb-utils \
            jq rsync attr python3 lz4 e2fsprogs util-linux mount \
            procps perl man-db groff-base libcurl4-openssl-dev libssl-dev
# A single-node Ceph with its S3 gateway (and curl, which the tests sign
# their own requests with), for the object-store media
# tests (installed without recommends; those tests skip, loudly, when it
# cannot be installed).
TEST_PACKAGES := radosgw ceph-mon ceph-osd curl uuid-runtime

.PHONY: all install uninstall deps test-deps test check unit unit-san fuzz integration integration-san integration-valgrind bench demo clean format

all: bin/pitr bin/pitrfs

build/core/%.o: core/%.c core/*.h
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -c $< -o $@

# Built whole each time: a member whose source left core/ leaves with it.
build/libpitr.a: $(CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

bin/pitr: $(TOOL_SRC) tools/*.h build/libpitr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(TOOL_SRC) build/libpitr.a $(CORE_LIBS) -o $@

bin/pitrfs: $(FS_SRC) fs/*.h build/libpitr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(FUSE_CFLAGS) $(FS_SRC) build/libpitr.a \
		$(FUSE_LIBS) $(CORE_LIBS) -o $@

build/unit/%: tests/unit/%.c tests/unit/tap.h tests/unit/docops.h build/libpitr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) -Itests/unit $< build/libpitr.a $(CORE_LIBS) -o $@

# The damage test's editor of records in a store.
build/tests/damage: tests/crash/damage.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< -llmdb -o $@

# The power-loss test's disk with a volatile write cache.
build/tests/flakydisk: tests/crash/flakydisk.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $(FUSE_CFLAGS) $< $(FUSE_LIBS) -o $@

# Helpers the integration tests run: core's JSON verdict on files, and the
# random file exerciser (FSX_OPS=100000 make integration: the long form).
build/tests/json_suite: tests/unit/json_suite.c tests/unit/rfc8259.h build/libpitr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< build/libpitr.a $(CORE_LIBS) -o $@

# The writer of a format-1 (or 2 to 4) account (t0262, t0264).
build/tests/format1: tests/unit/format1.c build/libpitr.a
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< build/libpitr.a $(CORE_LIBS) -o $@

build/tests/fsx: tests/fsx/fsx.c
	@mkdir -p $(@D)
	$(CC) $(ALL_CFLAGS) $< -o $@

# Unit tests again, core and all, under AddressSanitizer + UBSan.
# core/ compiled once with ASan+UBSan, for the unit tests and the daemon
# and tool the mount tests run again.
SAN_CORE_OBJ := $(CORE_SRC:core/%.c=build/san/core/%.o)

build/san/core/%.o: core/%.c core/*.h
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) -O1 $(SAN) -c $< -o $@

build/san/libcore.a: $(SAN_CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

build/unit-san/%: tests/unit/%.c tests/unit/tap.h tests/unit/docops.h build/san/libcore.a
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) -O1 $(SAN) -Itests/unit $< build/san/libcore.a \
		$(CORE_LIBS) -o $@

# core/ is compiled once for every fuzz target, instrumented.
FUZZ_SAN := -fsanitize=address,undefined
FUZZ_CORE_OBJ := $(CORE_SRC:core/%.c=build/fuzz/core/%.o)

build/fuzz/core/%.o: core/%.c core/*.h
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) -O1 -fsanitize=fuzzer-no-link $(FUZZ_SAN) \
		-c $< -o $@

build/fuzz/libcore.a: $(FUZZ_CORE_OBJ)
	rm -f $@
	ar rcs $@ $^

build/fuzz/%: tests/fuzz/%.c build/fuzz/libcore.a core/*.h
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) -O1 -fsanitize=fuzzer $(FUZZ_SAN) \
		$< build/fuzz/libcore.a $(CORE_LIBS) -o $@

# DESTDIR: a staging root, as packagers use.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR)
	install -m 755 bin/pitr bin/pitrfs $(DESTDIR)$(BINDIR)/
	install -m 644 tools/pitr.1 fs/pitrfs.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 644 tools/pitr.bash $(DESTDIR)$(BASHCOMPDIR)/pitr
	install -m 644 tools/pitr.bash $(DESTDIR)$(BASHCOMPDIR)/pitrfs

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/pitr $(DESTDIR)$(BINDIR)/pitrfs \
		$(DESTDIR)$(MANDIR)/man1/pitr.1 $(DESTDIR)$(MANDIR)/man1/pitrfs.1 \
		$(DESTDIR)$(BASHCOMPDIR)/pitr $(DESTDIR)$(BASHCOMPDIR)/pitrfs

deps:
	@missing=; for p in $(PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
			grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then echo "deps: all installed"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "deps: missing:$$missing; run as root or: sudo apt-get install$$missing" >&2; \
		exit 1; fi; \
	echo "deps: installing$$missing"; \
	DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing

# What only the tests need (the object-store media tests' cluster).
test-deps:
	@missing=; for p in $(TEST_PACKAGES); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | \
			grep -q 'ok installed' || missing="$$missing $$p"; \
	done; \
	if [ -z "$$missing" ]; then exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
		echo "deps: for the object-store tests, as root: apt-get install --no-install-recommends$$missing" >&2; \
		exit 0; fi; \
	echo "deps: installing$$missing (object-store tests)"; \
	{ DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $$missing || \
	  { DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
		--no-install-recommends $$missing; }; } || \
		echo "deps: cannot install$$missing: the object-store tests will skip" >&2

unit: $(UNIT_BIN)
	@for t in $(UNIT_BIN); do echo "# $$t"; $$t || exit 1; done

unit-san: $(UNIT_SAN)
	@for t in $(UNIT_SAN); do echo "# $$t (asan+ubsan)"; \
		ASAN_OPTIONS=detect_leaks=1 $$t || exit 1; done

# Each fuzz target runs briefly over a copy of its seed corpus.
fuzz: $(FUZZ_BIN)
	@for f in $(FUZZ_BIN); do n=$${f##*/fuzz_}; \
		d=$$(mktemp -d); cp tests/fuzz/corpus/$$n/* $$d/ 2>/dev/null; \
		echo "# $$f for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=build/fuzz/ $$d \
			2>build/fuzz/$$n.log || { tail -40 build/fuzz/$$n.log; \
			rm -rf $$d; exit 1; }; rm -rf $$d; \
		echo "ok fuzz $$n"; done

TEST_HELPERS := build/tests/flakydisk build/tests/damage build/tests/json_suite \
                build/tests/fsx build/tests/format1

integration: all $(TEST_HELPERS)
	@tests/run-integration

# The daemon and the tool built with ASan+UBSan, the mount tests run once
# against them: a leak or undefined behaviour makes a daemon exit non-zero,
# which the tests check.
build/san/pitr: $(TOOL_SRC) tools/*.h build/san/libcore.a
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) -O1 $(SAN) $(TOOL_SRC) build/san/libcore.a \
		$(CORE_LIBS) -o $@

build/san/pitrfs: $(FS_SRC) fs/*.h build/san/libcore.a
	@mkdir -p $(@D)
	$(CLANG) $(ALL_CFLAGS) -O1 $(SAN) $(FUSE_CFLAGS) $(FS_SRC) build/san/libcore.a \
		$(FUSE_LIBS) $(CORE_LIBS) -o $@

# The daemon under valgrind (slow; not part of `make test`): memory errors
# or definite leaks make it exit 99, which the tests catch.
integration-valgrind: all $(TEST_HELPERS)
	@mkdir -p build/valgrind
	@printf '#!/bin/sh\nexec valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite "%s/bin/pitrfs" "$$@"\n' \
		"$(CURDIR)" >build/valgrind/pitrfs
	@chmod +x build/valgrind/pitrfs
	@PITRFS_BIN=$(CURDIR)/build/valgrind/pitrfs tests/run-integration

integration-san: all build/san/pitr build/san/pitrfs $(TEST_HELPERS)
	@PITR_BIN=$(CURDIR)/build/san/pitr PITRFS_BIN=$(CURDIR)/build/san/pitrfs \
		PITR_SANITIZED=1 ASAN_OPTIONS=detect_leaks=1 tests/run-integration

# `make test` and `make demo` install what is missing first (or say what
# to run), then build in a new make that sees what deps installed.
test: deps test-deps
	@$(MAKE) --no-print-directory check

check: unit unit-san fuzz integration integration-san
	@echo "make test: all suites passed"

bench: all
	@tests/bench/run

demo: deps
	@$(MAKE) --no-print-directory all
	@examples/demo.sh

format:
	clang-format -i core/*.[ch] fs/*.[ch] tools/*.[ch] tests/unit/*.[ch] tests/fuzz/*.c tests/crash/*.c tests/fsx/*.c

clean:
	rm -rf build bin
