"""Hardware-in-the-loop suite for a spare card printer (opt-in; see hil/README.md).

Run it with ``make hil PRINTER=URI`` or ``pytest hil --printer URI``. Without a printer every
check is skipped with the reason. Nothing here does I/O at import time.
"""
