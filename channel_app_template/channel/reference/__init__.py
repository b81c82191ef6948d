"""The reference channel: an integration for the bundled reference marketplace.

:mod:`.marketplace_client` is the typed HTTP client for the marketplace's ``/api/v1``; the
reference ``ChannelIntegration`` is built on top of it.
"""
