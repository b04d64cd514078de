"""Call control for one inbound call, sans-IO: inputs and the time in, commands out (see machine.py)."""
