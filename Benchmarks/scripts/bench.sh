#!/usr/bin/env bash
# `make bench`: threatpipe's benchmarks, measured side by side in one run, written as a Markdown table to
# Benchmarks/results/latest.md (and printed). None of them is a unit test: they report ratios, not pass/fail.
#
#   1. transform: records/s on one core (taskset) — threatpipe's parse + join + serialize vs the same work with orjson
#   2. end to end: export of 20,000 threats from the emulator at 20 ms latency, concurrency 32, vs the bound C/L (3 rounds)
#   3. CPU per record of that export at 0 ms latency vs the transform benchmark's cost per record
#   4. requests per threat in the end-to-end export vs 2 per threat + list pages + extra event pages
#   5. peak RSS of exports of 10,000 and 100,000 threats
#   6. Kafka sink: records/s into librdkafka's mock cluster vs a raw librdkafka C producer, same bytes and settings
#   7. exactly once: the transactional sink vs the at-least-once sink, and a raw C transactional producer (anchor)
# BENCH_QUICK=1 shrinks the sizes (for a smoke run).
set -euo pipefail
cd "$(dirname "$0")/../.."

quick=${BENCH_QUICK:-0}
threats_e2e=20000; threats_small=10000; threats_large=100000; transform_seconds=5; threats_kafka=10000
if [ "$quick" = 1 ]; then threats_e2e=2000; threats_small=1000; threats_large=4000; transform_seconds=1; threats_kafka=1000; fi

work=$(mktemp -d)
emulator_pid=""
cluster_pid=""
cleanup() {
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    [ -n "$cluster_pid" ] && kill "$cluster_pid" 2>/dev/null && wait "$cluster_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT

echo "bench: building (release)" >&2
swift build -c release --product threatpipe >&2
swift build -c release --product TransformBenchmark >&2
swift build -c release --product KafkaSinkBenchmark >&2
cc -O2 Benchmarks/scripts/raw_producer.c -o "$work/raw_producer" $(pkg-config --cflags --libs rdkafka)
bin=.build/release

venv=.build/bench-venv  # kept between runs
if [ ! -x "$venv/bin/python" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet orjson
fi
python3 Benchmarks/scripts/transform_inputs.py "$work/inputs" >&2

# 1. Transform, alternating the two implementations three times on the same core; the best of each.
swift_best=0; orjson_best=0
for _ in 1 2 3; do
    s=$(taskset -c 0 "$bin/TransformBenchmark" "$work/inputs/page.json" "$work/inputs/analysis.json" "$work/inputs/events.json" "$transform_seconds" | awk '{print $2}')
    o=$(taskset -c 0 "$venv/bin/python" Benchmarks/scripts/transform_orjson.py "$work/inputs/page.json" "$work/inputs/analysis.json" "$work/inputs/events.json" "$transform_seconds" | awk '{print $2}')
    [ "$s" -gt "$swift_best" ] && swift_best=$s
    [ "$o" -gt "$orjson_best" ] && orjson_best=$o
done
echo "bench: transform threatpipe $swift_best/s, orjson $orjson_best/s" >&2

start_emulator() { # threats latency_ms
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null || true
    "$bin/threatpipe" emulator --threats "$1" --latency-ms "$2" --port 0 >"$work/emulator.out" 2>"$work/emulator.err" &
    emulator_pid=$!
    url=""
    for _ in $(seq 1 300); do
        url=$(grep -o 'http://[0-9.:]*' "$work/emulator.out" || true)
        [ -n "$url" ] && break
        sleep 0.1
    done
    [ -n "$url" ] || { echo "bench: the emulator did not start" >&2; exit 1; }
}

export_run() { # label extra-args… → $work/label.{time,err}; prints "seconds cpu_seconds peak_kib"
    local label=$1; shift
    S1_API_TOKEN=threatpipe-demo-token /usr/bin/time -f "%e %U %S %M" -o "$work/$label.time" \
        "$bin/threatpipe" export --console-url "$url" --rate-limit 0 "$@" >/dev/null 2>"$work/$label.err"
    awk '{printf "%s %.2f %s\n", $1, $2 + $3, $4}' "$work/$label.time"
}

# 2–4. End to end at 20 ms (the bound) and at 0 ms (CPU).
# Three rounds against the same emulator: one export of 14 s on a shared host swings by 10%, so the table gives the
# best round and the median. Requests are counted in every round (each must match).
start_emulator "$threats_e2e" 20
e2e_rounds=""; requests_rounds=""; retries_rounds=""
for round in 1 2 3; do
    read -r seconds _ _ < <(export_run "e2e-$round" --concurrency 32)
    e2e_rounds="$e2e_rounds $seconds"
    requests_rounds="$requests_rounds $(grep -o '[0-9]* requests' "$work/e2e-$round.err" | awk '{print $1}')"
    retries_rounds="$retries_rounds $(grep -o '[0-9]* retries' "$work/e2e-$round.err" | awk '{print $1}')"
done
start_emulator "$threats_e2e" 0
read -r cpu_seconds cpu_used _ < <(export_run cpu --concurrency 32)

# 5. Memory, 10x the threats.
start_emulator "$threats_small" 0
read -r _ _ small_kib < <(export_run small --concurrency 16)
start_emulator "$threats_large" 0
read -r large_seconds _ large_kib < <(export_run large --concurrency 16)

# 6. Kafka sink vs raw producer: the same records (an export of the emulator's threats), alternating three times.
start_emulator "$threats_kafka" 0
export_run records --output "$work/records.ndjson" >/dev/null
"$bin/threatpipe" kafka-mock-cluster --brokers 1 >"$work/cluster.out" 2>"$work/cluster.err" &
cluster_pid=$!
brokers=""
for _ in $(seq 1 100); do
    brokers=$(sed -n 's/.*bootstrap servers //p' "$work/cluster.out")
    [ -n "$brokers" ] && break
    sleep 0.1
done
[ -n "$brokers" ] || { echo "bench: the mock cluster did not start" >&2; exit 1; }
# Five rounds: runs of a tenth of a second on a shared machine swing by 2x, so besides the best of each the table
# gives the median of the per-round ratios (each round's two runs are next to each other in time).
sink_best=0; raw_best=0; kafka_ratios=""
for round in 1 2 3 4 5; do
    k=$("$bin/KafkaSinkBenchmark" "$brokers" "sink-$round" "$work/records.ndjson" | awk '{print $2}')
    r=$("$work/raw_producer" "$brokers" "raw-$round" "$work/records.ndjson" | awk '{print $2}')
    [ "$k" -gt "$sink_best" ] && sink_best=$k
    [ "$r" -gt "$raw_best" ] && raw_best=$r
    kafka_ratios="$kafka_ratios $k/$r"
done
record_bytes=$(( $(wc -c <"$work/records.ndjson") / threats_kafka ))
# 7. Exactly once: the transactional sink (transactions of 1000 records, each with a checkpoint record, committed
# before close) vs the at-least-once sink and vs a raw C transactional producer doing the same, alternating.
eos_best=0; alo_best=0; rawtx_best=0; eos_ratios=""
for round in 1 2 3 4 5; do
    e=$("$bin/KafkaSinkBenchmark" "$brokers" "eos-$round" "$work/records.ndjson" exactly-once | awk '{print $2}')
    a=$("$bin/KafkaSinkBenchmark" "$brokers" "alo-$round" "$work/records.ndjson" | awk '{print $2}')
    t=$("$work/raw_producer" "$brokers" "rawtx-$round" "$work/records.ndjson" transactional | awk '{print $2}')
    [ "$e" -gt "$eos_best" ] && eos_best=$e
    [ "$a" -gt "$alo_best" ] && alo_best=$a
    [ "$t" -gt "$rawtx_best" ] && rawtx_best=$t
    eos_ratios="$eos_ratios $e/$a"
done

python3 - "$work" <<PY
import math, statistics, sys
kafka_median = statistics.median(int(sink) / int(raw) for sink, raw in (pair.split("/") for pair in "$kafka_ratios".split()))
eos_median = statistics.median(int(e) / int(a) for e, a in (pair.split("/") for pair in "$eos_ratios".split()))
threats = $threats_e2e
# Extra event pages: the emulator gives every 1999th threat (index % 1999 == 5) 1203 events, two pages of 1000.
extra_pages = sum(1 for i in range(threats) if i % 1999 == 5)
list_pages = math.ceil(threats / 1000)
expected_requests = 2 * threats + list_pages + extra_pages
bound = 32 / 0.020
e2e_seconds = sorted(float(x) for x in "$e2e_rounds".split())
achieved = threats / e2e_seconds[0]
achieved_median = threats / statistics.median(e2e_seconds)
requests = sorted(set(int(x) for x in "$requests_rounds".split()))
retries = sum(int(x) for x in "$retries_rounds".split())
requests_text = f"{requests[0]:,}" if len(requests) == 1 else "/".join(f"{r:,}" for r in requests) + " (rounds differ)"
transform_cost = 1 / $swift_best
cpu_cost = $cpu_used / threats
rows = [
    ("transform: records/s on one core", f"threatpipe {$swift_best:,} vs orjson {$orjson_best:,}", f"{$swift_best / $orjson_best:.2f}x", ">= 2x"),
    ("end to end: L=20 ms, C=32", f"{achieved:,.0f} threats/s vs bound {bound:,.0f} ({threats:,} in {e2e_seconds[0]} s; best of 3, rounds {' / '.join(str(x) for x in e2e_seconds)} s)", f"{achieved / bound:.0%} (median of rounds {achieved_median / bound:.0%})", ">= 90%"),
    ("CPU per record at L=0", f"{cpu_cost * 1e6:.0f} us vs transform {transform_cost * 1e6:.0f} us ({threats:,} in {$cpu_seconds} s)", f"{cpu_cost / transform_cost:.2f}x", "<= 1.5x"),
    ("requests per threat", f"{requests_text} requests per round, {retries} retries in 3 rounds; expected {expected_requests:,}", f"{requests[-1] / threats:.3f}", f"{expected_requests / threats:.3f}"),
    ("Kafka sink: records/s", f"KafkaSink {$sink_best:,} vs raw C producer {$raw_best:,} ({$threats_kafka:,} records of {$record_bytes:,} B; best of 5 each)", f"{$sink_best / $raw_best:.2f}x (median of rounds {kafka_median:.2f}x)", ">= 0.9x"),
    ("exactly once: records/s", f"transactional sink {$eos_best:,} vs at-least-once sink {$alo_best:,}; raw C transactional producer {$rawtx_best:,} ({$threats_kafka:,} records, transactions of 1,000; best of 5 each)", f"{$eos_best / $alo_best:.2f}x (median of rounds {eos_median:.2f}x); {$eos_best / $rawtx_best:.2f}x of raw C", ">= 0.8x"),
    ("peak RSS", f"{$small_kib / 1024:.0f} MB at {$threats_small:,} vs {$large_kib / 1024:.0f} MB at {$threats_large:,} ({$large_seconds} s)", f"{$large_kib / $small_kib:.2f}x", "<= 1.2x, <= 100 MB"),
]
lines = ["| benchmark | measured | ratio | target |", "|---|---|---|---|"]
lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
text = "\n".join(lines) + "\n"
print(text)
import os
os.makedirs("Benchmarks/results", exist_ok=True)
open("Benchmarks/results/latest.md", "w").write(text)
PY
