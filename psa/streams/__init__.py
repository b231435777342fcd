"""Redis streams: the outbox relay that publishes a service's event log, and the consumer that
applies a stream to a projection exactly once per position."""
