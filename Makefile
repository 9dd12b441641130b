# Thin wrapper over CMake so the two newcomer commands stay short.
#   make        install deps if missing, build everything, run the bundled examples
#   make test   build and run every test (unit, CLI, examples, spec suite)
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)

.PHONY: all deps build test test-asan bench clean

all: build
	@tools/demo.sh $(BUILD)

deps:
	@tools/install-deps.sh

build: deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD) -j$(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j1 --timeout 3000

# AddressSanitizer + UndefinedBehaviorSanitizer build (clang: also builds the
# libFuzzer targets and runs each for a short time).
test-asan: deps
	CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWEDGE_SANITIZE=ON -DWEDGE_FUZZ=ON
	cmake --build $(ASAN_BUILD) -j$(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j1 --timeout 3000 -LE no-asan

bench: build
	python3 bench/run_compute.py --wedge $(BUILD)/wedge

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
