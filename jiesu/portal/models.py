"""The portal keeps no tables of its own: its rate-limit counters are `jiesu.lib.models.Throttle`."""
