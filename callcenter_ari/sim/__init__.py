"""A simulated Asterisk 22 ARI server (REST, event WebSocket, REST over WebSocket) for tests, the demo and load.

It owns the simulated PBX (channels, bridges, playbacks, recordings, snoops, Local pairs, trunk calls, phones),
the simulator clock, scripted callers and the traffic generator. See docs/SIMULATOR.md.
"""

from callcenter_ari.sim.phones import CallerScript, PhoneBehaviour
from callcenter_ari.sim.simulator import Server, SimConfig, Simulator
from callcenter_ari.sim.traffic import TrafficHandle, TrafficSpec

__all__ = ["CallerScript", "PhoneBehaviour", "Server", "SimConfig", "Simulator", "TrafficHandle", "TrafficSpec"]
