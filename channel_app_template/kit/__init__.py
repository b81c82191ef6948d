"""The integrator kit: ``channel-app new-channel`` and the conformance suite."""
