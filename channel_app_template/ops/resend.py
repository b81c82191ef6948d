"""``channel-app resend``: send failed catalog objects again, now (the ``resend_failed`` task).

A thin shape over ``channel-app trigger``: the same connection options, ``--wait`` and exit
statuses; it only turns ``product --sku A --sku B`` into the task's keyword arguments, so
an operator need not write JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from channel_app_template.ops.flower_api import add_connection_arguments
from channel_app_template.ops.trigger import EXIT_REFUSED, add_wait_arguments, run_trigger

__all__ = ["CONTENT_TYPES", "MAX_IDS", "register", "run_resend"]

CONTENT_TYPES = ("product", "productstock", "productprice", "productimage")
MAX_IDS = 10_000  # the task refuses more in one call (see core.runner.MAX_RESEND_IDS)


def run_resend(
    args: argparse.Namespace, out: TextIO | None = None, err: TextIO | None = None
) -> int:
    err = err or sys.stderr
    pks: list[int] = list(args.pk or [])
    skus: list[str] = list(args.sku or [])
    if not (pks or skus or args.all) or (args.all and (pks or skus)):
        print("error: name the objects with --pk/--sku, or pass --all (not both)", file=err)
        return EXIT_REFUSED
    if len(pks) > MAX_IDS or len(skus) > MAX_IDS:
        print(f"error: at most {MAX_IDS} --pk and {MAX_IDS} --sku per call", file=err)
        return EXIT_REFUSED
    kwargs: dict[str, Any] = {"content_type": args.content_type}
    if pks:
        kwargs["pks"] = pks
    if skus:
        kwargs["skus"] = skus
    trigger = argparse.Namespace(
        **{k: v for k, v in vars(args).items() if k not in ("pk", "sku", "all", "content_type")},
        task="resend_failed",
        args=None,
        kwargs=json.dumps(kwargs),
    )
    return run_trigger(trigger, out, err)


def register(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "resend",
        help="send failed catalog objects to the marketplace again, now",
        description=(
            "Run the resend_failed task through the web process's /flower/ API: the failed "
            "objects of CONTENT_TYPE (those of the given pks or product skus, or all of them "
            "with --all) are sent again at once, with a fresh set of automatic attempts. "
            "Objects that have not failed are left alone. Exit statuses as for trigger."
        ),
    )
    parser.add_argument("content_type", choices=CONTENT_TYPES, help="what to re-send")
    parser.add_argument("--pk", type=int, action="append", help="an object's pk (repeatable)")
    parser.add_argument(
        "--sku", action="append", help="a product's sku: its object(s) of CONTENT_TYPE"
    )
    parser.add_argument("--all", action="store_true", help="every failed object of the type")
    add_wait_arguments(parser)  # bounded exactly as for trigger
    parser.add_argument("--verbose", "-v", action="store_true", help="print a failure's traceback")
    add_connection_arguments(parser)
    parser.set_defaults(handler=run_resend)
