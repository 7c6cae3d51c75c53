# SPDX-License-Identifier: MIT
# mdns-doctor — one non-recursive Makefile.
#
# Sources are discovered by place and name, so adding a file never means
# editing this file:
#   common/ engine/ probe/ tui/ store/ reports/   *.c  -> build/libmdns.a
#   cli/*.c (cli/cmd-NAME.c defines cmd_NAME_entry)  -> build/mdns-doctor
#   tests/unit/test-*.c                            -> build/tests/test-*
#   tests/tools/NAME.c                             -> build/tools/NAME
#   tests/fuzz/fuzz-*.c     (clang, libFuzzer)     -> build/fuzz/fuzz-*
#   tests/bench/bench-*.c                          -> build/bench/bench-*
# Honours CC, CFLAGS, LDFLAGS, PREFIX (BINDIR, MANDIR, DOCDIR, BASHCOMPDIR,
# UNITDIR), DESTDIR and V=1.

CC	?= cc
CLANG	?= clang
PREFIX	?= /usr/local
DESTDIR	?=
BUILD	?= build
CFLAGS	?= -O2 -g

PKGS	:= ldns libcurl ncursesw sqlite3 libcrypto libzstd liblz4 zlib jansson lwip
# Deferred (=) so that "make demo" can install the libraries before the
# first compile asks pkg-config about them.
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN	:= -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	   -Wformat=2 -Wno-unused-parameter
ifeq ($(CI),true)
WARN	+= -Werror
endif
ifneq ($(WERROR),)
WARN	+= -Werror
endif
HARDEN	:= -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ALL_CFLAGS = -std=c11 -D_GNU_SOURCE $(WARN) $(HARDEN) -I. -I$(BUILD)/gen \
	     $(PKG_CFLAGS) $(CFLAGS) -MMD -MP
ALL_LDFLAGS = -pie -Wl,-z,relro,-z,now $(LDFLAGS)
LIBS	= $(PKG_LIBS) -lm

ifeq ($(V),1)
Q :=
else
Q := @
endif

MODULES	:= common proto engine probe tui store reports
LIB_SRCS := $(sort $(foreach m,$(MODULES),$(wildcard $(m)/*.c)))
CLI_SRCS := $(sort $(wildcard cli/*.c))
CMD_SRCS := $(sort $(wildcard cli/cmd-*.c))
TEST_SRCS := $(sort $(wildcard tests/unit/test-*.c))
TOOL_SRCS := $(sort $(wildcard tests/tools/*.c))
FUZZ_SRCS := $(sort $(wildcard tests/fuzz/fuzz-*.c))
BENCH_SRCS := $(sort $(wildcard tests/bench/bench-*.c))

LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/obj/%.o)
CLI_OBJS := $(CLI_SRCS:%.c=$(BUILD)/obj/%.o)
LIBA	:= $(BUILD)/libmdns.a
BIN	:= $(BUILD)/mdns-doctor
TESTS	:= $(TEST_SRCS:tests/unit/%.c=$(BUILD)/tests/%)
TOOLS	:= $(TOOL_SRCS:tests/tools/%.c=$(BUILD)/tools/%)
BENCHES	:= $(BENCH_SRCS:tests/bench/%.c=$(BUILD)/bench/%)
FUZZERS	:= $(FUZZ_SRCS:tests/fuzz/%.c=$(BUILD)/fuzz/%)

.PHONY: all check test lint layering asan fuzz bench demo install clean \
	deps tests tools valgrind packaging FORCE
.DEFAULT_GOAL := all

all: $(BIN) $(TESTS) $(TOOLS)

deps:
	$(Q)./scripts/deps.sh

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	@[ "$(V)" = 1 ] || echo "  CC      $<"
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(LIBA): $(LIB_OBJS)
	@mkdir -p $(@D)
	$(Q)rm -f $@
	$(Q)ar rcs $@ $^

# The command table and version string are generated; each is rewritten only
# when its content changes, so nothing rebuilds needlessly.
$(BUILD)/gen/cmd-list.h: FORCE
	@mkdir -p $(@D)
	$(Q)for f in $(CMD_SRCS); do n=$${f#cli/cmd-}; n=$${n%.c}; \
		echo "CMD($$n)"; done > $@.tmp; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/gen/version.h: FORCE
	@mkdir -p $(@D)
	$(Q)v=$$(git describe --always --dirty --tags 2>/dev/null || \
		cat VERSION 2>/dev/null || echo unknown); \
	echo "#define MDNS_VERSION \"$$v\"" > $@.tmp; \
	cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/obj/cli/main.o: $(BUILD)/gen/cmd-list.h
$(BUILD)/obj/cli/version.o: $(BUILD)/gen/version.h
$(CLI_OBJS) $(LIB_OBJS): | $(BUILD)/gen/cmd-list.h $(BUILD)/gen/version.h

$(BIN): $(CLI_OBJS) $(LIBA)
	@[ "$(V)" = 1 ] || echo "  LINK    $@"
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $(CLI_OBJS) $(LIBA) $(LIBS)

$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(LIBA)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/tools/%: $(BUILD)/obj/tests/tools/%.o $(LIBA)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

$(BUILD)/bench/%: $(BUILD)/obj/tests/bench/%.o $(LIBA)
	@mkdir -p $(@D)
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBA) $(LIBS)

tests: $(TESTS)
tools: $(TOOLS)

# The whole suite: unit test binaries and shell tests, one TAP stream each,
# ending with "tests: N passed, N failed".
check: all
	$(Q)BUILD=$(BUILD) ./tests/run.sh

test: check

# Sanitizer build in its own tree; the suite must be clean under it.
asan:
	$(Q)$(MAKE) --no-print-directory BUILD=build/asan CC=$(CLANG) \
		CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
		LDFLAGS="-fsanitize=address,undefined" check

valgrind: all
	$(Q)BUILD=$(BUILD) MDNS_VALGRIND=1 ./tests/run.sh

# libFuzzer targets: each fuzz-NAME.c is built with the library sources
# instrumented, then run for FUZZ_SECONDS on its seed corpus.
FUZZ_SECONDS ?= 20
FUZZ_CFLAGS = -std=c11 -D_GNU_SOURCE -I. -I$(BUILD)/gen $(PKG_CFLAGS) -g -O1 \
	      -fsanitize=fuzzer-no-link,address,undefined
$(BUILD)/fuzz/obj/%.o: %.c | $(BUILD)/gen/cmd-list.h $(BUILD)/gen/version.h
	@mkdir -p $(@D)
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -c -o $@ $<
FUZZ_LIB_OBJS := $(LIB_SRCS:%.c=$(BUILD)/fuzz/obj/%.o)
$(BUILD)/fuzz/fuzz-%: tests/fuzz/fuzz-%.c $(FUZZ_LIB_OBJS)
	@mkdir -p $(@D)
	@mkdir -p $(BUILD)/fuzz/obj
	$(Q)$(CLANG) $(FUZZ_CFLAGS) -MMD -MP -MT $@ -MF $(BUILD)/fuzz/obj/$(@F).d \
		-fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJS) $(LIBS)
fuzz: $(FUZZERS)
	$(Q)set -e; for f in $(FUZZERS); do n=$${f##*/}; \
		mkdir -p $(BUILD)/fuzz/corpus/$$n; \
		seeds=tests/fuzz/seeds/$${n#fuzz-}; [ -d $$seeds ] || seeds=; \
		echo "fuzz: $$n for $(FUZZ_SECONDS)s"; \
		$$f -max_total_time=$(FUZZ_SECONDS) -print_final_stats=0 \
		    $(BUILD)/fuzz/corpus/$$n $$seeds >$(BUILD)/fuzz/$$n.log 2>&1 || \
		    { tail -40 $(BUILD)/fuzz/$$n.log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $(BUILD)/fuzz/$$n.log | tail -1; \
	done

# Benchmarks print numbers; they are never part of the test suite.
bench: all $(BENCHES)
	$(Q)BUILD=$(BUILD) ./tests/bench/run.sh

demo:
	$(Q)./scripts/deps.sh
	$(Q)$(MAKE) --no-print-directory all
	$(Q)BUILD=$(BUILD) ./scripts/demo.sh

# Format, banned functions, the include-graph rule, cppcheck.
lint:
	$(Q)./scripts/lint.sh

# The include-graph rule alone (also part of lint and of the suite).
layering:
	$(Q)./scripts/layering.sh

# What `make install` places besides the binary, generated into $(BUILD):
# the manual page and the bash completion from the command table
# (`mdns-doctor help --man`, `help --completion`: they cannot drift from
# the parser), the systemd units with the binary's installed path.
BINDIR	?= $(PREFIX)/bin
MANDIR	?= $(PREFIX)/share/man
DOCDIR	?= $(PREFIX)/share/doc/mdns-doctor
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
UNITDIR	?= $(PREFIX)/lib/systemd/system
UNIT_INS := $(sort $(wildcard packaging/systemd/*.in))
UNITS	:= $(UNIT_INS:packaging/systemd/%.in=$(BUILD)/systemd/%)
PKG_FILES := $(BUILD)/mdns-doctor.1 $(BUILD)/mdns-doctor.bash-completion \
	     $(UNITS)

$(BUILD)/mdns-doctor.1: $(BIN)
	$(Q)$(BIN) help --man >$@.tmp && mv $@.tmp $@

$(BUILD)/mdns-doctor.bash-completion: $(BIN)
	$(Q)$(BIN) help --completion >$@.tmp && mv $@.tmp $@

# The units carry BINDIR: remade when it changes (as version.h).
$(BUILD)/gen/bindir: FORCE
	@mkdir -p $(@D)
	$(Q)echo '$(BINDIR)' >$@.tmp; cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

$(BUILD)/systemd/%: packaging/systemd/%.in $(BUILD)/gen/bindir
	@mkdir -p $(@D)
	$(Q)sed 's|@BINDIR@|$(BINDIR)|g' $< >$@.tmp && mv $@.tmp $@

packaging: $(PKG_FILES)

install: $(BIN) $(PKG_FILES)
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(UNITDIR) $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/mdns-doctor
	install -m 0644 $(BUILD)/mdns-doctor.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/mdns-doctor.bash-completion \
		$(DESTDIR)$(BASHCOMPDIR)/mdns-doctor
	install -m 0644 $(UNITS) $(DESTDIR)$(UNITDIR)/
	install -m 0644 LICENSE README.md $(DESTDIR)$(DOCDIR)/

clean:
	rm -rf $(BUILD)

FORCE:

# Keep objects of test, tool and bench binaries (otherwise intermediate).
.SECONDARY:

-include $(shell find $(BUILD)/obj $(BUILD)/fuzz/obj -name '*.d' 2>/dev/null)
