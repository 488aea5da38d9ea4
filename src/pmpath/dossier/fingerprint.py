"""The dossier fingerprint: one hash naming exactly which input files, with which contents, were read.

It is the SHA-256 of the dossier's checksum list in ``sha256sum`` format, one line
``"<sha256>  <posix path>\\n"`` per input file, sorted by path; so it can be checked without pmpath::

    cd DOSSIER && sha256sum FILE... | LC_ALL=C sort -k2 | sha256sum

A report records it in its marker (``.pmpath-report.json``), tying the report to the dossier it came
from.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping

__all__ = ["dossier_fingerprint"]


def dossier_fingerprint(inputs: Mapping[str, str]) -> str:
    """SHA-256 (hex) of the sorted ``sha256sum``-style list of a dossier's input files.

    Parameters
    ----------
    inputs
        Relative POSIX path inside the dossier -> SHA-256 (hex) of the file's bytes, as
        :attr:`pmpath.dossier.Dossier.inputs` holds them.

    Returns
    -------
    str
        64 lowercase hex digits; the same set of files with the same contents always gives the
        same fingerprint, whatever order they were read in.

    Examples
    --------
    >>> from pmpath.dossier import load_dossier
    >>> from pmpath.examples import example_path
    >>> len(dossier_fingerprint(load_dossier(example_path("abe-ucd")).inputs))
    64
    """
    listing = "".join(f"{inputs[path].lower()}  {path}\n" for path in sorted(inputs))
    return hashlib.sha256(listing.encode("utf-8")).hexdigest()
