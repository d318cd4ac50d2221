# tlswhy - plain Makefile.
#
#   make            build ./tlswhy (installs missing -dev packages as root)
#   make demo       build and analyze the bundled failing ALB capture
#   make check      build and run every test (unit, pcap cases, corpus, rules)
#   make check SANITIZE=address,undefined   the same under ASan and UBSan
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench | fuzz | pcaps | clean
#
# Objects go to build/ (or build-san/ for sanitizer builds) so the two never mix.

PREFIX   ?= /usr/local
DESTDIR  ?=
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

PKGS := libpcap libcrypto
WARN := -Wall -Wextra $(WERROR) -Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 -Wvla
HARDEN := -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
ifeq ($(SANITIZE),)
HARDEN += -fstack-clash-protection
endif
CPPFLAGS += -I. -MMD -MP -D_DEFAULT_SOURCE
CFLAGS   ?= $(OPT) -g
override CFLAGS += -std=c11 $(WARN) $(HARDEN) $(SANFLAGS)
LDFLAGS  += -pie -Wl,-z,relro,-z,now $(SANFLAGS)
LDLIBS   += -lpcap -lcrypto

LIB_SRC := $(sort $(wildcard dissect/*.c rules/*.c report/*.c) $(filter-out capture/main.c,$(wildcard capture/*.c)))
LIB_OBJ := $(LIB_SRC:%.c=$(B)/%.o)
MAIN_OBJ := $(B)/capture/main.o
UNIT_SRC := $(sort $(wildcard tests/unit/*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(B)/tests/%)

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
test-deps: $(B)/.test-deps
$(B)/.test-deps: scripts/deps.sh
	@sh scripts/deps.sh test
	@mkdir -p $(B) && touch $@

$(BIN): $(LIB_OBJ) $(MAIN_OBJ)
	$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(B)/%.o: %.c | $(B)/.deps
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(B)/tests/%: tests/unit/%.c $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_OBJ) $(LDLIBS)

demo: all
	./$(BIN) -r pcaps/demo-alb-502.pcap

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do $$t; done

check: all test-deps unit
	@TLSWHY=./$(BIN) sh tests/run.sh

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/tlswhy/rules $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 0755 $(BIN) $(DESTDIR)$(PREFIX)/bin/tlswhy
	install -m 0644 rules/*.rules $(DESTDIR)$(PREFIX)/share/tlswhy/rules/ 2>/dev/null || true
	[ ! -f docs/tlswhy.1 ] || install -m 0644 docs/tlswhy.1 $(DESTDIR)$(PREFIX)/share/man/man1/tlswhy.1

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/bin/tlswhy $(DESTDIR)$(PREFIX)/share/man/man1/tlswhy.1
	rm -rf $(DESTDIR)$(PREFIX)/share/tlswhy

clean:
	rm -rf build build-san tlswhy

-include $(wildcard $(B)/*/*.d $(B)/*/*/*.d)
