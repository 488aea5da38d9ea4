"""Reading dossier files: hostile YAML and tables become findings with file, line and field, never
exceptions, and every table row keeps the physical line it was read from."""

from __future__ import annotations

import datetime as dt
import gzip
import io
import time
import tracemalloc

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, field_validator

from pmpath.dossier import source
from pmpath.dossier.source import (
    MAX_CELL_LENGTH,
    MAX_FINDINGS_PER_KIND,
    MAX_TEXT_LENGTH,
    MAX_YAML_DEPTH,
    Table,
    YamlDocument,
    read_table,
    read_yaml,
    validate_model,
)
from pmpath.errors import Finding, Severity


def yaml_of(raw: bytes | str) -> tuple[YamlDocument | None, list[Finding]]:
    findings: list[Finding] = []
    data = raw.encode() if isinstance(raw, str) else raw
    return read_yaml(data, "case.yaml", findings), findings


def table_of(raw: bytes | str, name: str = "t.csv") -> tuple[Table | None, list[Finding]]:
    findings: list[Finding] = []
    data = raw.encode() if isinstance(raw, str) else raw
    return read_table(data, name, findings), findings


# The classic "billion laughs": nine levels of ten references, 10^9 strings once expanded.
BILLION_LAUGHS = "\n".join(
    ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    + [
        f"{chr(ord('a') + i)}: &{chr(ord('a') + i)} ["
        + ",".join([f"*{chr(ord('a') + i - 1)}"] * 9)
        + "]"
        for i in range(1, 9)
    ]
)


# --------------------------------------------------------------------------- YAML


@pytest.fixture(params=["libyaml", "python"])
def parser(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run a test with libyaml and with PyYAML's pure-Python parser (the fallback)."""
    if request.param == "python":
        monkeypatch.setattr(source, "_Loader", source._PythonLoader)
    elif source.YAML_PARSER != "libyaml":
        pytest.skip("PyYAML was built without libyaml")
    return request.param


@pytest.mark.usefixtures("parser")
def test_billion_laughs_is_refused_at_once_in_little_memory() -> None:
    assert len(BILLION_LAUGHS) < 2000
    tracemalloc.start()
    start = time.perf_counter()
    doc, findings = yaml_of(BILLION_LAUGHS)
    elapsed = time.perf_counter() - start
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert doc is None
    (f,) = findings
    assert (f.path, f.line, f.column) == ("case.yaml", 1, 4)  # `&a` on line 1, column 4
    assert "anchor" in f.found and "&a" in f.found and "aliases" in f.expected
    assert elapsed < 1.0 and peak < 5_000_000


@pytest.mark.usefixtures("parser")
def test_an_alias_alone_is_refused_with_its_line() -> None:
    doc, (f,) = yaml_of("name: x\nother: *nowhere\n")
    assert doc is None and f.line == 2 and "alias (*nowhere)" in f.found


@pytest.mark.usefixtures("parser")
@pytest.mark.parametrize("text", ["[" * 10_000, "{a: " * 10_000])
def test_deep_flow_nesting_is_a_finding_not_a_recursion_error(text: str) -> None:
    doc, (f,) = yaml_of(text)
    assert doc is None
    assert (f.line, f.column) == (1, 1 + MAX_YAML_DEPTH * (len(text) // 10_000))
    assert f"more than {MAX_YAML_DEPTH} levels" in f.found


@pytest.mark.usefixtures("parser")
def test_deep_block_nesting_names_the_line_that_goes_too_deep() -> None:
    text = "".join("  " * i + f"k{i}:\n" for i in range(100)) + "  " * 100 + "leaf\n"
    doc, (f,) = yaml_of(text)
    # The root mapping (line 1) is level 1; the mapping under k{i} is level i + 2, starting on
    # line i + 2 with k{i + 1}: the first level too deep starts on line MAX_YAML_DEPTH + 1.
    assert doc is None and f.line == MAX_YAML_DEPTH + 1 and str(MAX_YAML_DEPTH) in f.expected


def test_nesting_at_the_limit_is_accepted() -> None:
    text = "a: " + "[" * (MAX_YAML_DEPTH - 1) + "]" * (MAX_YAML_DEPTH - 1) + "\n"
    doc, findings = yaml_of(text)
    assert not findings and doc is not None


@pytest.mark.usefixtures("parser")
def test_duplicated_key_is_a_finding_at_the_second_key() -> None:
    text = "id: P1\ndosing:\n  - date: 2025-01-01\n    dose: 1\n    dose: 2\nid: P2\n"
    doc, findings = yaml_of(text)
    assert doc is not None  # still returned, so validation goes on
    assert sorted((f.line, f.field) for f in findings) == [(5, "dosing.0.dose"), (6, "id")]
    by_line = {f.line: f for f in findings}
    assert "first on line 1" in by_line[6].found and "first on line 4" in by_line[5].found


def test_keys_that_read_as_the_same_value_are_duplicates() -> None:
    _, (f,) = yaml_of("on: 1\ntrue: 2\n")  # YAML 1.1: both keys are the boolean true
    assert f.line == 2


@pytest.mark.usefixtures("parser")
def test_impossible_date_is_one_finding_with_its_line() -> None:
    class Dose(BaseModel):
        date: dt.date

    doc, findings = yaml_of("# dosing\ndate: 2025-02-30\n")
    assert doc is not None
    (f,) = findings
    assert (f.line, f.field) == (2, "date") and "2025-02-30" in f.found
    assert validate_model(Dose, doc, findings) is None
    assert len(findings) == 1  # the model does not report the same date again


def test_integer_too_long_to_convert_is_a_finding() -> None:
    _, (f,) = yaml_of("n: 1\npos: " + "9" * 5000 + "\n")
    assert (f.line, f.field) == (2, "pos") and "5,000" in f.found


@pytest.mark.usefixtures("parser")
def test_python_tags_are_refused() -> None:
    doc, (f,) = yaml_of("name: !!python/object/apply:os.system ['true']\n")
    assert doc is None and f.line == 1 and "python/object" in f.found


@pytest.mark.usefixtures("parser")
def test_malformed_yaml_names_the_line() -> None:
    doc, (f,) = yaml_of("id: P1\ndiagnosis:\n  basis: [molecular\n  disease: x\n")
    assert doc is None and f.line == 4 and "malformed YAML" in f.found


@pytest.mark.parametrize(
    ("text", "found"),
    [("- a\n- b\n", "a list"), ("", "an empty document"), ("just text\n", "a single text")],
)
def test_a_document_that_is_not_a_mapping(text: str, found: str) -> None:
    doc, (f,) = yaml_of(text)
    assert doc is None and f.found == found


@pytest.mark.usefixtures("parser")
def test_bom_and_crlf_yaml_keep_their_lines() -> None:
    doc, findings = yaml_of(b"\xef\xbb\xbfid: P1\r\n\r\ndosing:\r\n  - dose: 1\r\n")
    assert not findings and doc is not None
    assert doc.data == {"id": "P1", "dosing": [{"dose": 1}]}
    assert doc.line_of(("dosing", 0, "dose")) == 4 and doc.line_of(("id",)) == 1


def test_control_character_names_line_and_column() -> None:
    doc, (f,) = yaml_of("id: P1\nname: ab\x07c\n")
    assert doc is None and (f.line, f.column) == (2, 9) and "U+0007" in f.found


@pytest.mark.parametrize("char", ["\u202e", "\u2066", "\u2069", "\u202a"])
def test_bidirectional_override_in_a_value_is_a_finding(char: str) -> None:
    doc, (f,) = yaml_of(f"id: P1\nplatform:\n  name: abc{char}def\n")
    assert doc is not None  # reported, and validation goes on
    assert (f.line, f.column, f.field) == (3, 12, "platform.name")
    assert f"U+{ord(char):04X}" in f.found


def test_bidirectional_override_written_as_an_escape_is_a_finding() -> None:
    _, (f,) = yaml_of('id: P1\nname: "abc\\u202edef"\n')
    assert (f.line, f.field) == (2, "name") and "escape" in f.found


def test_bidirectional_override_in_a_comment_is_a_finding() -> None:
    _, (f,) = yaml_of("id: P1  # \u202eevil\n")
    assert (f.line, f.column, f.field) == (1, 11, "")


def test_nel_and_line_separator_are_refused_before_they_move_line_numbers() -> None:
    for char in ("\x85", "\u2028"):
        doc, (f,) = yaml_of(f"id: P1\nname: a{char}b\nother: 1\n")
        assert doc is None and (f.line, f.column) == (2, 8)


def test_text_over_the_limit_is_a_finding_at_the_limit_is_not() -> None:
    _, findings = yaml_of("name: " + "x" * MAX_TEXT_LENGTH + "\n")
    assert not findings
    doc, (f,) = yaml_of("id: 1\nname: " + "x" * (MAX_TEXT_LENGTH + 1) + "\n")
    assert doc is not None and (f.line, f.field) == (2, "name")
    assert f"{MAX_TEXT_LENGTH:,}" in f.expected and f"{MAX_TEXT_LENGTH + 1:,}" in f.found


def test_non_utf8_yaml_gives_line_and_column_of_the_first_bad_byte() -> None:
    doc, (f,) = yaml_of(b"id: P1\nname: caf\xe9 au lait\n")
    assert doc is None and (f.line, f.column) == (2, 10) and "0xe9" in f.found


@pytest.mark.parametrize("read", [yaml_of, table_of])
def test_gzip_where_text_is_expected_says_so(read) -> None:
    obj, (f,) = read(gzip.compress(b"id: P1\n"))
    assert obj is None
    assert f.found == "a gzip-compressed file" and "gunzip" in f.expected


@pytest.mark.parametrize("read", [yaml_of, table_of])
def test_nul_byte_is_binary_data_with_its_line(read) -> None:
    obj, (f,) = read(b"a,b\n1,2\n3,\x00\n")
    assert obj is None and "binary" in f.found and (f.line, f.column) == (3, 3)


def test_utf16_is_named_as_such() -> None:
    obj, (f,) = table_of("a,b\n1,2\n".encode("utf-16"))
    assert obj is None and "UTF-16" in f.found


def test_thousands_of_bidirectional_characters_are_listed_then_counted() -> None:
    text = "id: P1\nnotes:\n" + "".join(f"  - n{i} \u202e\n" for i in range(5000))
    start = time.perf_counter()
    doc, findings = yaml_of(text)
    assert time.perf_counter() - start < 5
    assert doc is not None and len(findings) == MAX_FINDINGS_PER_KIND + 1
    assert [f.line for f in findings[:3]] == [3, 4, 5] and findings[0].field == "notes.0"
    assert findings[-1].found.startswith(f"{5000 - MAX_FINDINGS_PER_KIND} more")


def test_bad_utf8_far_into_a_large_file_keeps_its_line() -> None:
    # Rows of two-byte characters, so some straddle the reader's 1 MiB decoding chunks.
    lines = [b"subject,site"] + [f"S{i},Zürich".encode() for i in range(150_000)]
    lines[140_000] = b"S139999,Z\xfcrich"  # Latin-1, on line 140,001
    raw = b"\n".join(lines)
    assert len(raw) > 2 * 2**20
    _, (f,) = table_of(raw)
    assert (f.line, f.column) == (140_001, 10)


def test_read_yaml_uses_one_parse() -> None:
    """The document's data and its line index come from the same node tree."""
    doc, _ = yaml_of("a:\n  b: [1, {c: 2}]\n")
    assert doc is not None and doc.data == {"a": {"b": [1, {"c": 2}]}}
    assert doc.lines[("a", "b", 1, "c")] == 2 and doc.lines[("a",)] == 1


# --------------------------------------------------------------------------- validate_model


class Replicate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    assay: str
    replicate: int
    edited: int = 0

    @field_validator("edited")
    @classmethod
    def _not_negative(cls, v: int) -> int:
        if v < 0:
            raise ValueError(f"found {v}, expected a count >= 0")
        return v


class Engagement(BaseModel):
    model_config = ConfigDict(extra="forbid")
    items: list[Replicate]


def validated(text: str) -> list[Finding]:
    doc, findings = yaml_of(text)
    assert doc is not None and not findings
    validate_model(Engagement, doc, findings)
    return findings


def test_unknown_field_suggests_the_nearest_known_name() -> None:
    (f,) = validated("items:\n  - assay: a\n    replicat: 1\n    replicate: 2\n")
    assert (f.line, f.field) == (3, "items.0.replicat")
    assert f.found == "an unknown field 'replicat'"
    assert f.expected.startswith("did you mean 'replicate'?")


def test_missing_field_and_wrong_type_split_found_and_expected() -> None:
    findings = validated("items:\n  - assay: a\n  - assay: b\n    replicate: two\n")
    by_line = {f.line: f for f in findings}
    assert (by_line[2].field, by_line[2].found, by_line[2].expected) == (
        "items.0.replicate",
        "nothing",
        "this required field",
    )
    assert by_line[4].found == "'two'" and by_line[4].expected.startswith("a valid integer")


def test_a_huge_wrong_value_is_described_briefly() -> None:
    doc, findings = yaml_of(
        "items:\n  - assay: a\n    replicate: " + "x" * (MAX_TEXT_LENGTH - 1) + "\n"
    )
    assert doc is not None and not findings
    validate_model(Engagement, doc, findings)
    (f,) = findings
    assert f.line == 3 and len(f.found) <= 60


def test_validator_message_is_split_at_expected() -> None:
    (f,) = validated("items:\n  - assay: a\n    replicate: 1\n    edited: -3\n")
    assert (f.line, f.found, f.expected) == (4, "-3", "a count >= 0")
    assert f.severity is Severity.error


# --------------------------------------------------------------------------- tables


def test_semicolon_separated_csv_is_one_finding() -> None:
    table, findings = table_of("subject;age;endpoint;value\nS1;1,5;ammonia;40\nS1;2,5;ammonia;42\n")
    assert table is None
    (f,) = findings
    assert f.line == 1 and "semicolon-separated" in f.found and "comma-separated" in f.expected


def test_tab_separated_csv_and_comma_separated_tsv_are_named() -> None:
    _, (f,) = table_of("a\tb\n1\t2\n", "t.csv")
    assert "tab-separated" in f.found
    _, (f,) = table_of("a,b\n1,2\n", "t.tsv")
    assert "comma-separated" in f.found


def test_tsv_reads_tabs() -> None:
    table, findings = table_of("a\tb\n1,5\t2\n", "t.tsv")
    assert not findings and table is not None
    assert table.frame.to_dict("list") == {"a": ["1,5"], "b": ["2"]}


def test_duplicate_column_names_are_a_finding() -> None:
    table, (f,) = table_of("subject,age,age\nS1,1,2\n")
    assert table is None and (f.line, f.field) == (1, "age") and "columns 2, 3" in f.found


def test_rows_with_the_wrong_number_of_fields_are_findings_with_their_lines() -> None:
    text = "a,b\n1,2\n\n3,4,5\n6\n7,8\n"
    table, findings = table_of(text)
    assert [(f.line, f.found, f.expected) for f in findings] == [
        (4, "3 comma-separated fields", "2, one per column of the header"),
        (5, "1 comma-separated field", "2, one per column of the header"),
    ]
    assert table is not None
    assert table.frame.to_dict("list") == {"a": ["1", "7"], "b": ["2", "8"]}
    assert table.row_lines.tolist() == [2, 6]


def test_many_ragged_rows_are_listed_up_to_a_limit_then_counted() -> None:
    _, findings = table_of("a,b\n" + "1\n" * 100)
    assert len(findings) == 21 and "80 more" in findings[-1].found


def test_an_unclosed_quote_is_named() -> None:
    _, (f,) = table_of('a,b\n1,2\n"3,4\n5,6\n')
    assert f.line == 3 and "quote" in f.found


@pytest.mark.parametrize("text", ["", "\n\n", "\r\n"])
def test_an_empty_file_is_a_table_of_nothing(text: str) -> None:
    table, findings = table_of(text)
    assert not findings and table is not None
    assert table.frame.shape == (0, 0) and len(table.row_lines) == 0 and table.header_line is None


@pytest.mark.parametrize("text", ["subject,age", "subject,age\n", "\nsubject,age\r\n\r\n"])
def test_a_header_alone_is_a_table_of_no_rows(text: str) -> None:
    table, findings = table_of(text)
    assert not findings and table is not None
    assert list(table.frame.columns) == ["subject", "age"] and len(table.frame) == 0


def test_excel_export_with_bom_and_crlf() -> None:
    raw = b"\xef\xbb\xbfsubject,age\r\nS1,1.5\r\n\r\nS2,2.5\r\n"
    table, findings = table_of(raw)
    assert not findings and table is not None
    assert list(table.frame.columns) == ["subject", "age"]
    assert table.row_lines.tolist() == [2, 4] and table.header_line == 1


def test_old_mac_line_ends() -> None:
    table, findings = table_of("a,b\r1,2\r\r3,4\r")
    assert not findings and table is not None and table.row_lines.tolist() == [2, 4]


def test_cells_stay_text_exactly_as_written() -> None:
    table, findings = table_of('2024,id\n007,\n1e5, x \n"",NA\n')
    assert not findings and table is not None
    assert table.frame.to_dict("list") == {"2024": ["007", "1e5", ""], "id": ["", " x ", "NA"]}
    assert all(str(t) == "str" for t in table.frame.dtypes)


def test_quoted_newlines_keep_the_line_of_each_row() -> None:
    text = 'note,n\n"two\nlines",1\n\n"three\r\n\r\nlines",2\nplain,3\n'
    table, findings = table_of(text)
    assert not findings and table is not None
    assert table.frame["note"].tolist() == ["two\nlines", "three\r\n\r\nlines", "plain"]
    assert table.row_lines.tolist() == [2, 5, 8]


def test_a_quote_inside_a_cell_is_a_character() -> None:
    table, findings = table_of('size,n\n5" tall,1\nx,2\n')
    assert not findings and table is not None
    assert table.frame["size"].tolist() == ['5" tall', "x"] and table.row_lines.tolist() == [2, 3]


def test_non_utf8_table_names_line_and_column() -> None:
    table, (f,) = table_of(b"subject,site\nS1,Z\xfcrich\n")
    assert table is None and (f.line, f.column) == (2, 5)


def test_control_and_bidirectional_characters_in_cells() -> None:
    table, findings = table_of("subject,note\nS1,fine\nS2,evil\u202etxt\nS3,bell\x07\n")
    assert table is not None
    (f,) = findings
    assert (f.line, f.field) == (3, "note") and "U+202E" in f.found and "1 more row" in f.found


def test_bidirectional_character_in_a_column_name() -> None:
    _, (f,) = table_of("subject,\u202eeman\nS1,x\n")
    assert (f.line, f.field) == (1, "\u202eeman")


def test_cell_over_the_limit_is_a_finding() -> None:
    ok = "a,b\n1," + "x" * MAX_CELL_LENGTH + "\n"
    assert table_of(ok)[1] == []
    table, (f,) = table_of("a,b\n1,2\n3," + "é" * (MAX_CELL_LENGTH + 1) + "\n")
    assert table is not None and (f.line, f.field) == (3, "b")
    assert f"{MAX_CELL_LENGTH + 1:,} characters" in f.found


def test_a_long_quoted_cell_spanning_lines_is_found() -> None:
    cell = ("y" * 5000 + "\n") * 3
    _, (f,) = table_of(f'a,b\n1,"{cell}"\n')
    assert (f.line, f.field) == (2, "b")


def test_parquet_rows_are_numbered_as_rows() -> None:
    frame = pd.DataFrame({"subject": ["S1", None, "S3"], "age": [1.5, 2.0, None], "n": [1, 2, 3]})
    buffer = io.BytesIO()
    pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), buffer)
    table, findings = table_of(buffer.getvalue(), "t.parquet")
    assert not findings and table is not None
    assert table.row_kind == "row" and table.row_lines.tolist() == [1, 2, 3]
    assert table.where(1) == "row 2" and table.header_line is None
    assert table.frame.to_dict("list") == {
        "subject": ["S1", "", "S3"],
        "age": ["1.5", "2", ""],
        "n": ["1", "2", "3"],
    }


def test_garbage_parquet_is_a_finding() -> None:
    table, (f,) = table_of(b"subject,age\nS1,2\n", "t.parquet")
    assert table is None and "Parquet" in f.found and f.path == "t.parquet"


def test_the_slow_line_count_agrees_with_the_fast_one() -> None:
    """read_table falls back to Python's csv module if the line structure cannot account for
    the records; both must give the same lines."""
    text = 'a,b\r\n\r\n"x\n\ny",1\n2,"p\rq"\n\n3,4\n'
    table, findings = table_of(text)
    assert not findings and table is not None
    slow = source._record_lines_by_csv(text, ",")
    assert slow is not None and slow.tolist() == [1, *table.row_lines.tolist()] == [1, 3, 6, 9]


def test_csv_line_numbers_against_pandas_on_a_plain_file() -> None:
    """Independent check: pandas counts the same rows; our lines are those holding each row."""
    rows = [f"S{i},{i * 0.5}" for i in range(1000)]
    lines = ["subject,age"]
    expected = []
    for i, row in enumerate(rows):
        if i % 7 == 3:
            lines.append("")
        lines.append(row)
        expected.append(len(lines))
    text = "\r\n".join(lines) + "\r\n"
    table, findings = table_of(text)
    peer = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    assert not findings and table is not None
    assert table.frame.astype(object).equals(peer.astype(object))
    physical = text.split("\r\n")
    assert all(
        physical[line - 1] == f"{s},{a}"
        for line, s, a in zip(
            table.row_lines, table.frame["subject"], table.frame["age"], strict=True
        )
    )
    assert table.row_lines.tolist() == expected


# --------------------------------------------------------------------------- properties

CELL_TEXT = st.lists(
    st.sampled_from([*"abz09 .-_,;\"'\t\n\r", "µ", "é", "😀", "\r\n"]), max_size=12
).map("".join)


def _csv_field(value: str, sep: str, force_quote: bool) -> str:
    if force_quote or any(c in value for c in (sep, '"', "\n", "\r")) or value == "":
        return '"' + value.replace('"', '""') + '"'
    return value


@st.composite
def written_tables(draw):
    """A table of text cells, written as CSV/TSV by hand with blank lines, CRLF or LF and an
    optional byte-order mark; returns the file, the cells and the line each row starts on."""
    n_cols = draw(st.integers(1, 4))
    names = draw(
        st.lists(
            st.text(alphabet="abcdefgh_", min_size=1, max_size=6),
            min_size=n_cols,
            max_size=n_cols,
            unique=True,
        )
    )
    rows = draw(st.lists(st.lists(CELL_TEXT, min_size=n_cols, max_size=n_cols), max_size=12))
    eol = draw(st.sampled_from(["\n", "\r\n"]))
    sep = draw(st.sampled_from([",", "\t"]))
    bom = draw(st.booleans())
    pieces: list[str] = []
    line = 1

    def emit(text: str) -> None:
        nonlocal line
        pieces.append(text)
        line += text.count("\n") + text.count("\r") - text.count("\r\n")

    for _ in range(draw(st.integers(0, 2))):
        emit(eol)
    header_line = line
    emit(sep.join(names) + eol)
    lines = []
    for row in rows:
        for _ in range(draw(st.integers(0, 2))):
            emit(eol)
        lines.append(line)
        quote_all = draw(st.booleans())
        emit(sep.join(_csv_field(v, sep, quote_all) for v in row) + eol)
    if rows and draw(st.booleans()):  # no line end after the last row
        pieces[-1] = pieces[-1][: -len(eol)]
    text = "".join(pieces)
    raw = (b"\xef\xbb\xbf" if bom else b"") + text.encode()
    name = "t.csv" if sep == "," else "t.tsv"
    return raw, name, names, rows, lines, header_line


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(written_tables())
def test_row_lines_are_the_physical_lines_of_the_rows(case) -> None:
    raw, name, names, rows, lines, header_line = case
    table, findings = table_of(raw, name)
    assert not findings and table is not None
    assert list(table.frame.columns) == names
    assert table.frame.astype(object).values.tolist() == rows or (not rows and table.frame.empty)
    assert table.row_lines.tolist() == lines
    assert table.header_line == header_line


VALID_YAML = b"""schema_version: 1
id: P1
synthetic: true
diagnosis:
  disease: otc
  basis: molecular
dosing:
  - {date: 2025-01-10, dose: 0.5, unit: mg/kg}
  - date: 2025-02-10
    dose: 1
measurements: measurements.csv
"""

VALID_CSV = b"""date,endpoint,value,unit
2025-01-01,ammonia,40,umol/L
2025-01-08,ammonia,"42",umol/L

2025-02-01,glutamine,600,umol/L
"""


@st.composite
def mutated(draw, base: bytes):
    data = bytearray(base)
    for _ in range(draw(st.integers(1, 6))):
        kind = draw(st.sampled_from(["delete", "insert", "duplicate_line", "swap_lines", "byte"]))
        lines = bytes(data).split(b"\n")
        if kind == "delete" and data:
            i = draw(st.integers(0, len(data) - 1))
            del data[i : i + draw(st.integers(1, 8))]
        elif kind == "insert":
            i = draw(st.integers(0, len(data)))
            chunk = draw(
                st.sampled_from(
                    [
                        b"&x ",
                        b"*x",
                        b"[",
                        b"{",
                        b"\t",
                        b'"',
                        b",",
                        b";",
                        b"\r",
                        b"\xff",
                        b"\x00",
                        b"\xe2\x80\xae",
                        b": :",
                        b"- ",
                        b"!!binary ",
                        b"? ",
                        b"\n  ",
                        b"9" * 5000,
                    ]
                )
            )
            data[i:i] = chunk
        elif kind == "duplicate_line" and lines:
            i = draw(st.integers(0, len(lines) - 1))
            lines.insert(i, lines[i])
            data = bytearray(b"\n".join(lines))
        elif kind == "swap_lines" and len(lines) > 1:
            i = draw(st.integers(0, len(lines) - 2))
            lines[i], lines[i + 1] = lines[i + 1], lines[i]
            data = bytearray(b"\n".join(lines))
        elif kind == "byte" and data:
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
    return bytes(data)


def _check_findings(findings: list[Finding]) -> None:
    for f in findings:
        assert isinstance(f, Finding) and f.found
        assert f.line is None or f.line >= 1
        str(f)  # renders


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=300))
def test_random_bytes_never_raise(raw: bytes) -> None:
    for name in ("case.yaml", "python.yaml", "t.csv", "t.tsv", "t.parquet"):
        findings: list[Finding] = []
        if name == "python.yaml":
            original = source._Loader
            source._Loader = source._PythonLoader
            try:
                read_yaml(raw, name, findings)
            finally:
                source._Loader = original
        elif name.endswith(".yaml"):
            read_yaml(raw, name, findings)
        else:
            table = read_table(raw, name, findings)
            if table is not None:
                assert len(table.row_lines) == len(table.frame)
        _check_findings(findings)


@settings(max_examples=300, deadline=None)
@given(mutated(VALID_YAML))
def test_mutated_yaml_never_raises(raw: bytes) -> None:
    findings: list[Finding] = []
    doc = read_yaml(raw, "case.yaml", findings)
    if doc is not None:
        assert isinstance(doc.data, dict)
    _check_findings(findings)


@settings(max_examples=300, deadline=None)
@given(mutated(VALID_CSV))
def test_mutated_csv_never_raises_and_keeps_lines_in_order(raw: bytes) -> None:
    findings: list[Finding] = []
    table = read_table(raw, "t.csv", findings)
    _check_findings(findings)
    if table is not None:
        lines = table.row_lines
        assert len(lines) == len(table.frame)
        n_lines = raw.count(b"\n") + raw.count(b"\r") - raw.count(b"\r\n") + 1
        assert np.all(np.diff(lines) > 0) and (
            len(lines) == 0 or 1 <= lines.min() <= lines.max() <= n_lines
        )
