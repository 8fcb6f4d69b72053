# The two quick-start commands are `make run` and `make test`. Each sets up the
# machine first with only what it needs (scripts/setup.sh run|test|bench|dev):
# `make run` builds the distill binary alone, `make test` every target.
BUILD      ?= build
ASAN_BUILD ?= build-asan
TSAN_BUILD ?= build-tsan
TIDY_BUILD ?= build-tidy
FUZZ_BUILD ?= build-fuzz
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=
PREFIX     ?= /usr/local

# -O2 without debug info: the same code as RelWithDebInfo, compiled with about a
# third less CPU (54 s -> 36 s on four of the largest files). For a debugger:
# make CMAKE_ARGS=-DCMAKE_BUILD_TYPE=RelWithDebInfo ...
# DISTILL_UNITY compiles each layer a few files at a time (see CMakeLists.txt):
# the distill binary took 475 CPU-s file by file, 221 CPU-s so.
CONFIGURE = cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release \
	"-DCMAKE_CXX_FLAGS_RELEASE=-O2 -DNDEBUG" -DDISTILL_UNITY=ON $(CMAKE_ARGS)

.PHONY: setup build build-distill run test test-unit test-asan test-tsan bench install format format-check tidy fuzz clean

setup:
	@bash scripts/setup.sh test

# The binary alone (no tests), for `make run` and `make install`.
build-distill:
	@bash scripts/setup.sh run
	@$(CONFIGURE) -DDISTILL_TESTS=OFF >/dev/null
	@ninja -C $(BUILD) -j $(JOBS) distill

build: setup
	@$(CONFIGURE) -DDISTILL_TESTS=ON >/dev/null
	@ninja -C $(BUILD) -j $(JOBS)

run: build-distill
	@bash scripts/run-demo.sh $(BUILD)/distill

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

test-unit: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS) -L unit

# The binary, its manual pages and shell completions under $(PREFIX) (and $DESTDIR).
install: build-distill
	@ninja -C $(BUILD) -j $(JOBS) docs
	@cmake --install $(BUILD) --prefix $(PREFIX)

# Unit tests under AddressSanitizer + UndefinedBehaviorSanitizer. Unity files
# too (ASAN_UNITY=OFF for file by file): the instrumented Debug build of every
# file alone was the longest step of CI (about 12 of its 31 minutes). `make
# tidy` and `make fuzz` still compile each file alone, which is what finds an
# include that a unity neighbour hides. Both sanitizer runs start each unit_*
# binary once (scripts/unit-tests.sh) rather than once per test as ctest does.
ASAN_UNITY ?= ON
test-asan: setup
	@cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDISTILL_SANITIZE=ON \
		-DDISTILL_UNITY=$(ASAN_UNITY) >/dev/null
	@ninja -C $(ASAN_BUILD) -j $(JOBS) unit-tests
	@bash scripts/unit-tests.sh $(ASAN_BUILD) $(JOBS)

# Unit tests under ThreadSanitizer: the parallel downloads, layer workers and
# async sinks share state; a race fails the run (halt_on_error). Compiled as
# unity files (TSAN_UNITY=OFF for file by file): the TSan build took 162 s here
# that way instead of 407 s.
TSAN_UNITY ?= ON
test-tsan: setup
	@cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDISTILL_TSAN=ON \
		-DDISTILL_UNITY=$(TSAN_UNITY) >/dev/null
	@ninja -C $(TSAN_BUILD) -j $(JOBS) unit-tests
	@TSAN_OPTIONS="halt_on_error=1 second_deadlock_stack=1" bash scripts/unit-tests.sh $(TSAN_BUILD) $(JOBS)

bench: build
	@bash scripts/setup.sh bench
	@bash bench/run.sh $(BUILD)/distill

format:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format -i

format-check:
	@git ls-files '*.cpp' '*.hpp' | xargs clang-format --dry-run -Werror

# Its own configuration without DISTILL_UNITY, so compile_commands.json has an
# entry for every source file and not the unity files that include them.
tidy: build
	@bash scripts/setup.sh dev
	@cmake -S . -B $(TIDY_BUILD) -G Ninja -DDISTILL_UNITY=OFF >/dev/null
	@git ls-files 'src/*.cpp' | xargs clang-tidy -p $(TIDY_BUILD) --quiet

fuzz:
	@bash scripts/setup.sh dev
	@cmake -S . -B $(FUZZ_BUILD) -G Ninja -DCMAKE_CXX_COMPILER=clang++ -DDISTILL_FUZZ=ON -DDISTILL_TESTS=OFF >/dev/null
	@ninja -C $(FUZZ_BUILD) -j $(JOBS)
	@bash tests/fuzz/run.sh $(FUZZ_BUILD)

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD) $(FUZZ_BUILD) $(TIDY_BUILD)
