"""Copy the files of examples/flaskr/ into the tutorial pages that show them.

The tutorial builds the example step by step; for each file of
``examples/flaskr/`` the *last* block titled with its path (in navigation
order) shows its finished text. After changing the example, run::

    python3 docs/sync_tutorial.py            # rewrite the tutorial's blocks
    python3 docs/sync_tutorial.py --check    # only list what differs (exit 1)

``tests/test_docs.py`` fails while the two differ, so they cannot drift apart.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "flaskr"
TUTORIAL = ROOT / "docs" / "tutorial"
_BLOCK = re.compile(
    r'^(?P<indent>[ ]*)```(?P<lang>[\w+-]+) title="(?P<title>[^"]+)"\n(?P<body>.*?)^(?P=indent)```$',
    re.M | re.S,
)


def nav_pages() -> list[Path]:
    """The tutorial pages in the order of mkdocs.yml's navigation."""
    text = (ROOT / "mkdocs.yml").read_text(encoding="utf-8")
    return [ROOT / "docs" / p for p in re.findall(r"^\s*-\s*(tutorial/[\w-]+\.md)\s*$", text, re.M)]


def _indented(source: str, indent: str) -> str:
    # Blocks inside admonitions are indented; blank lines stay empty.
    return "".join(indent + line if line.strip() else line for line in source.splitlines(True))


def _last_blocks() -> dict[str, tuple[Path, int]]:
    """For each example file the tutorial shows: the page and offset of its last block."""
    last: dict[str, tuple[Path, int]] = {}
    for page in nav_pages():
        for m in _BLOCK.finditer(page.read_text(encoding="utf-8")):
            # Only the package: the tutorial's own tests and .gitignore differ on purpose.
            if m["title"].startswith("flaskr/") and (EXAMPLE / m["title"]).is_file():
                last[m["title"]] = (page, m.start())
    return last


def sync(write: bool = True) -> list[str]:
    """Rewrite the last block of each example file; return the paths changed.

    :param write: ``False`` only lists the files whose block differs.
    """
    changed: list[str] = []
    if not write:
        for title, (page, start) in _last_blocks().items():
            m = _BLOCK.match(page.read_text(encoding="utf-8"), start)
            assert m is not None
            if m["body"] != _indented((EXAMPLE / title).read_text(encoding="utf-8"), m["indent"]):
                changed.append(title)
        return changed
    while True:
        # One block at a time: a rewrite moves the offsets of the blocks after it.
        for title, (page, start) in _last_blocks().items():
            text = page.read_text(encoding="utf-8")
            m = _BLOCK.match(text, start)
            assert m is not None
            body = _indented((EXAMPLE / title).read_text(encoding="utf-8"), m["indent"])
            if body != m["body"]:
                page.write_text(
                    text[: m.start("body")] + body + text[m.end("body") :], encoding="utf-8"
                )
                changed.append(title)
                break
        else:
            return changed


if __name__ == "__main__":
    # --check: report the files out of step and exit 1, changing nothing.
    check = sys.argv[1:] == ["--check"]
    for path in sync(write=not check):
        print(f"{'differs' if check else 'updated'}: {path}")
    sys.exit(1 if check and sync(write=False) else 0)
