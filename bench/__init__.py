"""The benchmark suite of callcenter-ari: `python -m bench` runs every benchmark and prints one table each.

The measured process is this one (the application, or the code under test); the ARI simulator that plays Asterisk
runs in its own process so that generating load does not cost the measured process CPU.
"""
