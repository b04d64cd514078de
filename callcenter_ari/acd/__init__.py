"""Automatic call distribution, sans-IO: which waiting call goes to which agent, and the agents' states."""
