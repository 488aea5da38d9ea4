"""The bundled example dossiers, both synthetic: found through importlib.resources, so they work from a wheel.

``abe-ucd`` is an adenine-base-editor platform for urea-cycle disorders (four patients), ``ssaso-cln``
a splice-switching ASO platform for CLN7 disease (three patients). Each folder holds a README with
the expected verdicts. They are written by ``scripts/generate_examples.py``; do not edit them by hand.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

__all__ = ["EXAMPLES", "example_path"]

EXAMPLES: tuple[str, ...] = ("abe-ucd", "ssaso-cln")


def example_path(name: str) -> Path:
    """Directory of the bundled example dossier ``name``, ready for :func:`pmpath.dossier.load_dossier`.

    Parameters
    ----------
    name
        One of :data:`EXAMPLES`.

    Returns
    -------
    Path
        The example's directory inside the installed package.

    Raises
    ------
    ValueError
        ``name`` is not a bundled example.
    FileNotFoundError
        The package is installed without its data files, or inside an archive (a zipped install),
        where the examples have no directory on disk.

    Examples
    --------
    >>> from pmpath.dossier import load_dossier
    >>> dossier = load_dossier(example_path("abe-ucd"))
    >>> [p.id for p in dossier.patients]
    ['P01', 'P02', 'P03', 'P04']
    """
    if name not in EXAMPLES:
        raise ValueError(f"unknown example {name!r}, expected one of: {', '.join(EXAMPLES)}")
    path = Path(str(files(__name__).joinpath(name)))
    if not (path / "platform.yaml").is_file():
        raise FileNotFoundError(
            f"example {name!r}: found no platform.yaml at {path}, expected the package's data files "
            "(install pmpath from a wheel or a source tree, not as a zip archive)"
        )
    return path
