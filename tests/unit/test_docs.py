"""README.rst is what users read first: it must render, and its commands must be true."""

from __future__ import annotations

import functools
import importlib.util
import re
import struct
import sys
import tomllib
import typing
import xml.etree.ElementTree as ET
from pathlib import Path
from types import ModuleType

import docutils.core
import docutils.nodes
import docutils.utils

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.rst").read_text()


def test_readme_is_valid_restructuredtext() -> None:
    problems: list[str] = []

    class Collect:
        def write(self, text: str) -> None:
            problems.append(text)

    docutils.core.publish_doctree(
        README,
        settings_overrides={
            "report_level": docutils.utils.Reporter.WARNING_LEVEL,
            "halt_level": 5,
            "warning_stream": Collect(),
        },
    )
    assert not problems, "".join(problems)


def test_ci_runs_the_test_command_the_readme_gives() -> None:
    ci = (ROOT / ".ci" / "run").read_text()
    command = 'pip install -e ".[dev]" && python -m pytest'
    assert f"\n    {command}\n" in README
    assert re.search(rf"^{re.escape(command)}$", ci, re.MULTILINE), ci


def test_every_setting_is_in_the_configuration_table() -> None:
    from channel_app_template.settings import Settings

    table = set(first_column("Configuration"))
    missing = [name.upper() for name in Settings.model_fields if name.upper() not in table]
    assert not missing, f"settings not in README.rst's Configuration table: {missing}"
    # A variable that is no setting must still be read by something: the Procfile, a tool.
    sources = [ROOT / "Procfile", *sorted((ROOT / "channel_app_template").rglob("*.py"))]
    text = "\n".join(path.read_text() for path in sources)
    unread = [n for n in table if n.lower() not in Settings.model_fields and n not in text]
    assert not unread, f"the Configuration table documents variables nothing reads: {unread}"


def test_every_task_is_documented() -> None:
    from channel_app_template.schedule import DEFAULT_SCHEDULE, MANUAL_ONLY

    for name in [*DEFAULT_SCHEDULE, *MANUAL_ONLY]:
        assert name in README, name


def test_console_script_exists() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["scripts"]["channel-app"] == "channel_app_template.cli:main"


# --- Helpers: README's sections and tables, read the way docutils reads them ------------

HEADING = re.compile(r"^(\S[^\n]*)\n(=+)\n", re.MULTILINE)


def section(title: str) -> str:
    """The source of the top-level section ``title`` (up to the next top-level heading)."""
    headings = [(m.group(1), m.start(), m.end()) for m in HEADING.finditer(README)]
    for index, (name, _, end) in enumerate(headings):
        if name == title:
            stop = headings[index + 1][1] if index + 1 < len(headings) else len(README)
            return README[end:stop]
    raise AssertionError(f"README.rst has no section {title!r}")


@functools.cache
def doctree() -> docutils.nodes.document:
    return docutils.core.publish_doctree(README, settings_overrides={"report_level": 5})


def section_node(title: str) -> docutils.nodes.section:
    found = [
        node
        for node in doctree().findall(docutils.nodes.section)
        if node.next_node(docutils.nodes.title).astext() == title
    ]
    assert len(found) == 1, f"README.rst needs one section {title!r}"
    return found[0]


def literals(node: docutils.nodes.Node) -> list[str]:
    return [literal.astext() for literal in node.findall(docutils.nodes.literal)]


def first_column(title: str) -> list[str]:
    """The ````literal```` names in the first column of the one table of section ``title``
    (simple, grid or list-table alike)."""
    tables = list(section_node(title).findall(docutils.nodes.table))
    assert len(tables) == 1, f"section {title!r} needs exactly one table"
    body = tables[0].next_node(docutils.nodes.tbody)
    assert body is not None
    names = []
    for row in body.findall(docutils.nodes.row):
        names += literals(row.next_node(docutils.nodes.entry))
    return names


# --- Variables of Akinon's channel app template --------------------------------------------

# Every environment variable Akinon's ``channel_app`` library (0.0.161, core/settings.py)
# and its template (README, .env example, the add-ons of akinon.json) read or name. ``S3_*``
# stands for a group the template's example leaves unnamed.
INCUMBENT_VARIABLES = frozenset(
    {
        "MAIN_APP_URL", "OMNITRON_URL", "OMNITRON_USERNAME", "OMNITRON_PASSWORD",
        "OMNITRON_CHANNEL_ID", "OMNITRON_CATALOG_ID", "OMNITRON_MODULE", "CHANNEL_MODULE",
        "BROKER_HOST", "BROKER_PORT", "BROKER_DATABASE_INDEX",
        "CACHE_HOST", "CACHE_PORT", "CACHE_DATABASE_INDEX", "SENTRY_DSN",
        "DEFAULT_CONNECTION_POOL_COUNT", "DEFAULT_CONNECTION_POOL_MAX_SIZE",
        "DEFAULT_CONNECTION_POOL_RETRY", "REQUEST_LOG", "DEFAULT_TASK_LOCK_TTL",
        "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASSWORD", "S3_*",
    }
)  # fmt: skip
INCUMBENT_SECTION = "Coming from Akinon's channel app template"


def ignored_variables() -> list[str]:
    return first_column(INCUMBENT_SECTION)


def reads(name: str) -> bool:
    """Whether the app's settings read ``name`` (a ``PREFIX_*`` matches any of its fields)."""
    from channel_app_template.settings import Settings

    fields = [field.upper() for field in Settings.model_fields]
    if name.endswith("*"):
        return any(field.startswith(name[:-1]) for field in fields)
    return name in fields


def test_readme_lists_only_incumbent_variables_the_app_does_not_read() -> None:
    listed = ignored_variables()
    assert listed, "README.rst lists no ignored variable"
    assert len(listed) == len(set(listed)), f"listed twice: {listed}"
    assert set(listed) <= INCUMBENT_VARIABLES, set(listed) - INCUMBENT_VARIABLES
    read = [name for name in listed if reads(name)]
    assert not read, f"README.rst says the app ignores variables its settings read: {read}"
    # Nor does any other module read them from the environment under that name.
    package = ROOT / "channel_app_template"
    for path in package.rglob("*.py"):
        text = path.read_text()
        for name in listed:
            assert name.rstrip("*") not in text, f"{path.relative_to(ROOT)} mentions {name}"


def test_every_incumbent_variable_is_read_or_listed_as_ignored() -> None:
    ignored = set(ignored_variables())
    read = {name for name in INCUMBENT_VARIABLES if reads(name)}
    assert read.isdisjoint(ignored), read & ignored
    assert read | ignored == INCUMBENT_VARIABLES, INCUMBENT_VARIABLES - read - ignored


def test_incumbent_variables_the_app_reads_are_named_and_in_the_configuration_table() -> None:
    read = sorted(name for name in INCUMBENT_VARIABLES if reads(name))
    node = section_node(INCUMBENT_SECTION)
    intro = [p for p in node.children if isinstance(p, docutils.nodes.paragraph)]
    named = sorted(n for p in intro for n in literals(p) if re.fullmatch(r"[A-Z0-9_]+", n))
    assert named == read, named
    table = set(first_column("Configuration"))
    assert set(read) <= table, set(read) - table


# --- Pictures --------------------------------------------------------------------------------

SVG = "{http://www.w3.org/2000/svg}"


@functools.cache
def diagrams() -> ModuleType:
    """``docs/diagrams.py``, which is a script, not part of the package (dataclasses need
    it in ``sys.modules`` while it loads)."""
    name = "docs_diagrams"
    spec = importlib.util.spec_from_file_location(name, ROOT / "docs" / "diagrams.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[name]
    return module


def readme_images() -> list[docutils.nodes.image]:
    return list(doctree().findall(docutils.nodes.image))


def parse_svg(path: Path) -> ET.Element:
    """One of this repository's own pictures (trusted: no defusedxml needed)."""
    return ET.parse(path).getroot()  # noqa: S314


def svg_texts(path: Path) -> list[str]:
    root = parse_svg(path)
    return ["".join(node.itertext()) for node in root.iter(f"{SVG}text")]


def test_committed_diagrams_are_what_the_script_draws() -> None:
    drawn = diagrams().render_all()
    assert drawn
    stale = [path.name for path, text in drawn.items() if path.read_text() != text]
    assert not stale, f"out of date: {stale}; run `python docs/diagrams.py` and commit them"


def test_readme_shows_the_diagrams_and_the_screenshots() -> None:
    from tests.e2e.test_docs_screenshot import DASHBOARD_PNG, TASKS_PNG

    shown = {image["uri"] for image in readme_images()}
    expected = {f"docs/{name}" for name in diagrams().DIAGRAMS}
    expected |= {str(path.relative_to(ROOT)) for path in (DASHBOARD_PNG, TASKS_PNG)}
    assert shown == expected


def test_every_picture_readme_shows_exists_is_valid_and_has_alt_text() -> None:
    images = readme_images()
    assert images, "README.rst shows no picture"
    for image in images:
        uri = image["uri"]
        assert image.get("alt", "").strip(), f"{uri} has no :alt: text"
        path = ROOT / uri
        assert path.is_file(), f"README.rst shows {uri}, which does not exist"
        if path.suffix == ".svg":
            root = parse_svg(path)  # well-formed XML, or this raises
            assert root.tag == f"{SVG}svg", root.tag
            width, height = float(root.attrib["width"]), float(root.attrib["height"])
            # Wider than README's column and GitHub shrinks the text below legibility.
            assert 300 <= width <= 960 and height >= 200, (uri, width, height)
            assert root.find(f"{SVG}title") is not None, f"{uri} has no <title>"
        else:
            data = path.read_bytes()
            assert path.suffix == ".png", uri
            assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR", uri
            width, height = struct.unpack(">II", data[16:24])
            assert width >= 600 and height >= 300, (uri, width, height)
        assert path.stat().st_size < 300_000, f"{uri} is too large for a README"


def test_batch_diagram_shows_every_batch_status() -> None:
    from channel_app_template.akinon.models import BatchRequestStatus

    texts = set(svg_texts(ROOT / "docs" / "batch-states.svg"))
    missing = [status.value for status in BatchRequestStatus if status.value not in texts]
    assert not missing, f"states missing from docs/batch-states.svg: {missing}"


def test_settings_named_in_the_diagrams_exist() -> None:
    from channel_app_template.settings import Settings

    named = {
        token
        for name in diagrams().DIAGRAMS
        for text in svg_texts(ROOT / "docs" / name)
        for token in re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", text)
    }
    assert named, "the diagrams name no setting"
    unknown = sorted(token for token in named if token.lower() not in Settings.model_fields)
    assert not unknown, f"the diagrams name settings that do not exist: {unknown}"


# --- Mapping an order ------------------------------------------------------------------------

MAPPING_SECTION = "Mapping an order"


def order_dto_prefixes() -> dict[type, str]:
    """How the mapping table names the fields of each DTO inside an order."""
    from channel_app_template.channel import _dto as dto

    return {
        dto.ChannelCreateOrderDto: "",
        dto.ChannelOrderDto: "order",
        dto.CustomerDto: "customer",
        dto.AddressDto: "address",
        dto.OrderItemDto: "order_item",
    }


def nested_models(annotation: object) -> list[type]:
    """The pydantic models inside a field's type (``list[X]``, ``X | None``...)."""
    from pydantic import BaseModel

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in typing.get_args(annotation) for model in nested_models(arg)]


def order_dto_fields() -> set[str]:
    """Every field of ``ChannelCreateOrderDto`` and of the DTOs inside it, as the table
    names them."""
    prefixes = order_dto_prefixes()
    fields: set[str] = set()
    todo, seen = [next(iter(prefixes))], set()
    while todo:
        model = todo.pop()
        if model in seen:
            continue
        seen.add(model)
        assert model in prefixes, (
            f"{model.__name__} is new inside an order: name it in order_dto_prefixes and "
            "give its fields rows in README's order mapping table"
        )
        for name, info in model.model_fields.items():  # type: ignore[attr-defined]
            fields.add(f"{prefixes[model]}.{name}".lstrip("."))
            todo += nested_models(info.annotation)
    return fields


def mapping_table_fields() -> list[str]:
    """The ````literal```` names in the first column of the order mapping table."""
    rows = list(section_node(MAPPING_SECTION).findall(docutils.nodes.row))[1:]  # no header
    assert rows, "the order mapping table has no rows"
    unnamed = [r.astext()[:60] for r in rows if not literals(r.next_node(docutils.nodes.entry))]
    assert not unnamed, f"rows of the order mapping table that name no field: {unnamed}"
    return first_column(MAPPING_SECTION)


def test_order_mapping_table_has_every_order_dto_field_and_nothing_else() -> None:
    listed = mapping_table_fields()
    assert len(listed) == len(set(listed)), sorted(n for n in listed if listed.count(n) > 1)
    fields = order_dto_fields()
    missing = sorted(fields - set(listed))
    assert not missing, f"order DTO fields missing from README's order mapping: {missing}"
    extra = sorted(set(listed) - fields)
    assert not extra, f"README's order mapping names fields the DTOs do not have: {extra}"


def test_order_mapping_names_only_real_settings() -> None:
    from channel_app_template.settings import Settings

    text = section(MAPPING_SECTION)
    named = set(re.findall(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b", text))
    channel_conf = {"CUSTOMER_IDENTIFIER_FIELD"}  # a channel.conf key, not an env setting
    unknown = sorted(n for n in named - channel_conf if n.lower() not in Settings.model_fields)
    assert not unknown, f"the order mapping names settings that do not exist: {unknown}"
