"""What an asynchronous batch carried, kept until its results arrive.

When a channel answers "accepted, job 42", the engine must later match the job's rows
(by matching key) back to Omnitron objects with the ``modified_date`` they had when they
were read. That map lives here, in Redis, for as long as a batch may stay open. If it
is ever lost, the check flow fails the batch: its objects are released and sent again on
the next run, which channel commands must tolerate (upserts by matching key).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import redis

from channel_app_template.akinon.integration import Tracked
from channel_app_template.channel import (
    FailedReasonType,
    ResultDto,
)
from channel_app_template.core.engine._resource import failed_row
from channel_app_template.core.engine.resources import Cover, Failure

KEY = "channel_app_template:batch:{channel}:{batch}"


@dataclass(frozen=True)
class JournalEntry:
    covers: dict[str, Cover]
    rejected: list[ResultDto]  # rows the channel refused before sending
    failures: list[Failure]  # objects that could not be sent at all


class BatchJournal:
    def __init__(self, client: redis.Redis, channel_id: int, ttl_seconds: float) -> None:
        self.client = client
        self.channel_id = channel_id
        self.ttl = int(ttl_seconds)

    def _key(self, batch_pk: int) -> str:
        return KEY.format(channel=self.channel_id, batch=batch_pk)

    def save(
        self,
        batch_pk: int,
        covers: dict[str, Cover],
        rejected: Sequence[tuple[str, ResultDto]] = (),
        failures: Sequence[Failure] = (),
    ) -> None:
        data = {
            "covers": {
                key: {
                    "remote_id": cover.remote_id,
                    "objects": [[t.pk, t.model, t.version_date] for t in cover.tracked],
                }
                for key, cover in covers.items()
            },
            "rejected": [
                {
                    "key": key,
                    "message": row.message,
                    "failed_reason_type": row.failed_reason_type.value,
                }
                for key, row in rejected
            ],
            "failures": [
                [f.tracked.pk, f.tracked.model, f.tracked.version_date, f.reason.value, f.message]
                for f in failures
            ],
        }
        self.client.set(self._key(batch_pk), json.dumps(data), ex=self.ttl)

    def load(self, batch_pk: int) -> JournalEntry | None:
        """What the batch carried, or ``None`` if the journal was lost."""
        raw = self.client.get(self._key(batch_pk))
        if raw is None:
            return None
        data = json.loads(raw)
        covers = {
            key: Cover(
                tracked=[Tracked(int(pk), str(model), ver) for pk, model, ver in entry["objects"]],
                remote_id=entry["remote_id"],
            )
            for key, entry in data["covers"].items()
        }
        rejected: list[ResultDto] = [
            failed_row(row["key"], row["message"], FailedReasonType(row["failed_reason_type"]))
            for row in data["rejected"]
        ]
        failures = [
            Failure(Tracked(int(pk), str(model), ver), FailedReasonType(reason), str(message))
            for pk, model, ver, reason, message in data.get("failures", [])
        ]
        return JournalEntry(covers, rejected, failures)

    def drop(self, batch_pk: int) -> None:
        self.client.delete(self._key(batch_pk))
