"""nagtune: Nagios alert metrics on every node, chatty-service ranking centrally."""


def __getattr__(name):
    # The version is written once, in pyproject.toml, and read from the installed
    # package's metadata on first use: importing nagtune (every cron run on a node)
    # does not pay for importlib.metadata.
    if name == "__version__":
        from importlib import metadata

        try:
            return metadata.version("nagtune")
        except metadata.PackageNotFoundError:  # a source tree that was never installed
            return "0+unknown"
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
