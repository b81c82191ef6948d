"""The public web process: the /flower/* proxy and health checks."""
