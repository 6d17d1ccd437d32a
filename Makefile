# The two commands a user needs: `make up` and `make test`.
BUILD_DIR ?= build
JOBS ?= $(shell nproc)
WERROR ?= $(if $(CLOSEDLOOP_WERROR),$(CLOSEDLOOP_WERROR),OFF)
UP_ARGS ?=
FUZZ_SECONDS ?= 60
FUZZ_TARGETS = predict_request infer_request http_request table_reader feedback_request

.PHONY: up test build deps configure bench fuzz format clean

deps:
	scripts/install-deps
	cd src/ui/vendor && ([ -f node_modules/uplot/dist/uPlot.iife.min.js ] || npm ci --no-audit --no-fund)

configure: deps
	cmake -S . -B $(BUILD_DIR) -DCMAKE_BUILD_TYPE=Release -DCLOSEDLOOP_WERROR=$(WERROR)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

up: build
	$(BUILD_DIR)/closedloop up $(UP_ARGS)

test: build
	cd tests/js && ([ -d node_modules/mlflow ] && [ -d node_modules/jsonwebtoken ] && [ -d node_modules/ws ] && [ -d node_modules/playwright-core ] || npm ci --no-audit --no-fund)
	ctest --test-dir $(BUILD_DIR) --output-on-failure -j $(JOBS) --timeout 600

bench: build
	scripts/install-deps --bench
	bench/run.sh $(BUILD_DIR)
	bench/onnx_bench.sh $(BUILD_DIR)
	bench/image_bench.sh $(BUILD_DIR)
	bench/tracking_bench.sh $(BUILD_DIR)
	bench/feedback_bench.sh $(BUILD_DIR)
	bench/drift_bench.sh $(BUILD_DIR)
	bench/drift_window_bench.sh $(BUILD_DIR)
	bench/gateway_bench.sh $(BUILD_DIR)
	bench/oip_binary_bench.sh $(BUILD_DIR)
	bench/trainer_bench.sh $(BUILD_DIR)
	bench/active_learning_bench.sh $(BUILD_DIR)
	bench/console_bench.sh $(BUILD_DIR)

# libFuzzer targets built with clang-14 (ASan+UBSan) in build-fuzz/, each run for FUZZ_SECONDS.
# New inputs go to build-fuzz/corpus, crashes to build-fuzz/artifacts (then: tests/fuzz/regressions).
fuzz: deps
	cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++-14 \
	  -DCLOSEDLOOP_FUZZ=ON -DCLOSEDLOOP_TESTS=OFF
	cmake --build build-fuzz -j $(JOBS) $(addprefix --target fuzz_,$(FUZZ_TARGETS))
	set -e; for t in $(FUZZ_TARGETS); do \
	  mkdir -p build-fuzz/corpus/$$t build-fuzz/artifacts; \
	  echo "fuzz_$$t: $(FUZZ_SECONDS) s"; \
	  CLOSEDLOOP_FUZZ_MODELS=$(abspath $(wildcard $(BUILD_DIR)/testdata/models)) \
	  build-fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -rss_limit_mb=4096 \
	    -artifact_prefix=build-fuzz/artifacts/$$t- build-fuzz/corpus/$$t tests/fuzz/corpus/$$t \
	    tests/fuzz/regressions/$$t > build-fuzz/$$t.log 2>&1 \
	    || { tail -60 build-fuzz/$$t.log; echo "fuzz_$$t FAILED: see build-fuzz/artifacts"; exit 1; }; \
	  grep -E "^stat::(number_of_executed_units|peak_rss_mb|new_units_added)" build-fuzz/$$t.log; \
	done

format:
	find src tests bench -name '*.h' -o -name '*.cc' | xargs clang-format -i

clean:
	rm -rf $(BUILD_DIR)
