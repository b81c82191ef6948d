"""Log records formatted per second, with redaction, in both ``LOG_FORMAT`` modes.

    python bench/bench_logs.py                  # 100,000 records, 20 registered secrets

Each record is formatted the way a task's engine line is (a message with arguments, the
task context, ``extra`` fields) and written to a null stream, so the number is the cost of
our formatters and redaction, not of a terminal. Target: well above any real logging rate
(> 10,000 records/s on one core; measured 23,000-29,000 text and 10,000-19,000 JSON
on the shared 2-core development machine).
"""

from __future__ import annotations

import argparse
import io
import logging
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def rate(formatter: logging.Formatter, records: int) -> float:
    from channel_app_template.logs import task_context

    handler = logging.StreamHandler(io.StringIO())
    handler.setFormatter(formatter)
    logger = logging.getLogger("bench.logs")
    logger.handlers = [handler]
    logger.propagate = False
    logger.setLevel(logging.INFO)
    started = time.perf_counter()
    with task_context("channel_app_template.app.tasks.insert_and_update_products", "5f0c-1"):
        for number in range(records):
            logger.info(
                "batch %s sent with %s items",
                number,
                50,
                extra={"flow": "products", "batch_id": number, "counts": {"sent": 50}},
            )
    return records / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=100_000)
    parser.add_argument("--secrets", type=int, default=20)
    args = parser.parse_args()
    from channel_app_template.logs import JsonLineFormatter, TextFormatter
    from channel_app_template.redaction import register_secrets

    register_secrets(f"bench-secret-{n:04d}-value" for n in range(args.secrets))
    for name, formatter in (("text", TextFormatter()), ("json", JsonLineFormatter())):
        print(
            f"{name}: {rate(formatter, args.records):,.0f} records/s "
            f"({args.secrets} secrets registered)"
        )


if __name__ == "__main__":
    main()
