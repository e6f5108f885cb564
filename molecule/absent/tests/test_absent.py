"""zombie_reaper_state: absent leaves nothing of ours behind, the legacy workaround included."""

import pytest

GONE = [
    "/etc/systemd/system/zombie-reaper.service",
    "/etc/systemd/system/zombie-reaper.timer",
    "/etc/cron.d/zombie-reaper",
    "/etc/logrotate.d/zombie-reaper",
    "/usr/local/bin/zombie-reaper",
    "/usr/local/lib/zombie-reaper",
    "/etc/zombie-reaper",
    "/var/log/zombie-reaper",
    "/var/lib/zombie-reaper",
    "/usr/local/share/doc/zombie-reaper",
    "/etc/cron.d/kill_zombie_parents",
    "/usr/local/bin/kill_zombie_parents.sh",
]


@pytest.mark.parametrize("path", GONE)
def test_nothing_of_ours_remains(host, path):
    assert not host.file(path).exists


def test_no_unit_or_user_remains(host):
    assert "zombie-reaper" not in host.check_output("systemctl list-unit-files --no-legend 'zombie-reaper*' || true")
    assert not host.user("zombie-reaper").exists
