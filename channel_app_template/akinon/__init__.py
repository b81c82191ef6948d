"""The Omnitron side: the REST client and the OmnitronIntegration.

``OMNITRON_MODULE`` names a module exposing ``OmnitronIntegration``; this package is the
default one.
"""

from channel_app_template.akinon.integration import OmnitronIntegration

__all__ = ["OmnitronIntegration"]
