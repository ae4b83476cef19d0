"""The durable queue: SQLite store, job state machine, consumables ledger, dispatcher."""
