"""The Omnitron side: the REST client and the OmnitronIntegration."""
