#!/usr/bin/env python3
"""Validates threatpipe's ocsf and ecs records: against threatpipe's own JSON Schema for the format, against an
independent check of the standard, and for completeness against the raw records of the same threats.

Usage: validate_formats.py FORMAT SCHEMA NDJSON RAW_NDJSON
  ocsf: each record must load as py-ocsf-models' DetectionFinding (OCSF 1.5.0), and every leaf of the source threat
        must be either carried into the finding (its value appears in it) or present under unmapped.threat.
  ecs:  every field outside sentinel_one.* must be an ECS 8.11 field (Tests/Support/ecs_fields_8_11.tsv) with a
        value of its type and, where ECS restricts it, an allowed value; sentinel_one.threat must be the source
        threat unchanged.
Prints "ok N" or the problems, one per line, and exits 1 on any.
"""
import ipaddress
import json
import os
import sys
from datetime import datetime

import jsonschema


def leaves(value, path=()):
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from leaves(inner, path + (key,))
    elif isinstance(value, list):
        for index, inner in enumerate(value):
            yield from leaves(inner, path + (index,))
    else:
        yield path, value


def at(value, path):
    for key in path:
        if isinstance(value, dict) and isinstance(key, str) and key in value:
            value = value[key]
        elif isinstance(value, list) and isinstance(key, int) and key < len(value):
            value = value[key]
        else:
            return None, False
    return value, True


def check_ocsf(record, raw, problems):
    from py_ocsf_models.events.findings.detection_finding import DetectionFinding

    try:
        DetectionFinding.model_validate(record)
    except Exception as error:  # pydantic's ValidationError, reported whole
        problems.append(f"py-ocsf-models: {error}")
    if record.get("class_uid") != 2004 or record.get("category_uid") != 2:
        problems.append("not a Detection Finding")
    carried = {json.dumps(value) for _, value in leaves({k: v for k, v in record.items() if k != "unmapped"})}
    unmapped = record.get("unmapped", {}).get("threat", {})
    for path, value in leaves(raw["threat"]):
        if value is None or value == "" or value == [] or value == {}:
            continue
        kept, found = at(unmapped, path)
        if found and kept == value:
            continue
        if json.dumps(value) in carried:
            continue
        problems.append(f"source field {'.'.join(map(str, path))} is neither mapped nor under unmapped")


def ecs_fields():
    here = os.path.dirname(os.path.abspath(__file__))
    fields = {}
    with open(os.path.join(here, "ecs_fields_8_11.tsv")) as table:
        for line in table:
            if line.startswith("#") or not line.strip():
                continue
            name, kind, allowed = (line.rstrip("\n").split("\t") + [""])[:3]
            fields[name] = (kind, set(filter(None, allowed.split(","))))
    return fields


def ecs_type_matches(kind, value):
    if kind in ("keyword", "wildcard", "match_only_text", "text"):
        return isinstance(value, str)
    if kind == "long":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "boolean":
        return isinstance(value, bool)
    if kind == "date":
        try:
            datetime.fromisoformat(value.replace("Z", "+00:00"))
            return True
        except (AttributeError, ValueError):
            return False
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
            return True
        except ValueError:
            return False
    return False


def check_ecs(record, raw, fields, problems):
    def walk(value, path):
        if isinstance(value, dict):
            for key, inner in value.items():
                if not path and key == "sentinel_one":
                    continue
                walk(inner, path + [key])
            return
        name = ".".join(path)
        if name not in fields:
            problems.append(f"{name} is not an ECS 8.11 field")
            return
        kind, allowed = fields[name]
        for element in value if isinstance(value, list) else [value]:
            if not ecs_type_matches(kind, element):
                problems.append(f"{name}: {element!r} is not of ECS type {kind}")
            elif allowed and element not in allowed:
                problems.append(f"{name}: {element!r} is not an allowed value")

    walk(record, [])
    if record.get("sentinel_one", {}).get("threat") != raw["threat"]:
        problems.append("sentinel_one.threat differs from the source threat")
    if record.get("event", {}).get("kind") != "alert":
        problems.append("event.kind is not alert")


def main():
    fmt, schema_path, ndjson, raw_ndjson = sys.argv[1:5]
    with open(schema_path) as handle:
        validator = jsonschema.Draft202012Validator(json.load(handle))
    raws = {}
    with open(raw_ndjson) as handle:
        for line in handle:
            raw = json.loads(line)
            raws[raw["threat"]["id"]] = raw
    fields = ecs_fields() if fmt == "ecs" else None
    problems = []
    count = 0
    with open(ndjson) as handle:
        for number, line in enumerate(handle, 1):
            record = json.loads(line)
            count += 1
            before = len(problems)
            for error in validator.iter_errors(record):
                problems.append(f"schema: {'/'.join(map(str, error.absolute_path))}: {error.message[:200]}")
            threat_id = record["finding_info"]["uid"] if fmt == "ocsf" else record["event"]["id"]
            raw = raws.get(threat_id)
            if raw is None:
                problems.append(f"no raw record for threat {threat_id}")
            elif fmt == "ocsf":
                check_ocsf(record, raw, problems)
            else:
                check_ecs(record, raw, fields, problems)
            for index in range(before, len(problems)):
                problems[index] = f"line {number} (threat {threat_id}): {problems[index]}"
    if problems:
        print("\n".join(problems[:50]))
        sys.exit(1)
    print(f"ok {count}")


if __name__ == "__main__":
    main()
