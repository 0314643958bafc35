# nap - one non-recursive GNU Makefile.
#
#   make                 build lib/libnap.a and every cmd/nap-* into bin/
#   make test            install missing Debian packages, build, run unit tests then bats suites
#   make unit            C unit tests only (TAP)
#   make bench           benchmarks (figures on stdout)
#   make memcheck        the long-running tools under valgrind (tests/memcheck.sh)
#   make demo            the provision loop against nap-sim
#   make install PREFIX=/usr/local DESTDIR=   /  make uninstall
#   make lint            clang-format check and mandoc -Tlint
#   SANITIZE=address,undefined   build and test under sanitizers (objects in build/san/)
#   DEVELOPER=1          -Werror
#   V=1                  print every command, not "CC lib/foo.c"
#   JOBS=N               parallel jobs of make test and make demo (default: nproc)
#
# Sources are discovered: lib/*.c make libnap.a, cmd/nap-X/*.c make bin/nap-X,
# tests/unit/t-*.c make unit tests, tests/*.bats are the suites.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
MANDIR = $(PREFIX)/share/man
DATADIR = $(PREFIX)/share/nap
LIBEXECDIR = $(PREFIX)/libexec/nap
SYSTEMDDIR = $(PREFIX)/lib/systemd/system

CC ?= cc
PKG_CONFIG ?= pkg-config
PKGS = json-c yaml-0.1 libcurl gnutls libmicrohttpd
SIM_PKGS = libmicrohttpd

WARN = -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
	-Wvla -Wformat=2 -Wpointer-arith -Wcast-qual -Wwrite-strings -Wundef \
	-Wnull-dereference -Wimplicit-fallthrough -Wno-unused-parameter
OPT ?= -O2 -g
HARDEN = -D_FORTIFY_SOURCE=2 -fstack-protector-strong -fPIE
HARDEN_LD = -pie -Wl,-z,relro,-z,now

# CI builds with -Werror (the .ci/run sets CI=true).
ifeq ($(CI),true)
DEVELOPER ?= 1
endif
ifeq ($(DEVELOPER),1)
WARN += -Werror
endif

ifneq ($(SANITIZE),)
VARIANT = san
SANFLAGS = -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
HARDEN = -fPIE
OPT = -O1 -g
else
VARIANT = rel
SANFLAGS =
endif

# Another compiler gets its own objects, so "make CC=clang" rebuilds everything.
ifneq ($(CC),cc)
VARIANT := $(VARIANT)-$(notdir $(CC))
endif
OUT = build/$(VARIANT)
ifeq ($(VARIANT),rel)
BIN = bin
LIBNAP = lib/libnap.a
else
BIN = $(OUT)/bin
LIBNAP = $(OUT)/libnap.a
endif

# Recursive (=) so pkg-config runs only when a recipe needs it, after deps are in.
PKG_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS = $(shell $(PKG_CONFIG) --libs $(PKGS))
SIM_CFLAGS = $(shell $(PKG_CONFIG) --cflags $(SIM_PKGS))
SIM_LIBS = $(shell $(PKG_CONFIG) --libs $(SIM_PKGS))

# -iquote, not -I: lib/sched.h and lib/yaml.h must not hide <sched.h> and libyaml's <yaml.h>.
CPPFLAGS_ALL = -D_GNU_SOURCE -iquote lib -include lib/banned.h -DNAP_DATADIR='"$(DATADIR)"' $(CPPFLAGS)
CFLAGS_ALL = -std=c11 $(OPT) $(WARN) $(HARDEN) $(SANFLAGS) $(PKG_CFLAGS) $(SIM_CFLAGS) -MMD -MP $(CFLAGS)
LDFLAGS_ALL = $(HARDEN_LD) $(SANFLAGS) $(LDFLAGS)
LIBS_ALL = $(PKG_LIBS) -lm -pthread

LIB_SRC = $(sort $(wildcard lib/*.c))
LIB_OBJ = $(LIB_SRC:%.c=$(OUT)/%.o)
TOOLS = $(sort $(notdir $(wildcard cmd/nap-*)))
TOOL_BINS = $(TOOLS:%=$(BIN)/%)
TOOL_OBJ = $(patsubst %.c,$(OUT)/%.o,$(wildcard cmd/nap-*/*.c))
UNIT_SRC = $(sort $(wildcard tests/unit/t-*.c))
UNIT_BINS = $(UNIT_SRC:tests/unit/%.c=$(OUT)/tests/%)
UNIT_HELPERS = $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c))
UNIT_HELPER_OBJ = $(UNIT_HELPERS:%.c=$(OUT)/%.o)

# Extra link libraries per tool.
LIBS_nap-sim = $(SIM_LIBS)

# Quiet by default: one "CC lib/foo.c", "LD bin/nap-x" or "AR lib/libnap.a"
# line a step; V=1 prints the commands themselves.
ifeq ($(V),1)
Q =
say = @:
else
Q = @
say = @printf '  %-3s %s\n'
endif
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all deps test check unit unit-bins bats bench memcheck demo install uninstall lint fmt clean
.DEFAULT_GOAL := all

all: $(TOOL_BINS)

$(OUT)/%.o: %.c
	@mkdir -p $(@D)
	$(say) CC $<
	$(Q)$(CC) $(CPPFLAGS_ALL) $(CFLAGS_ALL) -c -o $@ $<

$(LIBNAP): $(LIB_OBJ)
	@mkdir -p $(@D)
	$(say) AR $@
	$(Q)rm -f $@.tmp.$$$$ && ar rcs $@.tmp.$$$$ $^ && mv -f $@.tmp.$$$$ $@

# Naming the tool objects makes them ordinary targets: kept after linking,
# and rebuilt when missing (.SECONDARY would skip a new, older source).
.PHONY: objs
objs: $(TOOL_OBJ)
.SECONDEXPANSION:
$(BIN)/%: $$(addprefix $(OUT)/,$$(addsuffix .o,$$(basename $$(wildcard cmd/$$*/*.c)))) $(LIBNAP)
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(LIBNAP) $(LIBS_$*) $(LIBS_ALL)

$(OUT)/tests/t-%: $(OUT)/tests/unit/t-%.o $(UNIT_HELPER_OBJ) $(LIBNAP)
	@mkdir -p $(@D)
	$(say) LD $@
	$(Q)$(CC) $(LDFLAGS_ALL) -o $@ $(filter %.o,$^) $(LIBNAP) $(LIBS_ALL)

deps:
	@sh bin/nap-deps build

# The public entry points first make sure the Debian packages are there, then
# re-enter make so that pkg-config sees them.  The build runs $(JOBS) jobs.
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all unit-bins
	@$(MAKE) --no-print-directory check

unit-bins: $(UNIT_BINS)

# tests/run: tests/lint-bats, then each unit test and bats suite with a line
# as it ends, then "N passed, N failed, N skipped".
check: all $(UNIT_BINS)
	@NAP_BIN=$(CURDIR)/$(BIN) sh tests/run $(UNIT_BINS)

unit: $(UNIT_BINS)
	@NAP_BIN=$(CURDIR)/$(BIN) sh tests/run --unit-only $(UNIT_BINS)

bats: all
	@NAP_BIN=$(CURDIR)/$(BIN) sh tests/run --bats-only

bench: deps
	@sh bin/nap-deps bench
	@$(MAKE) --no-print-directory all
	@NAP_BIN=$(CURDIR)/$(BIN) sh bench/run

memcheck:
	@sh bin/nap-deps memcheck
	@$(MAKE) --no-print-directory all
	@NAP_BIN=$(CURDIR)/$(BIN) bash tests/memcheck.sh

demo: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	@NAP_BIN=$(CURDIR)/$(BIN) sh pipelines/nap-demo

# nap-demo, installed, finds beside it what it finds in the source tree: its
# workload and extra NodePools in DATADIR/demo, the manifests in
# DATADIR/deploy, the catalog in DATADIR, and the LP bound's program (built
# here from bench/lp-bound.c, as nap-demo builds it in the source tree) in
# LIBEXECDIR.
install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man5 \
		$(DESTDIR)$(MANDIR)/man7 $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(SYSTEMDDIR)
	$(CC) $(CPPFLAGS_ALL) $(filter-out -MMD -MP,$(CFLAGS_ALL)) $(LDFLAGS_ALL) \
		-o $(DESTDIR)$(LIBEXECDIR)/lp-bound bench/lp-bound.c $(LIBNAP) $(LIBS_ALL)
	install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)
	for f in pipelines/*; do [ -f "$$f" ] && install -m 755 "$$f" $(DESTDIR)$(BINDIR) || :; done
	for f in man/*.1; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man1 || :; done
	for f in man/*.5; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man5 || :; done
	for f in man/*.7; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(MANDIR)/man7 || :; done
	for f in data/*.json data/*.tsv data/*.yaml; do [ -f "$$f" ] && install -m 644 "$$f" $(DESTDIR)$(DATADIR) || :; done
	for f in systemd/*.service systemd/*.target; do [ -f "$$f" ] && \
		sed 's|/usr/local/bin/|$(BINDIR)/|g' "$$f" >$(DESTDIR)$(SYSTEMDDIR)/$${f##*/} && \
		chmod 644 $(DESTDIR)$(SYSTEMDDIR)/$${f##*/} || :; done
	install -D -m 644 systemd/nap.conf $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/nap.conf
	install -D -m 644 systemd/nap.sysusers $(DESTDIR)$(PREFIX)/lib/sysusers.d/nap.conf
	install -m 644 systemd/nap.env.example $(DESTDIR)$(DATADIR)
	install -d $(DESTDIR)$(DATADIR)/deploy/crds $(DESTDIR)$(DATADIR)/deploy/nodepools
	install -m 644 deploy/rbac.yaml $(DESTDIR)$(DATADIR)/deploy
	install -m 644 deploy/crds/*.yaml $(DESTDIR)$(DATADIR)/deploy/crds
	install -m 644 deploy/nodepools/*.yaml $(DESTDIR)$(DATADIR)/deploy/nodepools
	install -d $(DESTDIR)$(DATADIR)/demo
	install -m 644 tests/fixtures/e2e/workload.yaml tests/fixtures/e2e/nodepools.yaml \
		$(DESTDIR)$(DATADIR)/demo

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t; done
	for f in pipelines/*; do rm -f $(DESTDIR)$(BINDIR)/$${f##*/}; done
	for f in man/*.[157]; do s=$${f##*.}; rm -f $(DESTDIR)$(MANDIR)/man$$s/$${f##*/}; done
	for f in systemd/*.service systemd/*.target; do rm -f $(DESTDIR)$(SYSTEMDDIR)/$${f##*/}; done
	rm -f $(DESTDIR)$(PREFIX)/lib/tmpfiles.d/nap.conf $(DESTDIR)$(PREFIX)/lib/sysusers.d/nap.conf
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(LIBEXECDIR)

lint:
	@sh bin/nap-deps lint
	clang-format --dry-run --Werror lib/*.[ch] cmd/*/*.[ch] tests/unit/*.[ch]
	mandoc -Tlint -Wwarning man/*.[157]

fmt:
	clang-format -i lib/*.[ch] cmd/*/*.[ch] tests/unit/*.[ch]

clean:
	rm -rf build lib/libnap.a $(addprefix bin/,$(TOOLS))

-include $(shell find build -name '*.d' 2>/dev/null)

# ---- fuzzing (tests/fuzz/README): libFuzzer harnesses, clang only ----
#   make fuzz                  build every tests/fuzz/fuzz-*.c and run each FUZZ_SECONDS
#   make fuzz-bins             build only (build/fuzz/fuzz-*)
#   make fuzz FUZZ_SECONDS=600 FUZZ=fuzz-yaml   one harness, longer
#   make fuzz FUZZ_RUNS=10000000               each harness for 10 M executions
# libnap is rebuilt under build/fuzz/ with coverage and ASan+UBSan; crashes
# are left in tests/fuzz/artifacts/<harness>/ and make the target fail.
FUZZ_CC ?= clang
FUZZ_SECONDS ?= 60
FUZZ_RUNS ?=
FUZZ ?=
FUZZ_OUT = build/fuzz
FUZZ_SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
FUZZ_CFLAGS = -std=c11 -O1 -g $(WARN) $(FUZZ_SAN) $(PKG_CFLAGS) -MMD -MP
FUZZ_SRC = $(sort $(wildcard tests/fuzz/fuzz-*.c))
FUZZ_BINS = $(FUZZ_SRC:tests/fuzz/%.c=$(FUZZ_OUT)/%)
FUZZ_LIB_OBJ = $(LIB_SRC:%.c=$(FUZZ_OUT)/%.o)

.PHONY: fuzz fuzz-bins
fuzz-bins: $(FUZZ_BINS) $(FUZZ_OUT)/yaml2json

fuzz:
	@sh bin/nap-deps fuzz
	@$(MAKE) --no-print-directory fuzz-bins
	@FUZZ_SECONDS=$(FUZZ_SECONDS) FUZZ_RUNS=$(FUZZ_RUNS) FUZZ_OUT=$(FUZZ_OUT) sh tests/fuzz/run $(FUZZ)

# lib/ with coverage for the fuzzer, but no fuzzer main (harnesses bring theirs).
$(FUZZ_OUT)/lib/%.o: lib/%.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_OUT)/libnap.a: $(FUZZ_LIB_OBJ)
	@rm -f $@.tmp.$$$$ && ar rcs $@.tmp.$$$$ $^ && mv -f $@.tmp.$$$$ $@

$(FUZZ_OUT)/fuzz-%: tests/fuzz/fuzz-%.c tests/fuzz/fuzz.h $(FUZZ_OUT)/libnap.a
	@mkdir -p $(@D)
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OUT)/libnap.a $(PKG_LIBS) -lm

# Turns the YAML fixtures into JSON seeds (tests/fuzz/seeds.sh).
$(FUZZ_OUT)/yaml2json: tests/fuzz/yaml2json.c $(FUZZ_OUT)/libnap.a
	$(FUZZ_CC) $(CPPFLAGS_ALL) $(FUZZ_CFLAGS) -o $@ $< $(FUZZ_OUT)/libnap.a $(PKG_LIBS) -lm

# make chaos: the provision loop against nap-sim under faults and kill -9
# of a random stage every 5 s, its invariants sampled throughout
# (tests/chaos/chaos.sh).  CHAOS_PODS, CHAOS_DURATION (seconds of chaos),
# CHAOS_MODE (units or pipeline), CHAOS_SEED; make chaos-short is CI's.
CHAOS_PODS ?= 2000
CHAOS_DURATION ?= 300
CHAOS_MODE ?= units
CHAOS_SEED ?=
.PHONY: chaos chaos-short
chaos: all
	@NAP_BIN=$(CURDIR)/$(BIN) CHAOS_SEED=$(CHAOS_SEED) nice bash tests/chaos/chaos.sh \
		-p $(CHAOS_PODS) -d $(CHAOS_DURATION) -m $(CHAOS_MODE)
chaos-short:
	@$(MAKE) --no-print-directory chaos CHAOS_PODS=200 CHAOS_DURATION=60

# make mutate: the one-line mutants of tests/mutate/mutants, each applied to a
# scratch copy of the tree and run against the suites that should catch it
# (tests/mutate/run); exits non-zero if one survives.  Not part of make test.
# MUTANTS=REGEX runs only the mutants whose id matches.
.PHONY: mutate
mutate:
	@nice -n 10 bash tests/mutate/run $(MUTANTS)
