"""Setup flows: the channel's settings form, category tree and attributes mirrored into
Omnitron."""
