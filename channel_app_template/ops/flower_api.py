"""A small typed client for Flower's HTTP API, as the web process's ``/flower/*`` proxy serves it.

Every call has a timeout, sends HTTP Basic credentials, and turns the answers an operator can
get wrong (401, 403, 404, 502, 503, 504, connection refused) into a :class:`FlowerError`
whose message says what to do. The password is never part of a message or a ``repr``.
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
from pydantic import SecretStr

from channel_app_template.core.run.flows import TASK_PREFIX
from channel_app_template.dev_login import DEV_STATE_DIR, FLOWER_USER, flower_login_path
from channel_app_template.ops.arguments import bounded_float
from channel_app_template.settings import is_loopback

CONNECT_TIMEOUT = 5.0
READ_TIMEOUT = 30.0


class FlowerError(Exception):
    """A call to the Flower API failed; ``str(error)`` is the line to show an operator."""

    def __init__(self, message: str, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


class FlowerAuthError(FlowerError):
    """401: the proxy did not accept the credentials."""


class FlowerForbidden(FlowerError):
    """403: the user may look but not act (read-only), or Flower refused the operation."""


class FlowerNotFound(FlowerError):
    """404: unknown task name, task id or route."""


class FlowerUnavailable(FlowerError):
    """The web process or Flower behind it could not be reached or did not answer in time."""


def full_task_name(name: str) -> str:
    """``ping`` -> ``channel_app_template.app.tasks.ping``; dotted names are kept as they are."""
    name = name.strip()
    return name if "." in name else TASK_PREFIX + name


def short_task_name(name: str | None) -> str:
    if not name:
        return "?"
    return name[len(TASK_PREFIX) :] if name.startswith(TASK_PREFIX) else name


@dataclass(frozen=True)
class TaskRef:
    """What ``async-apply`` answers."""

    task_id: str
    state: str | None


@dataclass(frozen=True)
class TaskResult:
    """What ``/api/task/result/<id>`` answers; ``result`` is present once the task is ready
    (Flower 2.2 omits it for PENDING/STARTED/PROGRESS, so progress may be unknown)."""

    task_id: str
    state: str
    result: Any = None
    has_result: bool = False
    traceback: str | None = None

    @property
    def ready(self) -> bool:
        return self.state in ("SUCCESS", "FAILURE", "REVOKED", "REJECTED", "IGNORED")

    @property
    def failed(self) -> bool:
        return self.state in ("FAILURE", "REVOKED", "REJECTED")

    @property
    def progress(self) -> tuple[int, int, str | None] | None:
        """``(done, total, step)`` when the task reported PROGRESS meta we can see."""
        meta = self.result
        if not isinstance(meta, dict):
            return None
        done, total = meta.get("done"), meta.get("total")
        if isinstance(done, int) and isinstance(total, int):
            step = meta.get("step")
            return done, total, str(step) if step is not None else None
        return None


@dataclass
class FlowerClient:
    """``base_url`` is the web process (``https://app.example.com``); API paths go under
    ``/flower/api/``."""

    base_url: str
    username: str
    password: SecretStr = field(repr=False)
    connect_timeout: float = CONNECT_TIMEOUT
    read_timeout: float = READ_TIMEOUT
    origin: str = ""  # where url and user came from, for the 401/404 messages
    _http: httpx.Client | None = field(default=None, init=False, repr=False)

    def __post_init__(self) -> None:
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FlowerError(
                f"not an http(s) URL: {self.base_url!r}; pass --url or set CHANNEL_APP_URL, "
                "e.g. https://my-channel-app.example.com"
            )
        self.base_url = self.base_url.rstrip("/")

    @property
    def http(self) -> httpx.Client:
        if self._http is None:
            host = urlsplit(self.base_url).hostname or ""
            self._http = httpx.Client(
                auth=(self.username, self.password.get_secret_value()),
                timeout=httpx.Timeout(
                    self.read_timeout, connect=self.connect_timeout, pool=self.connect_timeout
                ),
                follow_redirects=False,
                # A proxy from the environment must not capture calls to this machine.
                trust_env=not is_loopback(host),
                headers={"Accept": "application/json", "User-Agent": "channel-app-cli/1"},
            )
        return self._http

    def close(self) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def __enter__(self) -> FlowerClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- The API ------------------------------------------------------------------------

    def async_apply(
        self, task: str, args: Sequence[Any] = (), kwargs: Mapping[str, Any] | None = None
    ) -> TaskRef:
        body = {"args": list(args), "kwargs": dict(kwargs or {})}
        data = self._call("POST", f"api/task/async-apply/{quote(task, safe='')}", json=body)
        task_id = data.get("task-id") if isinstance(data, dict) else None
        if not isinstance(task_id, str):
            raise FlowerError(f"Flower's answer to async-apply has no task id: {data!r:.200}")
        state = data.get("state")
        return TaskRef(task_id, str(state) if state is not None else None)

    def result(self, task_id: str, wait: float | None = None) -> TaskResult:
        """The task's state (and result once ready); ``wait`` lets Flower block that long."""
        params = {"timeout": f"{wait:g}"} if wait else None
        read = self.read_timeout + (wait or 0.0)
        data = self._call(
            "GET", f"api/task/result/{quote(task_id, safe='')}", params=params, read=read
        )
        if not isinstance(data, dict) or "state" not in data:
            raise FlowerError(f"unexpected answer for task {task_id}: {data!r:.200}")
        if data["state"] == "PROGRESS" and "result" not in data:
            data = {**data, **self._progress(task_id)}
        return TaskResult(
            task_id=str(data.get("task-id", task_id)),
            state=str(data["state"]),
            result=data.get("result"),
            has_result="result" in data,
            traceback=data.get("traceback"),
        )

    def _progress(self, task_id: str) -> dict[str, Any]:
        """Flower's result API shows no meta for a running task; the ``task-progress``
        events our tasks send put ``done``/``total`` into the task's info instead."""
        try:
            info = self._call("GET", f"api/task/info/{quote(task_id, safe='')}")
        except FlowerError:
            return {}
        if isinstance(info, dict) and isinstance(info.get("result"), dict):
            return {"result": info["result"]}
        return {}

    def workers(self, *, refresh: bool = False, worker: str | None = None) -> dict[str, Any]:
        """Per-worker details (``stats``, ``active_queues``...). Flower 2.2 fetches the task
        lists (``active``, ``scheduled``, ``reserved``) only when asked for one ``worker``."""
        params: dict[str, str] = {}
        if refresh:
            params["refresh"] = "1"
        if worker:
            params["workername"] = worker
        return self._mapping(self._call("GET", "api/workers", params=params or None))

    def worker_events(self) -> list[dict[str, Any]]:
        """What Flower learnt from worker events (``/flower/workers?json=1``): per node name,
        the ``pid`` of its last heartbeat, ``freq`` and the last ``heartbeats`` times."""
        data = self._mapping(self._call("GET", "workers", params={"json": "1"}))
        rows = data.get("data", [])
        return [row for row in rows if isinstance(row, dict)] if isinstance(rows, list) else []

    def worker_status(self) -> dict[str, bool]:
        data = self._mapping(self._call("GET", "api/workers", params={"status": "1"}))
        return {name: bool(online) for name, online in data.items()}

    def tasks(
        self, *, state: str | None = None, limit: int | None = None, sort_by: str | None = None
    ) -> dict[str, Any]:
        params: dict[str, str] = {}
        if state:
            params["state"] = state
        if limit:
            params["limit"] = str(limit)
        if sort_by:
            params["sort_by"] = sort_by
        return self._mapping(self._call("GET", "api/tasks", params=params))

    def queue_lengths(self) -> list[dict[str, Any]]:
        data = self._mapping(self._call("GET", "api/queues/length"))
        queues = data.get("active_queues", [])
        return [q for q in queues if isinstance(q, dict)] if isinstance(queues, list) else []

    # --- Plumbing -----------------------------------------------------------------------

    @staticmethod
    def _mapping(data: Any) -> dict[str, Any]:
        if not isinstance(data, dict):
            raise FlowerError(f"unexpected answer from Flower: {data!r:.200}")
        return data

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str] | None = None,
        json: Any = None,
        read: float | None = None,
    ) -> Any:
        url = f"{self.base_url}/flower/{path}"
        timeout = httpx.Timeout(
            read or self.read_timeout, connect=self.connect_timeout, pool=self.connect_timeout
        )
        try:
            response = self.http.request(method, url, params=params, json=json, timeout=timeout)
        except httpx.TimeoutException as error:
            raise FlowerUnavailable(
                f"no answer from {self.base_url} within {read or self.read_timeout:g}s "
                f"({type(error).__name__}): is the web process up, and --url right?"
            ) from None
        except httpx.HTTPError as error:
            raise FlowerUnavailable(
                f"cannot reach the web process at {self.base_url} ({type(error).__name__}): "
                "check --url / CHANNEL_APP_URL and that the web process runs"
            ) from None
        if response.status_code >= 300:
            raise self._error(response, method, path)
        try:
            return response.json()
        except ValueError:
            raise FlowerError(
                f"{method} /flower/{path} answered {response.status_code} with a body that is "
                "not JSON: is --url the channel app's web process?"
            ) from None

    def _origin(self) -> str:
        return f" [{self.origin}]" if self.origin else ""

    def _error(self, response: httpx.Response, method: str, path: str) -> FlowerError:
        status = response.status_code
        detail = " ".join(response.text.split())[:200]
        if status == 401:
            return FlowerAuthError(
                f"the web process at {self.base_url} refused user {self.username!r} (401)"
                f"{self._origin()}: check --user/--password (or CHANNEL_APP_USER/"
                "CHANNEL_APP_PASSWORD) against that process's FLOWER_BASIC_AUTH, and --url "
                "(or CHANNEL_APP_URL/WEB_PORT): is it the channel app you mean?",
                status,
            )
        if status == 403:
            if "read-only" in detail.lower() or "read only" in detail.lower():
                return FlowerForbidden(
                    f"user {self.username!r} is read-only (403): {method} /flower/{path} needs "
                    "a full-access user from FLOWER_BASIC_AUTH, not FLOWER_READONLY_AUTH",
                    status,
                )
            return FlowerForbidden(
                f"Flower refused {method} /flower/{path} (403): {detail}", status
            )
        if status == 404:
            return FlowerNotFound(
                f"{method} {self.base_url}/flower/{path}: not found (404){self._origin()}: "
                f"{detail}",
                status,
            )
        if status == 502:
            return FlowerUnavailable(
                f"the web process at {self.base_url} cannot reach Flower (502): is the flower "
                "process running, and FLOWER_URL right on the web process?",
                status,
            )
        if status == 503:
            return FlowerUnavailable(
                f"Flower is busy or cannot reach the broker/result backend (503): {detail}; "
                "try again, and check the broker",
                status,
            )
        if status == 504:
            return FlowerUnavailable(
                f"Flower did not answer the web process in time (504) for {method} "
                f"/flower/{path}; try again, or raise PROXY_READ_TIMEOUT",
                status,
            )
        if 300 <= status < 400:
            where = response.headers.get("location", "?")
            return FlowerError(
                f"{method} /flower/{path} was redirected ({status}) to {where}: set --url to "
                "the final address (https?)",
                status,
            )
        return FlowerError(f"{method} /flower/{path} answered {status}: {detail}", status)


# --- Command-line plumbing shared by ``trigger`` and ``status`` ------------------------------

# The settings that say where the web process is and who we are, in the order they count.
CONNECTION_SETTINGS = (
    "CHANNEL_APP_URL",
    "WEB_PORT",
    "CHANNEL_APP_USER",
    "CHANNEL_APP_PASSWORD",
    "FLOWER_BASIC_AUTH",
)


def add_connection_arguments(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group(
        "connection to the web process (defaults come from the environment and ./.env)"
    )
    group.add_argument(
        "--url",
        default=None,
        help="the web process (default: CHANNEL_APP_URL, else http://127.0.0.1:WEB_PORT)",
    )
    group.add_argument(
        "--user",
        default=None,
        help="proxy user (default: CHANNEL_APP_USER, the first FLOWER_BASIC_AUTH user, or "
        "channel-app dev's generated login)",
    )
    group.add_argument(
        "--password",
        default=None,
        help="its password (default: CHANNEL_APP_PASSWORD or from FLOWER_BASIC_AUTH); "
        "prefer the environment, argv is visible to other local users",
    )
    group.add_argument(
        "--state-dir",
        default=None,
        help="channel-app dev's state directory, for its generated Flower login when no "
        f"credentials are configured (default: ./{DEV_STATE_DIR})",
    )
    group.add_argument(
        "--http-timeout",
        type=bounded_float(1.0, 600.0),
        default=READ_TIMEOUT,
        help="seconds to wait for each answer (default: %(default)s)",
    )


def _dev_login(state_dir: str | None) -> tuple[str, SecretStr, str] | None:
    """The Flower login ``channel-app dev`` generated in its state directory, if any."""
    path = flower_login_path(Path(state_dir) if state_dir else None)
    try:
        password = path.read_text().strip()
    except OSError:
        return None
    if not password:
        return None
    return FLOWER_USER, SecretStr(password), f"channel-app dev's login in {path}"


def client_from_args(args: argparse.Namespace) -> FlowerClient:
    """A client for the web process named by the arguments, else by the same settings the
    app reads (environment, then ``./.env``), else by ``channel-app dev``'s state dir."""
    from channel_app_template.settings import read_settings

    settings, problems = read_settings()
    needed = set(CONNECTION_SETTINGS)
    if args.url:
        needed -= {"CHANNEL_APP_URL", "WEB_PORT"}
    if args.user and args.password:
        needed -= {"CHANNEL_APP_USER", "CHANNEL_APP_PASSWORD", "FLOWER_BASIC_AUTH"}
    relevant = [p for p in problems if p.split(":")[0] in needed]
    if relevant:
        raise FlowerError(
            "cannot tell which web process to call: " + "; ".join(relevant) + " (environment "
            "or ./.env)"
        )
    if args.url:
        url, url_origin = args.url, "--url"
    elif settings.channel_app_url:
        url, url_origin = settings.channel_app_url, "CHANNEL_APP_URL"
    else:
        url = f"http://127.0.0.1:{settings.web_port}"
        url_origin = "WEB_PORT" if "web_port" in settings.model_fields_set else "default port"

    user: str | None = args.user or settings.channel_app_user
    password: SecretStr | None = SecretStr(args.password) if args.password else None
    if password is None and settings.channel_app_password is not None:
        password = settings.channel_app_password
    origin = "--user/--password" if args.user or args.password else "CHANNEL_APP_USER/PASSWORD"
    if password is None:
        candidates: list[tuple[str, SecretStr, str]] = []
        if settings.flower_credentials:
            first = settings.flower_credentials[0]
            candidates.append((first.username, first.password, "FLOWER_BASIC_AUTH"))
        else:  # what channel-app dev generates when FLOWER_BASIC_AUTH is not configured
            dev = _dev_login(getattr(args, "state_dir", None))
            candidates += [dev] if dev else []
        for name, secret, where in candidates:
            if user in (None, name):
                user, password, origin = name, secret, where
    if not user or password is None:
        raise FlowerError(
            "no credentials for the web process: pass --user and --password, set "
            "CHANNEL_APP_USER/CHANNEL_APP_PASSWORD or FLOWER_BASIC_AUTH=user:password "
            "(environment or ./.env), or run channel-app dev here"
        )
    return FlowerClient(
        url,
        user,
        password,
        read_timeout=max(1.0, args.http_timeout),
        origin=f"URL from {url_origin}, user from {origin}",
    )
