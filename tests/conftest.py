"""Ready objects for the tests: small dossiers written by pmpath's dossier writer, and the bundled examples.

Fixtures
--------
``small_dossier``
    A :class:`SmallDossier`: the parts the end-to-end criterion tests share (an ASO platform
    ``plat`` with disease ``dis`` compared with cohort ``nh``, patient ``p1``), each test choosing
    its endpoints, cohort tables and patient tables.
``minimal_spec``, ``minimal_dossier``, ``minimal_loaded``
    One complete small dossier (a 30-subject cohort with a progressive score and crises, one
    treated patient with every table) as a :class:`~pmpath.dossier.write.DossierSpec`, written
    into ``tmp_path``, and loaded.
``example_copy``
    ``example_copy(name)`` copies a bundled example into ``tmp_path`` (to be edited by a test).
``example_dossiers``
    Both bundled examples, loaded once per session (do not modify them).
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from pmpath.dossier import Dossier, load_dossier
from pmpath.dossier.model import Case, Cohort, Platform
from pmpath.dossier.write import CohortSpec, DossierSpec, FastaRecord, PatientSpec, write_dossier
from pmpath.examples import EXAMPLES, example_path

CohortTable = tuple[str, str, pd.DataFrame]
"""One cohort data file: its kind (``longitudinal``, ``events``, ``time_to_event``), path and rows."""


@dataclass(frozen=True)
class SmallDossier:
    """Builders for small single-patient dossiers on a splice-switching ASO platform.

    The platform ``plat`` treats disease ``dis`` (gene ABC1, compared with cohort ``nh``) with a
    2'-MOE backbone and a patient-specific ASO; the reference is one 20-base record ``chr1``; the
    patient ``p1`` has one dose and no variants. Everything else (endpoints, cutoff, plan, cohort
    tables, patient tables, outcome) is the test's.
    """

    reference: tuple[FastaRecord, ...] = (FastaRecord("chr1", "ACGT" * 5),)

    def platform(
        self,
        endpoints: Sequence[Mapping[str, Any]],
        *,
        data_cutoff: str,
        analysis_plan: Mapping[str, Any] | None = None,
    ) -> Platform:
        """The platform with these endpoints; the analysis plan defaults to one fixed on 2024-01-01."""
        return Platform.model_validate(
            {
                "id": "plat",
                "name": "Test platform",
                "synthetic": True,
                "modality": "splice_switching_aso",
                "genome_build": "GRCh38",
                "reference_fasta": "ref.fa",
                "data_cutoff": data_cutoff,
                "invariant_components": [
                    {"name": "backbone", "description": "2'-MOE phosphorothioate", "version": "1"}
                ],
                "variable_component": {"kind": "aso", "description": "patient-specific ASO"},
                "diseases": [
                    {
                        "id": "dis",
                        "name": "Test disease",
                        "gene": "ABC1",
                        "inheritance": "autosomal_recessive",
                        "cohort": "nh",
                    }
                ],
                "endpoints": [dict(e) for e in endpoints],
                "analysis_plan": dict(analysis_plan or {"fixed_on": "2024-01-01"}),
            }
        )

    def cohort(
        self,
        platform: Platform,
        subjects: pd.DataFrame,
        data: Sequence[CohortTable],
        *,
        provenance: Mapping[str, Any],
    ) -> CohortSpec:
        """Cohort ``nh`` with ``subjects.csv`` and ``data``; units are the endpoints' own."""
        entries = []
        for kind, path, frame in data:
            entry: dict[str, Any] = {"kind": kind, "path": path}
            if kind != "time_to_event":
                entry["units"] = {
                    e: platform.endpoint(e).unit for e in pd.unique(frame["endpoint"])
                }
            entries.append(entry)
        cohort = Cohort.model_validate(
            {
                "id": "nh",
                "disease": "dis",
                "provenance": dict(provenance),
                "subjects": {"path": "subjects.csv"},
                "data": entries,
            }
        )
        return CohortSpec(cohort, subjects, [frame for _, _, frame in data])

    def case(
        self,
        *,
        first_dose: str,
        age_at_first_dose: float,
        genotype_class: str | None = None,
        outcome: Mapping[str, Any] | None = None,
        product_id: str = "aso-1",
        batch: str = "b1",
    ) -> Case:
        """Patient ``p1``: a molecular diagnosis of ``dis``, female, one dose of 1 mg/kg."""
        diagnosis: dict[str, Any] = {
            "disease": "dis",
            "basis": "molecular",
            "sex": "female",
            "age_at_first_dose_years": age_at_first_dose,
        }
        if genotype_class is not None:
            diagnosis["genotype_class"] = genotype_class
        case: dict[str, Any] = {
            "id": "p1",
            "synthetic": True,
            "diagnosis": diagnosis,
            "therapy": {
                "product_id": product_id,
                "batch": batch,
                "components": [{"name": "backbone", "version": "1"}],
                "targeting_sequence": "ACGTACGTACGTACGTACGT",
            },
            "dosing": [{"date": first_dose, "dose": 1.0, "unit": "mg/kg"}],
        }
        if outcome is not None:
            case["outcome"] = dict(outcome)
        return Case.model_validate(case)

    def write(
        self,
        root: Path,
        platform: Platform,
        cohort: CohortSpec,
        case: Case,
        tables: Mapping[str, pd.DataFrame] | None = None,
    ) -> Path:
        """Write the dossier at ``root`` (new or empty) and return ``root``."""
        spec = DossierSpec(platform, self.reference, [cohort], [PatientSpec(case, tables or {})])
        write_dossier(spec, root)
        return root


@pytest.fixture(scope="session")
def small_dossier() -> SmallDossier:
    return SmallDossier()


def _minimal_spec(parts: SmallDossier) -> DossierSpec:
    """30 subjects whose score falls 2 points a year, crises at 3 a year; one patient who improves."""
    rng = np.random.default_rng(20250101)
    endpoints = [
        {
            "id": "score",
            "name": "Motor score",
            "kind": "continuous",
            "unit": "{score}",
            "direction": "higher_is_better",
            "role": "primary",
        },
        {
            "id": "crises",
            "name": "Metabolic crises",
            "kind": "count",
            "unit": "{crises}",
            "direction": "lower_is_better",
        },
    ]
    platform = parts.platform(endpoints, data_cutoff="2025-12-31")
    subjects = [f"S{i:02d}" for i in range(30)]
    scores, crises = [], []
    for s in subjects:
        start = rng.uniform(3, 8)
        level = 40 + rng.normal(0, 3)
        for age in start + np.arange(5.0):
            value = level - 2.0 * (age - 5) + rng.normal(0, 1)
            scores.append((s, round(age, 3), "score", round(value, 2)))
        crises.append((s, round(start, 3), round(start + 4, 3), "crises", int(rng.poisson(12))))
    cohort = parts.cohort(
        platform,
        pd.DataFrame({"subject": subjects, "sex": ["female", "male"] * 15}),
        [
            ("longitudinal", "scores.csv", pd.DataFrame(scores, columns=["subject", "age", "endpoint", "value"])),
            ("events", "crises.csv", pd.DataFrame(crises, columns=["subject", "age_start", "age_end", "endpoint", "count"])),
        ],
        provenance={"source": "simulation", "collection": "synthetic"},
    )  # fmt: skip
    case = parts.case(first_dose="2025-01-10", age_at_first_dose=6.0)
    first = dt.date(2025, 1, 10)
    tables = {
        "measurements": pd.DataFrame(
            {
                "study_day": [-300, -150, -1, 60, 120, 240],
                "endpoint": "score",
                "value": [42.1, 41.0, 40.3, 44.8, 45.9, 46.2],
                "unit": "{score}",
            }
        ),
        "events": pd.DataFrame(
            {
                "start": [first - dt.timedelta(days=365), first],
                "end": [first - dt.timedelta(days=1), dt.date(2025, 12, 31)],
                "endpoint": "crises",
                "count": [4, 0],
            }
        ),
        "engagement": pd.DataFrame(
            {
                "assay": "fibroblast_rtpcr",
                "source": "patient_derived_cells",
                "replicate": ["1", "2"],
                "edited": [610, 640],
                "total": [1000, 1000],
                "minimum_fraction": 0.3,
            }
        ),
        "concomitant": pd.DataFrame(
            {"study_day": [45], "kind": ["diet"], "description": ["protein liberalized"]}
        ),
        "adverse_events": pd.DataFrame(
            {
                "onset": [first],
                "term": ["Headache"],
                "serious": [False],
                "relatedness": ["possible"],
                "grade": [1],
            }
        ),
    }
    return DossierSpec(platform, parts.reference, [cohort], [PatientSpec(case, tables)])


@pytest.fixture
def minimal_spec(small_dossier: SmallDossier) -> DossierSpec:
    """A complete small dossier as plain data (a fresh one for each test: change it freely)."""
    return _minimal_spec(small_dossier)


@pytest.fixture
def minimal_dossier(minimal_spec: DossierSpec, tmp_path: Path) -> Path:
    """:func:`minimal_spec` written into ``tmp_path / "dossier"``."""
    root = tmp_path / "dossier"
    write_dossier(minimal_spec, root)
    return root


@pytest.fixture
def minimal_loaded(minimal_dossier: Path) -> Dossier:
    """:func:`minimal_dossier`, loaded."""
    return load_dossier(minimal_dossier)


@pytest.fixture
def example_copy(tmp_path: Path) -> Callable[[str], Path]:
    """``example_copy(name)``: a copy of the bundled example ``name`` in ``tmp_path``, to edit."""

    def copy(name: str) -> Path:
        target = tmp_path / name
        shutil.copytree(example_path(name), target)
        return target

    return copy


@pytest.fixture(scope="session")
def example_dossiers() -> dict[str, Dossier]:
    """Both bundled examples, loaded once (shared by every test: do not modify)."""
    return {name: load_dossier(example_path(name)) for name in EXAMPLES}
