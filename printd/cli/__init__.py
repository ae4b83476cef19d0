"""Command-line entry points: `printd` (the daemon) and `printctl` (the operators' tool)."""
