#!/usr/bin/env python3
"""Writes the transform benchmark's inputs, built from the real captures in the test fixtures: a 1000-threat list
page (each threat the captured analysis object, ~5 KB, with its own id and updatedAt), one analysis answer (~5 KB)
and one explore-events answer with the two captured events (~4.5 KB).

Usage: transform_inputs.py OUTPUT_DIR
"""
import json
import os
import sys

root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
fixtures = os.path.join(root, "Tests", "SentinelOneTests", "Fixtures")
out = sys.argv[1]
os.makedirs(out, exist_ok=True)
with open(os.path.join(fixtures, "analysis-capture.json")) as handle:
    analysis = json.load(handle)["data"]
with open(os.path.join(fixtures, "explore-events-capture.json")) as handle:
    events = json.load(handle)["data"]

threats = []
for index in range(1000):
    threat = {"id": str(1311010474425970168 + index)}
    threat.update(json.loads(json.dumps(analysis)))
    threat["threatInfo"]["threatId"] = threat["id"]
    threat["threatInfo"]["updatedAt"] = "2021-12-14T20:%02d:%02d.481644Z" % (index // 60 % 60, index % 60)
    threats.append(threat)
documents = {
    "page.json": {"pagination": {"nextCursor": None, "totalItems": 1000}, "data": threats},
    "analysis.json": {"data": analysis},
    "events.json": {"pagination": {"nextCursor": None, "totalItems": None}, "data": events},
}
for name, document in documents.items():
    with open(os.path.join(out, name), "w") as handle:
        json.dump(document, handle, separators=(",", ":"))
print(f"threat {len(json.dumps(threats[0], separators=(',', ':')))} B, analysis "
      f"{len(json.dumps(analysis, separators=(',', ':')))} B, 2 events {len(json.dumps(events, separators=(',', ':')))} B")
