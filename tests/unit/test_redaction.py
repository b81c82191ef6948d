"""Secrets are found in every form they take (raw, escaped, quoted), in channel configs at any
depth, and taken out of exceptions and everything a task returns or reports."""

from __future__ import annotations

import json
import traceback
from collections.abc import Iterator
from typing import Any

import pytest
from celery import Celery
from celery.exceptions import Retry
from pydantic import BaseModel, SecretStr

from channel_app_template.errors import ItemError
from channel_app_template.redaction import (
    REDACTED,
    REDACTOR,
    Redactor,
    config_secrets,
    redact_exception,
    register_secrets,
    url_secrets,
)
from channel_app_template.safe_task import SafeTask

SECRET = "Zk4-api-key-Qp9"
ODD = 'pa"ss\\wörd/1'


@pytest.fixture(autouse=True)
def fresh_redactor() -> Iterator[None]:
    saved = REDACTOR.secrets
    REDACTOR.clear()
    register_secrets([SECRET, ODD])
    yield
    REDACTOR.clear()
    REDACTOR.add(saved)


def test_secrets_are_found_raw_escaped_and_quoted() -> None:
    texts = [
        f"raw {SECRET}",
        json.dumps({"error": f"bad {ODD}"}),
        repr(ValueError(f"bad {ODD}")),
    ]
    from urllib.parse import quote

    texts.append(f"redis://:{quote(ODD, safe='')}@h:6379/0")
    for text in texts:
        cleaned = REDACTOR.redact(text)
        assert REDACTED in cleaned, text
        assert "ss\\" not in cleaned and SECRET not in cleaned


def test_short_values_are_not_secrets() -> None:
    redactor = Redactor(["abc", "", None])  # type: ignore[list-item]
    assert redactor.redact("abc abc") == "abc abc"


def test_the_set_is_bounded() -> None:
    redactor = Redactor(f"secret-number-{n:05d}" for n in range(3000))
    assert len(redactor.secrets) <= 1024
    assert redactor.redact("secret-number-02999") == REDACTED  # the newest are kept


class Nested(BaseModel):
    token: str
    label: str


class ChannelConf(BaseModel):
    model_config = {"extra": "allow"}
    api_key: SecretStr
    base_url: str
    nested: Nested
    shops: list[dict[str, Any]]


def test_channel_config_secrets_at_any_depth() -> None:
    conf = ChannelConf(
        api_key=SecretStr("typed-secret-1"),
        base_url="https://market.example",
        nested=Nested(token="nested-token-2", label="visible-label"),
        shops=[{"name": "eu", "credentials": {"PASSWORD": "deep-password-3"}}],
        Client_Secret="extra-secret-4",
    )
    found = set(config_secrets(conf))
    assert found == {"typed-secret-1", "nested-token-2", "deep-password-3", "extra-secret-4"}
    raw = {"API_KEY": "raw-key-5", "list": [{"refresh_token": "raw-token-6"}], "name": "shop"}
    assert set(config_secrets(raw)) == {"raw-key-5", "raw-token-6"}


def test_url_secrets_are_the_password_as_written_and_decoded() -> None:
    assert url_secrets("redis://:p%40ss-word@h:1/0") == ["p%40ss-word", "p@ss-word"]
    assert url_secrets("redis://h:1/0") == []
    assert url_secrets("redis://:x@h:99999/0") == ["x", "x"]


def _formatted(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc))


def test_exception_chain_and_traceback_lose_the_secret_but_keep_type_and_frames() -> None:
    def inner() -> None:
        raise KeyError(f"lookup {SECRET}")

    def outer() -> None:
        try:
            inner()
        except KeyError as error:
            raise ItemError(f"refused with {ODD}", payload={"key": SECRET}) from error

    with pytest.raises(ItemError) as caught:
        outer()
    clean = redact_exception(caught.value)
    text = _formatted(clean)
    assert SECRET not in text and "ss\\" not in text and "w\\xf6rd" not in text
    assert isinstance(clean, ItemError)
    assert isinstance(clean.__cause__, KeyError)
    assert "in inner" in text and "in outer" in text  # frames survive
    assert clean.payload == {"key": REDACTED}


def test_an_exception_without_secrets_is_kept_as_it_is() -> None:
    error = ValueError("nothing to hide")
    assert redact_exception(error) is error


class Stubborn(Exception):
    def __init__(self, secret: str) -> None:
        super().__init__("see details")
        self._halves = (secret[:6], secret[6:])  # no attribute holds the whole secret

    def __str__(self) -> str:
        return "details: " + "".join(self._halves)


class Plain(Exception):
    def __init__(self, secret: str) -> None:
        super().__init__("see details")
        self._secret = secret

    def __str__(self) -> str:
        return f"details: {self._secret}"


def test_an_exception_whose_text_cannot_be_cleaned_is_replaced() -> None:
    clean = redact_exception(Stubborn(SECRET))
    assert SECRET not in str(clean) + repr(clean)
    assert type(clean).__name__ == "RedactedError"
    assert "Stubborn" in str(clean)
    kept = redact_exception(Plain(SECRET))  # its attributes can be cleaned: type kept
    assert isinstance(kept, Plain) and str(kept) == f"details: {REDACTED}"


def test_retry_carries_a_redacted_exception() -> None:
    from channel_app_template.safe_task import redacted_retry

    retry = Retry(exc=ValueError(f"try again {SECRET}"), when=5)
    clean = redacted_retry(retry)
    assert SECRET not in str(clean) + repr(clean.exc) + str(clean.excs)
    assert clean.when == 5


@pytest.fixture
def app() -> Celery:
    celery = Celery("redaction-test", task_cls=SafeTask)
    celery.conf.update(task_always_eager=True, task_eager_propagates=False)
    return celery


def test_a_task_returns_raises_and_reports_progress_without_secrets(app: Celery) -> None:
    reported: list[Any] = []

    @app.task(bind=True)
    def careless(self: Any, fail: bool) -> dict[str, Any]:
        self.update_state(state="PROGRESS", meta={"step": f"using {SECRET}"})
        if fail:
            raise RuntimeError(f"login failed with {SECRET} and {ODD}")
        return {"note": f"done with {SECRET}", "token": "hidden-by-key-1"}

    def store_result(task_id: Any, result: Any, state: Any, *args: Any, **kwargs: Any) -> Any:
        reported.append(result)  # what update_state hands the result backend
        return result

    careless.backend.store_result = store_result
    ok = careless.apply(args=(False,))
    assert ok.result == {"note": f"done with {REDACTED}", "token": REDACTED}
    failed = careless.apply(args=(True,))
    assert isinstance(failed.result, RuntimeError)
    for text in (str(failed.result), repr(failed.result), failed.traceback or ""):
        assert SECRET not in text and "ss\\" not in text, text
    assert "login failed with [redacted]" in str(failed.result)
    assert reported and all(SECRET not in json.dumps(meta) for meta in reported)
