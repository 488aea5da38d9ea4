"""The pair counts as Ibis expressions give identical integer counts on PySpark (local mode) and on DuckDB.

Needs pyspark (a version Ibis supports) and a Java runtime (Debian: default-jre-headless); skipped
without them.
"""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

pytestmark = pytest.mark.slow


def _rows(seed: int = 11, n_reports: int = 800) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for r in range(n_reports):
        sex = "F" if rng.random() < 0.55 else "M"
        drugs = {f"D{min(int(rng.zipf(1.6)), 50)}" for _ in range(rng.integers(1, 3))}
        events = {f"E{min(int(rng.zipf(1.5)), 80)}" for _ in range(rng.integers(1, 4))}
        rows += [(f"R{r}", d, e, sex) for d in drugs for e in events]
    frame = pd.DataFrame(rows, columns=["id", "drug", "event", "sex"])
    return pd.concat([frame, frame.head(50)], ignore_index=True)  # repeated rows count once


@pytest.fixture(scope="module")
def spark_session():
    pyspark = pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("no Java runtime (Debian: default-jre-headless)")
    from pyspark.sql import SparkSession

    session = (
        SparkSession.builder.master("local[2]")
        .appName("pmpath-postmarket-test")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.driver.memory", "1g")
        .getOrCreate()
    )
    del pyspark
    yield session
    session.stop()


@pytest.mark.parametrize("strata", [(), ("sex",)])
def test_counts_on_pyspark_equal_duckdb(spark_session, strata):
    import ibis

    from pmpath.postmarket import count_pairs

    rows = _rows()
    spark_session.createDataFrame(rows).createOrReplaceTempView("reports")
    con = ibis.pyspark.connect(spark_session)
    on_spark = count_pairs(con.table("reports"), strata)
    on_duckdb = count_pairs(rows, strata)
    a, b = on_spark.table, on_duckdb.table
    assert len(a) == len(b) > 50
    for column in ("drug", "event", "N", "n_drug", "n_event", "n_total"):
        assert a[column].tolist() == b[column].tolist(), column
    np.testing.assert_allclose(a["E"], b["E"], rtol=1e-12)
