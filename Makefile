# threatpipe — the two quick-start commands are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: deps build release demo demo-kafka test bench clean

## deps: install the system and Python packages the build and the tests need (only what is missing)
deps:
	@bash scripts/install-deps.sh

## build: debug build of everything, tests included
build: deps
	$(SWIFT) build --build-tests

## release: optimised build of the threatpipe binary (.build/release/threatpipe)
release: deps
	$(SWIFT) build -c release --product threatpipe

## demo: emulator → export to stdout and out/demo.ndjson → emulator stopped
demo: release
	@bash scripts/demo.sh

## demo-kafka: emulator + librdkafka's mock Kafka cluster → export to a topic → read back with kcat and compared
demo-kafka: release
	@bash scripts/demo-kafka.sh

## test: every test — unit, against the emulator over loopback, and end to end through the binary
test: build
	$(SWIFT) test --skip-build

## bench: the benchmarks, side by side in one run, as a table (Benchmarks/results/latest.md); see BENCHMARKS.md
bench: deps
	@bash Benchmarks/scripts/bench.sh

clean:
	rm -rf .build out
