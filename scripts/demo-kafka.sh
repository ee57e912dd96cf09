#!/usr/bin/env bash
# Kafka without a Kafka installation: starts librdkafka's mock cluster and the API emulator, exports the emulator's
# threats into a topic, reads them back with kcat and checks them against an NDJSON export of the same run; then
# follows the emulator with `run --delivery exactly-once` and reads the committed records and checkpoint back.
set -euo pipefail
cd "$(dirname "$0")/.."

binary=${THREATPIPE:-.build/release/threatpipe}
threats=${DEMO_THREATS:-200}
topic=threats
workdir=$(mktemp -d)
# start runs in a command substitution (a subshell): the shared helper notes each service in a file, for the exit.
source scripts/lib/background.sh
background_init
background_on_exit rm -rf "$workdir"

# Starts a long-running threatpipe command and prints the first match of PATTERN in what it says.
start() {
    local name=$1 pattern=$2
    shift 2
    background_start "$name" "$workdir/$name.out" "$workdir/$name.err" "$binary" "$@"
    background_wait_for "$name" "$pattern" "$workdir/$name.out" || { cat "$workdir/$name.err" >&2; echo "demo-kafka: $name did not start" >&2; exit 1; }
}

url=$(start emulator 'http://[0-9.:]*' emulator --threats "$threats" --port 0)
brokers=$(start cluster '127\.0\.0\.1:[0-9]*\(,127\.0\.0\.1:[0-9]*\)*' kafka-mock-cluster --brokers 3 --topic "$topic" \
    --topic threats-exactly-once --topic threatpipe.checkpoints --topic threatpipe.threat-state)
echo "demo-kafka: emulator at $url, mock Kafka cluster at $brokers" >&2

S1_API_TOKEN=threatpipe-demo-token "$binary" export --console-url "$url" \
    --sink kafka --kafka-brokers "$brokers" --kafka-topic "$topic" \
    --sink ndjson --output "$workdir/export.ndjson" --rate-limit 0

kcat -b "$brokers" -C -t "$topic" -o beginning -e -q -X fetch.message.max.bytes=67108864 -f '%s\n' \
    | sort >"$workdir/kafka.sorted"
sort "$workdir/export.ndjson" >"$workdir/file.sorted"
echo "demo-kafka: kcat read $(wc -l <"$workdir/kafka.sorted") messages from topic $topic" >&2
if cmp -s "$workdir/kafka.sorted" "$workdir/file.sorted"; then
    echo "demo-kafka: the topic holds exactly the records of the NDJSON export" >&2
else
    echo "demo-kafka: the topic and the NDJSON export differ" >&2
    exit 1
fi
kcat -b "$brokers" -C -t "$topic" -o beginning -e -q -c 3 -f 'key=%k partition=%p offset=%o headers=%h bytes=%S\n'

# Exactly once: `run` commits the records and its checkpoint in Kafka transactions; stopped after its first poll.
export S1_API_TOKEN=threatpipe-demo-token
background_start run /dev/null "$workdir/run.err" "$binary" run --console-url "$url" --since 3650d --rate-limit 0 --interval 2s \
    --sink kafka --kafka-brokers "$brokers" --kafka-topic threats-exactly-once \
    --checkpoint-store kafka --delivery exactly-once --instance-id demo
run=$BACKGROUND_PID
background_wait_for run 'poll done' "$workdir/run.err" >/dev/null || { cat "$workdir/run.err" >&2; exit 1; }
kill -TERM "$run"
wait "$run"
committed=$(kcat -b "$brokers" -C -t threats-exactly-once -o beginning -e -q -X isolation.level=read_committed \
    -X fetch.message.max.bytes=67108864 -f '%s\n' | grep -o '"versionId":"[^"]*"' | sort)
echo "demo-kafka: exactly once: kcat (read_committed) read $(echo "$committed" | wc -l) records," \
    "$(echo "$committed" | uniq | wc -l) distinct versions, from topic threats-exactly-once" >&2
echo "demo-kafka: the checkpoint committed with them (topic threatpipe.checkpoints, key demo):" >&2
kcat -b "$brokers" -C -t threatpipe.checkpoints -o beginning -e -q -X isolation.level=read_committed -f '%k %s\n' | tail -n 1
