"""Freshness: time from a version appearing in the (emulated) console to its record written by `threatpipe run`.

  freshness.py BIN steady SECONDS   run --interval 5s for SECONDS against a console adding and updating threats
  freshness.py BIN burst  THREATS   500 (THREATS) new threats at once; run --interval 5s --rate-limit 50

Prints one line: `p50 P p99 P max M count N` (seconds). A version's appearance is the wall-clock time the emulator
logged for it (versions log, third column); its delivery is the record's meta.exportedAt (written just before the
sink acknowledges it)."""
import json, os, signal, subprocess, sys, tempfile, time
from datetime import datetime

def instant(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()

def main():
    binary, mode, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
    work = tempfile.mkdtemp()
    versions = os.path.join(work, "versions.tsv")
    output = os.path.join(work, "out.ndjson")
    emulator_args = [binary, "emulator", "--threats", "200", "--versions-log", versions, "--latency-ms", "20"]
    run_args = ["--interval", "5s"]
    if mode == "steady":
        emulator_args += ["--add-per-second", "1", "--update-per-second", "2"]
    else:
        emulator_args += ["--burst-threats", str(size), "--burst-after", "8"]
        run_args += ["--rate-limit", "50"]
    # Both children are stopped on every way out: a normal end, an exception, SIGTERM or Ctrl-C.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    children = []
    try:
        emulator = subprocess.Popen(emulator_args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        children.append(emulator)
        url = emulator.stdout.readline().strip().split()[-1]
        env = dict(os.environ, S1_API_TOKEN="threatpipe-demo-token")
        run = subprocess.Popen([binary, "run", "--console-url", url, "--output", output, "--state", os.path.join(work, "state.json"),
                                "--since", "0s"] + run_args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.insert(0, run)
        if mode == "steady":
            time.sleep(size)
        else:
            deadline = time.time() + 180
            while time.time() < deadline:
                time.sleep(0.5)
                if os.path.exists(output) and sum(1 for _ in open(output)) >= size:
                    break
    finally:
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()
    appeared = {}
    for line in open(versions):
        parts = line.rstrip("\n").split("\t")
        if len(parts) >= 3 and parts[2] != "-":
            appeared[f"{parts[0]}:{parts[1]}"] = instant(parts[2])
    delays = []
    for line in open(output):
        meta = json.loads(line)["meta"]
        if meta["versionId"] in appeared:
            delays.append(instant(meta["exportedAt"]) - appeared.pop(meta["versionId"]))
    delays.sort()
    if not delays:
        print("p50 0 p99 0 max 0 count 0"); return
    pick = lambda q: delays[min(len(delays) - 1, int(q * len(delays)))]
    print(f"p50 {pick(0.5):.2f} p99 {pick(0.99):.2f} max {delays[-1]:.2f} count {len(delays)} undelivered {len(appeared)}")

main()
