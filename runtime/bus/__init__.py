"""The bus: how messages reach workers. In-process embedded, NATS JetStream in production.

Messages are written to the store's outbox in the transaction that caused them and relayed here
afterwards, each with its outbox id as the message id, so a relay that publishes twice is
deduplicated by the bus (JetStream's ``Nats-Msg-Id``) and a worker that handles twice is made
harmless by the store (a step is recorded once).
"""
