"""The marketplace side: the ChannelIntegration base and the reference integration."""
