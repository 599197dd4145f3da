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
B        := build

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

ANALYZER_CFLAGS := $(BASEFLAGS) -Ishim $(CFLAGS)
ANALYZER_LIBS   := -ldw -lelf -ljansson -lstdc++ -lm
# The analyzer's tests run under the sanitizers (the shim cannot).
ASAN_FLAGS      := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all

SHIM_SRCS      := $(wildcard shim/*.c)
ANALYZER_SRCS  := $(wildcard analyzer/*.c)
ANALYZER_CORE  := $(filter-out analyzer/main.c,$(ANALYZER_SRCS))
UNIT_SRCS      := $(wildcard tests/unit/test_*.c)
WORKLOAD_C     := $(wildcard tests/workloads/*.c)
WORKLOAD_CXX   := $(wildcard tests/workloads/*.cc)

SHIM_OBJS      := $(SHIM_SRCS:%.c=$(B)/obj/%.o)
ANALYZER_OBJS  := $(ANALYZER_SRCS:%.c=$(B)/obj/%.o)
ASAN_CORE_OBJS := $(ANALYZER_CORE:%.c=$(B)/asan/%.o)
UNIT_BINS      := $(UNIT_SRCS:tests/unit/%.c=$(B)/tests/%)
WORKLOAD_BINS  := $(WORKLOAD_C:tests/workloads/%.c=$(B)/workloads/%) \
                  $(WORKLOAD_CXX:tests/workloads/%.cc=$(B)/workloads/%)

SHIM      := $(B)/libpoolprobe.so
REPORT    := $(B)/poolprobe-report
REPORT_ASAN := $(B)/asan/poolprobe-report

.PHONY: all deps install uninstall test check-build bench demo clean soak fuzz peer

all: $(SHIM) $(REPORT)

deps:
	@scripts/install-deps.sh

$(B)/obj/shim/%.o: shim/%.c
	@mkdir -p $(dir $@)
	$(CC) $(SHIM_CFLAGS) -c $< -o $@

$(B)/obj/analyzer/%.o: analyzer/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) -c $< -o $@

$(B)/asan/analyzer/%.o: analyzer/%.c
	@mkdir -p $(dir $@)
	$(CC) $(ANALYZER_CFLAGS) $(ASAN_FLAGS) -c $< -o $@

$(SHIM): $(SHIM_OBJS) shim/exports.map
	$(CC) $(SHIM_CFLAGS) $(SHIM_OBJS) -o $@ $(SHIM_LDFLAGS) $(SHIM_LIBS)

$(REPORT): $(ANALYZER_OBJS)
	$(CC) $(ANALYZER_CFLAGS) $(ANALYZER_OBJS) -o $@ $(LDFLAGS) $(ANALYZER_LIBS)

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

# CPython's test_subprocess natively and under the shim, outcomes compared; takes minutes.
peer: all
	@scripts/peer.sh

bench:
	@scripts/install-deps.sh --bench
	@$(MAKE) --no-print-directory all
	@scripts/bench.sh

demo: deps
	@$(MAKE) --no-print-directory all $(B)/workloads/demo
	@scripts/demo.sh

install: all
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(BINDIR) $(DESTDIR)$(INCDIR)
	install -m 0755 $(SHIM) $(DESTDIR)$(LIBDIR)/libpoolprobe.so
	install -m 0755 $(REPORT) $(DESTDIR)$(BINDIR)/poolprobe-report
	sed 's|@LIBDIR@|$(LIBDIR)|' scripts/poolprobe > $(DESTDIR)$(BINDIR)/poolprobe
	chmod 0755 $(DESTDIR)$(BINDIR)/poolprobe
	install -m 0644 include/poolprobe.h $(DESTDIR)$(INCDIR)/poolprobe.h
	if [ -z "$(DESTDIR)" ] && command -v ldconfig >/dev/null; then ldconfig; fi

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libpoolprobe.so $(DESTDIR)$(BINDIR)/poolprobe-report \
	      $(DESTDIR)$(BINDIR)/poolprobe $(DESTDIR)$(INCDIR)/poolprobe.h

# Fuzzing needs clang's libFuzzer (scripts/install-deps.sh --fuzz); not part of `make test`,
# whose tests replay the crashes fuzzing found (tests/fuzz/crashes/).
$(B)/fuzz/fuzz_trace: tests/fuzz/fuzz_trace.c $(ANALYZER_CORE)
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -Ishim -Ianalyzer -Itests/unit \
	    $^ -o $@ $(ANALYZER_LIBS)

fuzz:
	@scripts/install-deps.sh --fuzz
	@$(MAKE) --no-print-directory all $(WORKLOAD_BINS) $(B)/fuzz/fuzz_trace
	@scripts/fuzz.sh

clean:
	rm -rf $(B)

-include $(shell find $(B) -name '*.d' 2>/dev/null)
