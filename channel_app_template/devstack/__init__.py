"""``channel-app dev``: the whole stack on one machine, with nothing installed but Python."""
