"""nagtune: Nagios alert metrics on every node, chatty-service ranking centrally."""
__version__ = "0.1.0"
