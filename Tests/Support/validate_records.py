#!/usr/bin/env python3
"""Validates every line of an NDJSON file against a JSON Schema (draft 2020-12).

Usage: validate_records.py SCHEMA NDJSON
Prints '<n> records valid' and exits 0, or prints the first errors and exits 1.
"""
import json
import sys

from jsonschema import Draft202012Validator, FormatChecker


def main() -> int:
    schema_path, records_path = sys.argv[1], sys.argv[2]
    with open(schema_path, encoding="utf-8") as handle:
        schema = json.load(handle)
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=FormatChecker())
    count = 0
    failures = 0
    with open(records_path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.endswith("\n"):
                print(f"line {number}: not newline-terminated")
                return 1
            record = json.loads(line)
            for error in validator.iter_errors(record):
                failures += 1
                if failures <= 5:
                    print(f"line {number}: {error.json_path}: {error.message[:300]}")
            count += 1
    if count == 0:
        print("no records")
        return 1
    if failures:
        print(f"{failures} errors in {count} records")
        return 1
    print(f"{count} records valid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
