"""The platform's alerts and dashboards (cluster/platform/observability) hold
to the code: every alert links a runbook that exists, every metric a rule or a
panel queries is one the code exports (or one of the few named below from
Prometheus and CloudNativePG), the server-fault codes are kit.status's own,
and every dashboard is valid JSON with unique panel ids.

PromQL is parsed with the `promql-parser` wheel (Prometheus's own grammar,
ported to Rust) where it is installed; elsewhere a tokenizer finds the metric
names, and where both are there a test holds the two to the same answer.
`promtool check rules` runs too when promtool is on the PATH."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
import yaml

from kit import status

ROOT = Path(__file__).resolve().parents[2]
OBSERVABILITY = ROOT / "cluster" / "platform" / "observability"
DASHBOARDS = OBSERVABILITY / "dashboards"
RUNBOOKS = ROOT / "docs" / "runbooks"
# The packages whose modules define metrics: the runtime, the services, the edge.
SOURCES = ("kit", "svc_user", "svc_catalog", "svc_stock", "svc_procure", "svc_order", "gateway")

# Metrics queried on purpose that the code does not define, each with why.
EXTERNAL = {
    # Prometheus's own series per scrape target: the only sign of a target that is gone.
    "up": "Prometheus",
    # CloudNativePG's instance exporter (Cluster.spec.monitoring, cluster/platform/data).
    "cnpg_pg_replication_lag": "CloudNativePG: seconds a standby is behind the primary",
    "cnpg_collector_last_available_backup_timestamp": "CloudNativePG: when the newest base backup ended",
    # Envoy's own statistics, from the edge's admin endpoint (the `prometheus.io/path` of
    # cluster/base/stockmesh/workloads/edge.yaml keeps only its listener's downstream ones).
    "envoy_http_downstream_rq_xx": "Envoy: the edge's answers by status class",
    "envoy_http_downstream_rq_time_bucket": "Envoy: the edge's request durations, in ms",
    "envoy_http_downstream_rq_active": "Envoy: the edge's requests in flight (streams included)",
}

# prometheus_client's exposed series per metric type (`_created` is left out:
# nothing should query a counter's creation time).
SUFFIXES = {
    "Counter": ("_total",),
    "Gauge": ("",),
    "Histogram": ("_bucket", "_count", "_sum"),
    "Summary": ("", "_count", "_sum"),
}

# Grafana's variables, replaced by something PromQL parses; the values do not matter.
GRAFANA_VARIABLES = (("$__rate_interval", "5m"), ("$__interval", "1m"), ("$__range", "1h"))


def _python_files() -> Iterator[Path]:
    for package in SOURCES:
        yield from (ROOT / package).rglob("*.py")


@cache
def exported_metrics() -> frozenset[str]:
    """Every series name the code's prometheus_client metrics expose, found by
    reading each `Counter("name", ...)`, `Histogram(...)` ... call."""
    found: set[str] = set()
    for path in _python_files():
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            kind = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            first = node.args[0]
            if kind in SUFFIXES and isinstance(first, ast.Constant) and isinstance(first.value, str):
                # prometheus_client drops a counter's own `_total` and adds it back on exposure.
                base = first.value.removesuffix("_total") if kind == "Counter" else first.value
                found.update(base + suffix for suffix in SUFFIXES[kind])
    return frozenset(found)


def rule_documents() -> list[dict[str, Any]]:
    path = OBSERVABILITY / "rules.yaml"
    return [d for d in yaml.safe_load_all(path.read_text()) if d and d.get("kind") == "PrometheusRule"]


def rules() -> list[dict[str, Any]]:
    return [rule for doc in rule_documents() for group in doc["spec"]["groups"] for rule in group["rules"]]


def alerts() -> list[dict[str, Any]]:
    return [rule for rule in rules() if "alert" in rule]


def dashboards() -> list[Path]:
    return sorted(DASHBOARDS.glob("*.json"))


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, rows' collapsed children included."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def dashboard_queries() -> Iterator[tuple[str, str]]:
    for path in dashboards():
        dashboard = json.loads(path.read_text())
        for panel in panels(dashboard):
            for target in panel.get("targets", []):
                yield f"{path.name} panel {panel['id']} {target.get('refId')}", target["expr"]
        for variable in dashboard.get("templating", {}).get("list", []):
            query = variable.get("query")
            text = query.get("query") if isinstance(query, dict) else None
            if variable.get("type") == "query" and text:
                # label_values(<selector>, label): the selector is PromQL.
                match = re.fullmatch(r"label_values\((.*),\s*\w+\)", text.strip())
                assert match, f"{path.name} variable {variable['name']}: unexpected query {text!r}"
                yield f"{path.name} variable {variable['name']}", match.group(1)


def all_queries() -> list[tuple[str, str]]:
    return [(f"rule {r.get('alert') or r.get('record')}", r["expr"]) for r in rules()] + list(
        dashboard_queries()
    )


def for_parser(expr: str) -> str:
    for variable, value in GRAFANA_VARIABLES:
        expr = expr.replace(variable, value)
    return expr


# --- metric names out of PromQL -------------------------------------------------------------

_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_LABEL_LISTS = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w:.])([a-zA-Z_:][\w:]*)(?!\w)(\s*\()?")
_KEYWORDS = {"and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "inf", "nan"}


def names_by_tokens(expr: str) -> set[str]:
    """Metric names by tokens: drop strings, label matchers, ranges and the label
    lists of by/on/..., then every identifier not called as a function is a metric."""
    text = _STRING.sub('""', expr)
    text = re.sub(r"\{[^}]*\}", " ", text)
    text = re.sub(r"\[[^\]]*\]", " ", text)
    text = _LABEL_LISTS.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, called = match.group(1), match.group(2)
        if not called and name.lower() not in _KEYWORDS:
            names.add(name)
    return names


def names_by_parser(expr: str) -> set[str]:
    """Metric names from Prometheus's grammar; a syntax error fails here."""
    import promql_parser

    names: set[str] = set()

    def visit(node: Any) -> bool:
        if isinstance(node, promql_parser.VectorSelector):
            if node.name:
                names.add(node.name)
            for matcher in node.matchers.matchers:
                if matcher.name == "__name__":
                    names.add(matcher.value)
        return True

    promql_parser.walk(promql_parser.parse(for_parser(expr)), visit)
    return names


def has_parser() -> bool:
    try:
        import promql_parser  # noqa: F401
    except ImportError:
        return False
    return True


def metric_names(expr: str) -> set[str]:
    return names_by_parser(expr) if has_parser() else names_by_tokens(expr)


# --- the tests -------------------------------------------------------------------------------


def test_the_code_exports_the_metrics_the_docs_name() -> None:
    # A scan that found nothing would let every name through.
    named = {"grpc_server_handled_total", "grpc_server_handling_seconds_bucket", "http_server_requests_total"}
    assert named <= exported_metrics()


def test_there_are_alerts_and_dashboards() -> None:
    assert alerts(), "rules.yaml defines no alert"
    assert dashboards(), "no dashboard JSON in cluster/platform/observability/dashboards"


@pytest.mark.parametrize("alert", alerts(), ids=lambda a: a["alert"])
def test_every_alert_links_its_runbook(alert: dict[str, Any]) -> None:
    url = alert.get("annotations", {}).get("runbook_url", "")
    assert url, f"{alert['alert']} has no runbook_url"
    expected = f"docs/runbooks/{alert['alert']}.md"
    assert url.endswith("/" + expected), f"{alert['alert']}: runbook_url {url!r} should end in {expected}"
    page = ROOT / expected
    assert page.is_file(), f"{alert['alert']}: {expected} does not exist"
    text = page.read_text()
    for heading in ("## What it means", "## How to check", "## How to fix", "## How to roll back"):
        assert heading in text, f"{expected} lacks the section {heading!r}"


def test_every_runbook_belongs_to_an_alert() -> None:
    named = {f"{a['alert']}.md" for a in alerts()}
    pages = {p.name for p in RUNBOOKS.glob("*.md")} - {"README.md"}
    assert pages <= named, f"runbooks without an alert: {sorted(pages - named)}"


@pytest.mark.parametrize(("where", "expr"), all_queries(), ids=[w for w, _ in all_queries()])
def test_every_queried_metric_is_exported(where: str, expr: str) -> None:
    recorded = {r["record"] for r in rules() if "record" in r}
    names = metric_names(expr)
    assert names, f"{where}: no metric found in {expr!r}"
    unknown = names - exported_metrics() - set(EXTERNAL) - recorded
    assert not unknown, f"{where} queries metrics nothing exports: {sorted(unknown)}"


@pytest.mark.parametrize(("where", "expr"), all_queries(), ids=[w for w, _ in all_queries()])
def test_the_tokenizer_finds_what_the_parser_finds(where: str, expr: str) -> None:
    # The fallback used where promql-parser is missing must not miss a name.
    assert names_by_tokens(expr) == names_by_parser(expr), where


def test_server_fault_codes_are_kit_status_own() -> None:
    """The error-ratio rule and dashboard count exactly the codes the runtime
    treats as the server's fault (kit.status.SERVER_FAULTS)."""
    expected = {code.name for code in status.SERVER_FAULTS}
    found = []
    for where, expr in all_queries():
        for regex in re.findall(r'grpc_code=~"([^"]*)"', expr):
            found.append(where)
            assert set(regex.split("|")) == expected, f"{where}: {regex} is not {sorted(expected)}"
    assert found, "no query selects the server-fault codes"


def test_promtool_accepts_the_rules(tmp_path: Path) -> None:
    # Debian's prometheus package has promtool; `make test` installs it (ci/debian-packages.sh).
    assert shutil.which("promtool"), "promtool is missing: run `bash ci/debian-packages.sh`"
    for index, document in enumerate(rule_documents()):
        path = tmp_path / f"rules-{index}.yaml"
        path.write_text(yaml.safe_dump(document["spec"]))
        done = subprocess.run(
            ["promtool", "check", "rules", str(path)], capture_output=True, text=True, timeout=60, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("path", dashboards(), ids=lambda p: p.name)
def test_dashboard_is_valid(path: Path) -> None:
    dashboard = json.loads(path.read_text())
    for key in ("uid", "title", "panels", "templating", "schemaVersion"):
        assert key in dashboard, f"{path.name} lacks {key}"
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables.get("datasource", {}).get("type") == "datasource", f"{path.name}: no datasource variable"
    ids = [panel["id"] for panel in panels(dashboard)]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    assert not duplicates, f"{path.name}: panel ids used twice: {duplicates}"
    for panel in panels(dashboard):
        grid = panel["gridPos"]
        assert grid["x"] + grid["w"] <= 24, f"{path.name} panel {panel['id']} is wider than the grid"
        if panel["type"] == "row":
            continue
        assert panel["datasource"]["uid"] == "${datasource}", f"{path.name} panel {panel['id']}: datasource"
        assert panel["targets"], f"{path.name} panel {panel['id']} has no query"
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", f"{path.name} panel {panel['id']}"


def test_every_dashboard_is_generated_into_a_configmap() -> None:
    kustomization = yaml.safe_load((OBSERVABILITY / "kustomization.yaml").read_text())
    assert kustomization["generatorOptions"]["labels"] == {"grafana_dashboard": "1"}
    generated = {f for g in kustomization["configMapGenerator"] for f in g["files"]}
    assert generated == {f"dashboards/{p.name}" for p in dashboards()}


def configmap(path: Path) -> dict[str, Any]:
    found: dict[str, Any] = next(d for d in yaml.safe_load_all(path.read_text()) if d["kind"] == "ConfigMap")
    return found


def test_the_log_lifecycle_covers_the_indices_fluent_bit_writes() -> None:
    """The ISM policy's index pattern matches Fluent Bit's daily indices, so
    every one of them is aged out."""
    config = configmap(OBSERVABILITY / "fluent-bit.yaml")
    prefix = re.search(r"^\s*Logstash_Prefix\s+(\S+)", config["data"]["fluent-bit.conf"], re.M)
    assert prefix, "Fluent Bit names no index prefix"
    ism = configmap(OBSERVABILITY / "opensearch-ism.yaml")
    policy = json.loads(ism["data"]["stockmesh-logs.json"])["policy"]
    patterns = [p for t in policy["ism_template"] for p in t["index_patterns"]]
    assert f"{prefix.group(1)}-*" in patterns
    states = {s["name"] for s in policy["states"]}
    assert policy["default_state"] in states
    for state in policy["states"]:
        for transition in state["transitions"]:
            assert transition["state_name"] in states
    actions = [action for state in policy["states"] for action in state["actions"]]
    assert any("delete" in action for action in actions), "nothing is ever deleted"
