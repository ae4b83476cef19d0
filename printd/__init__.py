"""printd: the print-station daemon for KTP-el card printers."""

__version__ = "0.1.0"
