"""Local stand-ins for Omnitron and a marketplace, so the whole stack runs on one machine."""
