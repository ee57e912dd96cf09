#!/usr/bin/env bash
# `make group-scale`: one process of `run --group` holding N shards (SHARDS, default "10 100 1000"), against the
# bundled emulator and librdkafka's mock cluster, at least once. For each N it prints the process's threads, open
# descriptors and RSS once every shard has completed its first poll, the time to that point, and how long SIGINT
# takes to stop it (drained, checkpoints saved, group left). The scaling table in docs/groups.md comes from this script.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/background.sh
background_init
binary=${THREATPIPE:-.build/release/threatpipe}
work=$(mktemp -d)
[ -n "${KEEP_WORK:-}" ] && echo "work: $work" || background_on_exit "rm -rf $work"

background_start emulator "$work/emulator.out" "$work/emulator.err" "$binary" emulator --threats 60 --port 0
url=$(background_wait_for emulator 'http://[0-9.:]*' "$work/emulator.out")
sites=$(curl -s -H "Authorization: ApiToken threatpipe-demo-token" "$url/web/api/v2.1/threats?limit=1000" \
    | grep -o '"siteId": *"[0-9]*"' | grep -o '[0-9]*' | sort -u)

printf '| shards | threads | fds | RSS (MiB) | every shard polled after | SIGINT to exit |\n|---|---|---|---|---|---|\n'
for shards in ${SHARDS:-10 100 1000}; do
    partitions=$(( shards < 64 ? shards : 64 ))
    background_start cluster "$work/cluster.out" "$work/cluster.err" "$binary" kafka-mock-cluster \
        --topic threats:4 --topic "threatpipe.checkpoints:$partitions" --topic "threatpipe.threat-state:$partitions"
    brokers=$(background_wait_for cluster '127\.0\.0\.1:[0-9]*' "$work/cluster.out")
    config="$work/shards-$shards.yaml"
    {
        echo "shards:"
        index=0
        for ((number = 1; number <= shards; number++)); do
            site=$(echo "$sites" | sed -n "$(( (number - 1) % $(echo "$sites" | wc -l) + 1 ))p")
            printf '  - name: shard-%d\n    filter: ["siteIds=%s"]\n' "$number" "$site"
        done
    } >"$config"
    log="$work/run-$shards.err"
    began=$(date +%s.%N)
    S1_API_TOKEN=threatpipe-demo-token background_start run "$work/run.out" "$log" "$binary" run --config "$config" \
        --console-url "$url" --rate-limit 0 --interval 5s --since 2020-01-01T00:00:00Z --sink kafka \
        --kafka-brokers "$brokers" --kafka-topic threats --checkpoint-store kafka --group "scale$shards" --log-level notice
    pid=$BACKGROUND_PID
    deadline=$(( $(date +%s) + ${POLL_LIMIT:-300} ))
    while [ "$(grep -o 'msg="poll done".*shard=[^ ]*' "$log" 2>/dev/null | grep -o 'shard=[^ ]*' | sort -u | wc -l)" -lt "$shards" ]; do
        if [ "$(date +%s)" -gt "$deadline" ] || ! kill -0 "$pid" 2>/dev/null; then
            echo "| $shards | – | – | – | not every shard polled in 300 s | – |"
            background_stop run
            background_stop cluster
            continue 2
        fi
        sleep 0.2
    done
    polled=$(echo "$(date +%s.%N) - $began" | bc)
    threads=$(awk '/^Threads:/ {print $2}' "/proc/$pid/status")
    rss=$(awk '/^VmRSS:/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status")
    fds=$(ls "/proc/$pid/fd" | wc -l)
    signalled=$(date +%s.%N)
    kill -INT "$pid"
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
    stopped=$(echo "$(date +%s.%N) - $signalled" | bc)
    printf '| %d | %d | %d | %d | %.1f s | %.1f s |\n' "$shards" "$threads" "$fds" "$rss" "$polled" "$stopped"
    background_stop run
    background_stop cluster
done
