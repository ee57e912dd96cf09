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
#   8. rate limits: --rate-limit auto against a console answering 429 beyond R requests/s (R = 25 and 8), and a fixed
#      limit below R: threats/s against R/2 (or the fixed rate/2) and the share of requests answered 429
#   9. freshness: `run --interval 5s` against a live console, time from a version appearing to its record (p50/p99/max);
#      and a burst of 500 new threats at once (--rate-limit 50), against the budget's bound 500 × 2 / 50
#  10. end to end with real sinks: the 20,000-threat export into the Kafka mock cluster and an NDJSON file at once
#  11. CPU anchor: the same requests made by a C program with libcurl's multi interface (keep-alive, concurrency 32)
#  12. changes (meta.change): one `run` pass of the 20,000 threats at 20 ms with the threat state (SQLite beside the
#      state file) vs without, alternating; peak RSS of a 100,000-threat pass with vs without; and the restore of a
#      100,000-entry state topic (the Kafka store) when a run starts
#  13. rate limits under noise: auto against R = 25 with a 503 on every 13th request, and without a limit against a
#      503 on every 10th request and a 5 % share of 429s (with and without Retry-After), vs what MAX (50/s) allows
#  14. requests per delivered version: `run --emit changes` vs `--emit all` on a live console where most updates touch
#      no tracked field (an unchanged version costs no enrichment request), and what a budget of 25 requests/s sustains
#  15. A/B: the end-to-end and Kafka wall-clock rows with the previous binary (BENCH_BASE, default: the commit that last
#      wrote BENCHMARKS.md — the code those figures came from) and the current one, alternating in one run, so that a
#      regression can be told from a slow host. BENCH_BASE=none skips it.
# BENCH_QUICK=1 shrinks the sizes (for a smoke run).
set -euo pipefail
cd "$(dirname "$0")/../.."

quick=${BENCH_QUICK:-0}
threats_e2e=20000; threats_small=10000; threats_large=100000; transform_seconds=5; threats_kafka=10000
rate_threats_25=300; rate_threats_8=100; rate_threats_max=1000; fresh_seconds=60; burst_threats=500
if [ "$quick" = 1 ]; then
    threats_e2e=2000; threats_small=1000; threats_large=4000; transform_seconds=1; threats_kafka=1000
    rate_threats_25=60; rate_threats_8=20; rate_threats_max=200; fresh_seconds=15; burst_threats=100
fi

work=$(mktemp -d)
# Every emulator and cluster is stopped on every way out, also those started in a subshell (rate_run runs in a
# process substitution); the exit checks that none is left.
source scripts/lib/background.sh
background_init
background_on_exit rm -rf "$work"

echo "bench: building (release)" >&2
swift build -c release --product threatpipe >&2
# The previous binary (15): built once per commit in a worktree of its own, kept between runs.
base=${BENCH_BASE:-$(git log -1 --format=%H -- BENCHMARKS.md)}
[ "$base" = "$(git rev-parse HEAD)" ] && base=$(git rev-parse HEAD~1)
base_bin=""
if [ "$base" != none ]; then
    base=$(git rev-parse --short "$base")
    base_tree=.build/bench-base/$base
    if [ ! -x "$base_tree/.build/release/threatpipe" ]; then
        echo "bench: building the previous binary ($base, release)" >&2
        rm -rf "$base_tree"; git worktree prune
        git worktree add --detach "$base_tree" "$base" >&2
        swift build -c release --product threatpipe --package-path "$base_tree" >&2
    fi
    base_bin=$base_tree/.build/release/threatpipe
fi
swift build -c release --product TransformBenchmark >&2
swift build -c release --product KafkaSinkBenchmark >&2
cc -O2 Benchmarks/scripts/raw_producer.c -o "$work/raw_producer" $(pkg-config --cflags --libs rdkafka)
if ! dpkg -s libcurl4-openssl-dev >/dev/null 2>&1; then
    echo "bench: installing libcurl4-openssl-dev (the CPU anchor)" >&2
    run_as_root=(); [ "$(id -u)" -ne 0 ] && run_as_root=(sudo)
    DEBIAN_FRONTEND=noninteractive "${run_as_root[@]}" apt-get install -y -qq libcurl4-openssl-dev >/dev/null
fi
cc -O2 Benchmarks/scripts/curl_fetch.c -o "$work/curl_fetch" $(pkg-config --cflags --libs libcurl)
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

start_emulator() { # threats latency_ms [emulator options…] → $url (the one emulator running: the last one started)
    local threats=$1 latency=$2; shift 2
    background_start emulator "$work/emulator.out" "$work/emulator.err" \
        "$bin/threatpipe" emulator --threats "$threats" --latency-ms "$latency" --port 0 "$@"
    url=$(background_wait_for emulator 'http://[0-9.:]*' "$work/emulator.out") || { echo "bench: the emulator did not start" >&2; exit 1; }
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
# 11. The CPU anchor: the same requests by libcurl (list pages, then each threat's analysis and events).
python3 Benchmarks/scripts/export_urls.py "$url" threatpipe-demo-token >"$work/urls.txt"
/usr/bin/time -f "%U %S" -o "$work/curl.time" "$work/curl_fetch" "$work/urls.txt" 32 threatpipe-demo-token >"$work/curl.out"
curl_used=$(awk '{printf "%.2f", $1 + $2}' "$work/curl.time")
curl_requests=$(awk '{print $2}' "$work/curl.out")

# 5. Memory, 10x the threats.
start_emulator "$threats_small" 0
read -r _ _ small_kib < <(export_run small --concurrency 16)
start_emulator "$threats_large" 0
read -r large_seconds _ large_kib < <(export_run large --concurrency 16)

# 6. Kafka sink vs raw producer: the same records (an export of the emulator's threats), alternating three times.
start_emulator "$threats_kafka" 0
export_run records --output "$work/records.ndjson" >/dev/null
background_start cluster "$work/cluster.out" "$work/cluster.err" "$bin/threatpipe" kafka-mock-cluster --brokers 1
brokers=$(background_wait_for cluster '127\.0\.0\.1:[0-9]*' "$work/cluster.out") || { echo "bench: the mock cluster did not start" >&2; exit 1; }
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
# 7. Exactly once: the transactional sink (transactions of 5,000 records, the default, each with a checkpoint record,
# committed before close; and of 1,000) vs the at-least-once sink and vs a raw C transactional producer doing the same
# (transactions of 1,000), alternating.
eos_best=0; alo_best=0; rawtx_best=0; eos_ratios=""; eos1k_best=0
for round in 1 2 3 4 5; do
    e=$("$bin/KafkaSinkBenchmark" "$brokers" "eos-$round" "$work/records.ndjson" exactly-once 5000 | awk '{print $2}')
    e1=$("$bin/KafkaSinkBenchmark" "$brokers" "eos1k-$round" "$work/records.ndjson" exactly-once 1000 | awk '{print $2}')
    [ "$e1" -gt "$eos1k_best" ] && eos1k_best=$e1
    a=$("$bin/KafkaSinkBenchmark" "$brokers" "alo-$round" "$work/records.ndjson" | awk '{print $2}')
    t=$("$work/raw_producer" "$brokers" "rawtx-$round" "$work/records.ndjson" transactional | awk '{print $2}')
    [ "$e" -gt "$eos_best" ] && eos_best=$e
    [ "$a" -gt "$alo_best" ] && alo_best=$a
    [ "$t" -gt "$rawtx_best" ] && rawtx_best=$t
    eos_ratios="$eos_ratios $e/$a"
done

# 10. End to end with real sinks: the same export into the Kafka mock cluster and an NDJSON file at once (two rounds).
start_emulator "$threats_e2e" 20
sinks_rounds=""
for round in 1 2; do
    read -r seconds _ _ < <(export_run "sinks-$round" --concurrency 32 --sink kafka --kafka-brokers "$brokers" --kafka-topic "e2e-$round" \
        --sink ndjson --output "$work/e2e-$round.ndjson")
    sinks_rounds="$sinks_rounds $seconds"
    rm -f "$work/e2e-$round.ndjson"
done

# 12. Changes: run passes with the threat state vs without, alternating, each from an empty state (every version
# written to the state); then memory at 100,000 threats; then a state topic of 100,000 entries restored at start.
start_emulator "$threats_e2e" 20
changes_rounds=""
for round in 1 2 3; do
    read -r on _ _ _ < <(python3 Benchmarks/scripts/run_pass.py "$bin/threatpipe" "$url" "$work/changes-on-$round.json" --concurrency 32 --sink ndjson --output /dev/null)
    read -r off _ _ _ < <(python3 Benchmarks/scripts/run_pass.py "$bin/threatpipe" "$url" "$work/changes-off-$round.json" --concurrency 32 --sink ndjson --output /dev/null --no-track-changes)
    changes_rounds="$changes_rounds $on/$off"
done
start_emulator "$threats_large" 0
read -r _ state_on_kib _ _ < <(python3 Benchmarks/scripts/run_pass.py "$bin/threatpipe" "$url" "$work/large-on.json" --concurrency 16 --sink ndjson --output /dev/null)
read -r _ state_off_kib _ _ < <(python3 Benchmarks/scripts/run_pass.py "$bin/threatpipe" "$url" "$work/large-off.json" --concurrency 16 --sink ndjson --output /dev/null --no-track-changes)
background_start statecluster "$work/statecluster.out" "$work/statecluster.err" "$bin/threatpipe" kafka-mock-cluster --brokers 1 \
    --topic threats:3 --topic threatpipe.checkpoints:1 --topic threatpipe.threat-state:4
state_brokers=$(background_wait_for statecluster '127\.0\.0\.1:[0-9]*' "$work/statecluster.out") || { echo "bench: the mock cluster did not start" >&2; exit 1; }
kafka_state=(--concurrency 16 --sink kafka --kafka-brokers "$state_brokers" --kafka-topic threats --checkpoint-store kafka --instance-id bench-state)
python3 Benchmarks/scripts/run_pass.py "$bin/threatpipe" "$url" "$work/unused.json" "${kafka_state[@]}" >/dev/null
# Started again: its first poll finds nothing new; the line that matters is the restore.
read -r _ _ restore_ms restore_entries < <(python3 Benchmarks/scripts/run_pass.py "$bin/threatpipe" "$url" "$work/unused.json" "${kafka_state[@]}")
background_stop statecluster

# 15. A/B: the previous and the current binary, alternating, on the same emulator and cluster.
ab_e2e=""; ab_sinks=""
if [ -n "$base_bin" ]; then
    background_start abcluster "$work/abcluster.out" "$work/abcluster.err" "$bin/threatpipe" kafka-mock-cluster --brokers 1
    ab_brokers=$(background_wait_for abcluster '127\.0\.0\.1:[0-9]*' "$work/abcluster.out") || { echo "bench: the mock cluster did not start" >&2; exit 1; }
    start_emulator "$threats_e2e" 20
    for round in 1 2 3; do
        for which in base current; do
            b=$bin/threatpipe; [ "$which" = base ] && b=$base_bin
            began=$(date +%s.%N)
            S1_API_TOKEN=threatpipe-demo-token "$b" export --console-url "$url" --rate-limit 0 --concurrency 32 >/dev/null 2>"$work/ab-$which-$round.err"
            e2e=$(python3 -c "print(f'{$(date +%s.%N) - $began:.2f}')")
            began=$(date +%s.%N)
            S1_API_TOKEN=threatpipe-demo-token "$b" export --console-url "$url" --rate-limit 0 --concurrency 32 --sink kafka \
                --kafka-brokers "$ab_brokers" --kafka-topic "ab-$which-$round" --sink ndjson --output "$work/ab.ndjson" >/dev/null 2>>"$work/ab-$which-$round.err"
            sinks=$(python3 -c "print(f'{$(date +%s.%N) - $began:.2f}')")
            rm -f "$work/ab.ndjson"
            ab_e2e="$ab_e2e $which:$e2e"; ab_sinks="$ab_sinks $which:$sinks"
        done
    done
    background_stop abcluster
fi

# 14. Requests per delivered version, --emit changes vs --emit all.
emit_seconds=60; [ "$quick" = 1 ] && emit_seconds=20
python3 Benchmarks/scripts/emit_requests.py "$bin/threatpipe" "$emit_seconds" >"$work/emit.txt"
read -r _ _ emit_changes_versions _ emit_changes_unchanged _ emit_changes_requests _ emit_changes_rpv < <(grep '^changes' "$work/emit.txt")
read -r _ _ emit_all_versions _ emit_all_unchanged _ emit_all_requests _ emit_all_rpv < <(grep '^all' "$work/emit.txt")
# A mode that printed nothing leaves its row out rather than the table.
for v in emit_changes_versions emit_changes_unchanged emit_changes_requests emit_changes_rpv emit_all_versions emit_all_unchanged emit_all_requests emit_all_rpv; do
    [ -n "${!v:-}" ] || printf -v "$v" 0
done

# 8. Rate limits: a console (50 ms latency) answering 429 beyond R requests/s.
rate_run() { # label R threats rate-limit [emulator faults…] → "threats_per_second requests retries"
    local label=$1 threats=$3 limit=$4
    start_emulator "$threats" 50 --fault "limit=$2" "${@:5}"
    set -- "$label" "$2" "$threats" "$limit"
    local began ended
    began=$(date +%s.%N)
    S1_API_TOKEN=threatpipe-demo-token "$bin/threatpipe" export --console-url "$url" --rate-limit "$4" --sink ndjson \
        --output /dev/null --concurrency "${rate_concurrency:-8}" 2>"$work/rate-$1.err" >/dev/null
    ended=$(date +%s.%N)
    local requests retries
    requests=$(grep -o '[0-9]* requests' "$work/rate-$1.err" | awk '{print $1}')
    retries=$(grep -o '[0-9]* retries' "$work/rate-$1.err" | awk '{print $1}')
    python3 -c "print(f'{$3 / ($ended - $began):.3f} $requests $retries')"
}
read -r auto25 auto25_requests auto25_retries < <(rate_run auto25 25 "$rate_threats_25" auto)
read -r fixed25 fixed25_requests fixed25_retries < <(rate_run fixed25 25 $((rate_threats_25 / 2)) 10)
read -r auto8 auto8_requests auto8_retries < <(rate_run auto8 8 "$rate_threats_8" auto)
read -r fixed8 fixed8_requests fixed8_retries < <(rate_run fixed8 8 "$rate_threats_8" 6)
# Noise the limiter must not take for the budget: a 503 on every 13th request on top of R = 25; no limit (R far above
# auto's MAX of 50) with a 503 on every 10th request; and a share of 429s that does not depend on the rate, with and
# without Retry-After.
read -r noisy25 noisy25_requests noisy25_retries < <(rate_run noisy25 25 "$rate_threats_25" auto --fault 503@every=13)
# Without a limit, refused requests wait a second for their retry: concurrency 16 keeps the pipeline from being what
# limits (at 8, a tenth of the threats waiting a second fills the slots), so the rows measure the limiter.
rate_concurrency=16
read -r auto503 auto503_requests auto503_retries < <(rate_run auto503 100000 "$rate_threats_max" auto --fault 503@every=10)
read -r auto429 auto429_requests auto429_retries < <(rate_run auto429 100000 "$rate_threats_max" auto --fault 429@rate=0.05)
read -r auto429bare auto429bare_requests auto429bare_retries < <(rate_run auto429bare 100000 "$rate_threats_max" auto --fault 429-bare@rate=0.05)
rate_concurrency=8

# 9. Freshness, steady and in a burst.
background_stop emulator
read -r _ fresh_p50 _ fresh_p99 _ fresh_max _ fresh_count _ < <(python3 Benchmarks/scripts/freshness.py "$bin/threatpipe" steady "$fresh_seconds")
read -r _ burst_p50 _ burst_p99 _ burst_max _ burst_count _ < <(python3 Benchmarks/scripts/freshness.py "$bin/threatpipe" burst "$burst_threats")

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
    ("exactly once: records/s", f"transactional sink {$eos_best:,} (transactions of 5,000, the default; of 1,000: {$eos1k_best:,}) vs at-least-once sink {$alo_best:,}; raw C transactional producer {$rawtx_best:,} (transactions of 1,000) ({$threats_kafka:,} records; best of 5 each)", f"{$eos_best / $alo_best:.2f}x (median of rounds {eos_median:.2f}x; of 1,000: {$eos1k_best / $alo_best:.2f}x); {$eos1k_best / $rawtx_best:.2f}x of raw C at 1,000", ">= 0.8x"),
    ("peak RSS", f"{$small_kib / 1024:.0f} MB at {$threats_small:,} vs {$large_kib / 1024:.0f} MB at {$threats_large:,} ({$large_seconds} s)", f"{$large_kib / $small_kib:.2f}x", "<= 1.2x, <= 100 MB"),
]
sinks_seconds = sorted(float(x) for x in "$sinks_rounds".split())
rows.insert(2, ("end to end into Kafka + NDJSON: L=20 ms, C=32", f"{threats / sinks_seconds[0]:,.0f} threats/s vs bound {bound:,.0f} (best of 2, rounds {' / '.join(str(x) for x in sinks_seconds)} s; mock cluster and file at once)", f"{threats / sinks_seconds[0] / bound:.0%}", ">= 85%"))
curl_cost = $curl_used / threats
rows.insert(4, ("CPU per threat vs libcurl", f"threatpipe {cpu_cost * 1e6:.0f} us vs libcurl multi {curl_cost * 1e6:.0f} us ($curl_requests requests, bodies dropped, no JSON)", f"{cpu_cost / curl_cost:.2f}x", "(a figure to watch)"))
rows[3] = (rows[3][0], rows[3][1], rows[3][2], "(a figure to watch)")
def max_row(name, achieved, requests, retries, refused):
    # The time auto's MAX (50/s) allows for the requests the export made (its retries included), vs the time taken.
    elapsed = $rate_threats_max / achieved
    allowed = requests / 50
    # 503s never cut: the 1.2x bound holds the ramp from 10/s. A 429 share is first checked (two cuts, held while
    # checked) before it is taken for noise: about 15 s of the export go to that and the ramp after it.
    target = ">= 0.83 (<= 1.2x the time MAX allows)" if refused == "503" else ">= 0.7 (noise found, then MAX held)"
    return (f"{name} ({$rate_threats_max:,} threats, concurrency 16)", f"{elapsed:.1f} s for {requests} requests ({retries} answered {refused}, {retries / requests:.1%}) vs {allowed:.1f} s at MAX=50", f"{allowed / elapsed:.2f} of MAX", target)
def rate_row(name, achieved, bound, requests, retries, target, refused="429"):
    return (name, f"{achieved:.2f} threats/s vs {bound:g}; {retries} of {requests} requests answered {refused} ({retries / requests:.1%})", f"{achieved / bound:.2f} of the bound, {retries / requests:.1%} {refused}", target)
rows += [
    rate_row("rate limit auto vs console limit R=25", $auto25, 12.5, $auto25_requests, $auto25_retries, ">= 0.9, <= 2 % 429"),
    rate_row("rate limit fixed 10 vs R=25", $fixed25, 5, $fixed25_requests, $fixed25_retries, ">= 0.97"),
    rate_row("rate limit auto vs console limit R=8", $auto8, 4, $auto8_requests, $auto8_retries, ">= 0.9, <= 2 % 429"),
    rate_row("rate limit fixed 6 vs R=8", $fixed8, 3, $fixed8_requests, $fixed8_retries, ">= 0.97"),
    rate_row("rate limit auto vs R=25 and a 503 on every 13th request", $noisy25, 12.5, $noisy25_requests, $noisy25_retries, ">= 0.85", "429 or 503"),
    max_row("rate limit auto, no limit, a 503 on every 10th request", $auto503, $auto503_requests, $auto503_retries, "503"),
    max_row("rate limit auto, no limit, 5 % of requests 429 with Retry-After", $auto429, $auto429_requests, $auto429_retries, "429"),
    max_row("rate limit auto, no limit, 5 % of requests 429 without Retry-After", $auto429bare, $auto429bare_requests, $auto429bare_retries, "429"),
    ("freshness: run --interval 5s, live console", f"p50 {$fresh_p50} s, p99 {$fresh_p99} s, max {$fresh_max} s ({$fresh_count} versions in {$fresh_seconds} s)", f"p99 {$fresh_p99} s", "p99 <= 6 s"),
    ("freshness: burst of $burst_threats new threats, --rate-limit 50", f"p50 {$burst_p50} s, p99 {$burst_p99} s, max {$burst_max} s ({$burst_count} versions); budget bound {$burst_threats * 2 / 50:g} s", f"p99 {$burst_p99 / ($burst_threats * 2 / 50):.2f}x the bound", "(bound + up to one interval)"),
]
changes_pairs = [tuple(float(x) for x in pair.split("/")) for pair in "$changes_rounds".split()]
on_best, off_best = min(p[0] for p in changes_pairs), min(p[1] for p in changes_pairs)
on_efficiency, off_efficiency = threats / on_best / bound, threats / off_best / bound
changes_median = statistics.median(threats / on / bound - threats / off / bound for on, off in changes_pairs)
rows += [
    ("changes: run pass with threat state vs without, L=20 ms, C=32", f"with {threats / on_best:,.0f} threats/s ({on_efficiency:.0%} of the bound) vs without {threats / off_best:,.0f} ({off_efficiency:.0%}); best of 3 each, rounds (s) {' / '.join(f'{a:g}-{b:g}' for a, b in changes_pairs)}", f"{on_efficiency - off_efficiency:+.3f} (median of rounds {changes_median:+.3f})", "within 0.05"),
    ("changes: peak RSS of a run pass", f"with state {$state_on_kib / 1024:.0f} MB vs without {$state_off_kib / 1024:.0f} MB at {$threats_large:,} threats", f"{$state_on_kib / $state_off_kib:.2f}x", "<= 1.2x"),
    ("changes: restore of the state topic at start", f"{$restore_entries:,} entries read into the local copy in {$restore_ms:,} ms (mock cluster, four partitions: it keeps only the newest ~25 MB of a partition)", f"{$restore_entries / max($restore_ms, 1) * 1000:,.0f} entries/s", "(a figure to watch)"),
]
if $emit_changes_versions > 0:
    rows += [
        ("requests per delivered version: run --emit changes vs --emit all, live console ($emit_seconds s, 30 threats, 10 updates/s)",
         f"changes: {$emit_changes_requests:.0f} enrichment requests for {$emit_changes_versions:.0f} versions ({$emit_changes_unchanged:.0f} unchanged, {$emit_changes_unchanged / $emit_changes_versions:.0%}); all: {$emit_all_requests:.0f} for {$emit_all_versions:.0f} ({$emit_all_unchanged:.0f} unchanged); a budget of 25 requests/s sustains {25 / max($emit_changes_rpv, 1e-9):.1f} vs {25 / max($emit_all_rpv, 1e-9):.1f} versions/s",
         f"{$emit_changes_rpv:.2f} vs {$emit_all_rpv:.2f} requests/version",
         "an unchanged version costs 0 enrichment requests (changes = 2 x the share sent, or less)"),
    ]
ab = {"e2e": "$ab_e2e".split(), "sinks": "$ab_sinks".split()}
if ab["e2e"]:
    for key, name in (("e2e", "A/B end to end: L=20 ms, C=32"), ("sinks", "A/B end to end into Kafka + NDJSON")):
        base_times = [float(x.split(":")[1]) for x in ab[key] if x.startswith("base:")]
        current_times = [float(x.split(":")[1]) for x in ab[key] if x.startswith("current:")]
        pairs = [b / c for b, c in zip(base_times, current_times)]
        rows.append((f"{name}, previous ($base) vs current, alternating", f"previous {min(base_times)} s, current {min(current_times)} s (best of {len(pairs)}; rounds {' / '.join(f'{b}-{c}' for b, c in zip(base_times, current_times))} s)", f"{min(base_times) / min(current_times):.2f}x (median of rounds {statistics.median(pairs):.2f}x)", ">= 0.95x (no regression)"))
lines = ["| benchmark | measured | ratio | target |", "|---|---|---|---|"]
lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
text = "\n".join(lines) + "\n"
print(text)
import os
os.makedirs("Benchmarks/results", exist_ok=True)
open("Benchmarks/results/latest.md", "w").write(text)
PY
