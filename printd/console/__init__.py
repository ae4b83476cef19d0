"""The counter console: a local web page for the people who feed the printer.

Served by the daemon on loopback only and entered with a one-time token that `printctl
console` obtains over the Unix socket, so the console is open to exactly the people the socket
is open to. Every change goes through the same `Service` as the API.
"""
