"""The release tarball holds what a user runs, and nothing of the project's development and tests."""

import json
import os
import subprocess
import sys
import tarfile

import pytest
import yaml

from conftest import ROOT, ansible_env


@pytest.fixture(scope="module", name="tarball")
def fixture_tarball(tmp_path_factory):
    out = tmp_path_factory.mktemp("build")
    result = subprocess.run(["ansible-galaxy", "collection", "build", "--output-path", str(out), str(ROOT)],
                            env=ansible_env(), capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    version = yaml.safe_load((ROOT / "galaxy.yml").read_text())["version"]
    (tarball,) = out.glob("fleetops-zombie_reaper-%s.tar.gz" % version)
    return tarball


def test_the_tarball_ships_what_a_user_runs_and_no_development_material(tarball):
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


def test_galaxy_importer_accepts_the_tarball_offline(tarball, tmp_path):
    """What Galaxy and private Automation Hub run on upload; it skips a check whose tool is missing, so the
    test also asserts that ansible-doc and ansible-lint really ran."""
    env = dict(ansible_env(), GALAXY_IMPORTER_CONFIG=str(ROOT / "tests/ansible/galaxy-importer.cfg"))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    result = subprocess.run([sys.executable, "-m", "galaxy_importer.main", str(tarball)], cwd=str(tmp_path), env=env,
                            capture_output=True, text=True, timeout=600, check=False)
    output = result.stdout + result.stderr
    assert result.returncode == 0 and "Importer processing completed successfully" in output, output
    assert "not found, skipping" not in output and "WARNING" not in output, output
    imported = json.loads((tmp_path / "importer_result.json").read_text())
    docs = dict(((c["content_type"], c["content_name"]), c) for c in imported["docs_blob"]["contents"])
    for module in ("zombie_reap", "zombie_info"):
        assert docs[("module", module)]["doc_strings"]["doc"]["options"], module
    assert "zombie_reaper_state" in docs[("role", "reaper")]["readme_html"]


def test_the_collection_needs_nothing_in_an_execution_environment(tarball, tmp_path):
    """ansible-builder's view of the installed collection (meta/execution-environment.yml), and the example EE
    definition's build context, made offline with the tarball it names."""
    env = dict(ansible_env())
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    installed = tmp_path / "collections"
    subprocess.run(["ansible-galaxy", "collection", "install", "-p", str(installed), str(tarball)], env=env,
                   capture_output=True, text=True, timeout=300, check=True)
    result = subprocess.run(["ansible-builder", "introspect", str(installed)], env=env, capture_output=True,
                            text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr
    assert yaml.safe_load(result.stdout.split("---", 1)[1]) == {"python": [], "system": []}, result.stdout
    definition = yaml.safe_load((ROOT / "docs" / "execution-environment.yml").read_text())
    names = [c["name"] for c in definition["dependencies"]["galaxy"]["collections"]]
    assert names == [tarball.name]  # the example installs this release's tarball
    build = tmp_path / "ee"
    build.mkdir()
    (build / "execution-environment.yml").write_text((ROOT / "docs" / "execution-environment.yml").read_text())
    (build / tarball.name).write_bytes(tarball.read_bytes())
    result = subprocess.run(["ansible-builder", "create", "-f", "execution-environment.yml", "-c", "context"],
                            cwd=str(build), env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    containerfile = (build / "context" / "Containerfile").read_text()
    assert "ansible-galaxy collection install" in containerfile
    assert (build / "context" / "_build" / "collections" / tarball.name).exists()
