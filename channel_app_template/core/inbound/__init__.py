"""Inbound orders: order intake and order events from the marketplace into Omnitron, with
the ledger that makes each write happen once."""
