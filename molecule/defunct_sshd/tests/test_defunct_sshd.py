"""The provider guide's case, handled ad hoc with the modules as a provider on call would."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "resources"))
import node  # noqa: E402  pylint: disable=wrong-import-position


def module(host, name, check=False, **args):
    return host.ansible("fleetops.zombie_reaper." + name, " ".join("%s=%s" % kv for kv in args.items()),
                        check=check, become=False)


def tenants(host):
    leaky = node.wait_until(lambda: node.tenant_pid(host, "leaky-tenant"))
    healthy = node.wait_until(lambda: node.tenant_pid(host, "healthy-tenant"))
    shim = node.wait_until(lambda: node.shim_pid(host))
    assert leaky and healthy and shim
    assert node.wait_until(lambda: len(node.sshd_zombies(host, leaky)) >= 3)
    assert node.wait_until(lambda: len(node.sshd_zombies(host, shim)) == 2)
    return leaky, healthy, shim


def test_zombie_info_sees_the_tenant_as_a_container_init(host):
    leaky, healthy, shim = tenants(host)
    result = module(host, "zombie_info")
    assert result["changed"] is False
    entry = node.entry_for(result, leaky)
    assert entry["class"] == "container_init" and entry["container"]["pid_in_container"] == 1
    assert entry["outcome"] == "eligible" and entry["zombie_names"].get("sshd", 0) >= 3
    assert entry["reap_refusal"] == ""  # a reap with reap=true could reap it in place
    assert node.entry_for(result, healthy) is None  # it reaps: no zombies to report
    protected = node.entry_for(result, shim)
    assert protected["class"] == "container_runtime" and protected["outcome"] == "protected"


def test_check_mode_predicts_and_changes_nothing(host):
    leaky, _healthy, _shim = tenants(host)
    before = node.sshd_zombies(host, leaky)
    result = module(host, "zombie_reap", check=True, reap="true", reap_min_age_seconds=0, confirm_seconds=0.5)
    assert result["changed"] is True and result["mode"] == "dry_run"  # it would reap: an honest prediction
    assert node.entry_for(result, leaky)["outcome"] == "would_reap"
    assert set(before) <= set(node.sshd_zombies(host, leaky))


def test_reap_clears_the_tenant_without_restarting_it(host):
    leaky, healthy, shim = tenants(host)
    leaky_start, healthy_start, shim_start = (node.starttime(host, p) for p in (leaky, healthy, shim))
    before = node.sshd_zombies(host, leaky)
    result = module(host, "zombie_reap", reap_min_age_seconds=0.5, confirm_seconds=1)  # REAP: the default
    assert result["changed"] is True and result["signals_sent"] == 0
    entry = node.entry_for(result, leaky)
    assert entry["outcome"] == "reaped" and entry["action"] == "reaped_in_place", entry
    # The tenant's PID 1 keeps its PID and start time; its old zombies are gone.
    assert node.tenant_pid(host, "leaky-tenant") == leaky and node.starttime(host, leaky) == leaky_start
    assert node.tracer(host, leaky) == 0
    assert not set(before) & set(node.sshd_zombies(host, leaky))
    # The healthy tenant is never signalled; the shim keeps its zombies and is not signalled either.
    assert node.entry_for(result, healthy) is None and node.starttime(host, healthy) == healthy_start
    assert node.entry_for(result, shim)["outcome"] == "protected" and node.entry_for(result, shim)["signals"] == []
    assert node.starttime(host, shim) == shim_start and len(node.sshd_zombies(host, shim)) == 2
