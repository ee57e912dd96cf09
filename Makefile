# threatpipe — the two quick-start commands are `make demo` and `make test`.
SWIFT ?= swift

.PHONY: deps build release demo test clean

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

## test: every test — unit, against the emulator over loopback, and end to end through the binary
test: build
	$(SWIFT) test --skip-build

clean:
	rm -rf .build out
