"""Operator commands: ``channel-app check``, ``trigger`` and ``status``."""
