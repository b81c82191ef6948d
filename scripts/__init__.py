"""Maintenance scripts (locks, wheel checks); not part of the installed app."""
