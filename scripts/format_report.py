"""Print the engine's human summary for the module result(s) in `ansible -m ... ` JSON callback output."""

import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "plugins", "module_utils"))

from zombie_reaper.report import format_summary  # noqa: E402  pylint: disable=wrong-import-position


def main():
    output = json.load(sys.stdin)
    for play in output["plays"]:
        for task in play["tasks"]:
            for host, result in task["hosts"].items():
                if result.get("failed"):
                    print("%s: FAILED: %s" % (host, result.get("msg")))
                    continue
                result.setdefault("warnings", [])
                print("%s (changed=%s)" % (host, result.get("changed")))
                print(format_summary(result))


if __name__ == "__main__":
    main()
