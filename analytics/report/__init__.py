"""The weekly report: :mod:`.build` (analysis to HTML, Markdown, tables),
:mod:`.changes` (the week's changes), :mod:`.burden` (pages per contact in the
team's time zone), :mod:`.plots`, :mod:`.history` (one snapshot per window)
and ``templates/``."""


def __getattr__(name):
    # ``nagtune.analytics.report`` was the module build.py is now; its names
    # still resolve here (with a DeprecationWarning) for code written against it.
    if name.startswith("__") or name == "build":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib
    import importlib.util
    import warnings

    if importlib.util.find_spec(f"{__name__}.{name}") is not None:  # a submodule: burden, changes, ...
        return importlib.import_module(f"{__name__}.{name}")

    build = importlib.import_module(f"{__name__}.build")
    try:
        value = getattr(build, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
    warnings.warn(f"{__name__}.{name} moved to {__name__}.build.{name}", DeprecationWarning, stacklevel=2)
    return value
