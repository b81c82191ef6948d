"""A local Omnitron: the REST API a channel app uses, with state, seeding and faults."""
