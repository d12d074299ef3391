# collator: one binary, one static library of the modules, and their tests.
#
#   make            build build/collator
#   make demo       collate the bundled example uploads into build/demo-store
#   make test       everything CI runs: unit tests (plain and ASan+UBSan), the
#                   node interop/integration suites and short fuzz runs
#   make bench      benchmarks with a DuckDB reference run (not part of test)
#   make deps       install the Debian and npm packages the build and tests need
#   make up / down  start / stop the local S3 + Lambda stack (build/stack/env)
#   make integration  uploads through local S3 collated by the runtime loop
#   make fuzz       long libFuzzer runs of every target
#   make lambda-zip the zip bundle for a provided.al2023 deployment
#
# Several people can build side by side with BUILD=build/NAME; MODULES limits
# the library and the unit tests to some modules (e.g. MODULES="core json").

CC      ?= cc
BUILD   ?= build
MODULES ?= core json parquet store collate lambda
OPT     ?= -O2
SAN     ?=

CFLAGS_ALL = -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wvla \
             -Isrc -g $(OPT) $(CFLAGS)
ifeq ($(SAN),1)
CFLAGS_ALL += -fsanitize=address,undefined -fno-sanitize-recover=undefined \
              -fno-omit-frame-pointer
LDFLAGS_ALL = -fsanitize=address,undefined
endif
# Each shared library costs the dynamic loader time at every process start
# (README "Start-up"), so those in STATIC_LIBS come from their static
# archives where the system has them (Debian's -dev packages do), else from
# the shared ones. snappy stays shared: Debian's libsnappy.a compresses ~50%
# slower than its libsnappy.so (perf, 100 MB SMS upload), which costs more
# than the ~1 ms of loading it and libstdc++. libcurl is not linked at all:
# src/store/s3_curl.c loads it when the first S3 store opens. ISA-L (isal)
# gunzips uploads; Debian ships it shared only (one small library with no
# dependencies of its own), deploy/Dockerfile builds its static archive.
DEP_LIBS    = crypto z snappy zstd lz4 utf8proc isal
STATIC_LIBS ?= crypto z zstd lz4 utf8proc isal
link_lib = $(or $(if $(filter $(1),$(STATIC_LIBS)),$(filter /%,$(shell $(CC) -print-file-name=lib$(1).a))),-l$(1))
LIBS := $(foreach lib,$(DEP_LIBS),$(call link_lib,$(lib))) \
        $(if $(filter /%,$(call link_lib,snappy)),$(call link_lib,stdc++)) -lm -lpthread

LIB_SRC  := $(foreach m,$(MODULES),$(wildcard src/$(m)/*.c))
CLI_SRC  := $(wildcard src/cli/*.c)
TEST_SRC := tests/unit.c $(foreach m,$(MODULES),$(wildcard tests/$(m)_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(BUILD)/%.o)

.PHONY: all lib unit test demo bench deps fuzz up down integration lambda-zip clean
all: $(BUILD)/collator

lib: $(BUILD)/libcollator.a

# Quiet by default; V=1 shows every command.
Q = $(if $(V),,@)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  CC      $<")
	$(Q)$(CC) $(CFLAGS_ALL) -MMD -MP -c $< -o $@

$(BUILD)/libcollator.a: $(LIB_OBJ)
	@mkdir -p $(dir $@)
	$(if $(V),,@echo "  AR      $@")
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/collator: $(CLI_OBJ) $(BUILD)/libcollator.a
	$(if $(V),,@echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libcollator.a $(LIBS)

$(BUILD)/unit_tests: $(TEST_OBJ) $(BUILD)/libcollator.a
	$(if $(V),,@echo "  LINK    $@")
	$(Q)$(CC) $(LDFLAGS_ALL) $(LDFLAGS) -o $@ $(TEST_OBJ) $(BUILD)/libcollator.a $(LIBS)

# Unit tests of this build only; `make test` is the whole suite.
unit: $(BUILD)/unit_tests
	$(BUILD)/unit_tests

deps:
	bash scripts/setup.sh

test: deps
	bash tests/run.sh

demo: deps all
	bash examples/demo.sh $(BUILD)

bench: deps
	bash bench/run.sh

fuzz: deps
	bash fuzz/run.sh long

up: deps all
	STACK_BIN=$(abspath $(BUILD))/collator bash scripts/stack.sh up

down:
	bash scripts/stack.sh down

# End-to-end: uploads to the local S3 are collated by the real runtime loop.
integration: deps all
	COLLATOR_BIN=$(abspath $(BUILD))/collator node --test tests/node/integration.test.mjs

# Zip bundle (bootstrap + binary + libraries) for provided.al2023 zip deployments.
lambda-zip: all
	bash deploy/lambda-zip.sh $(BUILD) $(BUILD)/collator-lambda.zip

clean:
	rm -rf build

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)
