"""The ``web`` process: ``uvicorn channel_app_template.api.main:app``.

Importing this module validates the web settings and exits with the list of problems if
they are wrong; tests build apps with :func:`channel_app_template.api.app.create_app`.
"""

from __future__ import annotations

from channel_app_template.api import server
from channel_app_template.api.app import create_app
from channel_app_template.logs import configure_logging
from channel_app_template.observability import init_sentry
from channel_app_template.processes import startup_checks
from channel_app_template.settings import Role, load_settings_or_exit


def _build() -> object:
    settings = load_settings_or_exit(Role.WEB, startup_checks(Role.WEB))
    configure_logging(settings)  # keeps the Procfile's --no-access-log
    server.configure(settings)  # the client bounds of the Procfile's --http protocol
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    init_sentry(settings, [StarletteIntegration(), FastApiIntegration()])
    return create_app(settings)


app = _build()
