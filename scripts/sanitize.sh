#!/usr/bin/env bash
# `make sanitize`: the test suite built and run under AddressSanitizer, then under ThreadSanitizer, each in a build
# folder of its own (.build/asan, .build/tsan). SANITIZERS picks which (default "address thread"); SANITIZE_FILTER
# narrows the tests (a `swift test --filter` pattern). Any report fails the run (TSan exits 66 after reporting).
#
# Two facts of this toolchain on Linux shape the ThreadSanitizer pass:
# - librdkafka starts its threads with C11 thrd_create and locks with mtx_*/cnd_*, which glibc implements past TSan's
#   interceptors: TSan would abort on a reused thread id. The test binary routes them through pthread
#   (Tests/CThreadsForSanitizers), so the Kafka tests run under TSan too. The end-to-end tests are left out of the
#   TSan pass: the threatpipe binary they start has no such routing (the ASan pass runs them).
# - TSan does not see Synchronization.Mutex (futex-based): it reports correct code under a Mutex as a race. Every
#   lock of threatpipe's is therefore pthread-based (NIOLockedValueBox), which TSan sees (a first CI run with the
#   Kafka sink's delivery state still under a Mutex reported exactly that, at random).
set -euo pipefail
cd "$(dirname "$0")/.."
sanitizers=(${SANITIZERS:-address thread})
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
export TSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/tsan.supp:halt_on_error=0"
for sanitizer in "${sanitizers[@]}"; do
    case "$sanitizer" in
        address) scratch=.build/asan; skip="" ;;
        thread) scratch=.build/tsan; skip="EndToEnd" ;;
        *) echo "sanitize: unknown sanitizer $sanitizer (address or thread)" >&2; exit 64 ;;
    esac
    echo "sanitize: building the tests with -sanitize=$sanitizer in $scratch"
    swift build --build-tests --scratch-path "$scratch" -Xswiftc -sanitize="$sanitizer"
    filter="${SANITIZE_FILTER:-}"
    echo "sanitize: running the tests under $sanitizer${filter:+ (filter: $filter)}${skip:+ (without $skip)}"
    THREATPIPE_BINARY="$PWD/$scratch/debug/threatpipe" \
        swift test --skip-build --scratch-path "$scratch" ${filter:+--filter "$filter"} ${skip:+--skip "$skip"}
done
