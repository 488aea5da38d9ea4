"""Provenance a reviewer can check without pmpath: the analysis-plan hash and the software versions.

The analysis-plan hash is the SHA-256 (hex) of the RFC 8785 (JSON Canonicalization Scheme, JCS)
serialization of the *effective* plan, every default filled in, wrapped with the dossier format
version it was written in::

    {"analysis_plan": {...platform.yaml's analysis_plan, defaults included...}, "schema_version": 3}

Defaults include the per-endpoint plan: ``analysis_plan.improvement.endpoints`` holds an entry for
every endpoint of the platform, as :meth:`~pmpath.dossier.model.ImprovementPlan.for_endpoint`
fills it in (mcid, summary measure and intercurrent-event strategies depend on the endpoint).
``analysis_plan.natural_history.endpoints`` (growth-curve options) is the exception: only entries
that differ from the default straight line are hashed, and the key is left out when none do; so are
``analysis_plan.targeting`` (the off-target rules) and the improvement plan's ``sampler``,
``dispersion_prior`` and ``pooled_prior`` (the NUTS fits), each left out when it is the default.
So a plan that leaves a threshold at its default and one that writes the default out have the same
hash, and a change of any threshold, of ``fixed_on`` or of the format changes it. JCS fixes
everything a hash depends on: member names sorted by UTF-16 code units, no whitespace, numbers as
ECMAScript prints them (``2/3`` is ``0.6666666666666666``, ``40.0`` is ``40``, ``1e21`` is
``1e+21``), strings escaped only where JSON requires it and written as UTF-8. Any JCS
implementation in any language reproduces it from the canonical text ``pmpath hash-plan DIR
--show`` prints; ``pmpath hash-plan DIR --show | sha256sum`` gives the hash itself.

The dossier fingerprint, the other half of a report's provenance, is
:func:`pmpath.dossier.fingerprint.dossier_fingerprint`.
"""

from __future__ import annotations

import hashlib
import math
import platform as _python_platform
from importlib.metadata import PackageNotFoundError, version
from typing import Any

import rfc8785

from pmpath.dossier.model import (
    ImprovementPlan,
    NaturalHistoryEndpointPlan,
    Platform,
    TargetingPlan,
)
from pmpath.errors import DossierError, Finding

__all__ = [
    "PLAN_HASH_ALGORITHM",
    "SOFTWARE",
    "canonical_plan_json",
    "plan_document",
    "plan_sha256",
    "software_versions",
]

PLAN_HASH_ALGORITHM = "SHA-256 of RFC 8785 canonical JSON"
"""How :func:`plan_sha256` is computed, in words, for a report's provenance table."""

SOFTWARE: tuple[str, ...] = (
    "numpy",
    "scipy",
    "statsmodels",
    "lifelines",
    "pandas",
    "pyarrow",
)
"""The distributions whose versions can change the numbers of an assessment (besides pmpath)."""

_JSON_SAFE_INTEGER = 2**53 - 1  # larger integers have no exact IEEE 754 double, so no JCS form
_PLATFORM_FILE = "platform.yaml"


def plan_document(platform: Platform) -> dict[str, Any]:
    """The object whose canonical JSON is hashed: the effective plan and the format version.

    Parameters
    ----------
    platform
        A validated ``platform.yaml``.

    Returns
    -------
    dict
        ``{"schema_version": <int>, "analysis_plan": <the plan with every default, JSON types>}``.

    Raises
    ------
    DossierError
        A plan value has no exact JSON number (an infinity, or an integer beyond 2**53 - 1); the
        finding names ``platform.yaml`` and the field.

    Examples
    --------
    >>> from pmpath.dossier.load import load_platform
    >>> from pmpath.examples import example_path
    >>> doc = plan_document(load_platform(example_path("abe-ucd")))
    >>> sorted(doc), doc["schema_version"]
    (['analysis_plan', 'schema_version'], 3)
    >>> doc["analysis_plan"]["improvement"]["posterior_threshold"]  # the default, filled in
    0.975
    >>> doc["analysis_plan"]["improvement"]["endpoints"]["ammonia"]["summary_measure"]
    'mean_deviation'
    """
    plan = platform.analysis_plan
    improvement = plan.improvement
    resolved = {e.id: improvement.for_endpoint(e) for e in platform.endpoints}
    effective = plan.model_copy(
        update={"improvement": improvement.model_copy(update={"endpoints": resolved})}
    )
    _check_representable(effective.model_dump(mode="python"), "analysis_plan")
    document = effective.model_dump(mode="json")
    # Growth-curve options: only the entries that differ from the default (a straight line without
    # covariates) are hashed, and none at all when none differ, so a plan that writes the default out
    # and one that leaves it have the same hash, and plans from before these options keep theirs.
    default = NaturalHistoryEndpointPlan().model_dump(mode="json")
    growth = {k: v for k, v in document["natural_history"].pop("endpoints").items() if v != default}
    if growth:
        document["natural_history"]["endpoints"] = growth
    # The off-target rules (criterion 2) likewise: hashed only when they differ from the defaults,
    # so plans fixed before the section existed keep their hashes.
    if document.get("targeting") == TargetingPlan().model_dump(mode="json"):
        del document["targeting"]
    # and the sampler settings and priors of the NUTS fits: left out while they are the defaults
    blank = ImprovementPlan()
    for name in ("sampler", "dispersion_prior", "pooled_prior"):
        if document["improvement"].get(name) == getattr(blank, name).model_dump(mode="json"):
            del document["improvement"][name]
    return {"schema_version": platform.schema_version, "analysis_plan": document}


def canonical_plan_json(platform: Platform) -> bytes:
    """The RFC 8785 canonical JSON (UTF-8, no trailing newline) of :func:`plan_document`.

    Parameters
    ----------
    platform
        A validated ``platform.yaml``.

    Returns
    -------
    bytes
        The exact bytes :func:`plan_sha256` hashes.

    Raises
    ------
    DossierError
        A plan value has no exact JSON number (see :func:`plan_document`).

    Examples
    --------
    >>> from pmpath.dossier.load import load_platform
    >>> from pmpath.examples import example_path
    >>> text = canonical_plan_json(load_platform(example_path("abe-ucd"))).decode()
    >>> text.startswith('{"analysis_plan":{"engagement":{"confidence":0.95},"fixed_on":"2024-01-15"')
    True
    >>> '"min_person_years":40,' in text  # 40.0 is written as ECMAScript writes it
    True
    """
    return rfc8785.dumps(plan_document(platform))


def plan_sha256(platform: Platform) -> str:
    """SHA-256 (64 lowercase hex digits) of :func:`canonical_plan_json`: the analysis-plan hash.

    Parameters
    ----------
    platform
        A validated ``platform.yaml``.

    Returns
    -------
    str
        The hash recorded in ``assessment.json`` as ``platform.analysis_plan_sha256``; it changes
        when any threshold (stated or default), ``fixed_on`` or the format version changes.

    Raises
    ------
    DossierError
        A plan value has no exact JSON number (see :func:`plan_document`).

    Examples
    --------
    >>> import hashlib
    >>> from pmpath.dossier.load import load_platform
    >>> from pmpath.examples import example_path
    >>> platform = load_platform(example_path("abe-ucd"))
    >>> plan_sha256(platform) == hashlib.sha256(canonical_plan_json(platform)).hexdigest()
    True
    """
    return hashlib.sha256(canonical_plan_json(platform)).hexdigest()


def software_versions() -> dict[str, str]:
    """Versions of the software that produced an assessment's numbers, for its provenance.

    Returns
    -------
    dict[str, str]
        ``pmpath``, ``python`` (the interpreter, e.g. ``3.11.9``) and each of :data:`SOFTWARE`,
        in that order; a distribution that is not installed is ``"not installed"``.

    Examples
    --------
    >>> list(software_versions())
    ['pmpath', 'python', 'numpy', 'scipy', 'statsmodels', 'lifelines', 'pandas', 'pyarrow']
    """
    from pmpath import __version__

    versions = {"pmpath": __version__, "python": _python_platform.python_version()}
    for name in SOFTWARE:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def _check_representable(value: Any, field: str) -> None:
    """Refuse plan values JCS cannot write exactly, naming the field (validation lets them pass)."""
    if isinstance(value, dict):
        for key, item in value.items():
            _check_representable(item, f"{field}.{key}")
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            _check_representable(item, f"{field}.{i}")
    elif isinstance(value, bool):
        return
    elif isinstance(value, int) and abs(value) > _JSON_SAFE_INTEGER:
        raise DossierError(
            [
                Finding(
                    _PLATFORM_FILE,
                    None,
                    field,
                    f"{value}",
                    f"an integer of at most {_JSON_SAFE_INTEGER} in magnitude (larger ones have no "
                    "exact JSON number, so the plan could not be hashed)",
                )
            ]
        )
    elif isinstance(value, float) and not math.isfinite(value):
        raise DossierError(
            [
                Finding(
                    _PLATFORM_FILE,
                    None,
                    field,
                    f"{value}",
                    "a finite number (JSON has no infinity or NaN, so the plan could not be hashed)",
                )
            ]
        )
