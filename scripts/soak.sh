#!/usr/bin/env bash
# `make soak` (by hand, not in CI): `threatpipe run` for SOAK_SECONDS (default 600) against the live emulator with
# faults (429, 503, truncated bodies, expired cursors), into Kafka (librdkafka's mock cluster) and an NDJSON file,
# killed with SIGKILL every ~40 s and restarted. At the end: every threat's final version is in both sinks (0
# missing), and the run's RSS and open descriptors stayed flat; the figures are printed as one table.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${THREATPIPE:-.build/release/threatpipe}
seconds=${SOAK_SECONDS:-600}
kill_every=${SOAK_KILL_EVERY:-40}
workdir=${SOAK_DIR:-$(mktemp -d)}
source scripts/lib/background.sh
background_init

# Starts a long-running threatpipe command and prints the first match of PATTERN in what it says.
start() {
    local name=$1 pattern=$2
    shift 2
    background_start "$name" "$workdir/$name.out" "$workdir/$name.err" "$binary" "$@"
    background_wait_for "$name" "$pattern" "$workdir/$name.out" || { echo "soak: $name did not start" >&2; exit 1; }
}

live=$((seconds - 45))
url=$(start emulator 'http://[0-9.:]*' emulator --threats 2000 --port 0 --add-per-second 4 --update-per-second 6 \
    --live-seconds "$live" --versions-log "$workdir/versions.tsv" \
    --fault 429@rate=0.02 --fault 503@rate=0.02 --fault truncated@rate=0.01 --fault expired-cursor@rate=0.1)
brokers=$(start cluster '127\.0\.0\.1:[0-9]*' kafka-mock-cluster --brokers 1 --topic threats --partitions 3)
echo "soak: ${seconds}s in $workdir; emulator $url, kafka $brokers; SIGKILL every ~${kill_every}s" >&2

# The mock cluster keeps only the last few MB of each partition: a consumer reads the topic as it is written, as a
# SIEM would, and the check below reads what it received.
background_start kcat "$workdir/kafka.ndjson" "$workdir/kcat.err" \
    kcat -b "$brokers" -C -t threats -o beginning -q -u -f '%s\n' -X fetch.message.max.bytes=67108864

samples="$workdir/samples.tsv"
: >"$samples"
started=$(date +%s)
kills=0
while true; do
    elapsed=$(( $(date +%s) - started ))
    [ "$elapsed" -ge "$seconds" ] && break
    S1_API_TOKEN=threatpipe-demo-token "$binary" run --console-url "$url" --since 2020-01-01T00:00:00Z \
        --interval 2s --max-backoff 4s --rate-limit 0 --state "$workdir/state.json" --events-page-size 25 --concurrency 8 \
        --sink ndjson --output "$workdir/out.ndjson" --sink kafka --kafka-brokers "$brokers" --kafka-topic threats \
        >>"$workdir/run.out" 2>>"$workdir/run.err" &
    run=$!
    background_adopt run "$run" threatpipe-run
    life=$(( kill_every - 10 + RANDOM % 21 ))
    remaining=$(( seconds - elapsed ))
    final=0
    if [ "$life" -ge "$remaining" ]; then life=$remaining; final=1; fi
    for _ in $(seq 1 "$life"); do
        sleep 1
        rss=$(awk '/VmRSS/ {print $2}' "/proc/$run/status" 2>/dev/null || echo 0)
        fds=$(ls "/proc/$run/fd" 2>/dev/null | wc -l)
        echo -e "$kills\t$rss\t$fds" >>"$samples"
    done
    if [ "$final" -eq 1 ]; then
        kill -TERM "$run"; wait "$run" || true
    else
        kill -9 "$run"; wait "$run" 2>/dev/null || true
        kills=$((kills + 1))
    fi
done

sleep 5  # the consumer reads the last records
background_stop kcat
python3 - "$workdir" "$brokers" "$kills" <<'PY'
import collections, json, sys
workdir, brokers, kills = sys.argv[1], sys.argv[2], int(sys.argv[3])
final = {}
for line in open(f"{workdir}/versions.tsv"):
    parts = line.rstrip("\n").split("\t")
    if len(parts) >= 2 and (parts[0] not in final or parts[1] > final[parts[0]]):
        final[parts[0]] = parts[1]
def versions(lines):
    seen = collections.Counter()
    for line in lines:
        if not line.strip():
            continue
        record = json.loads(line)
        seen[(record["threat"]["id"], record["threat"]["threatInfo"]["updatedAt"])] += 1
    return seen
ndjson = versions(open(f"{workdir}/out.ndjson"))
kafka = versions(open(f"{workdir}/kafka.ndjson"))
samples = [tuple(map(int, l.split("\t"))) for l in open(f"{workdir}/samples.tsv") if l.strip()]
def spread(index):
    # per process life, after a 5 s warm-up: the first and the last sample's median over lives
    lives = collections.defaultdict(list)
    for s in samples:
        lives[s[0]].append(s[index])
    values = [v for life in lives.values() for v in life[5:]]
    return (min(values), max(values)) if values else (0, 0)
rss, fds = spread(1), spread(2)
for name, seen in (("ndjson", ndjson), ("kafka", kafka)):
    missing = [k for k, v in final.items() if (k, v) not in seen]
    duplicates = sum(c - 1 for c in seen.values() if c > 1)
    print(f"soak: {name}: {len(final)} threats, final versions missing {len(missing)}, versions delivered {len(seen)}, "
          f"re-delivered after kills {duplicates}")
print(f"soak: {kills} SIGKILLs; RSS {rss[0]//1024}–{rss[1]//1024} MB; open descriptors {fds[0]}–{fds[1]}")

# meta.change against the versions delivered before it (the NDJSON file, in the order written; instants compared as
# instants). A changed/unchanged version names a version of its threat delivered before it, never itself or a newer
# one; "immediate" when it is the newest one delivered before it, "skipping" when a version delivered in between was
# not acknowledged when a kill came (at least once: that record was written, its entry never stored). A version
# delivered again says the change it said.
from datetime import datetime
def instant(text):
    text = text.replace("Z", "+00:00")
    if "." in text:
        head, rest = text.split(".", 1)
        digits = "".join(c for c in rest if c.isdigit())
        text = head + "." + (digits[:6] + "000000")[:6] + rest[len(digits):]
    return datetime.fromisoformat(text)
delivered = collections.defaultdict(list)  # id -> [instant] in delivery order
said = {}
counts = collections.Counter()
for line in open(f"{workdir}/out.ndjson"):
    if not line.strip():
        continue
    record = json.loads(line)
    tid, updated = record["threat"]["id"], record["threat"]["threatInfo"]["updatedAt"]
    change = record.get("meta", {}).get("change")
    if change is None:
        counts["without a change"] += 1
        continue
    key = (tid, instant(updated))
    summary = json.dumps(change, sort_keys=True)
    if key in said:
        counts["delivered again, same change" if said[key] == summary else "delivered again, another change"] += 1
        continue
    said[key] = summary
    before = [t for t in delivered[tid] if t < key[1]]
    previous = change.get("previousUpdatedAt")
    if change["kind"] in ("changed", "unchanged"):
        p = instant(previous) if previous else None
        if p is None or p not in before:
            counts["against a version never delivered before it"] += 1
        elif p == max(before):
            counts["against the version delivered just before"] += 1
        else:
            counts["skipping a version not acknowledged before a kill"] += 1
    else:
        counts[change["kind"]] += 1
    delivered[tid].append(key[1])
print("soak: changes: " + "; ".join(f"{name} {count}" for name, count in sorted(counts.items())))
wrong = counts["against a version never delivered before it"] + counts["delivered again, another change"]
bad = any((k, v) not in s for s in (ndjson, kafka) for k, v in final.items()) or wrong > 0
sys.exit(1 if bad else 0)
PY
