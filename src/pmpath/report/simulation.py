"""Writing a platform simulation: ``operating_characteristics.tsv``, ``.json`` and ``.svg``.

The folder is written as reports are (:func:`pmpath.report.output.report_directory`): built beside
``OUT`` and swapped in whole, refused when ``OUT`` holds anything pmpath did not write.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

from pmpath import __version__
from pmpath.dossier import Dossier
from pmpath.dossier.fingerprint import dossier_fingerprint
from pmpath.dossier.provenance import software_versions
from pmpath.pathway.simulate import OperatingCharacteristics
from pmpath.report.output import report_directory
from pmpath.report.plots import BLUE, GREY, VERMILLION, Chart, Line

__all__ = ["TSV_COLUMNS", "operating_characteristics_chart", "write_simulation"]

TSV_COLUMNS = (
    "scenario",
    "required_consecutive",
    "max_patients",
    "p_ready",
    "mc_se",
    "n_sim",
    "seed",
)

_LABELS = {"no_effect": "no effect", "plausible_effect": "plausible effect"}
_COLORS = {"no_effect": VERMILLION, "plausible_effect": BLUE}


def tsv_text(oc: OperatingCharacteristics) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, TSV_COLUMNS, delimiter="\t", lineterminator="\n")
    writer.writeheader()
    for row in oc.table_rows():
        writer.writerow(
            {
                **row,
                "p_ready": f"{row['p_ready']:.6g}",
                "mc_se": f"{row['mc_se']:.3g}",
            }
        )
    return buf.getvalue()


def operating_characteristics_chart(oc: OperatingCharacteristics) -> Chart:
    """P(ready) against the required number of consecutive successes, one line per scenario."""
    layers = []
    for scenario, rows in oc.rows.items():
        x = [r.required_consecutive for r in rows]
        layers.append(
            Line(
                x,
                [r.p_ready for r in rows],
                name=_LABELS.get(scenario, scenario)
                + (f" ({oc.effect_description})" if scenario == "plausible_effect" else ""),
                color=_COLORS.get(scenario, GREY),
                marker_size=6.0,
            )
        )
    return Chart(
        name="operating_characteristics",
        title=f"{oc.platform}: chance of reaching readiness within {oc.max_patients} patients",
        x_label="required consecutive successes",
        y_label="P(ready for marketing authorization)",
        layers=tuple(layers),
        caption=(
            f"{oc.n_sim:,} simulated platforms per scenario (seed {oc.seed}); primary endpoint "
            f"{oc.endpoint}; criteria 1-4 taken as met."
        ),
    )


def write_simulation(oc: OperatingCharacteristics, dossier: Dossier, out: Path) -> Path:
    """Write ``OUT/operating_characteristics.{tsv,json,svg}``; ``OUT`` is replaced atomically."""
    document = {
        "pmpath_version": __version__,
        "software": software_versions(),
        "platform": oc.platform,
        "primary_endpoint": oc.endpoint,
        "endpoint_kind": oc.endpoint_kind,
        "n_sim": oc.n_sim,
        "seed": oc.seed,
        "max_patients": oc.max_patients,
        "plausible_effect": oc.effect_description,
        "plausible_effect_model_scale": oc.effect,
        "patient_met_rate": oc.patient_success,
        "patient_insufficient_rate": oc.patient_insufficient,
        "rows": oc.table_rows(),
        "resampled_patients": [
            {"patient": t.patient, "disease": t.disease, "schedule": t.schedule_source}
            for t in oc.templates
        ],
        "assumptions": oc.assumptions,
        "dossier_fingerprint": dossier_fingerprint(dossier.inputs),
    }
    chart = operating_characteristics_chart(oc)
    with report_directory(
        Path(out),
        dossier_root=dossier.root,
        dossier_fingerprint=dossier_fingerprint(dossier.inputs),
    ) as tmp:
        (tmp / "operating_characteristics.tsv").write_text(tsv_text(oc), encoding="utf-8")
        (tmp / "operating_characteristics.json").write_text(
            json.dumps(document, indent=2, allow_nan=False) + "\n", encoding="utf-8"
        )
        (tmp / "operating_characteristics.svg").write_bytes(chart.svg())
    return Path(out)
