"""What the README shows, extracted for tests: its Python snippets and its command lines.

* Every fenced ```python block is a snippet. The blocks run in order, in one namespace (the
  README read top to bottom: a later block may use the ``net`` or ``image`` of an earlier one),
  each compiled under the name ``README.md:LINE`` so that a traceback points at the README.
  A block preceded (on the line before its fence) by ``<!-- snippet: skip REASON -->`` is not
  run; the reason is required.
* Every command line that starts with ``person-segmentation`` or ``python -m
  person_segmentation``, in a fenced ```bash block (continuation lines indented or ending with
  a backslash) or in inline code, is a command. One with ``[``, ``...`` or an upper-case
  placeholder (``IN``, ``OUT``, ``COMMAND``) is a *synopsis*; the others are concrete commands.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

README = Path(__file__).resolve().parent.parent / "README.md"

_FENCE = re.compile(r"^```(\w*)\s*$")
_SKIP = re.compile(r"^<!--\s*snippet:\s*skip\b(.*?)-->\s*$")
_INLINE = re.compile(r"`((?:person-segmentation|python -m person_segmentation)\b[^`]*)`")
_PLACEHOLDER = re.compile(r"^[A-Z][A-Z0-9_]*(\.\.\.)?$")


@dataclass(frozen=True)
class Block:
    language: str
    line: int  # 1-based line of the first line of code (after the fence)
    code: str
    skip: str | None  # the reason, when marked <!-- snippet: skip REASON -->


@dataclass(frozen=True)
class Command:
    line: int
    text: str
    fenced: bool  # from a ```bash block (not inline code)

    @property
    def words(self) -> list[str]:
        words = shlex.split(self.text, comments=False)
        if words[:3] == ["python", "-m", "person_segmentation"]:
            return ["person-segmentation", *words[3:]]
        return words

    @property
    def is_synopsis(self) -> bool:
        return "[" in self.text or "..." in self.text or any(_PLACEHOLDER.match(w) for w in self.words[1:])


def blocks(text: str | None = None) -> list[Block]:
    """The fenced code blocks of the README, in order."""
    lines = (README.read_text(encoding="utf-8") if text is None else text).splitlines()
    found: list[Block] = []
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if match is None or not match.group(1):
            i += 1
            continue
        start = i + 1
        end = start
        while end < len(lines) and lines[end].rstrip() != "```":
            end += 1
        previous = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].strip()), "")
        skip = _SKIP.match(previous.strip())
        reason = skip.group(1).strip() if skip else None
        found.append(Block(match.group(1), start + 1, "\n".join(lines[start:end]) + "\n", reason))
        i = end + 1
    return found


def _split(line: str) -> list[str]:
    """The simple commands of a shell line (split at ``&&``, ``||``, ``;`` and ``|``)."""
    return [part.strip() for part in re.split(r"&&|\|\||;|\|", line) if part.strip()]


def _is_cli(command: str) -> bool:
    return command.startswith("person-segmentation") or command.startswith("python -m person_segmentation")


def commands(text: str | None = None) -> list[Command]:
    """Every command line of the README (fenced bash blocks and inline code)."""
    source = README.read_text(encoding="utf-8") if text is None else text
    found: list[Command] = []
    for block in blocks(source):
        if block.language not in ("bash", "sh", "shell", "console"):
            continue
        logical: list[tuple[int, str]] = []
        for offset, raw in enumerate(block.code.splitlines()):
            line = raw.rstrip()
            if logical and (raw[:1].isspace() or logical[-1][1].endswith("\\")):
                start, text_so_far = logical[-1]
                logical[-1] = (start, text_so_far.rstrip("\\").rstrip() + " " + line.strip())
            elif line.strip() and not line.lstrip().startswith("#"):
                logical.append((block.line + offset, line.strip().removeprefix("$ ")))
        for line_number, line in logical:
            for part in _split(line) if "[" not in line else [line]:
                if _is_cli(part):
                    found.append(Command(line_number, part, fenced=True))
    for number, line in enumerate(source.splitlines(), start=1):
        for match in _INLINE.finditer(line):
            found.append(Command(number, match.group(1).strip(), fenced=False))
    return found
