# tlswhy - plain Makefile.
#
#   make            build ./tlswhy (installs missing -dev packages as root)
#   make demo       build and analyze the bundled failing ALB capture
#   make check      build and run every test (unit, pcap cases, corpus, rules);
#                   also builds the test-only pcaps/craft (libnet)
#   make check SANITIZE=address,undefined   the same under ASan and UBSan
#   make install    PREFIX=/usr/local DESTDIR= (also tlswhy@.service into
#                   SYSTEMDDIR, and /etc/logrotate.d/tlswhy)
#   make bench | fuzz | pcaps | clean
#
# Objects go to build/ (or build-san/ for sanitizer builds) so the two never mix.

PREFIX   ?= /usr/local
DESTDIR  ?=
SYSTEMDDIR   ?= $(PREFIX)/lib/systemd/system
LOGROTATEDIR ?= /etc/logrotate.d
CC       ?= cc
SANITIZE ?=
WERROR   ?= -Werror

ifeq ($(SANITIZE),)
B := build
SANFLAGS :=
OPT ?= -O2
else
B := build-san
SANFLAGS := -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
OPT ?= -O1 -g
endif

PKGS := libpcap libcrypto zlib
WARN := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ifeq ($(SANITIZE),)
HARDEN += -fstack-clash-protection
endif
CPPFLAGS += -I. -MMD -MP -D_DEFAULT_SOURCE
# Copies and fills of a size known only at run time go to the C library's
# memcpy and memset: GCC 12's generic tuning otherwise expands the bounded
# ones (a hello's lists, a name of at most 61 bytes) inline as `rep movsq`,
# whose start-up costs more than the short copies themselves (issue 19: the
# JSON report thread 6% of its CPU). Where the compiler has the option.
STRINGOP := $(shell $(CC) -mstringop-strategy=libcall -Werror -E -x c /dev/null > /dev/null 2>&1 && echo -mstringop-strategy=libcall)
CFLAGS   ?= $(OPT) -g
override CFLAGS += -std=c11 $(WARN) $(HARDEN) $(STRINGOP) $(SANFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SANFLAGS)
# zlib is required (gzip captures in capture/source.c, .gz ALB logs in
# rules/alblog.c); zstd captures with libzstd when pkg-config finds it
# (scripts/deps.sh installs it); NO_ZSTD=1 builds without.
LDLIBS   += -lpcap -lcrypto -lz
CPPFLAGS += -DTLSWHY_ZLIB
# pkg-config is asked only after scripts/deps.sh has run: on a fresh machine
# it installs libzstd-dev and pkg-config themselves. $(B)/config.mk is made
# from the installed packages, and make starts over with it before it
# compiles anything (nothing of it is read for `make clean`).
ifeq ($(filter clean,$(MAKECMDGOALS)),)
-include $(B)/config.mk
endif
ifeq ($(NO_ZSTD),)
CPPFLAGS += $(ZSTD_CPPFLAGS)
LDLIBS   += $(ZSTD_LIBS)
endif

LIB_SRC := $(sort $(wildcard dissect/*.c rules/*.c report/*.c capture/*.c probe/*.c) $(filter-out app/main.c,$(wildcard app/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
# Built-in rule files, embedded as a generated C file: lists, then kb, then rules.
RULE_DATA := $(sort $(wildcard rules/*.list)) $(sort $(wildcard rules/kb/*.kb)) $(sort $(wildcard rules/*.rules))
LIB_OBJ += $(B)/rules/builtin.o
MAIN_OBJ := $(B)/app/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

# the test-only packet crafter (pcaps/craft.c, libnet); see `make pcaps`
CRAFT := $(B)/craft

BIN := tlswhy
ifneq ($(SANITIZE),)
BIN := $(B)/tlswhy
endif

.PHONY: all deps test-deps demo check unit check-pcaps install uninstall clean bench fuzz pcaps
all: deps $(BIN)

# The stamp makes the dpkg query run once per build directory.
deps: $(B)/.deps
$(B)/.deps: scripts/deps.sh
	@sh scripts/deps.sh build
	@mkdir -p $(B) && touch $@
$(B)/config.mk: $(B)/.deps
	@if pkg-config --exists libzstd; then \
		echo "ZSTD_CPPFLAGS := -DTLSWHY_ZSTD $$(pkg-config --cflags libzstd)"; \
		echo "ZSTD_LIBS := $$(pkg-config --libs libzstd)"; \
	fi > $@.tmp && mv $@.tmp $@
test-deps: $(B)/.test-deps
$(B)/.test-deps: scripts/deps.sh | $(B)/.deps
	@sh scripts/deps.sh test
	@mkdir -p $(B) && touch $@

# ---- the shipped binary: built from a profile of its own run (PGO) ---------
# With GCC, outside sanitizer builds, unless PGO=0: ./tlswhy is compiled
# twice. First instrumented ($(B)/pgo/gen, -fprofile-generate; its counters
# atomic, as the reader, analysis and report threads share them), and run
# by scripts/pgo-train.sh over a capture bench/gen makes from the bundled
# recordings and over every bundled capture; then at $(PGO_OPT) with the
# counts that run left ($(B)/pgo/use, -fprofile-use), so the compiler lays
# out, inlines and unrolls for the paths real captures take (issue 19: the
# summary reports 6-13% less CPU, JSON 0-5%; bench/RESULTS.md). Functions the
# training never ran are compiled as without a profile
# (-fprofile-partial-training). Any source change repeats the three steps
# (about 25 s on two cores); PGO=0 builds the plain -O2 binary at once.
# The unit tests, the bench tools and the fuzz replays link the plain -O2
# objects of $(B)/, compiled with $(WERROR); the profile-built ones are not
# (-Wno-error): inlining that follows measured counts can raise GCC's
# flow-based warnings on code the -O2 build already checks, and a count
# must not fail a user's build. The binary differs from build to build
# (thread timing moves the counts a little); what it reports does not.
PGO_GCC := $(shell $(CC) -dM -E -x c /dev/null 2> /dev/null | grep -q __GNUC__ && \
	! $(CC) -dM -E -x c /dev/null 2> /dev/null | grep -q __clang__ && echo 1)
ifneq ($(SANITIZE)$(PGO_GCC),1)
override PGO := 0
endif
PGO ?= 1
PGO_OPT ?= -O3
PGO_CFLAGS = $(CFLAGS) $(PGO_OPT) -Wno-error
PGO_SRC := $(LIB_SRC) app/main.c
PGO_GEN_OBJ := $(PGO_SRC:%.c=$(B)/pgo/gen/%.o) $(B)/pgo/gen/rules/builtin.o
PGO_USE_OBJ := $(PGO_SRC:%.c=$(B)/pgo/use/%.o) $(B)/pgo/use/rules/builtin.o

# Both compiles of an object name its counts by the same path
# ($(B)/pgo/prof/DIR/NAME.gcda, -dumpdir): GCC finds a static function's
# counts by a hash that includes that path.
pgo_dump = -dumpdir $(B)/pgo/prof/$(dir $*)
$(B)/pgo/gen/%.o: %.c | $(B)/.deps
	@mkdir -p $(dir $@) $(B)/pgo/prof/$(dir $*)
	$(CC) $(CPPFLAGS) $(PGO_CFLAGS) -fprofile-generate -fprofile-update=atomic $(pgo_dump) -c -o $@ $<
$(B)/pgo/gen/rules/builtin.o: $(B)/rules/builtin.c | $(B)/.deps
	@mkdir -p $(dir $@) $(B)/pgo/prof/rules
	$(CC) $(CPPFLAGS) $(PGO_CFLAGS) -fprofile-generate -fprofile-update=atomic -dumpdir $(B)/pgo/prof/rules/ -c -o $@ $<
$(B)/pgo/tlswhy-gen: $(PGO_GEN_OBJ)
	$(CC) $(LDFLAGS) -fprofile-generate -o $@ $^ $(LDLIBS)
# one training run's counts, fresh
$(B)/pgo/profile: $(B)/pgo/tlswhy-gen $(B)/bench/gen scripts/pgo-train.sh tests/TESTLIST tests/testlist.sh
	@find $(B)/pgo/prof -name '*.gcda' -delete
	@echo "pgo: the training run (scripts/pgo-train.sh)"
	@bash scripts/pgo-train.sh $(B)/pgo/tlswhy-gen $(B)/bench/gen $(B)/pgo/train
	@touch $@
$(B)/pgo/use/%.o: %.c $(B)/pgo/profile | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PGO_CFLAGS) -fprofile-use -fprofile-partial-training $(pgo_dump) -c -o $@ $<
$(B)/pgo/use/rules/builtin.o: $(B)/rules/builtin.c $(B)/pgo/profile | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(PGO_CFLAGS) -fprofile-use -fprofile-partial-training -dumpdir $(B)/pgo/prof/rules/ -c -o $@ $<

# which of the two ./tlswhy is: rewritten only when PGO changes, so that
# `make PGO=0` then `make` relinks (the objects of the other kind are older
# than the binary)
$(B)/pgo-mode: FORCE | $(B)/.deps
	@echo "$(PGO)" | cmp -s - $@ || echo "$(PGO)" > $@
.PHONY: FORCE
FORCE:

# ./tlswhy is linked under another name and renamed into place: a run that
# starts while it is rebuilt gets the old binary or the new one, never a
# half-written file (a test once failed with "Permission denied" there)
ifeq ($(PGO),1)
$(BIN): $(PGO_USE_OBJ) $(B)/pgo-mode
	$(CC) $(LDFLAGS) -o $@.tmp $(PGO_USE_OBJ) $(LDLIBS) && mv -f $@.tmp $@
# the same sources from the plain objects, for tests/pgo.sh to compare with
PLAIN := $(B)/tlswhy-plain
$(PLAIN): $(LIB_OBJ) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)
else
PLAIN :=
$(BIN): $(LIB_OBJ) $(MAIN_OBJ) $(B)/pgo-mode
	$(CC) $(LDFLAGS) -o $@.tmp $(LIB_OBJ) $(MAIN_OBJ) $(LDLIBS) && mv -f $@.tmp $@
endif

$(B)/%.o: %.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/rules/builtin.c: $(RULE_DATA) rules/embed.sh
	@mkdir -p $(dir $@)
	sh rules/embed.sh $(RULE_DATA) > $@.tmp && mv $@.tmp $@

$(B)/rules/builtin.o: $(B)/rules/builtin.c | $(B)/.deps
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

# tlswhy exits 1 when it diagnoses a failure, which the demo capture holds.
demo: all
	./$(BIN) -r pcaps/demo-alb-502.pcap || [ $$? -eq 1 ]

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

check: all test-deps $(UNIT_BIN) $(CRAFT) $(PLAIN)
	@TLSWHY=./$(BIN) PLAIN=$(PLAIN) B=$(B) SANITIZE=$(SANITIZE) UNIT="$(UNIT_BIN)" bash tests/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tlswhy/rules $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tlswhy
	# the built-in rules are compiled in; these copies are the reference for writing your own
	install -d $(DESTDIR)$(PREFIX)/share/tlswhy/rules/kb
	install -m 0644 rules/*.rules rules/*.list $(DESTDIR)$(PREFIX)/share/tlswhy/rules/
	install -m 0644 rules/kb/*.kb $(DESTDIR)$(PREFIX)/share/tlswhy/rules/kb/
	[ ! -f docs/tlswhy.1 ] || install -m 0644 docs/tlswhy.1 $(DESTDIR)$(PREFIX)/share/man/man1/tlswhy.1
	# the pages the man page refers to (docs/NAME there is share/doc/tlswhy/NAME here)
	install -d $(DESTDIR)$(PREFIX)/share/doc/tlswhy/schema
	install -m 0644 docs/*.md README.md $(DESTDIR)$(PREFIX)/share/doc/tlswhy/
	install -m 0644 docs/schema/*.json $(DESTDIR)$(PREFIX)/share/doc/tlswhy/schema/
	# the service (README "Many targets"): tlswhy@IFACE.service and its log rotation
	install -d $(DESTDIR)$(SYSTEMDDIR) $(DESTDIR)$(LOGROTATEDIR)
	sed 's#@BINDIR@#$(PREFIX)/bin#g' dist/systemd/tlswhy@.service > $(DESTDIR)$(SYSTEMDDIR)/tlswhy@.service
	chmod 0644 $(DESTDIR)$(SYSTEMDDIR)/tlswhy@.service
	install -m 0644 dist/logrotate/tlswhy $(DESTDIR)$(LOGROTATEDIR)/tlswhy

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tlswhy $(DESTDIR)$(PREFIX)/share/man/man1/tlswhy.1
	rm -rf $(DESTDIR)$(PREFIX)/share/tlswhy $(DESTDIR)$(PREFIX)/share/doc/tlswhy
	rm -f $(DESTDIR)$(SYSTEMDDIR)/tlswhy@.service $(DESTDIR)$(LOGROTATEDIR)/tlswhy

# ---- fuzzing (fuzz/, docs/robustness.md) ------------------------------------
#   make fuzz [FUZZ_SECONDS=60] [FUZZ_TARGETS="record flow"] [FUZZ_JOBS=N]   clang + libFuzzer, build-fuzz/
#   (FUZZ_JOBS targets at once, default the CPUs, each for FUZZ_SECONDS)
#   make fuzz-replay [SANITIZE=...]   every committed corpus through a plain main() (gcc)
# New inputs go to build-fuzz/corpus/<target>/, crashes to build-fuzz/crashes/.
# A crash, once fixed, is copied to fuzz/corpus/<target>/ and replays forever.
.PHONY: fuzz-build fuzz-seeds fuzz-replay
FUZZ_TARGETS ?= record handshake x509 rules decode flow pipeline reader keylog decrypt alblog
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FB := build-fuzz
FUZZ_CFLAGS := -std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined \
	-fno-sanitize-recover=all -Wall -Wextra
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FB)/%.o) $(FB)/rules/builtin.o
FUZZ_BIN := $(FUZZ_TARGETS:%=$(FB)/fuzz_%)
FUZZ_REPLAY := $(FUZZ_TARGETS:%=$(B)/fuzz/replay_%)

$(FB)/%.o: %.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FB)/rules/builtin.c: $(RULE_DATA) rules/embed.sh
	@mkdir -p $(dir $@)
	sh rules/embed.sh $(RULE_DATA) > $@.tmp && mv $@.tmp $@

$(FB)/rules/builtin.o: $(FB)/rules/builtin.c
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -c -o $@ $<

$(FB)/fuzz_%: $(FB)/fuzz/fuzz_%.o $(FB)/fuzz/common.o $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $^ $(LDLIBS)

FUZZ_PCAPS := $(wildcard pcaps/*.pcap pcaps/crafted/*.pcap pcaps/crafted/*.pcapng)

$(FB)/seeds: $(FB)/seeds-gen $(FUZZ_PCAPS) $(RULE_DATA)
	rm -rf $@ && mkdir -p $@/rules $@/pipeline $@/reader
	$(FB)/seeds-gen $@ $(FUZZ_PCAPS)
	cp $(RULE_DATA) $@/rules/
	cp $(FUZZ_PCAPS) $@/pipeline/
	cp $(FUZZ_PCAPS) $@/reader/

$(FB)/seeds-gen: fuzz/seeds.c $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -o $@ $^ $(LDLIBS)

fuzz-build: $(FUZZ_BIN)
fuzz-seeds: $(FB)/seeds

# Each target runs FUZZ_SECONDS from its committed corpus and the seeds; a
# crash is printed with its input in base64 and the commands that keep it
# (fuzz/smoke.sh), and the other targets still run.
fuzz: fuzz-build fuzz-seeds
	@bash fuzz/smoke.sh $(FB) $(FUZZ_SECONDS) $(FUZZ_TARGETS)

$(B)/fuzz/replay_%: fuzz/replay.c fuzz/fuzz_%.c fuzz/common.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -DFUZZ_TARGET_NAME='"$*"' $(LDFLAGS) -o $@ $(filter %.c %.o,$^) $(LDLIBS)

fuzz-replay: $(FUZZ_REPLAY)
	@set -e; for t in $(FUZZ_TARGETS); do \
		$(B)/fuzz/replay_$$t fuzz/corpus/$$t $$([ $$t = pipeline ] || [ $$t = reader ] && echo $(FUZZ_PCAPS)); \
	done

# ---- crafted captures (pcaps/craft.c, pcaps/crafted.sh, tests/metamorphic.py) ----
#   make pcaps    rewrites pcaps/crafted/ from the recordings (byte-identical run after run)
# craft ($(CRAFT), set at the top) links libnet, which only the tests need:
# built by `make check` and `make pcaps`, never by the default `make`.

$(CRAFT): pcaps/craft.c dissect/flow.h | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< -lnet -lpcap

pcaps: $(CRAFT)
	sh pcaps/crafted.sh $(CRAFT) pcaps pcaps/crafted

# ---- benchmark (bench/, results in bench/RESULTS.md) --------------------------
#   make bench [BENCH_SCALE=1] [BENCH_SCALING=1] [BENCH_TOOLS="ssldump ndpi tshark"]
# Generates build/bench/bench.pcap (BENCH_SCALE 1: ~1.8 GB, 150,000 connections),
# checks tlswhy finds what went in, prints one timing table. Never part of check.
BENCH_SCALE ?= 1
BENCH_BIN := $(B)/bench/gen $(B)/bench/bareloop $(B)/bench/jtally
$(B)/bench/%: bench/%.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

bench: all $(BENCH_BIN)
	@TLSWHY=./$(BIN) B=$(B) BENCH_SCALE=$(BENCH_SCALE) PGO=$(PGO) bash bench/bench.sh

clean:
	rm -rf build build-san build-fuzz tlswhy tlswhy.tmp

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d $(B)/pgo/*/*/*.d)
-include $(wildcard $(FB)/*/*.d)
