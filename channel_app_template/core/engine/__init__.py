"""The catalog engine: one engine for every outbound resource (products, stocks, prices,
images, deletions, order updates, cancellation decisions), declared in ``resources.py``."""
