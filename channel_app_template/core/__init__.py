"""The channel-agnostic engine: DTOs, the command contract, flows, errors and locks."""
