"""A reference marketplace with an API of its own, for the reference integration."""
