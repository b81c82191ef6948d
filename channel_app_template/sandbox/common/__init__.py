"""Pieces every bundled simulator shares: fault injection, JSON responses, method routing."""
