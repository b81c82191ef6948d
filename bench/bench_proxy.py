"""Benchmark of the public ``/flower/*`` proxy against Flower itself (not a test).

Run ``python bench/bench_proxy.py`` from the repository root. It starts its own private
stack (redis-server, a Celery worker, Flower, the web process; see
``tests/support/stack.py``), then measures, on loopback only:

* ``GET /flower/api/workers`` and ``POST /flower/api/task/async-apply/tests.add``, direct
  to Flower and through the proxy: requests/s, p50/p99 latency, median of N alternating
  rounds. The same GET also goes through a minimal httpx-based candidate proxy (defined
  below) so the choice of aiohttp as upstream client is measured, not assumed.
* The proxy's own CPU time per proxied ``GET /flower/api/workers`` (the web process's
  CPU time over the run / requests), against its target; the web process under test is
  started from the Procfile's ``web`` line (its ``--http`` protocol and all).
* The same GET rounds again with a CPU hog (a busy-loop process started and stopped by
  its pid) running beside the stack: the ratio a loaded machine sees.
* The architecture's floor, in the same run: CPU per request of (a) a bare ASGI app
  answering a body of the same size under the Procfile's uvicorn command line, (b) the
  proxy's upstream client alone (its ``Upstream``: the same connections, headers
  and slots) in a bare loop against Flower, (c) Flower per direct request. The proxy's CPU
  per request is printed next to (a)+(b), with whether (a)+(b) alone fits the target.
* The proxy's CPU scaled to the issue's machine (where Flower took about 250 us per
  direct GET), since this machine's speed moves Flower's cost and the proxy's together.
* The ratio's ceiling, in the same rounds: Flower alone answering GETs that carry the
  headers the proxy adds on their way (``X-Forwarded-*``, ``X-Real-IP``,
  ``Accept-Encoding``), as a ratio to plain direct GETs; Flower is the bottleneck, so a
  proxied rate cannot beat it.
* A 16 MiB upload (PROXY_MAX_BODY_BYTES's ceiling) through the proxy to a tiny upstream
  that drains the body: the peak RSS growth of the web process.

Each run also records the CPU time Flower, the proxy and the load generator spent per
request (psutil / getrusage), which says where the time goes better than req/s alone on
a shared machine. During the POST runs the worker is told to stop consuming, so the
published tasks wait in the private Redis instead of competing for the CPU.

The load comes from ``wrk`` when it is installed (it leaves the two cores to the
processes under test); otherwise from a Python asyncio/aiohttp generator, and the output
says which. Numbers are noisy on a shared 2-core machine: run it more than once.
Options: ``--duration``, ``--warmup``, ``--rounds``, ``--connections``,
``--loadgen {auto,wrk,python}``, ``--skip-upload``, ``--skip-hog``.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import http.cookiejar
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

WORKERS_PATH = "/flower/api/workers"
APPLY_PATH = "/flower/api/task/async-apply/tests.add"
APPLY_BODY = b'{"args":[1,2]}'
UPLOAD_BYTES = 16 * 1024 * 1024  # the largest body PROXY_MAX_BODY_BYTES may allow
UPLOAD_CHUNK = 64 * 1024
MAX_BODY_FOR_UPLOAD = UPLOAD_BYTES

TARGET_RATIO = 0.9
TARGET_PROXY_CPU_US = 100.0  # the web process's CPU per proxied GET /flower/api/workers
# Flower's CPU per direct GET on the machine the issue set that target on: this machine's
# speed moves by a third from hour to hour, Flower's cost and the proxy's with it.
REFERENCE_FLOWER_US = 250.0
TARGET_P99_OVERHEAD_MS = 5.0
TARGET_RSS_MB = 8.0  # buffering would add the whole body (16 MiB) or more


# --------------------------------------------------------------------------------------
# The two helper servers, each run in its own process by re-running this file.
# --------------------------------------------------------------------------------------


def serve_drain(port: int) -> None:
    """An upstream that reads the whole request body, keeps none of it, and says how much."""
    from aiohttp import web

    async def drain(request: web.Request) -> web.Response:
        received = 0
        async for chunk in request.content.iter_any():
            received += len(chunk)
        return web.json_response({"received": received})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", drain)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class _RejectAllCookies(http.cookiejar.DefaultCookiePolicy):
    def set_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False

    def return_ok(self, cookie: http.cookiejar.Cookie, request: Any) -> bool:
        return False


_CANDIDATE_DROPPED = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authorization",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"content-length",
        b"authorization",
        b"server",
        b"date",
    }
)


def httpx_candidate_app(upstream: str, authorization: bytes) -> Callable[..., Any]:
    """The smallest honest pure-ASGI proxy on httpx.AsyncClient, for comparison only.

    It keeps the rules that cost something per request (raw path and query, header
    filtering, streamed reply, no cookie jar) and skips the ones that do not matter for
    a GET benchmark (client auth, body streaming, error mapping).

    Measured here: several times the CPU per request of our aiohttp proxy (the table's
    "proxy CPU" column says how much in each run). py-spy puts ~20% of it in a failed
    ``import sniffio`` on every request
    (``httpcore.current_async_library``; sniffio is not installed, anyio 4 no longer
    needs it, and failed imports are not cached) and ~28% in httpcore checking every
    pooled connection's socket (``has_expired``) on every request.
    """
    import httpx

    state: dict[str, httpx.AsyncClient] = {}

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while True:
                message = await receive()
                if message["type"] == "lifespan.startup":
                    state["client"] = httpx.AsyncClient(
                        trust_env=False,
                        follow_redirects=False,
                        cookies=http.cookiejar.CookieJar(policy=_RejectAllCookies()),
                        timeout=httpx.Timeout(connect=5, read=60, write=30, pool=5),
                        limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
                    )
                    await send({"type": "lifespan.startup.complete"})
                elif message["type"] == "lifespan.shutdown":
                    await state["client"].aclose()
                    await send({"type": "lifespan.shutdown.complete"})
                    return
        client = state["client"]
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        target = upstream + scope["raw_path"].decode("ascii")
        if scope["query_string"]:
            target += "?" + scope["query_string"].decode("ascii")
        headers = [(k, v) for k, v in scope["headers"] if k not in _CANDIDATE_DROPPED]
        headers.append((b"authorization", authorization))
        request = client.build_request(scope["method"], target, headers=headers, content=body)
        response = await client.send(request, stream=True)
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k.lower(), v)
                        for k, v in response.headers.raw
                        if k.lower() not in _CANDIDATE_DROPPED
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            await response.aclose()

    return app


def serve_httpx_candidate(port: int, upstream: str) -> None:
    import uvicorn

    authorization = os.environ["BENCH_UPSTREAM_AUTHORIZATION"].encode()
    uvicorn.run(
        httpx_candidate_app(upstream, authorization),
        host="127.0.0.1",
        port=port,
        access_log=False,
        log_level="warning",
    )


# --------------------------------------------------------------------------------------
# The architecture's floor: what uvicorn and aiohttp cost with no proxy logic at all.
# --------------------------------------------------------------------------------------

_BARE_BODY = b"{}"


async def bare_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Floor (a): an ASGI app that answers every request with a fixed body, nothing else.

    Served by the Procfile's uvicorn command line (``BoundedHttpProtocol``, same flags),
    so its CPU per request is what the web server costs before the proxy does anything.
    The body has the size of Flower's ``/api/workers`` answer (``BENCH_BARE_BYTES``).
    """
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                global _BARE_BODY
                _BARE_BODY = b"x" * int(os.environ.get("BENCH_BARE_BYTES", "2"))
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [
                (b"content-type", b"application/json; charset=UTF-8"),
                (b"content-length", str(len(_BARE_BODY)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _BARE_BODY, "more_body": False})


def bare_web_command(port: int) -> list[str]:
    """The Procfile's ``web`` argv with :func:`bare_app` in place of the real app."""
    from tests.support.stack import procfile_web_argv

    argv = procfile_web_argv(port)
    index = argv.index("channel_app_template.api.main:app")
    return [*argv[:index], "bench.bench_proxy:bare_app", *argv[index + 1 :]]


@dataclass
class ClientFloor:
    """Floor (b): the upstream client alone, CPU per request of the process running it."""

    requests: int
    cpu_us: float
    flower_us: float


def client_floor(
    flower_url: str, authorization: str, flower_pid: int, args: argparse.Namespace
) -> ClientFloor:
    """A bare loop of ``args.connections`` clients over the proxy's own :class:`Upstream`
    (the same connections, slots and headers the proxy sends a GET with), each request's
    body read as the proxy streams it, on uvloop as the web process runs; CPU time of this
    process (nothing else runs in it)."""
    coroutine = _client_floor(flower_url, authorization, flower_pid, args)
    try:
        import uvloop
    except ImportError:  # uvicorn falls back to asyncio's loop too
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


async def _client_floor(
    flower_url: str, authorization: str, flower_pid: int, args: argparse.Namespace
) -> ClientFloor:
    from typing import cast

    from channel_app_template.api._config import ProxyConfig
    from channel_app_template.api._upstream import Upstream

    config = ProxyConfig(
        upstream=flower_url,
        gate=cast(Any, None),  # the client never checks callers
        upstream_authorization=authorization.encode(),
    )
    upstream = Upstream(config)
    await upstream.start()
    host = flower_url.split("://", 1)[1]
    headers = [
        ("Host", host),
        ("Authorization", authorization),
        ("X-Forwarded-For", "127.0.0.1"),
        ("X-Forwarded-Proto", "http"),
        ("X-Forwarded-Host", host),
        ("X-Real-IP", "127.0.0.1"),
        ("X-Forwarded-Prefix", "/flower"),
        ("Accept-Encoding", "identity"),
    ]
    target = upstream.target(WORKERS_PATH.encode(), b"")
    head = upstream.get_head(WORKERS_PATH.encode(), b"", headers)
    count = 0

    async def one_get() -> None:
        # the proxy's path for a GET without a body: its own connections when it has them
        if upstream.direct is not None and head is not None:
            answer = await upstream.direct.get(head, config.connect_timeout, config.read_timeout)
            try:
                async for _ in answer.chunks():
                    pass
            finally:
                answer.release()
            return
        response = await upstream.request("GET", target, headers, None)
        try:
            async for _ in response.content.iter_any():
                pass
        finally:
            response.release()

    async def client(deadline: float) -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await upstream.acquire_slot()
            try:
                await one_get()
            finally:
                upstream.release_slot()
            count += 1

    async def run(seconds: float) -> None:
        deadline = time.perf_counter() + seconds
        await asyncio.gather(*(client(deadline) for _ in range(args.connections)))

    try:
        await run(args.warmup)
        count = 0
        before = resource.getrusage(resource.RUSAGE_SELF)
        flower_before = cpu_seconds(flower_pid)
        await run(args.duration)
        after = resource.getrusage(resource.RUSAGE_SELF)
        flower_used = cpu_seconds(flower_pid) - flower_before
    finally:
        await upstream.close()
    used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    requests = max(count, 1)
    return ClientFloor(count, used / requests * 1e6, flower_used / requests * 1e6)


@dataclass
class Floor:
    """The floor measured in the same run as the proxy: medians over the rounds."""

    server: Series  # (a) the bare ASGI app under the Procfile's uvicorn line
    clients: list[ClientFloor]  # (b) the upstream client alone
    flower_us: float  # (c) Flower per direct request (the direct GET rounds)

    @property
    def server_us(self) -> float:
        return self.server.proxy_us

    @property
    def client_us(self) -> float:
        return statistics.median(c.cpu_us for c in self.clients)


# --------------------------------------------------------------------------------------
# Load generation
# --------------------------------------------------------------------------------------


@dataclass
class Run:
    """One fixed-duration run against one URL."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int
    flower_us: float = 0.0  # Flower's CPU time per request, microseconds
    proxy_us: float = 0.0  # the proxy's CPU time per request (0 when direct)
    loadgen_us: float = 0.0  # the load generator's CPU time per request


@dataclass
class Series:
    """The rounds of one target; the table shows their medians."""

    label: str
    runs: list[Run] = field(default_factory=list)

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.runs)

    @property
    def p50_ms(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs)

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.runs)

    @property
    def flower_us(self) -> float:
        return statistics.median(r.flower_us for r in self.runs)

    @property
    def proxy_us(self) -> float:
        return statistics.median(r.proxy_us for r in self.runs)

    @property
    def loadgen_us(self) -> float:
        return statistics.median(r.loadgen_us for r in self.runs)


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


class WrkLoad:
    name = "wrk"

    def __init__(self, connections: int, threads: int, workdir: Path) -> None:
        self.connections = connections
        self.threads = threads
        self.post_script = workdir / "post.lua"
        body = APPLY_BODY.decode()
        self.post_script.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = '{body}'\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )

    def describe(self) -> str:
        version = subprocess.run(["wrk", "--version"], capture_output=True, text=True).stdout
        return f"wrk ({version.split()[1] if version else '?'}), {self.threads} threads"

    def run(
        self, url: str, post: bool, authorization: str, seconds: float, extra: Headers = ()
    ) -> Run:
        command = [
            "wrk",
            f"-t{self.threads}",
            f"-c{self.connections}",
            f"-d{max(1, round(seconds))}s",
            "--timeout",
            "10s",
            "--latency",
            "-H",
            f"Authorization: {authorization}",
        ]
        for name, value in extra:
            command += ["-H", f"{name}: {value}"]
        if post:
            command += ["-s", str(self.post_script)]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        output = subprocess.run(
            [*command, url], capture_output=True, text=True, check=True, timeout=seconds + 30
        ).stdout
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        run = self.parse(output)
        used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        run.loadgen_us = used / max(run.requests, 1) * 1e6
        return run

    @staticmethod
    def parse(output: str) -> Run:
        rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
        requests = int(re.search(r"(\d+) requests in", output).group(1))  # type: ignore[union-attr]
        percentiles = dict(re.findall(r"^\s+(50|99)(?:\.000)?%\s+(\S+)", output, re.MULTILINE))
        errors = 0
        if match := re.search(r"Non-2xx or 3xx responses: (\d+)", output):
            errors += int(match.group(1))
        if match := re.search(
            r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
        ):
            errors += sum(int(g) for g in match.groups())
        return Run(rps, _wrk_ms(percentiles["50"]), _wrk_ms(percentiles["99"]), requests, errors)


class PythonLoad:
    """Fallback when wrk is missing: asyncio + aiohttp, one keep-alive connection each."""

    name = "python"

    def __init__(self, connections: int) -> None:
        self.connections = connections

    def describe(self) -> str:
        return "Python asyncio/aiohttp (wrk not found; competes with the servers for CPU)"

    def run(
        self, url: str, post: bool, authorization: str, seconds: float, extra: Headers = ()
    ) -> Run:
        before = resource.getrusage(resource.RUSAGE_SELF)
        run = asyncio.run(self._run(url, post, authorization, seconds, extra))
        after = resource.getrusage(resource.RUSAGE_SELF)
        used = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
        run.loadgen_us = used / max(run.requests, 1) * 1e6
        return run

    async def _run(
        self, url: str, post: bool, authorization: str, seconds: float, extra: Headers
    ) -> Run:
        import aiohttp

        latencies: list[float] = []
        errors = 0
        headers = {"Authorization": authorization, **dict(extra)}
        if post:
            headers["Content-Type"] = "application/json"
        connector = aiohttp.TCPConnector(limit=self.connections)
        async with aiohttp.ClientSession(connector=connector) as session:
            deadline = time.perf_counter() + seconds

            async def client() -> None:
                nonlocal errors
                while time.perf_counter() < deadline:
                    started = time.perf_counter()
                    try:
                        async with session.request(
                            "POST" if post else "GET",
                            url,
                            headers=headers,
                            data=APPLY_BODY if post else None,
                        ) as response:
                            await response.read()
                            if response.status >= 400:
                                errors += 1
                    except aiohttp.ClientError:
                        errors += 1
                    latencies.append((time.perf_counter() - started) * 1000)

            began = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(self.connections)))
            elapsed = time.perf_counter() - began
        latencies.sort()

        def pick(q: float) -> float:
            return latencies[min(len(latencies) - 1, int(q * len(latencies)))]

        return Run(len(latencies) / elapsed, pick(0.50), pick(0.99), len(latencies), errors)


# --------------------------------------------------------------------------------------
# The measurements
# --------------------------------------------------------------------------------------


def basic(credentials: tuple[str, str]) -> str:
    token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode()
    return f"Basic {token}"


Headers = Sequence[tuple[str, str]]


@dataclass(frozen=True)
class Target:
    label: str
    url: str
    proxy_pid: int | None = None  # the proxy process in the path, if any
    headers: Headers = ()  # sent on top of Authorization


def proxy_added_headers(web_url: str) -> list[tuple[str, str]]:
    """The headers the proxy adds to a load generator's GET on its way to Flower (its
    ``X-Forwarded-*`` and the rest), from the proxy's own rewriter."""
    from channel_app_template.api._headers import HeaderRewriter

    host = web_url.split("://", 1)[1].encode()
    scope = {"client": ("127.0.0.1", 50000), "scheme": "http"}
    forwarded = HeaderRewriter("http://flower", b"Basic x", False).request(
        scope, [(b"host", host)], None, False
    )
    return [(name, value) for name, value in forwarded if name not in ("Host", "Authorization")]


def cpu_seconds(pid: int | None) -> float:
    import psutil

    if pid is None:
        return 0.0
    times = psutil.Process(pid).cpu_times()
    return float(times.user + times.system)


def measure(
    load: WrkLoad | PythonLoad,
    target: Target,
    flower_pid: int,
    post: bool,
    authorization: str,
    args: argparse.Namespace,
) -> Run:
    load.run(target.url, post, authorization, args.warmup, target.headers)
    flower_before, proxy_before = cpu_seconds(flower_pid), cpu_seconds(target.proxy_pid)
    run = load.run(target.url, post, authorization, args.duration, target.headers)
    requests = max(run.requests, 1)
    run.flower_us = (cpu_seconds(flower_pid) - flower_before) / requests * 1e6
    run.proxy_us = (cpu_seconds(target.proxy_pid) - proxy_before) / requests * 1e6
    return run


def measure_rounds(
    load: WrkLoad | PythonLoad,
    targets: list[Target],
    flower_pid: int,
    post: bool,
    authorization: str,
    args: argparse.Namespace,
    pair: bool = True,
) -> list[Series]:
    """Direct (``targets[0]``) and ours (``targets[1]``) back to back, in alternating order,
    so each round's pair saw the same background load; any further candidate follows.
    With ``pair=False`` the targets simply run in order."""
    series = [Series(t.label) for t in targets]
    for round_no in range(args.rounds):
        order = [0, 1] if round_no % 2 == 0 else [1, 0]
        if not pair:
            order = []
        order += list(range(len(order), len(targets)))
        for index in order:
            run = measure(load, targets[index], flower_pid, post, authorization, args)
            series[index].runs.append(run)
            print(
                f"  round {round_no + 1} {series[index].label:<22} {run.rps:7.0f} req/s"
                f"  p50 {run.p50_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms  errors {run.errors}"
                f"  CPU/req: Flower {run.flower_us:4.0f} us, proxy {run.proxy_us:4.0f} us,"
                f" {load.name} {run.loadgen_us:3.0f} us",
                flush=True,
            )
    return series


def worker_names(flower_url: str, authorization: str) -> list[str]:
    import httpx

    response = httpx.get(
        f"{flower_url}/flower/api/workers?status=1",
        headers={"Authorization": authorization},
        timeout=10,
    )
    response.raise_for_status()
    return [name for name, up in response.json().items() if up]


def refresh_workers(flower_url: str, authorization: str) -> int:
    """Make Flower inspect the worker, so /api/workers answers with its full description
    (as it does for the dashboard) rather than ``{}``; return that answer's size."""
    import httpx

    headers = {"Authorization": authorization}
    deadline = time.monotonic() + 30
    while True:
        httpx.get(
            f"{flower_url}/flower/api/workers?refresh=1", headers=headers, timeout=20
        ).raise_for_status()
        response = httpx.get(f"{flower_url}{WORKERS_PATH}", headers=headers, timeout=20)
        response.raise_for_status()
        if response.json() or time.monotonic() > deadline:
            return len(response.content)
        time.sleep(0.5)


def stop_consuming(flower_url: str, authorization: str) -> None:
    """Keep the worker from executing thousands of ``tests.add`` during the POST runs.

    The published messages stay in the private Redis; the worker's CPU stays out of the
    comparison, which is about the proxy, not Celery.
    """
    import httpx

    # Flower's control routes only know workers it has inspected; refresh=1 does that.
    refresh_workers(flower_url, authorization)
    for name in worker_names(flower_url, authorization):
        response = httpx.post(
            f"{flower_url}/flower/api/worker/queue/cancel-consumer/{name}?queue=celery",
            headers={"Authorization": authorization},
            timeout=10,
        )
        response.raise_for_status()


@dataclass
class UploadResult:
    label: str
    seconds: float
    status: int
    received: int
    baseline_mb: float
    peak_growth_mb: float
    hwm_before_mb: float
    hwm_after_mb: float


def _vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@contextlib.contextmanager
def rss_sampler(pid: int, interval: float = 0.005) -> Iterator[list[int]]:
    """Sample the RSS of ``pid`` in a thread for the duration of the block."""
    import psutil

    process = psutil.Process(pid)
    samples: list[int] = []
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            with contextlib.suppress(psutil.Error):
                samples.append(process.memory_info().rss)
            time.sleep(interval)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    try:
        yield samples
    finally:
        stop.set()
        thread.join()


def upload(url: str, authorization: str, total: int, with_length: bool) -> tuple[int, int]:
    import httpx

    block = b"x" * UPLOAD_CHUNK

    def body() -> Iterator[bytes]:
        sent = 0
        while sent < total:
            piece = block[: min(UPLOAD_CHUNK, total - sent)]
            sent += len(piece)
            yield piece

    headers = {"Authorization": authorization, "Content-Type": "application/octet-stream"}
    if with_length:
        headers["Content-Length"] = str(total)  # otherwise httpx sends it chunked
    with httpx.Client(timeout=120, trust_env=False) as client:
        response = client.post(url, content=body(), headers=headers)
    received = response.json().get("received", -1) if response.status_code == 200 else -1
    return response.status_code, received


def measure_uploads(broker_url: str, workdir: Path, authorization: str) -> list[UploadResult]:
    from tests.support.processes import free_port, start
    from tests.support.stack import app_env, start_web

    drain_port = free_port()
    drain = start(
        "drain",
        [sys.executable, str(Path(__file__).resolve()), "--serve-drain", str(drain_port)],
        port=drain_port,
        log_dir=workdir,
    )
    env = app_env(
        broker_url,
        FLOWER_URL=f"http://127.0.0.1:{drain_port}",
        PROXY_MAX_BODY_BYTES=str(MAX_BODY_FOR_UPLOAD),
    )
    web = start_web(env, workdir)
    results = []
    try:
        url = f"http://127.0.0.1:{web.port}/flower/api/upload"
        pid = web.process.pid
        upload(url, authorization, 8 * 1024 * 1024, with_length=True)  # warm-up
        upload(url, authorization, 8 * 1024 * 1024, with_length=False)
        for label, with_length in (("Content-Length", True), ("chunked", False)):
            time.sleep(0.3)
            hwm_before = _vm_hwm_mb(pid)
            import psutil

            baseline = psutil.Process(pid).memory_info().rss
            started = time.perf_counter()
            with rss_sampler(pid) as samples:
                status, received = upload(url, authorization, UPLOAD_BYTES, with_length)
            seconds = time.perf_counter() - started
            peak = max(samples, default=baseline)
            results.append(
                UploadResult(
                    label,
                    seconds,
                    status,
                    received,
                    baseline / 2**20,
                    (peak - baseline) / 2**20,
                    hwm_before,
                    _vm_hwm_mb(pid),
                )
            )
            print(
                f"  upload {label:<15} {status} received {received} B in {seconds:.1f} s,"
                f" peak RSS +{(peak - baseline) / 2**20:.1f} MB",
                flush=True,
            )
    finally:
        web.stop()
        drain.stop()
    return results


@contextlib.contextmanager
def procfile_web(env: dict[str, str], workdir: Path) -> Iterator[Any]:
    """The web process exactly as deployed (the Procfile's line)."""
    from tests.support.stack import start_web

    web = start_web(env, workdir)
    try:
        yield web
    finally:
        web.stop()


@contextlib.contextmanager
def cpu_hog() -> Iterator[int]:
    """A busy-loop process beside the stack for the block; stopped by its pid."""
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        yield hog.pid
    finally:
        os.kill(hog.pid, 15)
        hog.wait(timeout=10)


# --------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def print_series(title: str, series: list[Series]) -> None:
    print(f"\n{title}")
    print(
        f"  {'target':<22} {'req/s':>7} {'p50 ms':>7} {'p99 ms':>7} {'errors':>6}"
        f" {'Flower CPU':>10} {'proxy CPU':>9} {'loadgen CPU':>11}   req/s per round"
    )
    for s in series:
        rounds = " ".join(f"{r.rps:.0f}" for r in s.runs)
        print(
            f"  {s.label:<22} {s.rps:7.0f} {s.p50_ms:7.2f} {s.p99_ms:7.2f} {s.errors:6d}"
            f" {s.flower_us:7.0f} us {s.proxy_us:6.0f} us {s.loadgen_us:8.0f} us   {rounds}"
        )


def paired(direct: Series, proxied: Series, attribute: str) -> float:
    """The median over rounds of (proxied - direct), or of proxied/direct for ``rps``."""
    values = []
    for d, p in zip(direct.runs, proxied.runs, strict=True):
        a, b = getattr(d, attribute), getattr(p, attribute)
        values.append(b / a if attribute == "rps" else b - a)
    return statistics.median(values)


def target_rows(name: str, direct: Series, proxied: Series) -> list[tuple[str, str, str, str]]:
    ratio = paired(direct, proxied, "rps")
    p99 = paired(direct, proxied, "p99_ms")
    p50 = paired(direct, proxied, "p50_ms")
    errors = direct.errors + proxied.errors
    return [
        (
            f"{name}: proxied/direct req/s",
            f"{ratio:.3f}x ({proxied.rps / direct.rps:.3f}x)",
            f">= {TARGET_RATIO:.2f}x",
            verdict(ratio >= TARGET_RATIO),
        ),
        (
            f"{name}: p99 overhead",
            f"{p99:+.1f} ({proxied.p99_ms - direct.p99_ms:+.1f}) ms",
            f"<= {TARGET_P99_OVERHEAD_MS:.0f} ms",
            verdict(p99 <= TARGET_P99_OVERHEAD_MS),
        ),
        (
            f"{name}: p50 overhead",
            f"{p50:+.1f} ({proxied.p50_ms - direct.p50_ms:+.1f}) ms",
            "-",
            "info",
        ),
        (f"{name}: errors (all runs)", f"{errors}", "0", verdict(errors == 0)),
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per measured run")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds of warm-up per run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--skip-upload", action="store_true")
    parser.add_argument("--skip-hog", action="store_true", help="no rounds beside a CPU hog")
    parser.add_argument("--serve-drain", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument(
        "--serve-httpx-candidate", nargs=2, metavar=("PORT", "UPSTREAM"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.serve_drain:
        serve_drain(args.serve_drain)
        return 0
    if args.serve_httpx_candidate:
        port, upstream = args.serve_httpx_candidate
        serve_httpx_candidate(int(port), upstream)
        return 0
    return run_benchmark(args)


def measure_floor(
    load: WrkLoad | PythonLoad,
    stack: Any,
    size: int,
    flower_pid: int,
    direct: Series,
    authorization: str,
    workdir: Path,
    args: argparse.Namespace,
) -> Floor:
    """Floors (a) and (b), measured right after the proxy's rounds, (c) taken from them."""
    from tests.support.processes import free_port, start

    port = free_port()
    bare = start(
        "bare-web",
        bare_web_command(port),
        env={**stack.env, "BENCH_BARE_BYTES": str(size)},
        port=port,
        log_dir=workdir,
    )
    print("\nFloor: the same GET without the proxy's own work", flush=True)
    try:
        server = measure_rounds(
            load,
            [
                Target(
                    "(a) bare ASGI app", f"http://127.0.0.1:{port}{WORKERS_PATH}", bare.process.pid
                )
            ],
            flower_pid,
            False,
            authorization,
            args,
            pair=False,
        )[0]
    finally:
        bare.stop()
    clients = []
    for round_no in range(args.rounds):
        result = client_floor(stack.flower_url, authorization, flower_pid, args)
        clients.append(result)
        print(
            f"  round {round_no + 1} (b) upstream client alone: {result.requests} requests,"
            f" CPU/req: client {result.cpu_us:4.0f} us, Flower {result.flower_us:4.0f} us",
            flush=True,
        )
    return Floor(server, clients, direct.flower_us)


def floor_rows(floor: Floor, proxy_us: float) -> list[tuple[str, str, str, str]]:
    """The floor next to the proxy, and whether the CPU target is within the architecture's
    reach at all (it is not when uvicorn plus aiohttp alone already cost more)."""
    base = floor.server_us + floor.client_us
    return [
        ("floor (a): bare ASGI app, same uvicorn", f"{floor.server_us:.0f} us", "-", "info"),
        ("floor (b): upstream client alone", f"{floor.client_us:.0f} us", "-", "info"),
        ("floor (c): Flower per direct GET", f"{floor.flower_us:.0f} us", "-", "info"),
        (
            "proxy CPU vs floor (a)+(b)",
            f"{proxy_us:.0f} us vs {base:.0f} us (+{proxy_us - base:.0f})",
            "printed",
            "info",
        ),
        (
            "floor (a)+(b) within the CPU target",
            f"{base:.0f} us",
            f"<= {TARGET_PROXY_CPU_US:.0f} us",
            "PASS" if base <= TARGET_PROXY_CPU_US else "MISS (unreachable)",
        ),
    ]


def run_benchmark(args: argparse.Namespace) -> int:
    from tests.support.processes import free_port, start
    from tests.support.stack import ADMIN, running_stack

    began = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="bench-proxy-"))
    use_wrk = args.loadgen == "wrk" or (args.loadgen == "auto" and shutil.which("wrk"))
    load: WrkLoad | PythonLoad = (
        WrkLoad(args.connections, 2, workdir) if use_wrk else PythonLoad(args.connections)
    )
    authorization = basic(ADMIN)
    print(
        f"bench_proxy: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at start;"
        f" load generator: {load.describe()}; {args.connections} connections;"
        f" {args.duration:g} s per run after {args.warmup:g} s warm-up;"
        f" median of {args.rounds} alternating rounds",
        flush=True,
    )
    with running_stack() as stack, procfile_web(stack.env, workdir) as web:
        flower_pid, web_pid = stack.flower.process.pid, web.process.pid
        web_url = f"http://127.0.0.1:{web.port}"
        candidate_port = free_port()
        candidate = start(
            "httpx-candidate",
            [
                sys.executable,
                str(Path(__file__).resolve()),
                "--serve-httpx-candidate",
                str(candidate_port),
                stack.flower_url,
            ],
            env={"BENCH_UPSTREAM_AUTHORIZATION": authorization, "PYTHONPATH": str(REPO_ROOT)},
            port=candidate_port,
            log_dir=workdir,
        )
        direct_get = Target("direct Flower", stack.flower_url + WORKERS_PATH)
        proxied_get = Target("proxy (ours)", web_url + WORKERS_PATH, web_pid)
        try:
            size = refresh_workers(stack.flower_url, authorization)
            print(f"\nGET /flower/api/workers ({size} B JSON body)", flush=True)
            gets = measure_rounds(
                load,
                [
                    direct_get,
                    proxied_get,
                    Target(
                        "httpx candidate",
                        f"http://127.0.0.1:{candidate_port}{WORKERS_PATH}",
                        candidate.process.pid,
                    ),
                    Target(
                        "direct, proxy's headers",
                        stack.flower_url + WORKERS_PATH,
                        headers=proxy_added_headers(web_url),
                    ),
                ],
                flower_pid,
                False,
                authorization,
                args,
            )
        finally:
            candidate.stop()
        floor = measure_floor(load, stack, size, flower_pid, gets[0], authorization, workdir, args)
        hogged: list[Series] = []
        if not args.skip_hog:
            with cpu_hog() as hog_pid:
                print(f"\nGET /flower/api/workers beside a CPU hog (pid {hog_pid})", flush=True)
                hogged = measure_rounds(
                    load, [direct_get, proxied_get], flower_pid, False, authorization, args
                )
        stop_consuming(stack.flower_url, authorization)
        print("\nPOST /flower/api/task/async-apply/tests.add (worker not consuming)", flush=True)
        posts = measure_rounds(
            load,
            [
                Target("direct Flower", stack.flower_url + APPLY_PATH),
                Target("proxy (ours)", web_url + APPLY_PATH, web_pid),
            ],
            flower_pid,
            True,
            authorization,
            args,
        )
        uploads: list[UploadResult] = []
        if not args.skip_upload:
            print(f"\nUpload {UPLOAD_BYTES // 2**20} MB through the proxy", flush=True)
            uploads = measure_uploads(stack.env["BROKER_URL"], workdir, authorization)

    print("\n" + "=" * 78)
    print(
        f"Results (load generator: {load.name}; medians of {args.rounds} rounds;"
        " CPU = CPU time of that process per request)"
    )
    print_series(f"GET /flower/api/workers ({size} B body)", gets)
    direct = gets[0].rps
    print(
        "  throughput vs direct: "
        + ", ".join(f"{s.label} {s.rps / direct:.2f}x" for s in gets[1:3])
        + f"; ours/httpx candidate {gets[1].rps / gets[2].rps:.2f}x"
    )
    if hogged:
        print_series("GET /flower/api/workers beside a CPU hog", hogged)
    print_series("POST /flower/api/task/async-apply/tests.add {args:[1,2]}", posts)
    if uploads:
        print(f"\nUpload {UPLOAD_BYTES // 2**20} MB through the proxy to a draining upstream")
        print(
            f"  {'framing':<15} {'status':>6} {'received':>11} {'seconds':>8} {'MB/s':>7}"
            f" {'RSS before':>11} {'peak growth':>12} {'VmHWM before→after':>20}"
        )
        for u in uploads:
            print(
                f"  {u.label:<15} {u.status:>6} {u.received:>11} {u.seconds:8.2f}"
                f" {UPLOAD_BYTES / 2**20 / u.seconds:7.0f} {u.baseline_mb:9.1f}MB"
                f" {u.peak_growth_mb:10.1f}MB {u.hwm_before_mb:9.1f}→{u.hwm_after_mb:.1f} MB"
            )

    rows = target_rows("GET workers", gets[0], gets[1])
    cpu = gets[1].proxy_us
    rows.append(
        (
            "GET workers: proxy CPU per request",
            f"{cpu:.0f} us (Flower {gets[0].flower_us:.0f} us)",
            f"<= {TARGET_PROXY_CPU_US:.0f} us",
            verdict(cpu <= TARGET_PROXY_CPU_US),
        )
    )
    rows += floor_rows(floor, cpu)
    rows.append(
        (
            f"proxy CPU at Flower {REFERENCE_FLOWER_US:.0f} us (the issue's machine)",
            f"{cpu * REFERENCE_FLOWER_US / gets[0].flower_us:.0f} us",
            f"<= {TARGET_PROXY_CPU_US:.0f} us",
            "info",
        )
    )
    rows.append(
        (
            "Flower alone, given the proxy's headers",
            f"{paired(gets[0], gets[3], 'rps'):.3f}x (Flower {gets[3].flower_us:.0f} us)",
            "ceiling",
            "info",
        )
    )
    if hogged:
        rows.append(
            (
                "GET workers beside a hog: ratio",
                f"{paired(hogged[0], hogged[1], 'rps'):.3f}x"
                f" ({hogged[1].rps / hogged[0].rps:.3f}x)",
                "printed",
                "info",
            )
        )
        rows.append(
            (
                "GET workers beside a hog: proxy CPU",
                f"{hogged[1].proxy_us:.0f} us",
                "printed",
                "info",
            )
        )
    rows += target_rows("POST async-apply", *posts)
    for u in uploads:
        ok = u.status == 200 and u.received == UPLOAD_BYTES
        rows.append(
            (
                f"upload ({u.label}): peak RSS growth",
                f"{u.peak_growth_mb:.1f} MB",
                f"< {TARGET_RSS_MB:.0f} MB, all in",
                verdict(ok and u.peak_growth_mb < TARGET_RSS_MB),
            )
        )
    print(
        "\nTargets (ratio and overhead: median of the per-round pairs; in brackets, computed"
        " from the medians above)"
    )
    print(f"  {'measure':<38} {'value':>22}  {'target':<18} result")
    for name, value, goal, result in rows:
        print(f"  {name:<38} {value:>22}  {goal:<18} {result}")
    missed = [name for name, _, _, result in rows if result.startswith("MISS")]
    print(f"\nMissed: {', '.join(missed) if missed else 'none'}")
    print(f"Total time {time.monotonic() - began:.0f} s")
    shutil.rmtree(workdir, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
