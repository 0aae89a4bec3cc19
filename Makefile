# mpquic: one non-recursive Makefile for the library, tools, tests and fuzz harnesses.
#
#   make              build build/lib/libmpq.so (+ libmpq.a, libmpq.pc) and the tools
#   make test         install missing packages (make deps), build, run every test (and the
#                     unit tests and the simulation again under ASan + UBSan)
#   make deps         install the Debian/Ubuntu packages the build and tests need
#   make install      PREFIX=/usr/local DESTDIR= (the library, headers, tools, man pages)
#   make fuzz         build the libFuzzer harnesses (clang)
#   make format       clang-format our C sources in place; make format-check only reports
#   make san          the unit tests and the simulation built with SAN=1 (in build/san) and run
#   make soak         the chaos simulation with ASan + UBSan over new seeds for SOAK_SECONDS
#                     (default 300); SOAK_SEED=N make soak replays the seed it reports
#   make core-io      check that the core (lib/quic, lib/app) calls no I/O (ci/check-core-io.sh)
#   make interop      the interop matrix against a peer's binaries, as root (docs/interop.md)
#   make interop-doc  the same, and the matrix written into docs/interop.md
#   SAN=1             build with ASan + UBSan;  WERROR=1  warnings are errors (CI)

VERSION    := 0.1.0
SOVERSION  := 0
PREFIX     ?= /usr/local
LIBDIR     ?= $(PREFIX)/lib
INCDIR     ?= $(PREFIX)/include
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DESTDIR    ?=
BUILD      ?= build

CC         ?= cc
CLANG      ?= clang
CFLAGS     ?= -O2 -g
WARN       := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
              -Wno-unused-parameter -Wformat=2 -Winfinite-recursion
ifeq ($(WERROR),1)
WARN       += -Werror
endif
ifeq ($(SAN),1)
SANFLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
endif
# Hardening for the library, tools, tests and benchmarks (not the BPF objects
# or the fuzz harnesses): stack canaries, glibc's checked string and I/O calls
# (the -U first: some compilers predefine another level), and a read-only GOT
# resolved at load.
HARDEN     := -fstack-protector-strong -U_FORTIFY_SOURCE -D_FORTIFY_SOURCE=2
HARDEN_LD  := -Wl,-z,relro -Wl,-z,now
# Socket addresses are read through sockaddr_storage and written through
# sockaddr_in/in6 everywhere (as in the kernel, which builds the same way):
# GCC's type-based alias analysis drops such stores at -O2.
ALL_CFLAGS := -std=gnu11 -fno-strict-aliasing $(WARN) $(HARDEN) $(CFLAGS) $(SANFLAGS)
CPPFLAGS   += -Ilib/include -Ilib -Ixdp -I$(BUILD)/xdp -D_GNU_SOURCE
LIB_LIBS   := -lssl -lcrypto -lzstd -lxdp -lbpf
LDFLAGS    += $(HARDEN_LD) $(SANFLAGS)

LIB_SRCS   := $(sort $(wildcard lib/quic/*.c lib/quic/cc/*.c lib/quic/sched/*.c lib/io/*.c lib/app/*.c))
LIB_OBJS   := $(LIB_SRCS:%.c=$(BUILD)/%.o)
# The sans-I/O core (DESIGN.md "Two layers"): make core-io and make test check
# with nm -u that its objects call no socket, clock, file or random function.
CORE_OBJS  := $(filter $(BUILD)/lib/quic/% $(BUILD)/lib/app/%,$(LIB_OBJS))
LIB_A      := $(BUILD)/lib/libmpq.a
LIB_SO     := $(BUILD)/lib/libmpq.so
LIB_SONAME := libmpq.so.$(SOVERSION)
LIB_PC     := $(BUILD)/lib/libmpq.pc

TOOLS      := $(patsubst tools/%/main.c,%,$(wildcard tools/*/main.c))
TOOL_BINS  := $(TOOLS:%=$(BUILD)/bin/%)
TOOLCOMMON := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/common/*.c))
TOOL_SRCS  := $(wildcard $(TOOLS:%=tools/%/*.c))
TOOL_MANS  := $(wildcard $(TOOLS:%=tools/%/*.1))

TEST_HELPERS := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tests/common/*.c))
UNIT_SRCS  := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BINS  := $(UNIT_SRCS:%.c=$(BUILD)/%)
SIM_SRCS   := $(sort $(wildcard tests/sim/test_*.c))
SIM_BINS   := $(SIM_SRCS:%.c=$(BUILD)/%)
# Programs the tests/net scripts drive (traffic no tool sends).
NET_HELPERS := $(patsubst %.c,$(BUILD)/%,$(wildcard tests/net/*.c))

# The same tests built with ASan + UBSan into a directory of their own; a
# binary running TEST_TIMEOUT seconds is killed and counted as failed.
SAN_BUILD  := $(BUILD)/san
SAN_BINS   := $(patsubst $(BUILD)/%,$(SAN_BUILD)/%,$(UNIT_BINS) $(SIM_BINS))
TEST_TIMEOUT ?= 300

BENCH_SRCS := $(sort $(wildcard bench/bench_*.c))
BENCH_BINS := $(BENCH_SRCS:%.c=$(BUILD)/%)
# The load client of the server benchmarks (public API and lib/io only).
BENCH_LOAD := $(BUILD)/bench/mpq_load

FUZZ_SRCS  := $(sort $(wildcard fuzz/fuzz_*.c))
FUZZ_BINS  := $(FUZZ_SRCS:fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJS  := $(LIB_SRCS:%.c=$(BUILD)/fuzz-obj/%.o)
FUZZ_FLAGS := -g -O1 -fno-strict-aliasing -fsanitize=fuzzer-no-link,address,undefined \
              -fno-sanitize-recover=undefined

.SECONDARY:
.PHONY: demo bench all lib tools test check unit sim san soak test-bins san-bins net interop interop-doc fuzz fuzz-smoke deps core-io FORCE \
	install uninstall clean format format-check
all: lib tools

lib: $(LIB_SO) $(LIB_A) $(LIB_PC)
tools: $(TOOL_BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALL_CFLAGS) -fPIC -fvisibility=hidden -MMD -MP -c $< -o $@

# XDP programs: built for BPF, turned into a skeleton (which embeds the object)
# that lib/io/xdp_prog.c includes, so libmpq carries them.
BPFTOOL    ?= $(or $(shell command -v bpftool 2>/dev/null),/usr/sbin/bpftool)
BPF_CFLAGS := -O2 -g -target bpf -Wall -Wextra -Werror -Ixdp \
              -I/usr/include/$(shell $(CLANG) -print-multiarch)

$(BUILD)/xdp/%.bpf.o: xdp/%.bpf.c xdp/mpq_steer.h
	@mkdir -p $(dir $@)
	$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/xdp/%.skel.h: $(BUILD)/xdp/%.bpf.o
	$(BPFTOOL) gen skeleton $< name $*_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/lib/io/xdp_prog.o $(BUILD)/fuzz-obj/lib/io/xdp_prog.o: $(BUILD)/xdp/mpq_steer.skel.h
$(BUILD)/xdp/mpq_reuseport.bpf.o: xdp/mpq_reuseport.h
$(BUILD)/lib/io/reuseport.o $(BUILD)/fuzz-obj/lib/io/reuseport.o: $(BUILD)/xdp/mpq_reuseport.skel.h
$(BUILD)/xdp/mpq_redirect_all.bpf.o: xdp/mpq_redirect_all.h
$(BUILD)/lib/io/xdp_redirect.o $(BUILD)/fuzz-obj/lib/io/xdp_redirect.o: $(BUILD)/xdp/mpq_redirect_all.skel.h

$(LIB_A): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(LIB_SO): $(LIB_OBJS)
	@mkdir -p $(dir $@)
	$(CC) -shared -Wl,-soname,$(LIB_SONAME) $(LDFLAGS) -o $@.$(VERSION) $^ $(LIB_LIBS)
	ln -sf libmpq.so.$(VERSION) $(BUILD)/lib/$(LIB_SONAME)
	ln -sf libmpq.so.$(VERSION) $@

# libmpq.pc names the PREFIX, LIBDIR and INCDIR of this make: a stamp holding
# them changes when they do (make, then make install PREFIX=/opt), and the
# file is made again.
PC_DIRS    := $(PREFIX)|$(LIBDIR)|$(INCDIR)|$(VERSION)
$(BUILD)/lib/pc-dirs: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(PC_DIRS)' ] || echo '$(PC_DIRS)' > $@

FORCE:

$(LIB_PC): lib/libmpq.pc.in Makefile $(BUILD)/lib/pc-dirs
	@mkdir -p $(dir $@)
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@LIBDIR@|$(LIBDIR)|' -e 's|@INCDIR@|$(INCDIR)|' \
	    -e 's|@VERSION@|$(VERSION)|' $< > $@

# Tools build against the public headers alone (lib/include, as installed, and
# the BPF map layouts in xdp/ that mpq/io/ installs beside them): no lib/
# path, so a tool can do nothing another program could not. They include their
# shared helpers as "common/...", and print the version.
$(BUILD)/tools/%.o: CPPFLAGS = -Ilib/include -Ixdp -D_GNU_SOURCE -Itools \
	-DMPQ_VERSION_STR='"$(VERSION)"'
# Tools link the static archive so they run from the build tree without LD_LIBRARY_PATH.
$(BUILD)/bin/%: $(BUILD)/tools/%/main.o $(TOOLCOMMON) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter-out $(LIB_A),$^) $(LIB_A) $(LIB_LIBS) -lpthread
# A tool's other source files beside its main.c.
$(foreach t,$(TOOLS),$(eval $(BUILD)/bin/$(t): $(patsubst %.c,$(BUILD)/%.o,$(filter tools/$(t)/%,$(TOOL_SRCS)))))

# Unit and simulation tests link the archive: they test internal modules too.
$(BUILD)/tests/%.o: CPPFLAGS += -Itests/common -Itools
$(BUILD)/tests/%: $(BUILD)/tests/%.o $(TEST_HELPERS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $(filter-out $(LIB_A),$^) $(LIB_A) $(LIB_LIBS) -lcmocka

# mpq-trace captures with libpcap (the only program that links it).
$(BUILD)/bin/mpq-trace: LIB_LIBS += -lpcap

# mpq-trace's capture readers, which its unit test and fuzz harnesses link too.
TRACE_READERS := capfile pcap pcapng udpdecode
$(BUILD)/tests/unit/test_trace_readers: $(TRACE_READERS:%=$(BUILD)/tools/mpq-trace/%.o)
$(BUILD)/fuzz/fuzz_pcap $(BUILD)/fuzz/fuzz_pcapng $(BUILD)/fuzz/fuzz_udpdecode: \
	$(TRACE_READERS:%=$(BUILD)/fuzz-obj/tools/mpq-trace/%.o)
# and its decoder, which its own harness drives.
TRACE_DECODER := decrypt conns frames series tlsmsg h3
$(BUILD)/fuzz/fuzz_trace_decode: $(TRACE_DECODER:%=$(BUILD)/fuzz-obj/tools/mpq-trace/%.o)
$(BUILD)/tests/unit/test_trace_paths: $(TRACE_DECODER:%=$(BUILD)/tools/mpq-trace/%.o)
# The tools' parsers of command line values.
$(BUILD)/fuzz/fuzz_tool_args: $(patsubst %,$(BUILD)/fuzz-obj/tools/common/%.o,url localaddr tool \
	pathact opts)
# mpq-linkemu's link model and trace reader, which its harness drives.
$(BUILD)/fuzz/fuzz_linkemu: $(BUILD)/fuzz-obj/tools/mpq-linkemu/link.o \
	$(BUILD)/fuzz-obj/tools/mpq-linkemu/trace.o

# Benchmarks use the test helpers (in-memory pair, certificates).
$(BUILD)/bench/%.o: CPPFLAGS += -Itests/common
$(BUILD)/bench/%: $(BUILD)/bench/%.o $(TEST_HELPERS) $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(TEST_HELPERS) $(LIB_A) $(LIB_LIBS) -lcmocka
$(BENCH_LOAD): $(BUILD)/bench/mpq_load.o $(LIB_A)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $< $(LIB_A) $(LIB_LIBS) -lpthread

# The main job on a built-in default (testbed/demo.sh).
demo: deps
	@$(MAKE) --no-print-directory tools
	@sh testbed/demo.sh

# make bench [B="NAME..."] [QUICK=1]: bench/run.sh says what each NAME is.
bench: $(BENCH_BINS) $(BENCH_LOAD) $(NET_HELPERS) tools
	@BIN=$(BUILD)/bin BENCH_QUICK=$(QUICK) sh bench/run.sh $(B)

# Fuzz harnesses: the library rebuilt with clang's coverage and sanitizers
# (again when FUZZ_FLAGS change: a stamp holds them, as for libmpq.pc).
$(BUILD)/fuzz-obj/flags: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = '$(FUZZ_FLAGS)' ] || echo '$(FUZZ_FLAGS)' > $@

$(BUILD)/fuzz-obj/%.o: %.c $(BUILD)/fuzz-obj/flags
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -std=gnu11 $(FUZZ_FLAGS) -MMD -MP -c $< -o $@

# The harnesses share tests/common/forge.c with the unit tests.
FUZZ_HELPERS := $(BUILD)/fuzz-obj/tests/common/forge.o
$(BUILD)/fuzz/%: fuzz/%.c $(wildcard fuzz/*.h) $(FUZZ_OBJS) $(FUZZ_HELPERS)
	@mkdir -p $(dir $@)
	$(CLANG) $(CPPFLAGS) -Itests/common -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -o $@ $(filter-out %.h,$^) $(LIB_LIBS)

fuzz: $(FUZZ_BINS)

deps:
	@sh ci/deps.sh

unit: $(UNIT_BINS)
	@sh ci/run-tests.sh unit $(UNIT_BINS)

sim: $(SIM_BINS)
	@sh ci/run-tests.sh sim $(SIM_BINS)

test-bins: $(UNIT_BINS) $(SIM_BINS)

san-bins:
	@$(MAKE) --no-print-directory SAN=1 BUILD=$(SAN_BUILD) test-bins

san: san-bins
	@TEST_TIMEOUT=$(TEST_TIMEOUT) sh ci/run-tests.sh san $(SAN_BINS)

# The chaos simulation (tests/sim/test_sim_chaos.c) over seeds from
# SOAK_FIRST (default 1000) until SOAK_SECONDS pass, with ASan + UBSan; it
# stops at the first failing seed and prints it.
SOAK_SECONDS ?= 300
soak:
	@$(MAKE) --no-print-directory SAN=1 BUILD=$(SAN_BUILD) $(SAN_BUILD)/tests/sim/test_sim_chaos
	@SOAK_SECONDS=$(SOAK_SECONDS) SOAK_SEED=$(SOAK_SEED) SOAK_FIRST=$(SOAK_FIRST) \
		$(SAN_BUILD)/tests/sim/test_sim_chaos

# End-to-end tests of the tools (loopback; netns/veth ones skip without root).
net: tools $(NET_HELPERS)
	@sh ci/run-net.sh

# The interop matrix against another implementation's binaries (docs/interop.md).
interop: tools
	@sh ci/interop.sh; rc=$$?; PEER=ngtcp2 sh ci/interop.sh && exit $$rc

interop-doc: tools
	@INTEROP_DOC=docs/interop.md sh ci/interop.sh

fuzz-smoke: $(FUZZ_BINS)
	@sh ci/fuzz-smoke.sh $(FUZZ_BINS)

core-io: $(CORE_OBJS)
	@sh ci/check-core-io.sh $(CORE_OBJS)

# make test: everything a fresh machine can run. Each stage prints
# "N passed, N failed, N skipped" and lists what it skipped and why. The unit
# tests and the simulation run twice: as built, and with ASan + UBSan (stage
# "san"); a binary past TEST_TIMEOUT seconds is killed and failed.
test check: deps
	@$(MAKE) --no-print-directory all $(UNIT_BINS) $(SIM_BINS) $(NET_HELPERS) $(BENCH_BINS) $(BENCH_LOAD)
	@$(MAKE) --no-print-directory fuzz
	@$(MAKE) --no-print-directory san-bins
	@CORE_OBJS="$(CORE_OBJS)" FORMAT_SRCS="$(FORMAT_SRCS)" TEST_TIMEOUT=$(TEST_TIMEOUT) sh ci/run-tests.sh all $(UNIT_BINS) $(SIM_BINS) \
		-- $(FUZZ_BINS) --san $(SAN_BINS)

install: lib tools
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/mpq/io $(DESTDIR)$(BINDIR)
	install -m 644 lib/include/mpq/*.h $(DESTDIR)$(INCDIR)/mpq/
	install -m 644 lib/include/mpq/io/*.h $(DESTDIR)$(INCDIR)/mpq/io/
	install -m 644 xdp/mpq_steer.h xdp/mpq_reuseport.h $(DESTDIR)$(INCDIR)/mpq/io/
	install -m 644 $(LIB_A) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(LIB_SO).$(VERSION) $(DESTDIR)$(LIBDIR)/
	ln -sf libmpq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/$(LIB_SONAME)
	ln -sf libmpq.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libmpq.so
	install -m 644 $(LIB_PC) $(DESTDIR)$(LIBDIR)/pkgconfig/
	$(if $(TOOL_BINS),install -m 755 $(TOOL_BINS) $(DESTDIR)$(BINDIR)/)
	$(if $(TOOL_MANS),install -d $(DESTDIR)$(MANDIR)/man1)
	$(if $(TOOL_MANS),install -m 644 $(TOOL_MANS) $(DESTDIR)$(MANDIR)/man1/)

uninstall:
	rm -rf $(DESTDIR)$(INCDIR)/mpq $(DESTDIR)$(LIBDIR)/libmpq.* $(DESTDIR)$(LIBDIR)/pkgconfig/libmpq.pc
	rm -f $(TOOLS:%=$(DESTDIR)$(BINDIR)/%) $(addprefix $(DESTDIR)$(MANDIR)/man1/,$(notdir $(TOOL_MANS)))

# clang-format (.clang-format) owns our tracked C sources, not generated files
# (BPF skeletons live in build/) or vendored ones, which keep their own style.
FORMAT_SRCS = $(shell git ls-files '*.c' '*.h' ':!:third_party/' ':!:*.skel.h' ':!:*/vmlinux.h')

format:
	clang-format -i $(FORMAT_SRCS)

# Fails when clang-format would change any line, naming each place.
format-check:
	clang-format --dry-run -Werror $(FORMAT_SRCS)

clean:
	rm -rf $(BUILD)

-include $(LIB_OBJS:.o=.d) $(FUZZ_OBJS:.o=.d) $(TEST_HELPERS:.o=.d) $(TOOLCOMMON:.o=.d) \
	 $(UNIT_BINS:%=%.d) $(SIM_BINS:%=%.d) $(NET_HELPERS:%=%.d) $(TOOL_SRCS:%.c=$(BUILD)/%.d) \
	 $(BENCH_BINS:%=%.d) $(BENCH_LOAD:%=%.d)
