"""Draw README's two diagrams as plain SVG: ``python docs/diagrams.py`` rewrites them,
``python docs/diagrams.py --check`` exits 1 when a committed picture differs.

Why hand-placed SVG: it needs nothing outside the dev extra (no graphviz on CI or ACC),
the output is byte-for-byte repeatable (so a test can tell a stale picture), and GitHub
shows SVG inline. The batch states come from :class:`BatchRequestStatus`, so a status
added to the code cannot be missing from the picture without a test noticing.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from channel_app_template.akinon.models import BatchRequestStatus

__all__ = ["DIAGRAMS", "batch_states", "order_ingestion", "render_all"]

HERE = Path(__file__).resolve().parent
FONT = "Helvetica, Arial, sans-serif"
INK = "#1f2328"
MUTED = "#57606a"
BLUE = "#0969da"
GREEN = "#1a7f37"
RED = "#cf222e"
LINE_HEIGHT = 1.3  # of the font size, between the lines of one label

Point = tuple[float, float]


def _n(value: float) -> str:
    """Coordinates as short, stable text (no float noise in the committed file)."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


@dataclass
class Svg:
    """Just enough SVG for boxes, arrows and labels, written in a fixed order."""

    width: int
    height: int
    title: str
    parts: list[str] = field(default_factory=list)

    def rect(
        self,
        x: float,
        y: float,
        w: float,
        h: float,
        *,
        fill: str = "#ffffff",
        stroke: str = INK,
        radius: float = 6,
        width: float = 1.5,
        dash: str | None = None,
    ) -> None:
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        self.parts.append(
            f'<rect x="{_n(x)}" y="{_n(y)}" width="{_n(w)}" height="{_n(h)}" '
            f'rx="{_n(radius)}" fill="{fill}" stroke="{stroke}" stroke-width="{_n(width)}"'
            f"{extra}/>"
        )

    def circle(self, x: float, y: float, r: float, *, fill: str = INK) -> None:
        self.parts.append(f'<circle cx="{_n(x)}" cy="{_n(y)}" r="{_n(r)}" fill="{fill}"/>')

    def text(
        self,
        x: float,
        y: float,
        lines: str | Sequence[str],
        *,
        size: float = 13,
        anchor: str = "middle",
        color: str = INK,
        bold: bool = False,
        halo: bool = True,
        mono: bool = False,
    ) -> None:
        """Lines of text; ``y`` is the baseline of the first. The white halo keeps a
        label readable where it crosses a line."""
        rows = [lines] if isinstance(lines, str) else list(lines)
        attrs = [
            f'x="{_n(x)}"',
            f'y="{_n(y)}"',
            f'font-size="{_n(size)}"',
            f'text-anchor="{anchor}"',
            f'fill="{color}"',
        ]
        if bold:
            attrs.append('font-weight="bold"')
        if mono:
            attrs.append('font-family="Menlo, Consolas, monospace"')
        if halo:
            attrs.append(
                'stroke="#ffffff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'
            )
        spans = "".join(
            f'<tspan x="{_n(x)}" dy="{0 if i == 0 else _n(size * LINE_HEIGHT)}">{escape(row)}'
            "</tspan>"
            for i, row in enumerate(rows)
        )
        self.parts.append(f"<text {' '.join(attrs)}>{spans}</text>")

    def arrow(
        self,
        points: Sequence[Point],
        *,
        color: str = INK,
        dash: str | None = None,
        head: bool = True,
        width: float = 1.5,
    ) -> None:
        path = " ".join(
            f"{'M' if i == 0 else 'L'}{_n(x)},{_n(y)}" for i, (x, y) in enumerate(points)
        )
        extra = f' stroke-dasharray="{dash}"' if dash else ""
        if head:
            extra += f' marker-end="url(#head-{color.lstrip("#")})"'
        self.parts.append(
            f'<path d="{path}" fill="none" stroke="{color}" stroke-width="{_n(width)}"{extra}/>'
        )

    def render(self) -> str:
        heads = "".join(
            f'<marker id="head-{c.lstrip("#")}" viewBox="0 0 10 10" refX="9" refY="5" '
            f'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
            f'<path d="M0,0 L10,5 L0,10 z" fill="{c}"/></marker>'
            for c in (INK, MUTED, BLUE, GREEN, RED)
        )
        body = "\n".join(self.parts)
        return (
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{self.width}" '
            f'height="{self.height}" viewBox="0 0 {self.width} {self.height}" '
            f'font-family="{FONT}">\n'
            f"<title>{escape(self.title)}</title>\n"
            f"<defs>{heads}</defs>\n"
            # An opaque background: GitHub's dark theme would otherwise hide dark ink.
            f'<rect width="{self.width}" height="{self.height}" fill="#ffffff"/>\n'
            f"{body}\n</svg>\n"
        )


# --- The batch request state diagram ------------------------------------------------------


@dataclass(frozen=True)
class State:
    status: BatchRequestStatus
    x: float  # centre
    y: float
    fill: str = "#ddf4ff"
    stroke: str = BLUE

    W = 160.0
    H = 48.0

    @property
    def top(self) -> Point:
        return (self.x, self.y - self.H / 2)

    @property
    def bottom(self) -> Point:
        return (self.x, self.y + self.H / 2)

    @property
    def left(self) -> Point:
        return (self.x - self.W / 2, self.y)

    @property
    def right(self) -> Point:
        return (self.x + self.W / 2, self.y)

    def at(self, dx: float, dy: float) -> Point:
        """A point on the box's edge: ``dx`` from the centre, ``dy`` = -1 top, 1 bottom."""
        return (self.x + dx, self.y + dy * self.H / 2)


def batch_states() -> str:
    """Which states a batch request goes through, and who moves it there."""
    s = BatchRequestStatus
    states = {
        s.INITIALIZED: State(s.INITIALIZED, 105, 150),
        s.COMMIT: State(s.COMMIT, 345, 150),
        s.DONE: State(s.DONE, 790, 150, "#dafbe1", GREEN),
        s.SENT_TO_REMOTE: State(s.SENT_TO_REMOTE, 470, 350),
        s.ONGOING: State(s.ONGOING, 790, 350),
        s.FAIL: State(s.FAIL, 105, 550, "#ffebe9", RED),
    }
    ini, com, done = states[s.INITIALIZED], states[s.COMMIT], states[s.DONE]
    sent, ong, fail = states[s.SENT_TO_REMOTE], states[s.ONGOING], states[s.FAIL]
    svg = Svg(910, 640, "Batch request states of a catalog flow run")
    svg.text(
        20,
        32,
        "A batch request's states: one batch per page a catalog flow sends",
        size=18,
        anchor="start",
        bold=True,
        halo=False,
    )
    svg.text(
        20,
        56,
        "green: settled  ·  blue: an asynchronous job and its check_* loop  ·  red: failures",
        anchor="start",
        color=MUTED,
        halo=False,
    )

    # Every run: open a batch, lock the page's objects under it.
    svg.circle(ini.x, 92, 8)
    svg.arrow([(ini.x, 100), ini.top])
    svg.text(ini.x + 14, 97, "a run opens a batch", anchor="start")
    svg.arrow([ini.right, com.left])
    svg.text((ini.right[0] + com.left[0]) / 2, 176, ["commit:", "objects", "locked"])

    # A synchronous channel answers at once.
    svg.arrow([com.right, done.left], color=GREEN)
    svg.text(
        (com.right[0] + done.left[0]) / 2,
        118,
        ["synchronous channel:", "send_* returned one row per item"],
        color=GREEN,
    )
    svg.text(
        done.x,
        98,
        ["per object: success (remote_id,", "version_date) or error + report"],
        color=GREEN,
    )

    # An asynchronous one returns a job id; check_* runs until the job has rows.
    svg.arrow([com.at(40, 1), sent.at(-40, -1)], color=BLUE)
    svg.text(
        440,
        226,
        ["asynchronous channel:", "send_* returned Submitted", "(job id; journal in Redis)"],
        anchor="start",
        color=BLUE,
    )
    svg.arrow([sent.right, ong.left], color=BLUE)
    svg.text((sent.right[0] + ong.left[0]) / 2, 340, "check_*: None", color=BLUE)
    loop = ong.right[0]
    svg.arrow(
        [(loop, ong.y - 10), (loop + 28, ong.y - 10), (loop + 28, ong.y + 10), (loop, ong.y + 10)],
        color=BLUE,
    )
    svg.text(
        ong.x - 12,
        ong.y + 50,
        ["check_* every run:", "None while the job runs"],
        anchor="end",
        color=BLUE,
    )
    svg.arrow([sent.at(40, -1), done.at(-60, 1)], color=GREEN)
    svg.text(660, 290, "check_*: rows", color=GREEN)
    svg.arrow([ong.top, done.bottom], color=GREEN)
    svg.text(ong.x + 10, 262, "check_*: rows", anchor="start", color=GREEN)

    # Failures.
    svg.arrow([ini.bottom, fail.top], color=RED)
    svg.text(
        ini.x + 12,
        230,
        ["exception in the", "run: the batch is", "closed as failed"],
        anchor="start",
        color=RED,
    )
    svg.arrow([com.at(-45, 1), fail.at(55, -1)], color=RED)
    svg.text(
        262,
        392,
        ["an exception; or left", "in commit by a crash:", "the flow's next run", "fails it"],
        anchor="start",
        color=RED,
    )
    svg.arrow([sent.bottom, (sent.x, fail.y), fail.right], color=RED)
    svg.arrow([ong.bottom, (ong.x, fail.y), (sent.x, fail.y)], color=RED, head=False)
    svg.text(
        (sent.x + ong.x) / 2,
        fail.y - 64,
        [
            "older than BATCH_STALE_AFTER:",
            "objects failed and reported;",
            "journal lost in Redis:",
            "objects pending again",
        ],
        color=RED,
    )
    svg.text(
        fail.x,
        fail.y + 48,
        ["locks released: the pending", "views list the objects again"],
        color=RED,
    )

    for state in states.values():
        svg.rect(
            state.x - State.W / 2,
            state.y - State.H / 2,
            State.W,
            State.H,
            fill=state.fill,
            stroke=state.stroke,
            radius=State.H / 2,
            width=2,
        )
        svg.text(
            state.x, state.y + 6, state.status.value, size=16, bold=True, halo=False, mono=True
        )
    return svg.render()


# --- The order-ingestion sequence ----------------------------------------------------------

MARKET, WORKER, REDIS, OMNITRON = 90.0, 330.0, 545.0, 775.0
RIGHT_EDGE = 890.0


def order_ingestion() -> str:
    """``fetch_orders`` from the marketplace into Omnitron, and where a crash is repaired."""
    svg = Svg(910, 1003, "Order ingestion: fetch_orders, step by step")
    svg.text(
        20,
        32,
        "fetch_orders: each marketplace order becomes exactly one Omnitron order",
        size=18,
        anchor="start",
        bold=True,
        halo=False,
    )
    top, lifeline_end = 52.0, 813.0
    for x, name, sub in (
        (MARKET, "marketplace", "your integration"),
        (WORKER, "fetch_orders", "Celery worker"),
        (REDIS, "Redis", "locks, attempts"),
        (OMNITRON, "Omnitron", "REST API"),
    ):
        svg.arrow([(x, top + 46), (x, lifeline_end)], color=MUTED, dash="4 4", head=False, width=1)
        svg.rect(x - 75, top, 150, 46, fill="#f6f8fa", stroke=INK)
        svg.text(x, top + 20, name, size=15, bold=True, halo=False)
        svg.text(x, top + 37, sub, size=12, color=MUTED, halo=False)

    y = 136.0
    step = 36.0
    number = 0

    def call(
        to: float,
        label: str,
        *,
        back: bool = False,
        color: str = INK,
        step_no: bool = True,
        more: Sequence[str] = (),
    ) -> tuple[float, int]:
        """An arrow between the worker and ``to``; numbered unless it is an answer."""
        nonlocal y, number
        if step_no:
            number += 1
            label = f"{number}  {label}"
        start, end = (to, WORKER) if back else (WORKER, to)
        if to == WORKER:  # the worker's own work: a small loop on its lifeline
            svg.arrow([(WORKER, y - 8), (WORKER + 30, y - 8), (WORKER + 30, y + 6),
                       (WORKER + 2, y + 6)], color=color)  # fmt: skip
            svg.text(WORKER + 40, y + 3, [label, *more], anchor="start", color=color)
        else:
            svg.arrow([(start, y), (end, y)], color=color, dash="6 4" if back else None)
            if to == REDIS:  # a short arrow: its label may run on to the right
                svg.text(WORKER + 10, y - 7, label, anchor="start", color=color)
            else:
                svg.text((start + end) / 2, y - 7, label, color=color)
        here = y
        y += step + 17 * len(more)
        return here, number

    def frame(top: float, label: str, color: str, dash: str | None = None) -> None:
        svg.rect(
            WORKER - 22,
            top,
            RIGHT_EDGE - (WORKER - 22),
            y - 12 - top,
            fill="none",
            stroke=color,
            radius=4,
            width=1.2,
            dash=dash,
        )
        svg.text(WORKER - 14, top + 16, label, size=12, anchor="start", color=color, bold=True)

    def crash(at: float, letter: str, side: float) -> None:
        svg.circle(WORKER + side, at, 10, fill=RED)
        svg.text(WORKER + side, at + 4.5, letter, size=12, color="#ffffff", bold=True, halo=False)

    _, repair = call(OMNITRON, "fail the mapping batch a crashed run left in commit")
    call(MARKET, "get_orders(): a page")
    call(MARKET, "orders; parked ones are skipped", back=True, color=MUTED, step_no=False)
    _, look_up = call(OMNITRON, "look the page's orders up by number (one request)")
    call(
        WORKER,
        "units within ORDER_MAX_LINE_QUANTITY and",
        more=["ORDER_MAX_UNITS, or the order failed (below)"],
    )
    call(OMNITRON, "product pks from the product mappings")

    loop_top = y - 14
    y += 34
    locked, _ = call(REDIS, "lock the number (it expires)")
    _, again = call(OMNITRON, "look it up again, inside the lock")
    call(OMNITRON, "cargo, customer, addresses (locations)")
    created, create = call(OMNITRON, "POST create_orders/ (sent once)")
    call(REDIS, "unlock")
    frame(loop_top, "each order not found, OMNITRON_CONCURRENCY at a time", MUTED)

    y += 8
    mapped, mapping = call(OMNITRON, "mappings: one batch, commit, done")
    call(REDIS, "forget their failed attempts")
    acked, ack = call(MARKET, "acknowledge_orders()")

    fail_top = y - 14
    y += 34
    call(OMNITRON, "error report (Marketplace Logs)", color=RED, step_no=False)
    call(REDIS, "attempts + 1: parked at ORDER_MAX_ATTEMPTS", color=RED, step_no=False)
    frame(fail_top, "an order that failed: not acknowledged, tried again next run", RED, "5 3")

    notes = [
        (locked, "A", -22, f"killed while holding the lock: it expires; later runs start over "
                           f"at {look_up}."),
        (created, "B", -22, f"no answer to {create}: look the number up; not there: postponed, "
                            f"and the next run looks first ({look_up}, {again})."),
        (mapped, "C", -22, f"crash after {create} or inside {mapping}: {look_up} finds the "
                           f"order, {mapping} records what it lacks; {repair} fails a batch "
                           "left in commit."),
        (acked, "D", 22, f"crash before {ack}: the marketplace lists the order again; "
                         f"{look_up} finds it, {ack} acknowledges it."),
    ]  # fmt: skip
    y = lifeline_end + 34
    svg.text(
        20,
        y,
        "If a run stops (worker killed, broker restarted, an answer lost), the next "
        "run repairs it:",
        size=14,
        anchor="start",
        bold=True,
        halo=False,
    )
    for at, letter, side, text in notes:
        crash(at, letter, side)
        y += 30
        svg.circle(30, y - 4.5, 10, fill=RED)
        svg.text(30, y, letter, size=12, color="#ffffff", bold=True, halo=False)
        svg.text(48, y, text, anchor="start", halo=False)
    return svg.render()


DIAGRAMS: dict[str, Callable[[], str]] = {
    "batch-states.svg": batch_states,
    "order-ingestion.svg": order_ingestion,
}


def render_all() -> dict[Path, str]:
    """Every picture this script owns, by its path next to the script."""
    return {HERE / name: draw() for name, draw in DIAGRAMS.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="only compare, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for path, text in render_all().items():
        current = path.read_text() if path.exists() else None
        if current == text:
            continue
        if args.check:
            stale.append(path.name)
        else:
            path.write_text(text)
            print(f"wrote {path.relative_to(HERE.parent)} ({len(text.encode())} bytes)")
    if stale:
        print(f"out of date: {', '.join(stale)}; run python docs/diagrams.py", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
