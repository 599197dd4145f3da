# poolprobe — one entry point: all, install, test, bench, demo, clean.
#
# Products land in build/: build/libpoolprobe.so (the shim) and build/poolprobe-report (the
# analyzer). Tests and workloads build under build/ too. User CFLAGS/LDFLAGS come last.

# make predefines CC=cc and CXX=g++; take gcc/g++ unless the user chose otherwise.
ifeq ($(origin CC),default)
CC       := gcc
endif
ifeq ($(origin CXX),default)
CXX      := g++
endif
PREFIX   ?= /usr/local
DESTDIR  ?=
LIBDIR   ?= $(PREFIX)/lib
BINDIR   ?= $(PREFIX)/bin
INCDIR   ?= $(PREFIX)/include
MANDIR   ?= $(PREFIX)/share/man
PCDIR    ?= $(LIBDIR)/pkgconfig
COMPDIR  ?= $(PREFIX)/share/bash-completion/completions
B        := build

# The version, from one place: the report's and the launcher's --version.
VERSION   := $(shell cat VERSION)

WARN      := -Wall -Wextra -Wstrict-prototypes -Wmissing-prototypes -Wshadow -Wformat=2
BASEFLAGS := -std=gnu11 -O2 -g $(WARN) -MMD -MP
UNWIND_CFLAGS := $(shell pkg-config --cflags libunwind 2>/dev/null)

# The shim runs inside other people's processes: position independent, every symbol hidden but
# the hooks, initial-exec TLS (no allocation on first touch), and no builtin malloc folding.
SHIM_CFLAGS  := $(BASEFLAGS) -flto -fPIC -fvisibility=hidden -ftls-model=initial-exec \
                -fno-builtin-malloc -fno-builtin-free -fno-builtin-calloc -fno-builtin-realloc \
                -fno-omit-frame-pointer -fno-stack-protector $(UNWIND_CFLAGS) $(CFLAGS)
SHIM_LDFLAGS := -shared -Wl,-soname,libpoolprobe.so -Wl,--version-script=shim/exports.map -Wl,-z,nodelete -Wl,-z,now \
                $(LDFLAGS)
SHIM_LIBS    := -lunwind -ldl -lpthread

ANALYZER_CFLAGS := $(BASEFLAGS) -Ishim -I$(B)/gen -DPP_VERSION='"$(VERSION)"' $(CFLAGS)
ANALYZER_LIBS   := -ldw -lelf -ljansson -lprotobuf-c -lz -lstdc++ -lm
# The analyzer's tests run under the sanitizers (the shim cannot).
ASAN_FLAGS      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SHIM_SRCS      := $(wildcard shim/*.c)
ANALYZER_SRCS  := $(wildcard analyzer/*.c)
ANALYZER_CORE  := $(filter-out analyzer/main.c,$(ANALYZER_SRCS))
UNIT_SRCS      := $(wildcard tests/unit/test_*.c)
WORKLOAD_C     := $(wildcard tests/workloads/*.c)
WORKLOAD_CXX   := $(wildcard tests/workloads/*.cc)

# pprof's message format (analyzer/profile.proto), compiled to C by protoc-c at build time.
PROTO_GEN      := $(B)/gen/profile.pb-c.c

# The HTML report's script and style (web/: our report.js and report.css, and the libraries
# npm ci put in web/node_modules), bundled and linked in as data: the report needs no network.
WEB_ASSETS     := $(B)/web/assets.o

SHIM_OBJS      := $(SHIM_SRCS:%.c=$(B)/obj/%.o)
ANALYZER_OBJS  := $(ANALYZER_SRCS:%.c=$(B)/obj/%.o) $(B)/obj/gen/profile.pb-c.o $(WEB_ASSETS)
ASAN_CORE_OBJS := $(ANALYZER_CORE:%.c=$(B)/asan/%.o) $(B)/asan/gen/profile.pb-c.o $(WEB_ASSETS)
UNIT_BINS      := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
WORKLOAD_BINS  := $(WORKLOAD_C:tests/workloads/%.c=$(B)/workloads/%) \
                  $(WORKLOAD_CXX:tests/workloads/%.cc=$(B)/workloads/%)

SHIM      := $(B)/libpoolprobe.so
REPORT    := $(B)/poolprobe-report
# poolprobe-try (runner/): `poolprobe try`, built on the analyzer's objects.
TRY       := $(B)/poolprobe-try
TRY_OBJS  := $(patsubst %.c,$(B)/obj/%.o,$(wildcard runner/*.c)) \
             $(filter-out $(B)/obj/analyzer/main.o,$(ANALYZER_OBJS))
REPORT_ASAN := $(B)/asan/poolprobe-report
COSTMODEL := $(B)/poolprobe-costmodel

.PHONY: all deps install uninstall test check-build bench demo clean soak fuzz mutate peer peer-git

all: $(SHIM) $(REPORT) $(TRY) $(COSTMODEL)

deps:
	@scripts/install-deps.sh

$(B)/obj/shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(B)/obj/analyzer/%.o: analyzer/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) -c $< -o $@

$(B)/obj/runner/%.o: runner/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) -Ianalyzer -c $< -o $@

$(TRY): $(TRY_OBJS)
	$(CC) $(ANALYZER_CFLAGS) $(TRY_OBJS) -o $@ $(LDFLAGS) $(ANALYZER_LIBS)

$(B)/asan/analyzer/%.o: analyzer/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(B)/obj/analyzer/main.o $(B)/asan/analyzer/main.o: VERSION
$(B)/obj/analyzer/report_html.o $(B)/asan/analyzer/report_html.o: VERSION

$(B)/web/report.js $(B)/web/report.css &: web/report.js web/report.css web/package-lock.json \
		scripts/web-bundle.sh
	scripts/web-bundle.sh $(B)/web

# Symbols _binary_report_js_start/_end and _binary_report_css_start/_end (report_html.c).
$(WEB_ASSETS): $(B)/web/report.js $(B)/web/report.css
	cd $(B)/web && $(LD) -r -b binary -z noexecstack -o assets.o report.js report.css

$(B)/gen/profile.pb-c.c $(B)/gen/profile.pb-c.h &: analyzer/profile.proto
	@mkdir -p $(B)/gen
	protoc-c --c_out=$(B)/gen --proto_path=analyzer analyzer/profile.proto

$(B)/obj/analyzer/report_pprof.o $(B)/asan/analyzer/report_pprof.o: $(B)/gen/profile.pb-c.h

$(B)/obj/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) -Wno-missing-prototypes -c $< -o $@

$(B)/asan/gen/%.o: $(B)/gen/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) -Wno-missing-prototypes $(ASAN_FLAGS) -c $< -o $@

$(SHIM): $(SHIM_OBJS) shim/exports.map
	$(CC) $(SHIM_CFLAGS) $(SHIM_OBJS) -o $@ $(SHIM_LDFLAGS) $(SHIM_LIBS)

$(REPORT): $(ANALYZER_OBJS)
	$(CC) $(ANALYZER_CFLAGS) $(ANALYZER_OBJS) -o $@ $(LDFLAGS) $(ANALYZER_LIBS)

# The cost model's measuring program (analyzer/costmodel.h): an ordinary program, on the
# allocator it runs on.
$(COSTMODEL): tests/bench/costmodel.c
	$(CC) $(BASEFLAGS) -pthread $< -o $@ $(LDFLAGS)

$(REPORT_ASAN): $(ASAN_CORE_OBJS) $(B)/asan/analyzer/main.o
	$(CC) $(ANALYZER_CFLAGS) $(ASAN_FLAGS) $^ -o $@ $(LDFLAGS) $(ANALYZER_LIBS)

$(B)/tests/%: tests/unit/%.c $(ASAN_CORE_OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) $(ASAN_FLAGS) -Ianalyzer $< $(ASAN_CORE_OBJS) -o $@ $(LDFLAGS) $(ANALYZER_LIBS)

# Workloads are ordinary programs profiled by the tests: debug info, frame pointers, and no
# inlining of the functions whose sites the tests name.
WORKLOAD_FLAGS := -O1 -g -fno-omit-frame-pointer -fno-inline -fno-optimize-sibling-calls -pthread

$(B)/workloads/%: tests/workloads/%.c tests/workloads/workload.h
	@mkdir -p $(dir $@)
	$(CC) -std=gnu11 $(WORKLOAD_FLAGS) -Wall -Wextra -Iinclude $< -o $@ -ldl

$(B)/workloads/%: tests/workloads/%.cc
	@mkdir -p $(dir $@)
	$(CXX) $(WORKLOAD_FLAGS) -Wall -Wextra -Iinclude $< -o $@

check-build: all $(REPORT_ASAN) $(UNIT_BINS) $(WORKLOAD_BINS)

test: deps
	@$(MAKE) --no-print-directory check-build
	@tests/run.sh

# Long repetitions of the race-prone robustness scenarios; not part of `make test`.
soak: deps
	@$(MAKE) --no-print-directory check-build
	@scripts/soak.sh

# One-token mutants of shim/ and analyzer/, each built and tested in a scratch copy of the
# tree; prints survivors and the kill rate per directory. Slow, so not part of `make test`.
# Settings: make mutate FILES="shim/stack.c" N=40 SEED=1 TESTS="t_exact" (scripts/mutate.sh).
mutate: deps
	@scripts/mutate.sh

# CPython's test_subprocess natively and under the shim, outcomes compared; takes minutes.
peer: all
	@scripts/peer.sh

peer-git:
	@scripts/install-deps.sh --peer-git
	@$(MAKE) --no-print-directory all
	@scripts/peer-git.sh

bench:
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

demo: deps
	@$(MAKE) --no-print-directory all $(B)/workloads/demo
	@scripts/demo.sh

# What install substitutes in the launcher, the man pages and the pkg-config file.
SUBST := sed -e 's|@LIBDIR@|$(LIBDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
             -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@INCDIR@|$(INCDIR)|g'

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCDIR) \
	    $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(PCDIR) $(DESTDIR)$(COMPDIR)
	install -m 0755 $(SHIM) $(DESTDIR)$(LIBDIR)/libpoolprobe.so
	install -m 0755 $(REPORT) $(DESTDIR)$(BINDIR)/poolprobe-report
	install -m 0755 $(TRY) $(DESTDIR)$(BINDIR)/poolprobe-try
	install -m 0755 $(COSTMODEL) $(DESTDIR)$(BINDIR)/poolprobe-costmodel
	$(SUBST) scripts/poolprobe > $(DESTDIR)$(BINDIR)/poolprobe
	chmod 0755 $(DESTDIR)$(BINDIR)/poolprobe
	install -m 0644 include/poolprobe.h $(DESTDIR)$(INCDIR)/poolprobe.h
	for page in poolprobe-report.1 poolprobe.1 libpoolprobe.3; do \
	    $(SUBST) man/$$page > $(DESTDIR)$(MANDIR)/man$${page##*.}/$$page || exit 1; \
	done
	$(SUBST) scripts/poolprobe.pc.in > $(DESTDIR)$(PCDIR)/poolprobe.pc
	install -m 0644 scripts/poolprobe-completion.bash $(DESTDIR)$(COMPDIR)/poolprobe
	install -m 0644 scripts/poolprobe-completion.bash $(DESTDIR)$(COMPDIR)/poolprobe-report
	if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libpoolprobe.so $(DESTDIR)$(BINDIR)/poolprobe-report \
	      $(DESTDIR)$(BINDIR)/poolprobe-try $(DESTDIR)$(BINDIR)/poolprobe-costmodel \
	      $(DESTDIR)$(BINDIR)/poolprobe $(DESTDIR)$(INCDIR)/poolprobe.h \
	      $(DESTDIR)$(MANDIR)/man1/poolprobe-report.1 $(DESTDIR)$(MANDIR)/man1/poolprobe.1 \
	      $(DESTDIR)$(MANDIR)/man3/libpoolprobe.3 $(DESTDIR)$(PCDIR)/poolprobe.pc \
	      $(DESTDIR)$(COMPDIR)/poolprobe $(DESTDIR)$(COMPDIR)/poolprobe-report

# Fuzzing needs clang's libFuzzer (scripts/install-deps.sh --fuzz); not part of `make test`,
# whose tests replay the crashes fuzzing found (tests/fuzz/crashes/).
$(B)/fuzz/fuzz_trace: tests/fuzz/fuzz_trace.c $(ANALYZER_CORE) $(PROTO_GEN) $(WEB_ASSETS)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ianalyzer -Itests/unit -I$(B)/gen \
	    $^ -o $@ $(ANALYZER_LIBS)

fuzz:
	@scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory all $(WORKLOAD_BINS) $(B)/fuzz/fuzz_trace
	@scripts/fuzz.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
