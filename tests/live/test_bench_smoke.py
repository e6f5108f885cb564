"""A quick run of the benchmark runner (bench/run.py) at 200 processes: it builds its tools,
makes the synthetic table in a private PID namespace, and every scanner agrees with the C scan; the REAP
crash battery runs a few trials and leaves every parent intact."""

import subprocess
import sys

from conftest import ROOT


def test_bench_runner_smoke(tmp_path):
    out = tmp_path / "benchmarks.md"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "run.py"), "--sizes", "200", "--reap-sizes", "300",
                             "--runs", "3", "--warmup", "1", "--crash-trials", "3", "--out", str(out)],
                            capture_output=True, text=True, timeout=600, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    text = out.read_text()
    scan_rows = [line for line in text.splitlines() if line.startswith("| 200 |") and line.count("|") == 8]
    assert len(scan_rows) == 6 and all(row.endswith("| yes |") for row in scan_rows), text
    reap_rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| 300 |")]
    assert len(reap_rows) == 3 and all(row[4] == "0" for row in reap_rows), text  # no zombie left by any method
    crash_rows = [line.split(" | ") for line in text.splitlines() if line.startswith("| this engine |")]
    assert len(crash_rows) == 2 and all(row[2] == "3" and row[4].startswith("3 ") for row in crash_rows), text
