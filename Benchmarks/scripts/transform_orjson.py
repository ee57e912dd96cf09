#!/usr/bin/env python3
"""The transform benchmark's baseline: the same work as threatpipe's TransformBenchmark, with orjson.

Per round: parse the 1000-threat page; for each threat parse the analysis and events answers, build the enriched
record (the same meta fields as threatpipe's raw format) and serialize it. Prints `records_per_second N`.

Usage: transform_orjson.py PAGE.json ANALYSIS.json EVENTS.json SECONDS
"""
import sys
import time
from datetime import datetime, timezone

import orjson

page_bytes, analysis_bytes, events_bytes = (open(path, "rb").read() for path in sys.argv[1:4])
seconds = float(sys.argv[4])
console = "https://usea1.sentinelone.net"
records = 0
output_bytes = 0
started = time.perf_counter()
while time.perf_counter() - started < seconds:
    page = orjson.loads(page_bytes)
    for threat in page["data"]:
        analysis = orjson.loads(analysis_bytes)["data"]
        events = orjson.loads(events_bytes)["data"]
        record = {
            "meta": {
                "schema": "threatpipe.enriched-threat.v1", "format": "raw", "threatId": threat["id"],
                "threatUpdatedAt": threat["threatInfo"].get("updatedAt"),
                "exportedAt": datetime.now(timezone.utc).isoformat(), "consoleUrl": console,
                "analysis": {"status": "fetched"},
                "events": {"status": "fetched", "count": len(events), "totalItems": None, "truncated": False},
            },
            "threat": threat, "analysis": analysis, "events": events,
        }
        output_bytes += len(orjson.dumps(record))
        records += 1
elapsed = time.perf_counter() - started
print(f"records_per_second {int(records / elapsed)} bytes_per_record {output_bytes // max(records, 1)}")
