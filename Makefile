# socklab - C exercises on Linux TCP/IP sockets.  Run `make` for the list of targets.
#
# Variables: LAB=03 (or 3, 03-bind)  TREE=labs|solutions|PATH  FILTER=REGEX (only the tests whose
#            names match, ignoring case)  CC  CFLAGS  V=1 (show commands)
#            CHECK_JOBS=N (labs checked at once; default: the number of processors plus two)
#            SAN=1 (build with AddressSanitizer + UndefinedBehaviorSanitizer)
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SUFFIXES:
.DELETE_ON_ERROR:

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
# SOCKLAB_MANIFEST (environment): another list of labs, for the kit's own tests of grading.
MANIFEST := $(or $(SOCKLAB_MANIFEST),$(TOP)/labs/manifest)
LABS := $(shell awk '!/^\#/ && NF { print $$1 }' $(MANIFEST))

CC ?= cc
CFLAGS ?= -std=c11 -g -O1 -Wall -Wextra -Wpedantic -Werror
CPPFLAGS += -I$(TOP)/include
# Lab 15 starts threads: -pthread (harmless for the other labs; glibc >= 2.34 needs it only as a
# compiler flag, older ones also to link libpthread). The one pattern rule passes LDLIBS.
LDLIBS += -pthread
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
ifeq ($(V),1)
Q :=
else
Q := @
endif

# The tree under test, and where its programs are built: build/labs, build/solutions, or
# build/ext/<absolute path> for any other copy of the labs; SAN=1 builds go to build/san/...
TREE ?= labs
TREE_DIR := $(patsubst %/,%,$(abspath $(TREE)))
TREE_TAG := $(if $(filter $(TOP)/%,$(TREE_DIR)),$(patsubst $(TOP)/%,%,$(TREE_DIR)),ext$(TREE_DIR))
OUT := $(TOP)/build/$(if $(SAN),san/)$(TREE_TAG)
ifneq ($(SAN),)
CFLAGS += $(SANFLAGS)
LDFLAGS += $(SANFLAGS)
endif
# Builds without the sanitizers fill every automatic variable nobody initialised with a pattern
# (0xfe... bytes) instead of what the stack happened to hold, which is often zero in a fresh
# process: a sockaddr never zeroed then shows. Added whatever CFLAGS says, where the compiler has
# it (GCC >= 12, Clang >= 8); asked once, and only by a make that compiles a lab program.
AUTOINIT = $(eval AUTOINIT := $(shell $(CC) -ftrivial-auto-var-init=pattern -Werror -x c -c -o /dev/null /dev/null 2>/dev/null && echo -ftrivial-auto-var-init=pattern))$(AUTOINIT)

# LAB=3, 03 or 03-bind: the manifest's full name, or empty for all labs.
LAB_NAME := $(if $(LAB),$(or $(filter $(LAB)-% $(LAB),$(LABS)),$(filter 0$(LAB)-%,$(LABS)),$(error LAB=$(LAB): no such lab; the labs are: $(LABS))))

# Every program of the chosen labs: TREE/NN-name/prog.c -> OUT/NN-name/prog
LAB_PROGS = $(patsubst $(TREE_DIR)/%.c,$(OUT)/%,$(wildcard $(addsuffix /*.c,$(addprefix $(TREE_DIR)/,$(or $(LAB_NAME),$(LABS))))))
# The test tools' choice (tools/testtools.sh): npm's pinned ones, or a system bats.
TOOLS := $(TOP)/build/tools/choice
PROBE := $(TOP)/build/probe/probe
REPORTER := $(TOP)/build/tools/report
LAUNCH := $(TOP)/build/tools/launch
# make grade: where the reports go (REPORT=dir), and SUBMISSIONS=dir for a folder of submissions.
REPORT_DIR := $(abspath $(or $(REPORT),$(TOP)/build/report))
export SOCKLAB_TOP := $(TOP)
# How many labs make check builds and runs at once.
JOBS = $(or $(CHECK_JOBS),$(shell nproc 2>/dev/null),2)
# The first line of the targets that need the instructor's kit: the student copy (make dist) has
# no solutions/, and there they say so instead of failing strangely.
KIT_ONLY = @test -d $(TOP)/solutions || { echo 'make $@: this is the student copy of socklab (no solutions/): make $@ works only in the instructor'"'"'s kit' >&2; exit 2; }

##@ For students
.PHONY: help
help: ## this help: targets, labs, your progress
	@printf 'socklab - C exercises on Linux TCP/IP sockets\n\nUsage: make TARGET [LAB=NN] [TREE=labs|solutions|PATH]\n'
	@awk 'BEGIN { FS = ":.*## " } /^##@/ { printf "\n%s\n", substr($$0, 5) } /^[a-z._-]+:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@printf '\nLabs (edit labs/NN-name/*.c, read docs/NN-name.md):\n'
	@$(TOP)/tools/check.sh --list

.PHONY: check
check: $(TOOLS) $(PROBE) $(REPORTER) ## build and grade the labs in TREE (default labs/), side by side; LAB=NN for one, FILTER=REGEX for some tests
	-$(Q)$(MAKE) -k -j$(JOBS) $(if $(Q),-s) --no-print-directory -f $(TOP)/Makefile $(LAB_PROGS)
	@TREE_DIR='$(TREE_DIR)' FILTER='$(FILTER)' $(TOP)/tools/check.sh $(LAB_NAME)

# What students run is in tools/student/, what instructors run in tools/instructor/, the kit's own
# tools in tools/maint/; the grading engine (check.sh, report.c) and the shared library in tools/.
.PHONY: next hint watch reset trace
next: $(TOOLS) ## the first lab not passing: its first failing test, expected vs actual, where to read
	@TREE_DIR='$(TREE_DIR)' $(TOP)/tools/student/next.sh

hint: ## the hints of LAB=NN, one at a time (ALL=1: all; HINT_LANG=zh: 中文, default from LANG)
	@TREE_DIR='$(TREE_DIR)' ALL='$(ALL)' HINT_LANG='$(HINT_LANG)' $(TOP)/tools/student/hint.sh $(LAB_NAME)

watch: $(TOOLS) $(PROBE) ## make check LAB=NN again each time a file of the lab changes; Ctrl-C stops
	@TREE_DIR='$(TREE_DIR)' FILTER='$(FILTER)' $(TOP)/tools/student/watch.sh $(LAB_NAME)

reset: ## restore the starter of LAB=NN after asking (YES=1: no question); yours kept as FILE.bak-DATE
	@TREE_DIR='$(TREE_DIR)' YES='$(YES)' $(TOP)/tools/student/reset.sh $(LAB_NAME)

trace: $(PROBE) $(LAUNCH) ## LAB=NN's scenario: its system calls (strace) and packets (tcpdump): SYN, SYN-ACK, ACK, FIN
	@test -n '$(LAB_NAME)' || { echo 'make trace needs LAB=NN, e.g. make trace LAB=06' >&2; exit 2; }
	$(Q)$(MAKE) $(if $(Q),-s) --no-print-directory -f $(TOP)/Makefile $(LAB_PROGS)
	@TREE_DIR='$(TREE_DIR)' LAB_BIN='$(OUT)/$(LAB_NAME)' $(TOP)/tools/student/trace.sh $(LAB_NAME)

.PHONY: doctor
doctor: ## what this machine has and lacks for the kit, which tests skip here, and the points that costs
	@$(TOP)/tools/doctor.sh

.PHONY: bench
bench: $(PROBE) $(LAUNCH) ## lab 12's echo server vs socat on loopback: throughput, connections/s (TREE=labs: yours)
	@TREE_DIR='$(if $(filter command line environment,$(origin TREE)),$(TREE_DIR))' $(TOP)/tools/student/bench.sh

# Every lab is compiled again under bear, which records each compiler command (-B: even the ones
# that are up to date; -k: past a lab that does not compile yet).
.PHONY: compile_commands.json
compile_commands.json: ## how each lab is compiled, for your editor (clangd, VS Code); needs bear
	@command -v bear >/dev/null || { echo 'make compile_commands.json needs bear (Debian/Ubuntu: sudo apt install bear)' >&2; exit 2; }
	-$(Q)bear --output $(TOP)/compile_commands.json -- $(MAKE) -B -k $(if $(Q),-s) --no-print-directory -f $(TOP)/Makefile $(LAB_PROGS)
	@echo 'wrote compile_commands.json: $(words $(LAB_PROGS)) programs of $(patsubst $(TOP)/%,%,$(TREE_DIR))'

##@ For instructors
.PHONY: grade
grade: $(TOOLS) $(PROBE) $(REPORTER) ## check + reports in REPORT=dir (build/report): summary.txt, junit.xml, results.json; SUBMISSIONS=dir grades a batch
ifeq ($(SUBMISSIONS),)
	-$(Q)$(MAKE) -k -j$(JOBS) $(if $(Q),-s) --no-print-directory -f $(TOP)/Makefile $(LAB_PROGS)
	@TREE_DIR='$(TREE_DIR)' $(TOP)/tools/check.sh --report '$(REPORT_DIR)' $(LAB_NAME)
else
	@test -d $(TOP)/tools/instructor || { echo 'make grade SUBMISSIONS=dir: this is the student copy of socklab: batch grading works only in the instructor'"'"'s kit' >&2; exit 2; }
	@REPORT_DIR='$(REPORT_DIR)' $(TOP)/tools/instructor/grade.sh '$(abspath $(SUBMISSIONS))' $(LAB_NAME)
endif

.PHONY: gradescope
gradescope: ## the Gradescope autograder zip in build/gradescope/ (LAB=NN: a bundle for that lab only)
	$(KIT_ONLY)
	@$(TOP)/tools/instructor/gradescope/build.sh $(LAB_NAME)

.PHONY: dist
dist: ## the student handout: build/dist/socklab/ and socklab.tar.gz (no solutions, Classroom workflow)
	$(KIT_ONLY)
	@$(TOP)/tools/instructor/dist.sh

##@ For maintainers
.PHONY: test
test: $(TOOLS) ## the kit's self-test: solutions pass, starters fail, everything in sync
	$(KIT_ONLY)
	@$(TOP)/tools/maint/selftest.sh

.PHONY: test-full
test-full: $(TOOLS) ## make test, plus every TODO region undone alone (mutants) and the kit's slow tests
	$(KIT_ONLY)
	@SELFTEST_FULL=1 $(TOP)/tools/maint/selftest.sh

.PHONY: bench-kit
bench-kit: $(TOOLS) $(PROBE) $(REPORTER) ## the kit's own speed: make check per lab alone, all labs, the starters, a batch (RUNS=3, BATCH=6)
	$(KIT_ONLY)
	@RUNS='$(RUNS)' BATCH='$(BATCH)' $(TOP)/tools/maint/bench-kit.sh

.PHONY: lint
lint: ## clang-format, cppcheck, clang-tidy on solutions, starters and the kit's C (make test: clang-format; test-full: all)
	$(KIT_ONLY)
	@$(TOP)/tools/maint/lint.sh

.PHONY: starters
starters: ## regenerate every labs/NN-name/*.c (and predictions.md, answers blank) from its solution
	$(KIT_ONLY)
	$(Q)for f in $(TOP)/solutions/*/*.c; do \
		rel=$${f#$(TOP)/solutions/}; mkdir -p $(TOP)/labs/$${rel%/*}; \
		awk -f $(TOP)/tools/maint/mkstarter "$$f" > $(TOP)/labs/$$rel || exit 1; done
	$(Q)for f in $(TOP)/solutions/*/predictions.md; do [ -f "$$f" ] || continue; \
		rel=$${f#$(TOP)/solutions/}; sed -E 's/^(answer:).*/\1/' "$$f" > $(TOP)/labs/$$rel || exit 1; done

.PHONY: pics
pics: $(TOP)/build/pic/layout ## regenerate pic/ from its sources (needs mscgen, graphviz); see pic/render
	$(Q)$(TOP)/pic/render $<

# The picture of the address structures is drawn by a program of ours, from sizeof and offsetof.
$(TOP)/build/pic/layout: $(TOP)/pic/layout.c
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $<

.PHONY: clean
clean: ## remove build/ (and nothing else)
	rm -rf $(TOP)/build

# Internal: build every program of one lab (the tests call this), and print where it goes.
.PHONY: bins print-out
bins: $(PROBE) $(LAUNCH)
	@test -n '$(LAB_NAME)' || { echo 'make bins needs LAB=NN' >&2; exit 2; }
	@test -d '$(TREE_DIR)/$(LAB_NAME)' || { echo 'no folder $(TREE_DIR)/$(LAB_NAME)' >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory -f $(TOP)/Makefile $(LAB_PROGS)
print-out:
	@echo '$(OUT)'
.PHONY: probe reporter launch
probe: $(PROBE)
reporter: $(REPORTER)
launch: $(LAUNCH)

# The one rule that builds any lab program: TREE/NN-name/prog.c -> build/.../NN-name/prog
$(OUT)/%: $(TREE_DIR)/%.c $(TOP)/include/socklab.h
	@mkdir -p $(@D)
	$(if $(Q),@echo '  CC    $(patsubst $(TOP)/%,%,$<)')
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(if $(SAN),,$(AUTOINIT)) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(PROBE): $(TOP)/tests/lib/probe.c $(TOP)/include/socklab.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -std=c11 -O1 -Wall -Wextra -Wpedantic -Werror -o $@ $<

# The grading reports' writer (tools/report.c); built aside and renamed, as two makes may race.
$(REPORTER): $(TOP)/tools/report.c $(TOP)/include/socklab.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -std=c11 -O1 -Wall -Wextra -Wpedantic -Werror -o $@.$$$$ $< && mv -f $@.$$$$ $@

# The launcher every test runs a lab program through (tests/lib/launch.c); built like the report writer.
$(LAUNCH): $(TOP)/tests/lib/launch.c $(TOP)/include/socklab.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -std=c11 -O1 -Wall -Wextra -Wpedantic -Werror -o $@.$$$$ $< && mv -f $@.$$$$ $@

# The pinned test tools (package.json, package-lock.json), installed without root on first use by
# npm, with a short bounded try; else a system bats >= 1.5 with bats-support and bats-assert. The
# choice is kept in build/tools/choice until the package files change or node_modules/ comes (or
# goes: FORCE); when nothing is usable, tools/testtools.sh says what was found and what is missing.
TOOLS_FORCE := $(if $(wildcard $(TOP)/node_modules/.package-lock.json),,$(if $(wildcard $(TOOLS)),$(if $(filter npm,$(firstword $(file < $(TOOLS)))),FORCE)))
$(TOOLS): $(TOP)/package.json $(TOP)/package-lock.json $(wildcard $(TOP)/node_modules/.package-lock.json) $(TOOLS_FORCE)
	@$(TOP)/tools/testtools.sh --stamp $@
.PHONY: FORCE tools
FORCE:
tools: $(TOOLS)
	@:
