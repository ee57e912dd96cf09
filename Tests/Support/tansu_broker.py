#!/usr/bin/env python3
"""Starts Tansu (an independent Kafka broker, in memory) on loopback behind a small Kafka-aware proxy, for the tests.

Usage: tansu_broker.py TANSU_BINARY [NAME:PARTITIONS ...]

The proxy changes one thing: ApiVersions answers of version 3 and later lose their tagged fields. Debian's
librdkafka 2.0.2 skips tagged fields one byte short (librdkafka #4278, fixed in 2.1.2) and cannot read Tansu's
ApiVersions answer, which carries default-valued tagged fields; without them it reads the answer as Apache Kafka's.
Every other byte passes through unchanged, so everything else the tests see is Tansu's own.

Prints "bootstrap 127.0.0.1:PORT direct 127.0.0.1:PORT" once the broker answers and the topics exist: the proxy's
address, then Tansu's own (what an unpatched client cannot read). Then reads commands, one a line, on
standard input and answers each on standard output once done:
  cut              close every connection and refuse new ones (an outage: Tansu in memory loses its data when
                   restarted, so an outage is a cut, not a restart) -> "cut"
  restore          accept connections again -> "restored"
  topic NAME N [KEY=VALUE ...]
                   create a topic of N partitions, with those topic configurations -> "created NAME"
  hold API SECONDS EVERY
                   hold back every EVERY-th answer to the Kafka API numbered API (0 Produce, 22 InitProducerId,
                   26 EndTxn) for SECONDS: the broker has acted on the request, the client waits past its timeout
                   (answers after it on the same connection wait too, as they would behind a slow broker);
                   EVERY 0 stops holding -> "holding API"
  drop API COUNT   the next COUNT requests of API reach the broker, then their connection is closed before the
                   answer (a connection cut in the middle of a request the broker acted on) -> "dropping API"
End of standard input stops the broker and the proxy, and so does the end of the process that started it.
"""
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

API_VERSIONS = 18


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def read_exact(sock, count):
    data = bytearray()
    while len(data) < count:
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    return bytes(data)


def read_uvarint(data, at):
    value, shift = 0, 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def skip_tagged_fields(data, at):
    count, at = read_uvarint(data, at)
    for _ in range(count):
        _, at = read_uvarint(data, at)
        size, at = read_uvarint(data, at)
        at += size
    return at


def without_tagged_fields(body):
    """An ApiVersions v3+ response body (after the correlation id) with every tagged-field section emptied."""
    error_code = struct.unpack_from(">h", body, 0)[0]
    if error_code != 0:
        return body
    at = 2
    count, at = read_uvarint(body, at)
    out = bytearray(body[:at])
    for _ in range(max(count - 1, 0)):
        out += body[at:at + 6]  # api key, min and max version
        at = skip_tagged_fields(body, at + 6)
        out += b"\x00"
    out += body[at:at + 4]  # throttle time
    skip_tagged_fields(body, at + 4)
    out += b"\x00"
    return bytes(out)


class Proxy:
    def __init__(self, upstream_port):
        self.upstream_port = upstream_port
        self.listener = socket.socket()
        self.listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.listener.bind(("127.0.0.1", 0))
        self.listener.listen(128)
        self.port = self.listener.getsockname()[1]
        self.lock = threading.Lock()
        self.connections = set()
        self.cut = False
        # API key -> [seconds, every, answers seen]: answers held back (see "hold").
        self.holds = {}
        # API key -> requests left whose connection is closed instead of answered (see "drop").
        self.drops = {}

    def serve(self):
        while True:
            client, _ = self.listener.accept()
            with self.lock:
                if self.cut:
                    client.close()
                    continue
                try:
                    upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
                except OSError:
                    client.close()
                    continue
                pair = (client, upstream)
                self.connections.add(pair)
            versions, apis = {}, {}
            threading.Thread(target=self.requests, args=(pair, versions, apis), daemon=True).start()
            threading.Thread(target=self.responses, args=(pair, versions, apis), daemon=True).start()

    def close(self, pair):
        with self.lock:
            self.connections.discard(pair)
        for sock in pair:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def requests(self, pair, versions, apis):
        client, upstream = pair
        try:
            while True:
                size = read_exact(client, 4)
                frame = size and read_exact(client, struct.unpack(">i", size)[0])
                if not frame:
                    break
                api_key, api_version, correlation = struct.unpack_from(">hhi", frame, 0)
                if api_key == API_VERSIONS and api_version >= 3:
                    versions[correlation] = api_version
                apis[correlation] = api_key
                upstream.sendall(size + frame)
        except OSError:
            pass
        self.close(pair)

    def fault_for(self, api_key):
        """What to do with an answer to `api_key`: ("drop",), ("hold", seconds) or None."""
        with self.lock:
            if self.drops.get(api_key, 0) > 0:
                self.drops[api_key] -= 1
                return ("drop",)
            hold = self.holds.get(api_key)
            if hold and hold[1] > 0:
                hold[2] += 1
                if hold[2] % hold[1] == 0:
                    return ("hold", hold[0])
        return None

    def responses(self, pair, versions, apis):
        client, upstream = pair
        try:
            while True:
                size = read_exact(upstream, 4)
                frame = size and read_exact(upstream, struct.unpack(">i", size)[0])
                if not frame:
                    break
                correlation = struct.unpack_from(">i", frame, 0)[0]
                if versions.pop(correlation, None) is not None:
                    frame = frame[:4] + without_tagged_fields(frame[4:])
                fault = self.fault_for(apis.pop(correlation, None))
                if fault and fault[0] == "drop":
                    break
                if fault and fault[0] == "hold":
                    time.sleep(fault[1])
                client.sendall(struct.pack(">i", len(frame)) + frame)
        except OSError:
            pass
        self.close(pair)

    def set_cut(self, cut):
        with self.lock:
            self.cut = cut
            pairs = list(self.connections) if cut else []
        for pair in pairs:
            self.close(pair)


def wait_until_listening(port, broker, seconds=30):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if broker.poll() is not None:
            sys.exit(f"tansu exited {broker.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit("tansu did not listen within 30 s")


def create_topic(tansu, port, name, partitions, configs=()):
    settings = [argument for config in configs for argument in ("--config", config)]
    subprocess.run(
        [tansu, "topic", "create", "--broker", f"tcp://127.0.0.1:{port}", "--partitions", str(partitions), *settings, name],
        check=True, stdout=subprocess.DEVNULL, timeout=60,
    )


def stop_when_orphaned():
    parent = os.getppid()
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)


def main():
    tansu, topics = sys.argv[1], sys.argv[2:]
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    threading.Thread(target=stop_when_orphaned, daemon=True).start()
    broker_port = free_port()
    proxy = Proxy(broker_port)
    broker = subprocess.Popen(
        [tansu, "broker", "--listener-url", f"tcp://127.0.0.1:{broker_port}",
         "--advertised-listener-url", f"tcp://127.0.0.1:{proxy.port}", "--storage-engine", "memory://tansu/"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        wait_until_listening(broker_port, broker)
        for topic in topics:
            name, partitions = topic.rsplit(":", 1)
            create_topic(tansu, broker_port, name, int(partitions))
        threading.Thread(target=proxy.serve, daemon=True).start()
        print(f"bootstrap 127.0.0.1:{proxy.port} direct 127.0.0.1:{broker_port}", flush=True)
        for line in sys.stdin:
            words = line.split()
            if words == ["cut"]:
                proxy.set_cut(True)
                print("cut", flush=True)
            elif words == ["restore"]:
                proxy.set_cut(False)
                print("restored", flush=True)
            elif len(words) == 4 and words[0] == "hold":
                with proxy.lock:
                    proxy.holds[int(words[1])] = [float(words[2]), int(words[3]), 0]
                print(f"holding {words[1]}", flush=True)
            elif len(words) == 3 and words[0] == "drop":
                with proxy.lock:
                    proxy.drops[int(words[1])] = int(words[2])
                print(f"dropping {words[1]}", flush=True)
            elif len(words) >= 3 and words[0] == "topic":
                create_topic(tansu, broker_port, words[1], int(words[2]), words[3:])
                print(f"created {words[1]}", flush=True)
            else:
                print(f"unknown command: {line.strip()}", flush=True)
    finally:
        broker.send_signal(signal.SIGTERM)
        try:
            broker.wait(timeout=10)
        except subprocess.TimeoutExpired:
            broker.kill()


if __name__ == "__main__":
    main()
