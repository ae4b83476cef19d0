"""The printer simulator: an independent model of an Evolis Primacy-class card printer.

Written from ``docs/evolis-protocol.md`` and the research notes, never from the driver, so a wrong
assumption on either side shows up as a failing test. Parts:

- ``evolis_model``: ``SimPrinter``, the thread-safe state machine and its reply table;
- ``framing`` and ``panels``: the incremental command reader and the panel decoders;
- ``usb_backend``: a pyusb backend that enumerates simulated printers;
- ``pty_endpoint`` and ``tcp_endpoint``: serial (pty) and raw-socket (port 9100 style) links;
- ``control``: the operator's hands over JSON lines (load blanks, open the cover, inject faults);
- ``__main__``: the ``printd-sim`` command.

Nothing here does I/O at import time.
"""
