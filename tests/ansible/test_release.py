"""The release tarball holds what a user runs, and nothing of the project's development and tests."""

import subprocess
import tarfile

import yaml

from conftest import ROOT
from test_modules import ansible_env


def test_the_tarball_ships_what_a_user_runs_and_no_development_material(tmp_path):
    result = subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
                            env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    (tarball,) = tmp_path.glob("fleetops-zombie_reaper-%s.tar.gz" % version)
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    top = set(name.split("/")[0] for name in names)
    assert top == {"MANIFEST.json", "FILES.json", "README.md", "CHANGELOG.md", "LICENSE", "changelogs", "docs", "meta",
                   "playbooks", "plugins", "roles"}, sorted(top)
    for needed in ("plugins/modules/zombie_reap.py", "plugins/modules/zombie_info.py",
                   "plugins/module_utils/zombie_reaper/engine.py", "plugins/module_utils/zombie_reaper/reap/cave.py",
                   "roles/reaper/meta/argument_specs.yml", "playbooks/reap.yml", "meta/runtime.yml",
                   "docs/inventory.example.yml"):
        assert needed in names, needed
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc") or ".pytest_cache" in n
                or "/.molecule" in n], sorted(names)
    # Every playbook shipped is a playbook (an example inventory among them would be imported as one).
    for name in names:
        if name.startswith("playbooks/") and name.endswith(".yml"):
            plays = yaml.safe_load((ROOT / name).read_text())
            assert isinstance(plays, list) and all("hosts" in p or "ansible.builtin.import_playbook" in p
                                                   for p in plays), name
