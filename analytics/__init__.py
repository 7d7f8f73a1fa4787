"""Central analytics over many Nagios nodes' event logs (pandas).

Data flows one way, one folder per job:

- :mod:`.sources` — where events come from: log archives (:mod:`.sources.ingest`,
  with perfdata and values printed in plugin output), the Parquet store
  (:mod:`.sources.store`), Graphite (:mod:`.sources.graphite_source`) and
  Nagios' ``objects.cache`` (:mod:`.sources.objects`).
- :mod:`.findings` — what the events mean: problem episodes, too chatty
  (a score and the reasons), not chatty enough, retunes replayed on history,
  flapping, faster detection, names, automation candidates.
- :mod:`.run` — running the work: :func:`.run.api.analyze` (all stages at
  once), worker processes, the Dask engine, the results cache.
- :mod:`.report` — the weekly report: build, plots, history, templates.
- :mod:`.confrepo` — retune suggestions as a patch to the configuration repository.
- :mod:`.confrepo` — retune suggestions as a patch to the Nagios
  configuration repository (no pandas; docs/config-patch.md).
- :mod:`._frames` — the column lists every stage returns, shared by all.

Importing this package imports nothing heavy; pandas comes with the modules.

The modules used to sit flat in this folder (``nagtune.analytics.ingest``,
``nagtune.analytics.report`` ...). Those names still import, with a
DeprecationWarning, so code written against them keeps working while it
moves to the new names.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

# Old flat module name -> its place now.
MOVED_MODULES = {
    "ingest": "sources.ingest",
    "store": "sources.store",
    "graphite_source": "sources.graphite_source",
    "objects": "sources.objects",
    "nagios_cfg": "sources.nagios_cfg",
    "_fastingest": "sources._fastingest",
    "episodes": "findings.episodes",
    "chatty": "findings.chatty",
    "quiet": "findings.quiet",
    "retune": "findings.retune",
    "retry": "findings.retry",
    "replay": "findings.replay",
    "flapping": "findings.flapping",
    "names": "findings.names",
    "automation": "findings.automation",
    "_groups": "findings._groups",
    "api": "run.api",
    "parallel": "run.parallel",
    "engine": "run.engine",
    "results_cache": "run.results_cache",
    "plots": "report.plots",
    "history": "report.history",
}


class _MovedModuleFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports an old flat name as the very module object at its new place."""

    def find_spec(self, fullname, path=None, target=None):
        parent, _, name = fullname.rpartition(".")
        if parent == __name__ and name in MOVED_MODULES:
            return importlib.util.spec_from_loader(fullname, self)
        return None

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        new_name = f"{__name__}.{MOVED_MODULES[module.__name__.rpartition('.')[2]]}"
        warnings.warn(f"{module.__name__} moved to {new_name}", DeprecationWarning, stacklevel=2)
        # The import system returns what sys.modules holds after exec_module:
        # the real module, so both names share one module object and its state.
        sys.modules[module.__name__] = importlib.import_module(new_name)


if not any(isinstance(finder, _MovedModuleFinder) for finder in sys.meta_path):
    sys.meta_path.append(_MovedModuleFinder())
