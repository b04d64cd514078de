"""DAHDI hardware: the installed E1/T1 and analog cards described in one short TOML file (cards.toml).

`model` decodes it, `layout` numbers the channels the way DAHDI does, `validate` refuses what the hardware or
chan_dahdi would reject (or silently get wrong), and `render` writes DAHDI's system.conf plus the chan_dahdi and
dialplan includes that route every trunk group into Stasis. `cli` is the `callcenter-ari dahdi` command.
"""
