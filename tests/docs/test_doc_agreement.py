"""Where a document describes something the repository defines in another file, the two agree:
the HIL guided steps and their order, the printd user's groups, the test files the unit names.
"""

from __future__ import annotations

import ast
import re

from tests.conftest import REPO

# The words hil/README.md uses for each guided step, by the test that runs it.
GUIDED_STEPS = {
    "test_open_cover_is_seen_and_clears": "open the cover",
    "test_empty_hopper_is_seen_and_clears": "take every blank out of the hopper",
    "test_unplugged_cable_is_seen_and_recovered": "unplug the data cable",
}


def test_the_hil_guided_steps_are_documented_in_the_order_they_run() -> None:
    suite = ast.parse((REPO / "hil" / "test_5_manual.py").read_text())
    run_order = [
        n.name for n in suite.body if isinstance(n, ast.FunctionDef) and n.name in GUIDED_STEPS
    ]
    assert sorted(run_order) == sorted(GUIDED_STEPS), "a guided step was added or renamed"
    readme = (REPO / "hil" / "README.md").read_text()
    documented = sorted(GUIDED_STEPS, key=lambda test: readme.index(GUIDED_STEPS[test]))
    assert documented == run_order


def test_install_md_lists_the_groups_sysusers_gives_printd() -> None:
    sysusers = (REPO / "systemd" / "printd.sysusers.conf").read_text()
    groups = {"printd"} | set(re.findall(r"^m\s+printd\s+(\S+)", sysusers, re.MULTILINE))
    row = next(
        line
        for line in (REPO / "docs" / "install.md").read_text().splitlines()
        if line.startswith("| user |")
    )
    listed = re.search(r"\(groups ([^)]*)\)", row)
    assert listed is not None, row
    assert set(re.findall(r"`([\w-]+)`", listed.group(1))) == groups
    troubleshooting = " ".join((REPO / "docs" / "install.md").read_text().split())
    assert "`id printd` must list " + ", ".join(f"`{g}`" for g in ["printd", "dialout"]) in (
        troubleshooting
    )
    assert all(f"`{g}`" in troubleshooting for g in groups)


def test_the_files_the_unit_and_scripts_name_exist() -> None:
    named = {
        (str(path.relative_to(REPO)), found)
        for path in [*(REPO / "systemd").iterdir(), *(REPO / "scripts").glob("*.sh")]
        for found in re.findall(
            r"(?<![\w/.-])(?:tests|docs|config|scripts)/[\w./-]+\w", path.read_text()
        )
    }
    assert named, "the unit names the test that checks it"
    missing = sorted((where, name) for where, name in named if not (REPO / name).exists())
    assert missing == [], missing
