# socklab - C exercises on Linux TCP/IP sockets.  Run `make` for the list of targets.
#
# Variables: LAB=03 (or 3, 03-bind)  TREE=labs|solutions|PATH  FILTER=REGEX (only the tests whose
#            names match)  CC  CFLAGS  V=1 (show commands)
#            SAN=1 (build with AddressSanitizer + UndefinedBehaviorSanitizer)
.DEFAULT_GOAL := help
SHELL := /bin/bash
.SUFFIXES:
.DELETE_ON_ERROR:

TOP := $(patsubst %/,%,$(dir $(abspath $(lastword $(MAKEFILE_LIST)))))
MANIFEST := $(TOP)/labs/manifest
LABS := $(shell awk '!/^\#/ && NF { print $$1 }' $(MANIFEST))

CC ?= cc
CFLAGS ?= -std=c11 -g -O1 -Wall -Wextra -Wpedantic -Werror
CPPFLAGS += -I$(TOP)/include
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

# LAB=3, 03 or 03-bind: the manifest's full name, or empty for all labs.
LAB_NAME := $(if $(LAB),$(or $(filter $(LAB)-% $(LAB),$(LABS)),$(filter 0$(LAB)-%,$(LABS)),$(error LAB=$(LAB): no such lab; the labs are: $(LABS))))

# Every program of the chosen labs: TREE/NN-name/prog.c -> OUT/NN-name/prog
LAB_PROGS = $(patsubst $(TREE_DIR)/%.c,$(OUT)/%,$(wildcard $(addsuffix /*.c,$(addprefix $(TREE_DIR)/,$(or $(LAB_NAME),$(LABS))))))
TOOLS := $(TOP)/node_modules/.package-lock.json
PROBE := $(TOP)/build/probe/probe
export SOCKLAB_TOP := $(TOP)

##@ For students
.PHONY: help
help: ## this help: targets, labs, your progress
	@printf 'socklab - C exercises on Linux TCP/IP sockets\n\nUsage: make TARGET [LAB=NN] [TREE=labs|solutions|PATH]\n'
	@awk 'BEGIN { FS = ":.*## " } /^##@/ { printf "\n%s\n", substr($$0, 5) } /^[a-z.-]+:.*## / { printf "  make %-12s %s\n", $$1, $$2 }' $(MAKEFILE_LIST)
	@printf '\nLabs (edit labs/NN-name/*.c, read docs/NN-name.md):\n'
	@$(TOP)/tests/lib/check.sh --list

.PHONY: check
check: $(TOOLS) $(PROBE) ## build and grade the labs in TREE (default labs/); LAB=NN for one, FILTER=REGEX for some tests
	-$(Q)$(MAKE) -k $(if $(Q),-s) --no-print-directory -f $(TOP)/Makefile $(LAB_PROGS)
	@TREE_DIR='$(TREE_DIR)' FILTER='$(FILTER)' $(TOP)/tests/lib/check.sh $(LAB_NAME)

##@ For maintainers
.PHONY: test
test: $(TOOLS) ## the kit's self-test: solutions pass, starters fail, everything in sync
	@$(TOP)/tests/lib/selftest.sh

.PHONY: starters
starters: ## regenerate every labs/NN-name/*.c from its solution
	$(Q)for f in $(TOP)/solutions/*/*.c; do \
		rel=$${f#$(TOP)/solutions/}; mkdir -p $(TOP)/labs/$${rel%/*}; \
		awk -f $(TOP)/tests/lib/mkstarter "$$f" > $(TOP)/labs/$$rel || exit 1; done

.PHONY: pics
pics: ## regenerate pic/*.png and pic/*.svg from their mscgen sources
	$(Q)command -v mscgen >/dev/null || { echo 'make pics needs mscgen (Debian/Ubuntu: apt install mscgen)' >&2; exit 2; }
	$(Q)for f in $(TOP)/pic/*.msc; do \
		mscgen -T png -o "$${f%.msc}.png" "$$f" && mscgen -T svg -o "$${f%.msc}.svg" "$$f" || exit 1; done

.PHONY: clean
clean: ## remove build/ (and nothing else)
	rm -rf $(TOP)/build

# Internal: build every program of one lab (the tests call this), and print where it goes.
.PHONY: bins print-out
bins: $(PROBE)
	@test -n '$(LAB_NAME)' || { echo 'make bins needs LAB=NN' >&2; exit 2; }
	@test -d '$(TREE_DIR)/$(LAB_NAME)' || { echo 'no folder $(TREE_DIR)/$(LAB_NAME)' >&2; exit 1; }
	$(Q)$(MAKE) --no-print-directory -f $(TOP)/Makefile $(LAB_PROGS)
print-out:
	@echo '$(OUT)'
.PHONY: probe
probe: $(PROBE)

# The one rule that builds any lab program: TREE/NN-name/prog.c -> build/.../NN-name/prog
$(OUT)/%: $(TREE_DIR)/%.c $(TOP)/include/socklab.h
	@mkdir -p $(@D)
	$(if $(Q),@echo '  CC    $(patsubst $(TOP)/%,%,$<)')
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LDLIBS)

$(PROBE): $(TOP)/tests/lib/probe.c $(TOP)/include/socklab.h
	@mkdir -p $(@D)
	$(Q)$(CC) $(CPPFLAGS) -std=c11 -O1 -Wall -Wextra -Wpedantic -Werror -o $@ $<

# The pinned test tools (package.json, package-lock.json), installed without root on first use.
# Without npm, tests/lib/bats falls back to a system bats or says what to install.
$(TOOLS): $(TOP)/package.json $(TOP)/package-lock.json
	$(Q)if command -v npm >/dev/null; then \
		echo '  NPM   installing the pinned test tools (bats, bats-support, bats-assert) into node_modules/'; \
		cd $(TOP) && npm ci --no-audit --no-fund --no-update-notifier --loglevel=error >/dev/null && touch $@; \
	else echo '  note: npm not found; trying a system bats instead'; fi
