"""ampbase.pubsub."""
