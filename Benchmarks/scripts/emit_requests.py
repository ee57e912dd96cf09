"""Requests per delivered version: `run --emit changes` vs `--emit all` against a live console where most updates
touch no tracked field.

  emit_requests.py BIN SECONDS

For each mode, a fresh emulator (30 threats, 20 ms latency, 10 updates a second, the same seed; a live threat's
versions 2–4 change a tracked field, every later one does not) and one `run --interval 2s` from the beginning of
time, for SECONDS; the run's own metrics (`--metrics-listen`) say the enrichment requests (analysis and events) and
the versions acknowledged by change kind. Prints one line per mode:

  MODE versions V unchanged U enrichment_requests E requests_per_version X
"""
import os, re, signal, socket, subprocess, sys, tempfile, time, urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def scrape(port):
    text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    values = {}
    for line in text.splitlines():
        match = re.match(r'^(\w+)(\{[^}]*\})?\s+([0-9.e+-]+)$', line)
        if match:
            values[(match.group(1), match.group(2) or "")] = float(match.group(3))
    return values


def one(binary, mode, seconds, work):
    emulator = subprocess.Popen(
        [binary, "emulator", "--threats", "30", "--latency-ms", "20", "--update-per-second", "10", "--seed", "7",
         "--live-seconds", str(seconds + 30)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    run = None
    try:
        url = emulator.stdout.readline().strip().split()[-1]
        port = free_port()
        env = dict(os.environ, S1_API_TOKEN="threatpipe-demo-token")
        run = subprocess.Popen(
            [binary, "run", "--console-url", url, "--output", os.devnull, "--state", os.path.join(work, f"{mode}.json"),
             "--since", "2000-01-01T00:00:00Z", "--interval", "2s", "--emit", mode, "--metrics-listen", f"127.0.0.1:{port}"],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(seconds)
        values = scrape(port)
    finally:
        for child in (run, emulator):
            if child is not None:
                child.send_signal(signal.SIGTERM)
                try:
                    child.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    child.kill()
    enrichment = sum(v for (name, labels), v in values.items()
                     if name == "threatpipe_api_requests_total" and ('endpoint="analysis"' in labels or 'endpoint="events"' in labels))
    versions = sum(v for (name, _), v in values.items() if name == "threatpipe_changes_total")
    unchanged = sum(v for (name, labels), v in values.items() if name == "threatpipe_changes_total" and 'kind="unchanged"' in labels)
    print(f"{mode} versions {versions:.0f} unchanged {unchanged:.0f} enrichment_requests {enrichment:.0f} "
          f"requests_per_version {enrichment / max(versions, 1):.3f}", flush=True)


def main():
    binary, seconds = sys.argv[1], int(sys.argv[2])
    work = tempfile.mkdtemp()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    for mode in ("changes", "all"):
        one(binary, mode, seconds, work)


if __name__ == "__main__":
    main()
