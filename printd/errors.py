"""One error root; the subclass decides what happens next (DESIGN §5).

The dispatcher retries by type (tenacity), the CLI maps types to exit codes, and every
message is written for the person who has to act on it.
"""

from __future__ import annotations


class PrintdError(Exception):
    """Root of every error printd raises on purpose."""

    exit_code = 1


class ConfigError(PrintdError):
    """The configuration is wrong: refuse to start and name the key."""

    exit_code = 78  # EX_CONFIG


class TransportError(PrintdError):
    """The link to the printer failed: reconnect and retry, the job keeps its place."""

    exit_code = 69  # EX_UNAVAILABLE


class TransportTimeout(TransportError):
    """No answer within the time allowed."""


class DeviceGone(TransportError):
    """The device is not there (unplugged, powered off, never connected)."""


class DeviceBusy(TransportError):
    """Another process holds the device."""


class ProtocolError(PrintdError):
    """The printer answered something the codec cannot understand."""

    exit_code = 76  # EX_PROTOCOL


class NeedsOperator(PrintdError):
    """A human must act (load blanks, close the cover, change the ribbon, clear a jam)."""

    exit_code = 75  # EX_TEMPFAIL

    def __init__(self, condition: str, message: str | None = None) -> None:
        self.condition = condition
        super().__init__(message or f"printer needs an operator: {condition.replace('_', ' ')}")


class CardSpoiled(PrintdError):
    """A blank was fed and came out bad: a spoiled attempt."""

    def __init__(self, reason: str, message: str | None = None) -> None:
        self.reason = reason
        super().__init__(message or f"card spoiled: {reason.replace('_', ' ')}")


class JobError(PrintdError):
    """The job itself is bad (format, image size): fail it, never retry."""

    exit_code = 65  # EX_DATAERR


class StoreError(PrintdError):
    """The durable store cannot be opened or written."""

    exit_code = 74  # EX_IOERR


class ConflictError(PrintdError):
    """A job id was reused with different content, or a transition is not allowed."""

    exit_code = 73


class ConfirmationNeeded(ConflictError):
    """Allowed, but most likely a mistake (a second card for one holder): done only when the
    operator confirms, having read why."""


class NotFoundError(PrintdError):
    """A job or printer the caller named does not exist."""

    exit_code = 66  # EX_NOINPUT
