#!/usr/bin/env bash
# The quick-start demo: starts the bundled SentinelOne API emulator, exports its threats (enriched with analysis and
# explore events) to stdout and to an NDJSON file, shows what came out, and stops the emulator.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${THREATPIPE:-.build/release/threatpipe}
threats=${DEMO_THREATS:-30}
output=${DEMO_OUTPUT:-out/demo.ndjson}
workdir=$(mktemp -d)
source scripts/lib/background.sh
background_init
background_on_exit rm -rf "$workdir"

background_start emulator "$workdir/emulator.out" "$workdir/emulator.err" "$binary" emulator --threats "$threats" --port 0
# The emulator prints "… listening on http://HOST:PORT" once it accepts connections.
url=$(background_wait_for emulator 'http://[0-9.:]*' "$workdir/emulator.out") \
    || { cat "$workdir/emulator.err" >&2; echo "demo: the emulator did not start" >&2; exit 1; }
echo "demo: emulator with $threats threats at $url" >&2

rm -f "$output"
S1_API_TOKEN=threatpipe-demo-token "$binary" export --console-url "$url" \
    --sink stdout --sink ndjson --output "$output" --events-page-size 10 --max-events 20 \
    --rate-limit 0  # a local emulator needs no pacing; a real console gets 10 requests/s by default

echo >&2
echo "demo: $(wc -l <"$output") records in $output; the first fully enriched one, abridged:" >&2
python3 -c '
import json, sys
for line in open(sys.argv[1]):
    record = json.loads(line)
    if record["meta"]["analysis"]["status"] == "fetched" and record["events"]:
        break
print(json.dumps({"meta": record["meta"],
                  "threat": {"id": record["threat"]["id"],
                             "threatInfo": {k: record["threat"]["threatInfo"].get(k) for k in
                                            ("threatName", "classification", "confidenceLevel", "updatedAt")}},
                  "analysis keys": sorted(record["analysis"] or {}),
                  "events": len(record["events"] or [])}, indent=2))' "$output" >&2

echo >&2
echo "demo: proving it — threatpipe audit compares the console with $output (every threat delivered, whole):" >&2
S1_API_TOKEN=threatpipe-demo-token "$binary" audit --console-url "$url" --from-ndjson "$output" --rate-limit 0 --settle 0s >&2
