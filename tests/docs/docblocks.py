"""What the technician's documents say, read the way a technician reads them: the fenced shell
blocks (to run them) and the names they use (to check that each exists).

Documents: README.md, docs/*.md, hil/README.md. A block that cannot run on the simulator has
a marker on the line before its fence, with the reason:

    <!-- doc-test: skip (needs a real station) -->

and a single line that needs the station carries `# station-only` in its comment.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import REPO

SHELLS = frozenset({"sh", "bash", "shell", "console"})
SKIP = re.compile(r"<!--\s*doc-test:\s*skip\s*\(([^)]+)\)\s*-->")
STATION_ONLY = "# station-only"
FENCE = re.compile(r"^(\s*)```(\S*)\s*$")


def documents() -> list[Path]:
    return [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "hil" / "README.md"]


@dataclass(frozen=True)
class Block:
    path: Path
    line: int  # 1-based line of the opening fence
    lang: str
    lines: tuple[str, ...]
    skip: str | None  # the marker's reason, or None: the block runs

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    def script(self) -> str:
        """The block as a shell script, without the lines only a station can run."""
        return "\n".join(line for line in self.lines if STATION_ONLY not in line) + "\n"


def blocks(path: Path) -> list[Block]:
    found: list[Block] = []
    lines = path.read_text(encoding="utf-8").splitlines()
    i = 0
    while i < len(lines):
        opening = FENCE.match(lines[i])
        if opening is None:
            i += 1
            continue
        indent, lang = opening.groups()
        end = i + 1
        while end < len(lines) and lines[end].strip() != "```":
            end += 1
        body = tuple(line[len(indent) :] for line in lines[i + 1 : end])
        previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
        marker = SKIP.search(previous)
        found.append(Block(path, i + 1, lang, body, marker.group(1) if marker else None))
        i = end + 1
    return found


def shell_blocks() -> list[Block]:
    return [b for path in documents() for b in blocks(path) if b.lang in SHELLS]


def prose(path: Path) -> str:
    """The text outside fenced blocks (names in running commands are checked by running)."""
    return path.read_text(encoding="utf-8")


def code_spans(text: str) -> list[str]:
    return re.findall(r"`([^`\n]+)`", text)
