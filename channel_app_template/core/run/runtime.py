"""Everything one task run needs, built from the settings and torn down afterwards."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import redis
from pydantic import ValidationError

from channel_app_template.akinon.integration import OmnitronIntegration
from channel_app_template.channel import ChannelIntegration, IntegrationContext
from channel_app_template.core.budget import Budget
from channel_app_template.core.engine.failure_book import FailureBook
from channel_app_template.core.engine.flows import CatalogEngine, EngineOptions, Progress
from channel_app_template.core.engine.journal import BatchJournal
from channel_app_template.core.inbound.ledger import Ledger
from channel_app_template.core.locks import SingleFlight
from channel_app_template.core.run.commit_gate import RedisCommitGate
from channel_app_template.core.run.fanout import FanOut
from channel_app_template.core.run.registry import load_channel, load_class
from channel_app_template.errors import ConfigurationError
from channel_app_template.redaction import config_secrets, register_secrets
from channel_app_template.settings import Settings
from channel_app_template.transport import Limits, Timeouts

__all__ = ["Runtime", "channel_config", "failure_book", "open_runtime"]

logger = logging.getLogger("channel_app_template.flows")


@dataclass
class Runtime:
    settings: Settings
    omnitron: OmnitronIntegration
    channel: ChannelIntegration
    cache: redis.Redis
    locks: SingleFlight
    budget: Budget = field(default_factory=Budget.unlimited)
    """The current run's time budget; :func:`~.runner.run_job` sets it once it holds the
    flow's lock, so waiting for the lock does not count."""
    fanout: FanOut | None = None
    """Set when this run may fan big sends out over Celery workers (see :mod:`.fanout`)."""
    carry: bool = True
    """Whether a product's batch carries the rows its payload carried (the channel's
    ``product_carries``); the conformance kit turns it off so every send command is
    reached by its own flow."""

    def book(self) -> FailureBook:
        return failure_book(self.settings, self.cache)

    def engine(
        self, progress: Progress | None = None, *, commit_gate: RedisCommitGate | None = None
    ) -> CatalogEngine:
        """An engine for this run; with ``commit_gate``, one that shares it with other
        processes sending the same content types (a fanned-out run's windows)."""
        conf = self.channel.config
        journal = BatchJournal(
            self.cache,
            self.settings.omnitron_channel_id or 0,
            self.settings.batch_stale_after + 24 * 3600,
        )
        options = EngineOptions(
            match_path=conf.remote_id_attribute,
            batch_size=type(self.channel).max_batch_size,
            stale_after=self.settings.batch_stale_after,
            date_tolerance=self.settings.modified_date_tolerance,
            carry=self.carry,
        )
        engine = CatalogEngine(
            self.omnitron,
            self.channel,
            journal,
            options,
            progress,
            book=self.book(),
            budget=self.budget,
            commit_gate=commit_gate,
        )
        if commit_gate is not None:  # a dead holder's committed batch is failed by the next
            commit_gate.on_takeover = engine.repair_model
        return engine

    def shared_engine(self, progress: Progress | None = None) -> CatalogEngine:
        """An engine behind the channel's Redis commit gate, for a fanned-out window: it
        waits for the gate at most ``FLOW_STALL_TIMEOUT`` seconds."""
        gate = RedisCommitGate(
            self.cache,
            str(self.settings.omnitron_channel_id or 0),
            ttl=self.settings.task_lock_ttl,
            wait=self.settings.flow_stall_timeout,
        )
        return self.engine(progress, commit_gate=gate)

    def ledger(self, kind: str) -> Ledger:
        channel_id = self.settings.omnitron_channel_id or 0
        lock_ttl = max(20.0, 4 * self.settings.task_lock_ttl)
        return Ledger(self.cache, channel_id, kind, self.settings.order_max_attempts, lock_ttl)

    def extra_lists(self, setting: str | None, available: list[int]) -> list[int]:
        """Extra price/stock list ids the channel maps (``CURRENCY_MAPPINGS`` and the like)."""
        if setting is None:
            return []
        mapping = self.channel.config.setting(setting)
        if not isinstance(mapping, dict):
            return []
        wanted = {int(key) for key in mapping if str(key).isdigit()}
        return [list_id for list_id in available if list_id in wanted]


def failure_book(settings: Settings, cache: redis.Redis) -> FailureBook:
    return FailureBook(
        cache,
        settings.omnitron_channel_id or 0,
        max_attempts=settings.resend_max_attempts,
        backoff=settings.resend_backoff,
    )


def channel_config(channel_cls: type[ChannelIntegration], conf: dict[str, Any]) -> Any:
    try:
        return channel_cls.config_model.model_validate(conf)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in error.errors(include_input=False, include_url=False)
        )
        raise ConfigurationError(f"channel.conf in Omnitron is invalid: {problems}") from None


@contextlib.contextmanager
def open_runtime(settings: Settings) -> Iterator[Runtime]:
    omnitron_cls: type[OmnitronIntegration] = load_class(
        settings.omnitron_module, "OmnitronIntegration", OmnitronIntegration, "OMNITRON_MODULE"
    )
    channel_cls = load_channel(settings.channel_module)
    omnitron = omnitron_cls.from_settings(settings)
    cache = redis.Redis.from_url(settings.cache_dsn)
    omnitron.reports = failure_book(settings, cache)
    channel: ChannelIntegration | None = None
    try:
        config = channel_config(channel_cls, dict(omnitron.channel.conf))
        register_secrets(config_secrets(config) + config_secrets(omnitron.channel.conf))
        context = IntegrationContext(
            channel_id=settings.omnitron_channel_id or 0,
            catalog_id=settings.omnitron_catalog_id or 0,
            logger=logging.getLogger(f"channel_app_template.channel.{channel_cls.__name__}"),
            http_limits=Limits.from_settings(settings),
            http_timeouts=Timeouts(total=settings.http_request_deadline),
        )
        channel = channel_cls(config, context)
        yield Runtime(
            settings, omnitron, channel, cache, SingleFlight(cache, settings.task_lock_ttl)
        )
    finally:
        if channel is not None:
            channel.close()
        omnitron.close()
        cache.close()
