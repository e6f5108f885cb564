"""The role's Prometheus alert rules: valid (promtool check rules), each one tested (promtool test rules), each
with a runbook section, and the same rules as a PrometheusRule."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

RULES = ROOT / "roles" / "reaper" / "files" / "zombie-reaper.rules.yml"
TESTS = ROOT / "tests" / "prometheus" / "zombie-reaper.rules.test.yml"
RUNBOOK = ROOT / "docs" / "runbook.md"
PROMETHEUS_RULE = ROOT / "docs" / "zombie-reaper.prometheusrule.yml"


def alerts():
    return [rule for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]


def promtool():
    """scripts/setup.sh unpacks it into the venv (no Prometheus server is installed)."""
    found = shutil.which("promtool") or str(Path(sys.executable).parent / "promtool")
    assert Path(found).exists(), "promtool missing: run `make setup`"
    return found


def test_rules_are_valid():
    result = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_passing_promtool_test():
    alerts = [rule["alert"] for group in yaml.safe_load(RULES.read_text())["groups"] for rule in group["rules"]]
    tested = [case["alertname"] for test in yaml.safe_load(TESTS.read_text())["tests"]
              for case in test.get("alert_rule_test", [])]
    assert sorted(set(alerts)) == sorted(set(tested))
    result = subprocess.run([promtool(), "test", "rules", str(TESTS)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_links_its_runbook_section():
    documentation = yaml.safe_load((ROOT / "galaxy.yml").read_text())["documentation"]
    base = documentation.rsplit("/", 1)[0] + "/docs/runbook.md"  # the one project address (galaxy.yml)
    sections = re.findall(r"^## (\w+)$", RUNBOOK.read_text(), re.M)
    assert sorted(sections) == sorted(rule["alert"] for rule in alerts())
    for rule in alerts():
        assert rule["annotations"]["runbook_url"] == "%s#%s" % (base, rule["alert"].lower()), rule["alert"]
    role_vars = yaml.safe_load((ROOT / "roles" / "reaper" / "vars" / "main.yml").read_text())
    assert role_vars["__zombie_reaper_runbook_url"] == base  # what zombie_reaper_runbook_url replaces


def prometheus_rule():
    """The rules as a PrometheusRule (kube-prometheus-stack), as docs/zombie-reaper.prometheusrule.yml has it."""
    header = ("# The role's alert rules (roles/reaper/files/zombie-reaper.rules.yml) as a PrometheusRule for\n"
              "# kube-prometheus-stack: kubectl apply -n monitoring -f zombie-reaper.prometheusrule.yml. Its\n"
              "# ruleSelector must match these labels (the chart's default: release: <its release name>).\n"
              "# Generated: tests/ansible/test_alerts.py keeps it equal to the rules file.\n")
    resource = {"apiVersion": "monitoring.coreos.com/v1", "kind": "PrometheusRule",
                "metadata": {"name": "zombie-reaper", "labels": {"release": "kube-prometheus-stack",
                                                                  "app.kubernetes.io/part-of": "zombie-reaper"}},
                "spec": yaml.safe_load(RULES.read_text())}
    return header + yaml.dump(resource, Dumper=_IndentedDumper, sort_keys=False, width=120, default_flow_style=False)


class _IndentedDumper(yaml.SafeDumper):
    """Block sequences indented under their key, as yamllint (ansible-lint) wants them."""

    def increase_indent(self, flow=False, indentless=False):
        return super().increase_indent(flow, False)


def test_the_prometheus_rule_is_the_rules_file():
    assert PROMETHEUS_RULE.read_text() == prometheus_rule(), (
        "docs/zombie-reaper.prometheusrule.yml differs from the rules file; it should be:\n" + prometheus_rule())
