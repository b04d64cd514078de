"""Automatic call distribution, sans-IO: which waiting call goes to which agent, and the agents' states.

``board.Board`` matches calls and agents by skills and queue strategy and returns decisions; ``stats`` turns timed
events into queue and agent figures; ``queue_log`` writes them in Asterisk's format. See docs/ACD.md.
"""
