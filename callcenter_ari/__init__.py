"""callcenter-ari: a call-center application for Asterisk, driven over ARI.

One async process owns call control as a Stasis application; Redis holds the state that must survive
a restart. See docs/ARCHITECTURE.md for the layers.
"""

__version__ = "0.1.0"
