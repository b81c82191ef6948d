"""The Omnitron side: its models (:mod:`.models`), its REST API split by area (:mod:`.api`,
bundled per channel by :class:`~.client.OmnitronClient` over :mod:`.http`) and the port
every flow goes through, ``OmnitronIntegration`` (:mod:`.port`, the default
``OMNITRON_MODULE``). Imports nothing from ``core`` or ``channel``."""
