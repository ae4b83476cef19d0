"""Intake and outbox ([intake]): jobs from the office's NATS JetStream stream, outcomes back.

The queue stays the single source of truth: a job is acknowledged to the server only after it
is durable in the store, and every outcome leaves through the outbox table, written in the
state change's own transaction.
"""
