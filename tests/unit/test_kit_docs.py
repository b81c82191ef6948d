"""The README's "write your channel" guide quotes the scaffold: it must stay true.

The section between ``.. begin-scaffold-example`` and ``.. end-scaffold-example`` in
README.rst is checked: every code block is an exact excerpt of what
``channel-app new-channel acme`` writes (at any indentation), every ``channel-app`` line
parses with the real command line, and the command table names every command. The
proposed text (``kit/templates/readme_section.rst``) is checked the same way.
"""

from __future__ import annotations

import shlex
from collections.abc import Iterable
from pathlib import Path

import docutils.core
import docutils.nodes
import docutils.utils
import pytest

from channel_app_template.channel.commands import COMMANDS
from channel_app_template.cli import build_parser
from channel_app_template.kit.scaffold import render, template

ROOT = Path(__file__).resolve().parents[2]
BEGIN = ".. begin-scaffold-example"
END = ".. end-scaffold-example"
SHELL_STARTS = ("channel-app ", "pytest ", "pip ", "CHANNEL_")


def section_of(text: str, where: str) -> str:
    if BEGIN not in text or END not in text:
        pytest.fail(
            f"{where} has no scaffold example: add the section between the lines {BEGIN!r} "
            f"and {END!r} (proposed text: channel_app_template/kit/templates/readme_section.rst)",
            pytrace=False,
        )
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END, start)
    return text[start:end]


def literal_blocks(section: str) -> list[str]:
    problems: list[str] = []

    class Collect:
        def write(self, message: str) -> None:
            problems.append(message)

    tree = docutils.core.publish_doctree(
        section,
        settings_overrides={
            "report_level": docutils.utils.Reporter.WARNING_LEVEL,
            "halt_level": 5,
            "warning_stream": Collect(),
        },
    )
    assert not problems, "".join(problems)
    return [node.astext() for node in tree.findall(docutils.nodes.literal_block)]


def is_excerpt(block: str, files: Iterable[str]) -> bool:
    """``block``'s lines appear, in a row, in one file, all with the same indentation."""
    wanted = block.splitlines()
    for text in files:
        lines = text.splitlines()
        for start in range(len(lines) - len(wanted) + 1):
            first = lines[start]
            indent = first[: len(first) - len(first.lstrip())]
            window = lines[start : start + len(wanted)]
            if all(
                (line == indent + want) if want else line == ""
                for line, want in zip(window, wanted, strict=True)
            ):
                return True
    return False


def check_section(section: str, where: str) -> None:
    generated = render("acme").values()
    blocks = literal_blocks(section)
    code = [b for b in blocks if not b.startswith(SHELL_STARTS)]
    shell = [b for b in blocks if b.startswith(SHELL_STARTS)]
    assert len(code) >= 4 and shell, f"{where}: expected code and command examples"
    for block in code:
        assert is_excerpt(block, generated), (
            f"{where}: this block is not in the generated scaffold "
            f"(channel-app new-channel acme); update it:\n{block}"
        )
    parser = build_parser()
    for block in shell:
        for line in block.splitlines():
            if line.startswith("channel-app "):
                parser.parse_args(shlex.split(line)[1:])  # exits (fails) if it does not parse
    missing = [c for c in COMMANDS if f"``{c}``" not in section]
    assert not missing, f"{where}: the command table does not list {missing}"


def test_readme_section_matches_the_scaffold() -> None:
    readme = (ROOT / "README.rst").read_text()
    check_section(section_of(readme, "README.rst"), "README.rst")


def test_proposed_section_matches_the_scaffold() -> None:
    text = template("readme_section.rst")
    check_section(section_of(text, "readme_section.rst"), "readme_section.rst")


def test_an_edited_excerpt_is_caught() -> None:
    files = list(render("acme").values())
    assert is_excerpt('not_implemented_reason = "not implemented yet"', files)
    assert not is_excerpt('not_implemented_reason = "soon"', files)
    assert not is_excerpt('timeout: float = 30.0\napi_url: str = ""', files)  # order matters
