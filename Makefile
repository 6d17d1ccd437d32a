# The two commands a user needs: `make up` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
WERROR ?= $(if $(CLOSEDLOOP_WERROR),$(CLOSEDLOOP_WERROR),OFF)
UP_ARGS ?=

.PHONY: up test build deps configure bench format clean

deps:
	scripts/install-deps

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DCLOSEDLOOP_WERROR=$(WERROR)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

up: build
	$(BUILD_DIR)/closedloop up $(UP_ARGS)

test: build
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600

bench: build
	scripts/install-deps --bench
	bench/run.sh $(BUILD_DIR)

format:
	find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
