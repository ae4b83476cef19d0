"""`make mutate`'s summary: the mutation score of the mutants that were run, and each survivor.

Reads `mutmut results --all true` in the checkout where `mutmut run` left its `mutants/` folder.
`mutmut show NAME` prints a survivor's change; docs/testing.md keeps the last score and says for
each survivor how it was killed or why it is equivalent.
"""

from __future__ import annotations

import subprocess
import sys
from collections import Counter
from pathlib import Path

MUTMUT = Path(sys.executable).parent / "mutmut"
KILLED = {"killed", "timeout", "caught by type check", "segfault"}
NOT_RUN = {"not checked", "skipped", "check was interrupted by user"}


def say(line: str) -> None:
    sys.stdout.write(line + "\n")


def main() -> int:
    listing = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], capture_output=True, text=True, check=True
    ).stdout
    statuses: dict[str, str] = {}
    for line in listing.splitlines():
        name, sep, status = line.strip().rpartition(": ")
        if sep and name:
            statuses[name] = status
    counted = Counter(s for s in statuses.values() if s not in NOT_RUN)
    run = sum(counted.values())
    if run == 0:
        say("no mutant has been run yet: `make mutate` runs them")
        return 1
    killed = sum(n for s, n in counted.items() if s in KILLED)
    say(f"mutation score: {killed}/{run} killed ({100 * killed / run:.1f} %)")
    say("by outcome: " + ", ".join(f"{s} {n}" for s, n in sorted(counted.items())))
    survivors = sorted(n for n, s in statuses.items() if s not in KILLED | NOT_RUN)
    for name in survivors:
        say(f"  {statuses[name]}: {name}   (mutmut show {name})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
