"""``channel-app new-channel NAME``: write a channel package from the bundled templates.

The templates (``kit/templates/*.tmpl``) are read with :mod:`importlib.resources`, so they
work from a source checkout, an editable install and a wheel (once they are package
data). They use :class:`string.Template` placeholders: ``${name}`` (``acme``), ``${title}``
(``Acme``), ``${package}`` (``channels.acme``), ``${package_dir}`` (``channels/acme``) and
``${module}`` (``channels.acme.integration``).

The channel is written under ``channels/`` (the package the project installs, so the
worker and beat import it by name wherever they run), its tests with it.
"""

from __future__ import annotations

import keyword
import re
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

NAME = re.compile(r"^[a-z][a-z0-9_]*$")

# template -> where it goes, relative to the project directory
LAYOUT = (
    ("package_init.py.tmpl", "{package_dir}/__init__.py"),
    ("integration.py.tmpl", "{package_dir}/integration.py"),
    ("client.py.tmpl", "{package_dir}/client.py"),
    ("test_channel.py.tmpl", "{package_dir}/tests/test_{name}.py"),
)


__all__ = ["Scaffold", "ScaffoldError", "render", "scaffold", "template"]


class ScaffoldError(Exception):
    """The name, package or target is not usable; nothing was written."""


@dataclass
class Scaffold:
    module: str
    package: str
    files: list[Path] = field(default_factory=list)

    def next_steps(self, directory: str = ".") -> str:
        """What to do after ``new-channel``: install, set ``CHANNEL_MODULE``, check it."""
        top = self.package.split(".")[0]
        outside = (
            ""
            if top == "channels"
            else f"   ({top}/ is not channels/: make pyproject.toml package {top!r} too)\n"
        )
        return (
            f"Next, in {directory}:\n"
            "1. Install the project, so that every process (worker, beat, web, conformance)\n"
            "   imports the channel by name, from any working directory:\n"
            '       pip install -e ".[dev]"\n'
            f"{outside}"
            "   (once: an editable install sees new files; the dev extra has what the checks\n"
            "   use; on ACC, build.sh installs the project)\n"
            f"2. Set CHANNEL_MODULE={self.module} in the environment of every\n"
            "   process (.env locally, the application's environment on ACC).\n"
            "3. Check it against a test marketplace (see the generated test's docstring):\n"
            f"       pytest {self.package.replace('.', '/')}/tests\n"
            f"       channel-app conformance {self.module} --conf @test-marketplace.json"
        )


def template(name: str) -> str:
    """The text of one bundled template."""
    return (
        resources.files("channel_app_template.kit")
        .joinpath("templates", name)
        .read_text(encoding="utf-8")
    )


def title_of(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def render(name: str, package: str | None = None) -> dict[str, str]:
    """Relative path -> generated text, for channel ``name`` in ``package``."""
    if not NAME.match(name) or keyword.iskeyword(name):
        raise ScaffoldError(
            f"{name!r} is not a usable name: lower-case letters, digits and _, "
            "starting with a letter (e.g. acme or acme_market)"
        )
    package = package or f"channels.{name}"
    parts = package.split(".")
    if not all(part.isidentifier() and not keyword.iskeyword(part) for part in parts):
        raise ScaffoldError(f"{package!r} is not a dotted Python package name")
    values = {
        "name": name,
        "title": title_of(name),
        "package": package,
        "package_dir": "/".join(parts),
        "module": f"{package}.integration",
    }
    out: dict[str, str] = {}
    for source, target in LAYOUT:
        path = target.format(package_dir=values["package_dir"], name=name)
        out[path] = string.Template(template(source)).substitute(values)
    for depth in range(1, len(parts)):  # parent packages need an __init__.py too
        parent = "/".join(parts[:depth])
        out.setdefault(f"{parent}/__init__.py", "")
    return out


def scaffold(
    name: str, directory: Path, *, package: str | None = None, force: bool = False
) -> Scaffold:
    """Write the channel into ``directory``; refuses to overwrite unless ``force``.

    Parent packages' ``__init__.py`` files are created only when missing (never
    overwritten, whatever ``force`` says).
    """
    files = render(name, package)
    package = package or f"channels.{name}"
    parents = {path for path, text in files.items() if text == "" and path.endswith("__init__.py")}
    existing = [
        directory / path for path in files if path not in parents and (directory / path).exists()
    ]
    if existing and not force:
        shown = ", ".join(str(p) for p in existing)
        raise ScaffoldError(f"would overwrite {shown} (use --force)")
    result = Scaffold(module=f"{package}.integration", package=package)
    for path, text in files.items():
        target = directory / path
        if path in parents and target.exists():
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        result.files.append(target)
    return result
