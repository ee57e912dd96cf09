"""One pass of `threatpipe run`: starts it, waits for its first "poll done" line, and stops it (SIGTERM).

  run_pass.py BIN URL STATE_PATH [run options…]

Prints one line: `SECONDS PEAK_KIB STATE_MS STATE_ENTRIES` — the time from the start to the end of the first poll
(every listed threat delivered), the process's peak RSS by then (VmHWM), and what opening the threat state took
(the "threat state opened" line: restore time and entries; -1 when changes are off)."""
import os, re, signal, subprocess, sys, time

def main():
    binary, url, state = sys.argv[1], sys.argv[2], sys.argv[3]
    arguments = [binary, "run", "--console-url", url, "--since", "2000-01-01T00:00:00Z", "--interval", "1h", "--rate-limit", "0",
                 "--state", state, "--log-format", "logfmt"] + sys.argv[4:]
    env = dict(os.environ, S1_API_TOKEN="threatpipe-demo-token")
    began = time.monotonic()
    run = subprocess.Popen(arguments, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    signal.signal(signal.SIGTERM, lambda *_: (run.kill(), sys.exit(143)))
    state_ms, entries, seconds, peak = -1, -1, None, 0
    try:
        for line in run.stderr:
            opened = re.search(r'msg="threat state opened".*entries=(\d+).*took_ms=(\d+)', line)
            if opened:
                entries, state_ms = int(opened.group(1)), int(opened.group(2))
            if 'msg="poll done"' in line:
                seconds = time.monotonic() - began
                with open(f"/proc/{run.pid}/status") as status:
                    peak = int(next(l for l in status if l.startswith("VmHWM:")).split()[1])
                break
            if "level=error" in line or line.startswith("threatpipe: error"):
                sys.stderr.write(line)
    finally:
        run.send_signal(signal.SIGTERM)
        run.communicate(timeout=120)
    if seconds is None:
        sys.exit(f"run_pass: no poll completed (exit {run.returncode})")
    print(f"{seconds:.2f} {peak} {state_ms} {entries}")

main()
