"""The role's Prometheus alert rules: valid (promtool check rules) and each one tested (promtool test rules)."""

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from conftest import ROOT

RULES = ROOT / "roles" / "reaper" / "files" / "zombie-reaper.rules.yml"
TESTS = ROOT / "tests" / "prometheus" / "zombie-reaper.rules.test.yml"


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
