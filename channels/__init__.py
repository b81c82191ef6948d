"""Your own channels: ``channel-app new-channel NAME`` writes ``channels/NAME/`` here.

This package is installed with the app (``pip install .``, as ``build.sh`` does), so the
Procfile's worker and beat import ``channels.NAME.integration`` wherever they run. It is
committed even while empty so that an editable install (``pip install -e .``) maps it
once, and a channel created later is found without installing again.
"""
