"""deploy/prometheus and deploy/grafana: valid rules that fire when they should, a dashboard
whose every query is valid PromQL, and no name a worker does not expose."""

import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from prometheus_client import CollectorRegistry

from agents.runtime.flows import DEFAULT_SLAS, FlowTimer, register_objectives
from agents.runtime.metrics import AgentMetrics
from app.metrics import Metrics

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
RULES = DEPLOY / "prometheus" / "alerts.yml"
DASHBOARD = DEPLOY / "grafana" / "distgate.json"
SUFFIXES = ("", "_total", "_bucket", "_count", "_sum", "_info")


def promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    found = shutil.which("promtool")
    assert found, "promtool is missing: scripts/ensure-test-tools installs it"
    return subprocess.run([found, *args], cwd=cwd, capture_output=True, text=True, check=False)


def test_the_alert_rules_are_valid() -> None:
    result = promtool("check", "rules", RULES.name, cwd=RULES.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_alerts_fire_when_they_should_and_only_then() -> None:
    result = promtool("test", "rules", "alerts.test.yml", cwd=RULES.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def _dashboard_exprs() -> list[str]:
    panels = json.loads(DASHBOARD.read_text())["panels"]
    return [target["expr"] for panel in panels for target in panel["targets"]]


def test_every_dashboard_query_is_valid_promql(tmp_path: Path) -> None:
    # Given each query as a recording rule (Grafana's $variables filled in)
    rules = [
        {"record": f"dashboard:query_{n}", "expr": expr.replace("$job", "distgate")}
        for n, expr in enumerate(_dashboard_exprs())
    ]
    (tmp_path / "dashboard.yml").write_text(
        yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]})
    )
    # Then promtool parses every one
    result = promtool("check", "rules", "dashboard.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def _exposed() -> set[str]:
    api, agents = Metrics().registry, AgentMetrics(CollectorRegistry()).registry
    register_objectives(api, DEFAULT_SLAS)
    FlowTimer(agents, DEFAULT_SLAS)
    registries = [api, agents]
    names = {family.name for registry in registries for family in registry.collect()}
    return {name + suffix for name in names for suffix in SUFFIXES}


@pytest.mark.parametrize("source", [RULES, DASHBOARD], ids=lambda path: path.name)
def test_every_distgate_series_they_use_is_one_a_worker_exposes(source: Path) -> None:
    used = set(re.findall(r"\b(?:distgate|process)_[a-z_]+", source.read_text()))
    used -= {name for name in used if name.startswith("distgate_") and name.endswith("_")}
    assert used - _exposed() == set()
