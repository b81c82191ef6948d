"""Every flow has its task, under the name Akinon's template used, and a schedule entry
exists only for tasks that exist."""

from __future__ import annotations

from channel_app_template import tasks
from channel_app_template.celery_app import app
from channel_app_template.core.run.runner import JOBS
from channel_app_template.schedule import DEFAULT_SCHEDULE, TASK_NAMES

SETUP = {
    "update_channel_conf_schema",
    "create_or_update_category_tree_and_nodes",
    "create_or_update_category_attributes",
    "create_or_update_attributes",
}
INCUMBENT_NAMES = {  # the template's task names (incumbent-template.md section 3)
    "update_channel_conf_schema",
    "create_or_update_category_tree_and_nodes",
    "create_or_update_category_attributes",
    "create_or_update_attributes",
    "insert_and_update_products",
    "update_products",
    "delete_products",
    "check_delete_products",
    "check_products",
    "insert_and_update_stocks",
    "update_stocks",
    "check_stocks",
    "insert_and_update_prices",
    "update_prices",
    "check_prices",
    "insert_and_update_images",
    "update_images",
    "check_images",
    "fetch_orders",
    "update_orders",
    "check_orders",
    "fetch_and_create_cancel",
    "fetch_and_update_order_items",
    "fetch_and_create_cancellation_requests",
    "update_cancellation_requests",
}


def registered() -> set[str]:
    return {n.removeprefix(tasks.PREFIX) for n in app.tasks if n.startswith(tasks.PREFIX)}


def test_every_job_and_incumbent_name_is_a_task() -> None:
    names = registered()
    assert set(JOBS) | SETUP <= names
    assert names >= INCUMBENT_NAMES
    for name in INCUMBENT_NAMES:
        assert getattr(tasks, name).name == tasks.PREFIX + name


def test_schedule_names_only_existing_tasks() -> None:
    assert set(DEFAULT_SCHEDULE) <= registered()
    assert registered() >= TASK_NAMES


def test_every_task_redacts_what_it_emits() -> None:
    from channel_app_template.safe_task import SafeTask

    app.finalize()
    assert app.tasks
    assert all(isinstance(task, SafeTask) for task in app.tasks.values())
