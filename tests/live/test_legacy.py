"""The provider guide's legacy script, installed again by another role, is reported (warning, report, metric)."""

import os

import yaml

from conftest import ROOT, policy
from zombie_reaper import engine
from zombie_reaper.engine import MODE_INFO
from zombie_reaper.legacy import LEGACY_FILES
from zombie_reaper.metrics import format_metrics


def test_a_legacy_cron_entry_that_came_back_is_reported(tmp_path):
    host = tmp_path / "host"  # a host root as a containerised reaper sees it: /host/proc, /host/etc
    (host / "etc" / "cron.d").mkdir(parents=True)
    os.symlink("/proc", str(host / "proc"))
    report = engine.run(policy(proc_root=str(host / "proc"), limit_subtree=os.getpid()), mode=MODE_INFO)
    assert report["legacy_files"] == [] and "zombie_reaper_legacy_script_present 0" in format_metrics(report)
    (host / "etc" / "cron.d" / "kill_zombie_parents").write_text("*/5 * * * * root /usr/local/bin/kill_zombie_parents.sh\n")
    report = engine.run(policy(proc_root=str(host / "proc"), limit_subtree=os.getpid()), mode=MODE_INFO)
    assert report["legacy_files"] == ["/etc/cron.d/kill_zombie_parents"]
    assert any("legacy script is installed (/etc/cron.d/kill_zombie_parents)" in w for w in report["warnings"])
    assert "\nzombie_reaper_legacy_script_present 1\n" in format_metrics(report)


def test_the_role_removes_the_files_the_engine_looks_for():
    role_vars = yaml.safe_load((ROOT / "roles" / "reaper" / "vars" / "main.yml").read_text())
    assert tuple(role_vars["__zombie_reaper_legacy_files"]) == LEGACY_FILES
