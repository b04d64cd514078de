"""The outbound dialer, sans-IO: pacing for preview, progressive and predictive campaigns, the abandon ledger, the
blending of inbound and outbound work, and the lab that runs the same pacer against a simulated campaign.

``pacer.Pacer`` takes inputs and returns decisions (``messages``); a runtime executor carries them out against
ARI and the ACD. See docs/DIALER.md.
"""
