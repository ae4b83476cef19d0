"""Printer drivers, transports and device URIs."""
