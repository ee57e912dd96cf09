#!/usr/bin/env python3
"""Reads a topic's raw record batches (Fetch v4, read_uncommitted) and tells every record's transaction outcome from
the broker's own control batches (the commit and abort markers), for the tests.

Usage: kafka_batches.py HOST:PORT TOPIC PARTITIONS

Prints one JSON object a record, in offset order per partition:
  {"partition": P, "offset": O, "state": S, "producerId": N, "producerEpoch": E, "key": "...", "value": "..."}
where S is "committed" or "aborted" (a later marker of the record's producer said so), "open" (a transactional
record with no marker after it yet) or "plain" (written outside a transaction). Markers themselves are not printed.
Key and value are decoded as UTF-8 (the records are JSON). Compressed batches (gzip, lz4) are read too.
"""
import gzip
import json
import socket
import struct
import sys

import lz4.frame

FETCH = 1


class Connection:
    def __init__(self, address):
        host, port = address.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=30)
        self.correlation = 0

    def request(self, api_key, version, body):
        self.correlation += 1
        client = b"threatpipe-tests"
        header = struct.pack(">hhih", api_key, version, self.correlation, len(client)) + client
        frame = header + body
        self.sock.sendall(struct.pack(">i", len(frame)) + frame)
        size = struct.unpack(">i", self.read(4))[0]
        answer = self.read(size)
        if struct.unpack_from(">i", answer, 0)[0] != self.correlation:
            raise RuntimeError("answer to another request")
        return answer[4:]

    def read(self, count):
        data = bytearray()
        while len(data) < count:
            chunk = self.sock.recv(count - len(data))
            if not chunk:
                raise RuntimeError("the broker closed the connection")
            data += chunk
        return bytes(data)


class Reader:
    def __init__(self, data, at=0):
        self.data, self.at = data, at

    def take(self, fmt):
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values if len(values) > 1 else values[0]

    def string(self):
        size = self.take(">h")
        if size < 0:
            return None
        value = self.data[self.at:self.at + size].decode()
        self.at += size
        return value

    def varint(self):
        value, shift = 0, 0
        while True:
            byte = self.data[self.at]
            self.at += 1
            value |= (byte & 0x7F) << shift
            if byte < 0x80:
                return (value >> 1) ^ -(value & 1)
            shift += 7

    def varbytes(self):
        size = self.varint()
        if size < 0:
            return None
        value = self.data[self.at:self.at + size]
        self.at += size
        return value


def fetch(connection, topic, partition, offset):
    """One Fetch v4 (read_uncommitted): (error code, high watermark, the records bytes)."""
    name = topic.encode()
    body = struct.pack(">iiiib", -1, 500, 1, 64 << 20, 0)
    body += struct.pack(">ih", 1, len(name)) + name
    body += struct.pack(">iiqi", 1, partition, offset, 64 << 20)
    reader = Reader(connection.request(FETCH, 4, body))
    reader.take(">i")  # throttle time
    for _ in range(reader.take(">i")):
        reader.string()
        for _ in range(reader.take(">i")):
            _, error, high_watermark, _ = reader.take(">ihqq")
            aborted = reader.take(">i")
            reader.at += max(aborted, 0) * 16
            size = reader.take(">i")
            records = reader.data[reader.at:reader.at + max(size, 0)]
            reader.at += max(size, 0)
            return error, high_watermark, records
    raise RuntimeError("no partition in the fetch answer")


def batches(records):
    """Each whole record batch: (base offset, last offset, attributes, producer id, producer epoch, [(key, value)])."""
    at = 0
    while at + 12 <= len(records):
        base_offset, length = struct.unpack_from(">qi", records, at)
        end = at + 12 + length
        if end > len(records):
            return  # a partial batch at the end of the answer
        reader = Reader(records, at + 12)
        _, magic, _, attributes, last_delta, _, _, producer_id, epoch, _, count = reader.take(">ibIhiqqqhii")
        if magic != 2:
            raise RuntimeError(f"record batch of magic {magic}")
        payload = records[reader.at:end]
        codec = attributes & 0x07
        if codec == 1:
            payload = gzip.decompress(payload)
        elif codec == 3:
            payload = lz4.frame.decompress(payload)
        elif codec != 0:
            raise RuntimeError(f"compression codec {codec} not read here")
        inner = Reader(payload)
        entries = []
        for _ in range(count):
            inner.varint()  # length
            inner.take(">b")
            inner.varint()  # timestamp delta
            inner.varint()  # offset delta
            key = inner.varbytes()
            value = inner.varbytes()
            for _ in range(inner.varint()):
                inner.varbytes()
                inner.varbytes()
            entries.append((key, value))
        yield base_offset, base_offset + last_delta, attributes, producer_id, epoch, entries
        at = end


def read_partition(connection, topic, partition):
    offset, pending, out = 0, {}, []
    while True:
        error, high_watermark, records = fetch(connection, topic, partition, offset)
        if error != 0:
            raise RuntimeError(f"fetch of {topic}/{partition} answered error {error}")
        progressed = False
        for base, last, attributes, producer_id, epoch, entries in batches(records):
            progressed = True
            offset = last + 1
            transactional, control = bool(attributes & 0x10), bool(attributes & 0x20)
            if control:
                marker = struct.unpack_from(">hh", entries[0][0], 0)[1] if entries and entries[0][0] else None
                state = {0: "aborted", 1: "committed"}.get(marker)
                for record in pending.pop(producer_id, []):
                    record["state"] = state or f"marker {marker}"
                continue
            for index, (key, value) in enumerate(entries):
                record = {
                    "partition": partition, "offset": base + index,
                    "state": "open" if transactional else "plain", "producerId": producer_id,
                    "producerEpoch": epoch,
                    "key": key.decode() if key is not None else None,
                    "value": value.decode() if value is not None else None,
                }
                out.append(record)
                if transactional:
                    pending.setdefault(producer_id, []).append(record)
        if offset >= high_watermark or not progressed:
            return out


def main():
    address, topic, partitions = sys.argv[1], sys.argv[2], int(sys.argv[3])
    connection = Connection(address)
    for partition in range(partitions):
        for record in read_partition(connection, topic, partition):
            print(json.dumps(record))


if __name__ == "__main__":
    main()
