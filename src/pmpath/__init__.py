"""pmpath: computes the plausible mechanism pathway's five criteria from a platform's evidence dossier.

The common case is one call, :func:`pmpath.assess`; the pieces (``dossier``, the analysis
packages and ``pathway``) are there for everything else.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("pmpath")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__", "assess"]


def assess(path):
    """Load, validate and assess the dossier at ``path``; returns a :class:`pmpath.pathway.Assessment`.

    Raises :class:`pmpath.errors.DossierError` when the dossier is invalid.
    """
    from pmpath.dossier import load_dossier
    from pmpath.pathway import assess_dossier

    return assess_dossier(load_dossier(path))
