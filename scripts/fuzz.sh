#!/usr/bin/env bash
# `make fuzz`: builds the libFuzzer targets (Fuzz/ThreatpipeFuzz, with AddressSanitizer) and runs each for
# FUZZ_SECONDS (default 60; CI 30), starting from the seed corpus in Fuzz/corpus/<target> (kept read-only: new
# inputs go to .build/fuzz/corpus). A crash stops the run with its input saved in .build/fuzz/artifacts/<target>/;
# replay it with `.build/debug/threatpipe-fuzz TARGET FILE` and add it to Fuzz/corpus as a regression input.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${FUZZ_SECONDS:-60}"
targets=(${FUZZ_TARGETS:-json list analysis events error-envelope filter state-file config-file record-lines state-entry tracked-values})
scratch=.build/fuzz

echo "fuzz: building the targets with -sanitize=fuzzer,address"
swift build --scratch-path "$scratch" --product threatpipe-fuzz \
    -Xswiftc -sanitize=fuzzer,address -Xswiftc -parse-as-library -Xswiftc -DFUZZING -Xcc -DTHREATPIPE_FUZZING
binary="$scratch/debug/threatpipe-fuzz"

# The one LeakSanitizer report every Swift process here makes at exit (swift-nio's process-wide blocking pool), by
# name; every other leak still fails.
export LSAN_OPTIONS="suppressions=$PWD/scripts/sanitizers/lsan.supp:print_suppressions=0"
failed=()
for target in "${targets[@]}"; do
    work="$scratch/corpus/$target"
    artifacts="$scratch/artifacts/$target/"
    mkdir -p "$work" "$artifacts"
    echo "fuzz: $target for ${seconds}s"
    if ! THREATPIPE_FUZZ_TARGET="$target" "$binary" "$work" "Fuzz/corpus/$target" \
        -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
        -artifact_prefix="$artifacts" -print_final_stats=1 > "$scratch/$target.log" 2>&1; then
        tail -n 40 "$scratch/$target.log"
        failed+=("$target")
    else
        grep -E "stat::number_of_executed_units|stat::new_units_added" "$scratch/$target.log" | tr '\n' ' '
        echo
    fi
done
if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: crashes in: ${failed[*]} (inputs in $scratch/artifacts)" >&2
    exit 1
fi
echo "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash"
