#!/usr/bin/env python3
"""Writes deploy/grafana/threatpipe.json, the Grafana dashboard, and deploy/kubernetes/prometheusrule.yaml, the alert
rules of deploy/prometheus/threatpipe-rules.yaml for the Prometheus operator. Run from the repository's root after
changing either:

    python3 deploy/grafana/generate.py

The end-to-end monitoring test evaluates every panel's query against a real Prometheus scraping real runs, and
checks that the two files are what this script writes.
"""
import json
import sys

import yaml

DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}
SELECTOR = 'job="threatpipe", instance=~"$instance"'


def sel(extra=""):
    return "{" + SELECTOR + (", " + extra if extra else "") + "}"


S429 = sel('status="429"')
S5XX = sel('status=~"5.."')
SSHARD = sel('shard!=""')

# (row title, [(panel title, unit, [(expr, legend)], description)])
ROWS = [
    ("Throughput", [
        ("Records written per second, by sink", "ops",
         [(f"sum by (sink) (rate(threatpipe_records_emitted_total{sel()}[$__rate_interval]))", "{{sink}}")],
         "Records each sink took (acknowledgement may come later)."),
        ("Threats fetched per second", "ops",
         [(f"sum by (instance) (rate(threatpipe_threats_fetched_total{sel()}[$__rate_interval]))", "{{instance}}")],
         "Threats listed by the console and sent on to enrichment."),
        ("Enrichment failures per second", "ops",
         [(f"sum by (part, kind) (rate(threatpipe_enrichment_failures_total{sel()}[$__rate_interval]))", "{{part}} {{kind}}")],
         "Analyses or explore-event lists not found (deleted threats) or failed after their retries."),
    ]),
    ("Console", [
        ("Requests per second, by endpoint and status", "reqps",
         [(f"sum by (endpoint, status) (rate(threatpipe_api_requests_total{sel()}[$__rate_interval]))", "{{endpoint}} {{status}}")],
         "Answers of the console's API, by endpoint and HTTP status (error: none came)."),
        ("429 and 5xx share of answers", "percentunit",
         [(f'sum by (instance) (rate(threatpipe_api_requests_total{S429}[$__rate_interval])) '
           f"/ sum by (instance) (rate(threatpipe_api_requests_total{sel()}[$__rate_interval]))", "429 {{instance}}"),
          (f'sum by (instance) (rate(threatpipe_api_requests_total{S5XX}[$__rate_interval])) '
           f"/ sum by (instance) (rate(threatpipe_api_requests_total{sel()}[$__rate_interval]))", "5xx {{instance}}")],
         "Throttled and failed answers; alert ThreatpipeConsoleThrottling at 5% of 429s."),
        ("Adaptive rate limit now", "reqps",
         [(f"threatpipe_rate_limit_current{sel()}", "{{instance}}")],
         "--rate-limit auto: the requests per second the adaptive limiter allows now."),
        ("Time waiting for the rate limiter", "s",
         [(f"sum by (instance) (rate(threatpipe_rate_limit_wait_seconds_total{sel()}[$__rate_interval]))", "{{instance}}")],
         "Seconds per second requests spent waiting for a token (can exceed 1 with concurrent requests)."),
        ("Retries per second", "ops",
         [(f"sum by (endpoint) (rate(threatpipe_api_retries_total{sel()}[$__rate_interval]))", "{{endpoint}}")],
         "Requests retried after a 429, a 5xx or a timeout."),
    ]),
    ("Delivery", [
        ("Checkpoint lag", "s",
         [(f"threatpipe_checkpoint_lag_seconds{sel()}", "{{instance}} {{shard}}")],
         "run: now minus the checkpoint's updatedAt — how old the newest delivered version is (grows while the console is quiet)."),
        ("Records in flight", "short",
         [(f"threatpipe_records_in_flight{sel()}", "{{instance}}"),
          (f"sum by (instance) (threatpipe_queue_depth{sel()})", "queued {{instance}}")],
         "Fetched and not yet acknowledged by every sink; of them, waiting in the bounded channels."),
        ("Kafka delivery latency", "s",
         [(f"histogram_quantile(0.5, sum by (le) (rate(threatpipe_kafka_delivery_seconds_bucket{sel()}[$__rate_interval])))", "p50"),
          (f"histogram_quantile(0.99, sum by (le) (rate(threatpipe_kafka_delivery_seconds_bucket{sel()}[$__rate_interval])))", "p99")],
         "Produce to delivery report, as librdkafka measures it."),
        ("Kafka messages awaiting their report", "short",
         [(f"threatpipe_kafka_in_flight{sel()}", "{{instance}}")],
         "Messages produced and not yet reported delivered or failed."),
        ("Transactions per second, by outcome", "ops",
         [(f"sum by (outcome) (rate(threatpipe_transactions_total{sel()}[$__rate_interval]))", "{{outcome}}")],
         "--delivery exactly-once: committed, aborted, failed, fenced."),
        ("Dead letters in the last hour", "short",
         [(f"sum by (sink, reason) (increase(threatpipe_dead_letters_total{sel()}[1h]))", "{{sink}} {{reason}}")],
         "Records a sink rejected for good, set aside in the --dead-letter file."),
        ("Checkpoint saves per second", "ops",
         [(f"sum by (store) (rate(threatpipe_checkpoint_saves_total{sel()}[$__rate_interval]))", "{{store}}")],
         "At least once: saves of the checkpoint as it moves (exactly once, it is committed in each transaction)."),
        ("Versions per second, by change", "ops",
         [(f"sum by (kind) (rate(threatpipe_changes_total{sel()}[$__rate_interval]))", "{{kind}}"),
          (f"sum by (field) (rate(threatpipe_changed_fields_total{sel()}[$__rate_interval]))", "{{field}}")],
         "run: acknowledged versions by meta.change kind (new, changed, unchanged, unknown), and the tracked fields that changed."),
    ]),
    ("Groups", [
        ("Shards held per process", "short",
         [(f"threatpipe_shards_assigned{sel()}", "{{instance}}")],
         "run --group: the shards each process runs now."),
        ("Rebalances in the last hour", "short",
         [(f"sum by (instance) (increase(threatpipe_rebalances_total{sel()}[1h]))", "{{instance}}")],
         "Changes of each process's assignment."),
        ("Failing shards", "short",
         [(f'sum by (instance) (threatpipe_consecutive_failures{SSHARD} >= bool 3)', "{{instance}}")],
         "Shards that failed three times or more in a row (alert ThreatpipeShardFailing)."),
    ]),
    ("Freshness", [
        ("Polls per second, by outcome", "ops",
         [(f"sum by (instance, outcome) (rate(threatpipe_polls_total{sel()}[$__rate_interval]))", "{{instance}} {{outcome}}")],
         "run: polls that succeeded or failed."),
        ("Consecutive failures", "short",
         [(f"max by (instance) (threatpipe_consecutive_failures{sel()})", "{{instance}}")],
         "Polls (or a shard's runs) failed in a row; 0 once one succeeds."),
        ("Scrape up", "short",
         [(f"up{sel()}", "{{instance}}")],
         "1 while Prometheus reaches the process's /metrics."),
    ]),
]


def dashboard():
    panels = []
    y = 0
    next_id = 1
    for title, row in ROWS:
        panels.append({"type": "row", "title": title, "id": next_id, "collapsed": False, "panels": [],
                       "gridPos": {"h": 1, "w": 24, "x": 0, "y": y}})
        next_id += 1
        y += 1
        for index, (panel_title, unit, targets, description) in enumerate(row):
            panels.append({
                "type": "timeseries",
                "id": next_id,
                "title": panel_title,
                "description": description,
                "datasource": DATASOURCE,
                "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
                "options": {"legend": {"displayMode": "list", "placement": "bottom"}, "tooltip": {"mode": "multi"}},
                "targets": [{"datasource": DATASOURCE, "expr": expr, "legendFormat": legend, "refId": chr(ord("A") + n)}
                            for n, (expr, legend) in enumerate(targets)],
                "gridPos": {"h": 8, "w": 8, "x": (index % 3) * 8, "y": y + (index // 3) * 8},
            })
            next_id += 1
        y += ((len(row) + 2) // 3) * 8
    return {
        "__inputs": [{"name": "DS_PROMETHEUS", "label": "Prometheus", "description": "", "type": "datasource",
                      "pluginId": "prometheus", "pluginName": "Prometheus"}],
        "__requires": [
            {"type": "grafana", "id": "grafana", "name": "Grafana", "version": "9.0.0"},
            {"type": "datasource", "id": "prometheus", "name": "Prometheus", "version": "1.0.0"},
            {"type": "panel", "id": "timeseries", "name": "Time series", "version": ""},
        ],
        "title": "threatpipe",
        "uid": "threatpipe",
        "description": "SentinelOne threats to Kafka, NDJSON and stdout: throughput, the console, delivery, groups, freshness.",
        "tags": ["threatpipe", "sentinelone", "kafka"],
        "editable": True,
        "schemaVersion": 38,
        "version": 1,
        "refresh": "30s",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{
            "name": "instance", "label": "Instance", "type": "query", "datasource": DATASOURCE,
            "query": {"query": 'label_values(up{job="threatpipe"}, instance)', "refId": "instance"},
            "definition": 'label_values(up{job="threatpipe"}, instance)',
            "includeAll": True, "multi": True, "allValue": ".*", "refresh": 2, "sort": 1,
            "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        }]},
        "annotations": {"list": []},
        "panels": panels,
    }


def prometheus_rule(rules_path="deploy/prometheus/threatpipe-rules.yaml"):
    with open(rules_path) as source:
        rules = yaml.safe_load(source)
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "threatpipe", "labels": {"app.kubernetes.io/name": "threatpipe", "release": "prometheus"}},
        "spec": {"groups": rules["groups"]},
    }


def outputs():
    return {
        "deploy/grafana/threatpipe.json": json.dumps(dashboard(), indent=2) + "\n",
        "deploy/kubernetes/prometheusrule.yaml":
            "# Generated by deploy/grafana/generate.py from deploy/prometheus/threatpipe-rules.yaml; do not edit.\n"
            + yaml.safe_dump(prometheus_rule(), sort_keys=False, width=120),
    }


if __name__ == "__main__":
    stale = []
    for path, text in outputs().items():
        if "--check" in sys.argv:
            with open(path) as current:
                if current.read() != text:
                    stale.append(path)
        else:
            with open(path, "w") as out:
                out.write(text)
    if stale:
        sys.exit("stale (run python3 deploy/grafana/generate.py): " + ", ".join(stale))
