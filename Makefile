# threatpipe — the two quick-start commands are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: deps build release demo demo-kafka test bench sanitize fuzz soak group-scale clean

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

## test: the alert rules' promtool tests, the generated dashboard and PrometheusRule up to date, then every test — unit,
## against the emulator over loopback, end to end through the binary, the monitoring files against a real Prometheus; the peak-memory
## comparison runs last, alone: with every other suite running beside it, two cores are busy enough to shift peaks
test: build
	promtool test rules deploy/prometheus/threatpipe-rules.test.yaml
	python3 deploy/grafana/generate.py --check
	$(SWIFT) test --skip-build --skip BoundedMemoryTests
	$(SWIFT) test --skip-build --filter BoundedMemoryTests

## sanitize: the tests under AddressSanitizer, then ThreadSanitizer (own build folders; SANITIZERS="address thread")
sanitize: deps
	@bash scripts/sanitize.sh

## fuzz: libFuzzer targets (JSON, list/analysis/events/error answers, filters, state file, configuration file, audit's NDJSON reader, threat state entries, tracked values), FUZZ_SECONDS each (60)
fuzz: deps
	@bash scripts/fuzz.sh

## soak: run for SOAK_SECONDS (600) against a live, faulty emulator, killed -9 every ~40 s; Kafka and NDJSON sinks
soak: release
	@bash scripts/soak.sh

## group-scale: one `run --group` process at SHARDS shards ("10 100 1000"): threads, descriptors, RSS, time to every
## shard's first poll, time to stop (the scaling table in docs/groups.md)
group-scale: release
	@bash scripts/group-scale.sh

## bench: the benchmarks, side by side in one run, as a table (Benchmarks/results/latest.md); see BENCHMARKS.md
bench: deps
	@bash Benchmarks/scripts/bench.sh

clean:
	rm -rf .build out
