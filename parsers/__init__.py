"""Node-side parsing of Nagios, Naemon and Icinga 2 compat event logs.

Standard library only: these modules run from cron on every Nagios node.

- :mod:`nagtune.parsers.events`   the typed :class:`Event` and the event kinds
- :mod:`nagtune.parsers.nagios`   one log line -> one :class:`Event` (reference parser)
- :mod:`nagtune.parsers.scan`     a whole buffer -> alert counts, fast, same answers
- :mod:`nagtune.parsers.names`    the one place where names become Graphite-safe
- :mod:`nagtune.parsers.identity` node -> class / cell / environment
- :mod:`nagtune.parsers.metrics`  events -> per-minute what/when/where metrics
- :mod:`nagtune.parsers.nagios_logster` the class Etsy logster runs
"""
