"""The Omnitron side: the REST client (:mod:`.client`) and the engine's facade over it,
``OmnitronIntegration`` (:mod:`.integration`, the default ``OMNITRON_MODULE``)."""
