"""Local services for `make run` and `make test` on a bare machine.

Each service is a real process started on a free loopback port under one data
folder and stopped by whoever started it. Containers (compose.yaml) do not use
this package.
"""
