"""Run every benchmark in bench/ (each prints its own medians) and stop at the first failure."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> int:
    scripts = sorted(p for p in HERE.glob("bench_*.py"))
    failed = []
    for script in scripts:
        print(f"== {script.name}", flush=True)
        result = subprocess.run([sys.executable, str(script)], check=False)
        if result.returncode != 0:
            failed.append(script.name)
    if failed:
        print(f"benchmarks that missed their target or failed: {', '.join(failed)}")
        return 1
    print(f"{len(scripts)} benchmarks met their targets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
