"""config/grafana: a valid dashboard that queries only counsel_ metrics this code exports."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from counsel_bot.core.clock import FakeClock
from counsel_bot.core.routing import RouterSnapshot
from counsel_bot.metrics import CounselMetrics

GRAFANA = Path(__file__).resolve().parents[2] / "config" / "grafana"
# A metric selector: a name followed by a label matcher, a range, or a closing parenthesis.
_SELECTOR = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*(?=[{\[)])")
_FUNCTIONS = {"sum", "max", "rate", "increase", "histogram_quantile"}
_GROUPING = re.compile(r"\bby\s*\([^)]*\)")


def exported_names() -> set[str]:
    metrics = CounselMetrics(FakeClock(datetime(2026, 3, 2, tzinfo=UTC)))
    metrics.refresh_from_snapshot(RouterSnapshot(), {}, datetime(2026, 3, 2, tzinfo=UTC))
    return {
        s.name
        for f in text_string_to_metric_families(metrics.render().decode())
        for s in f.samples
    } | {"counsel_open_conversations"}  # has no series until someone holds a conversation


def panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for panel in dashboard["panels"]:
        out.append(panel)
        out.extend(panel.get("panels", []))
    return out


def test_dashboard_queries_only_counsel_metrics() -> None:
    dashboard = json.loads((GRAFANA / "counsel-dashboard.json").read_text(encoding="utf-8"))
    assert dashboard["title"]
    assert dashboard["uid"]
    assert dashboard["schemaVersion"] >= 30
    names = exported_names()
    exprs = [t["expr"] for p in panels(dashboard) for t in p.get("targets", [])]
    assert len(exprs) >= 15
    ids = [p["id"] for p in panels(dashboard)]
    assert len(ids) == len(set(ids))
    used: set[str] = set()
    for expr in exprs:
        selectors = _SELECTOR.findall(_GROUPING.sub("", expr))
        metrics = [m for m in selectors if m not in _FUNCTIONS]
        assert metrics, expr
        for metric in metrics:
            assert metric in names, (metric, expr)
        used.update(metrics)
    # Every metric the issue lists is on the dashboard.
    for family in ("queue_length", "wait_to_assignment_seconds_bucket",
                   "first_reply_seconds_bucket", "open_conversations", "counsellors_on_duty",
                   "crisis_flags_total", "crisis_reviews_total", "escalations_total",
                   "mail_deadline_breaches_total", "conversations_closed_total",
                   "feedback_total"):
        assert f"counsel_{family}" in used, family


def test_prometheus_example_scrapes_with_a_bearer_token_file() -> None:
    config = yaml.safe_load((GRAFANA / "prometheus.yml").read_text(encoding="utf-8"))
    (job,) = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    assert job["authorization"]["credentials_file"]
    assert job["static_configs"][0]["targets"] == ["127.0.0.1:9464"]
