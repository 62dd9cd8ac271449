"""The output contract (#21): one schema every record follows, ISO dates, lean provenance levels,
every output format and shard layout, and loaders (HF datasets, pandas, duckdb, polars) reading
the outputs of mixed inputs over two incremental runs with their default arguments."""

from __future__ import annotations

import datetime as dt
import gzip
import hashlib
import io
import json
import math
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from cleanpipe.cli import main
from cleanpipe.config import Config
from cleanpipe.engines.pipeline import Pipeline
from cleanpipe.io.schema import SCHEMA_VERSION, arrow_schema, iso_date, json_schema, record_schema
from cleanpipe.io.writers import FORMATS, ShardedWriter, parse_size

RAW = Path(__file__).resolve().parent.parent / "raw"
ARTICLE = ("The harbour ferry returned to service this week after a refit that took most of the summer. "
           "Passengers said the new seats were an improvement, and the crew praised the quieter engines. ")


def make_warc(path: Path, pages: int = 2) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        for n in range(pages):
            html = (f"<html><head><title>Ferry notes {n}</title></head><body><article><h1>Ferry notes {n}</h1>"
                    + "".join(f"<p>{ARTICLE} Note {n}, paragraph {k}.</p>" for k in range(4))
                    + "</article></body></html>").encode()
            headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            writer.write_record(writer.create_warc_record(
                f"https://ferries.example/notes/{n}", "response", payload=io.BytesIO(html), http_headers=headers,
                warc_headers_dict={"WARC-Date": f"2026-11-18T09:3{n}:00Z"}))


def mixed_inputs(folder: Path) -> Path:
    """raw/ (text, HTML, JSONL) plus a WARC file."""
    shutil.copytree(RAW, folder)
    make_warc(folder / "ferries.warc")
    return folder


def config(fmt: str = "jsonl", provenance: str = "compact", shard_size: int | str = "256MB") -> Config:
    cfg = Config(workers=1, doc_timeout=0)
    cfg.output.format, cfg.output.provenance, cfg.output.shard_size = fmt, provenance, shard_size
    return cfg


def shards(out: Path, stem: str) -> list[Path]:
    manifest = json.loads((out / "manifest.json").read_text())
    kind = "documents" if stem == "documents" else "rejects"
    return [out / f["file"] for f in manifest["files"] if f["kind"] == kind]


def read_records(out: Path, stem: str = "documents") -> list[dict[str, Any]]:
    """Records through the reference reader (plain Python, or pyarrow for Parquet)."""
    records = []
    for path in shards(out, stem):
        if path.name.endswith(".parquet"):
            import pyarrow.parquet as pq

            records += pq.read_table(path).to_pylist()
            continue
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
        elif path.name.endswith(".zst"):
            import zstandard

            data = zstandard.ZstdDecompressor().stream_reader(io.BytesIO(data)).read()
        records += [json.loads(line) for line in data.decode().splitlines() if line]
    return records


# -- dates --------------------------------------------------------------------------------------
@pytest.mark.parametrize(("text", "iso"), [
    ("October 30, 2026 at 9:14 am", "2026-10-30"),
    ("2012-10-25", "2012-10-25"),
    ("2026-11-18T10:00:00+02:00", "2026-11-18"),
    ("Posted on Nov 18, 2026", "2026-11-18"),
    ("March 2019", None),  # no day given: never invented
    ("2019", None),
    ("Tuesday, 5 May", None),  # no year
    ("yesterday", None),
    ("3 days ago", None),
    ("", None),
    (None, None),
])
def test_iso_date_only_from_a_whole_date(text, iso):
    assert iso_date(text) == iso


# -- schema -------------------------------------------------------------------------------------
def test_schema_command_prints_the_packaged_schema():
    res = CliRunner().invoke(main, ["schema"])
    assert res.exit_code == 0
    assert json.loads(res.output) == json_schema()
    assert json_schema()["x-schema-version"] == SCHEMA_VERSION
    doc = json.loads(CliRunner().invoke(main, ["schema", "--kind", "document"]).output)
    assert doc["$ref"] == "#/$defs/document"


def test_arrow_schema_follows_the_json_schema():
    import pyarrow as pa

    schema = arrow_schema("document")
    assert schema.names == list(json_schema()["$defs"]["document"]["properties"])
    assert schema.field("date").type == pa.string() and schema.field("date").nullable
    assert not schema.field("text").nullable
    assert schema.field("paragraphs").type.value_type.field("source_lines").type == pa.list_(pa.int64())


@pytest.mark.parametrize("level", ["full", "compact", "off"])
def test_every_record_follows_the_schema(tmp_path, level):
    jsonschema = pytest.importorskip("jsonschema")
    inputs = mixed_inputs(tmp_path / "in")
    out = tmp_path / "out"
    summary = Pipeline(config(provenance=level)).run([str(inputs)], out)
    docs, rejects = read_records(out), read_records(out, "rejects")
    assert len(docs) == summary.documents >= 6 and rejects
    doc_validator = jsonschema.Draft202012Validator(record_schema("document"),
                                                    format_checker=jsonschema.FormatChecker())
    rej_validator = jsonschema.Draft202012Validator(record_schema("reject"))
    for record in docs:
        doc_validator.validate(record)
        assert record["provenance"]["level"] == level
        assert "config" not in record["provenance"]  # the config is in the manifest only
        stages = record["provenance"]["stages"]
        assert (stages == []) == (level == "off")
        previews = [s["preview"] for st in stages for s in st["spans"]]
        assert all(p is None for p in previews) or level == "full"
    assert any(s["preview"] for r in docs for st in r["provenance"]["stages"] for s in st["spans"]) == (level == "full")
    for record in rejects:
        rej_validator.validate(record)
    assert {r["source"]["format"] for r in docs} >= {"text", "html", "jsonl", "warc"}
    # a WARC page keeps its record's id and fetch time; a JSON record its own id
    warc = [r["source"] for r in docs if r["source"]["format"] == "warc"]
    assert warc and all(s["record_id"].startswith("<urn:uuid:") for s in warc)
    assert {s["fetched_at"] for s in warc} == {"2026-11-18T09:30:00Z", "2026-11-18T09:31:00Z"}
    jsonl = [r["source"] for r in docs if r["source"]["format"] == "jsonl"]
    assert any(s["record_id"] for s in jsonl) and all(s["fetched_at"] is None for s in jsonl)
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["schema_version"] == SCHEMA_VERSION and manifest["config"]["output"]["provenance"] == level


def test_read_notes_reach_the_record(tmp_path):
    """Bytes decoding replaced and a record the crawler cut short were noted by the reader and lost on
    the way to the record (its stage entry has a fixed shape): they are spans of the read stage."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    inputs = tmp_path / "in"
    inputs.mkdir()
    prose = ("Die Fähre über den Fluss fährt wieder, nach einem Umbau, der fast den ganzen Sommer dauerte. "
             * 3).encode()  # UTF-8 but for two stray bytes
    (inputs / "stray.txt").write_bytes(prose[:50] + b"\xff" + prose[50:150] + b"\xfe" + prose[150:])
    (inputs / "lone.jsonl").write_text(json.dumps({"id": "r1", "text": ARTICLE * 2 + "\ud800 end."}) + "\n")
    with open(inputs / "cut.warc", "wb") as fh:
        writer = WARCWriter(fh, gzip=False)
        html = f"<html><body><article><h1>Ferry</h1><p>{ARTICLE}</p><p>{ARTICLE}</p></article></body></html>"
        record = writer.create_warc_record(
            "https://ferries.example/cut", "response", payload=io.BytesIO(html.encode()),
            http_headers=StatusAndHeaders("200 OK", [("Content-Type", "text/html")], protocol="HTTP/1.1"))
        record.rec_headers.add_header("WARC-Truncated", "length")
        writer.write_record(record)
    out = tmp_path / "out"
    Pipeline(config(provenance="compact")).run([str(inputs)], out)
    spans = {}
    for record in read_records(out):
        (read,) = [st for st in record["provenance"]["stages"] if st["stage"] == "read"]
        assert read["removed"] == len(read["spans"])
        spans[record["source"]["format"]] = [(s["reason"], s["count"], s["ref"]) for s in read["spans"]]
    assert spans == {"text": [("replaced-bytes", 2, None)], "jsonl": [("replaced-chars", 1, None)],
                     "warc": [("warc-truncated", None, "length")]}


def test_provenance_levels_shrink_records(tmp_path):
    inputs = mixed_inputs(tmp_path / "in")
    sizes = {}
    for level in ("full", "compact", "off"):
        Pipeline(config(provenance=level)).run([str(inputs)], tmp_path / level, use_state=False)
        sizes[level] = (tmp_path / level / "documents.jsonl").stat().st_size
        texts = [r["text"] for r in read_records(tmp_path / level)]
        assert texts == [r["text"] for r in read_records(tmp_path / "full")]
    assert sizes["full"] > sizes["compact"] > sizes["off"]


# -- formats and shards -------------------------------------------------------------------------
@pytest.mark.parametrize("fmt", FORMATS)
def test_formats_hold_the_same_records_and_the_manifest_lists_each_shard(tmp_path, fmt):
    inputs = mixed_inputs(tmp_path / "in")
    Pipeline(config()).run([str(inputs)], tmp_path / "ref", use_state=False)
    out = tmp_path / "out"
    Pipeline(config(fmt=fmt, shard_size=4000)).run([str(inputs)], out, use_state=False)
    manifest = json.loads((out / "manifest.json").read_text())
    docs = [f for f in manifest["files"] if f["kind"] == "documents"]
    assert len(docs) > 1 and [f["file"] for f in docs] == [f"documents-{i:05d}.{fmt}" for i in range(len(docs))]
    for entry in manifest["files"]:
        path = out / entry["file"]
        assert hashlib.sha256(path.read_bytes()).hexdigest() == entry["sha256"]
        assert entry["bytes"] == path.stat().st_size
    assert sum(f["records"] for f in docs) == manifest["summary"]["documents"]
    strip = _without_run(read_records(tmp_path / "ref"))
    assert _without_run(read_records(out)) == strip
    assert _without_run(read_records(out, "rejects")) == _without_run(read_records(tmp_path / "ref", "rejects"))
    # the next run in another format and one shard replaces every shard of this one
    Pipeline(config(fmt="jsonl")).run([str(inputs)], out, use_state=False)
    assert sorted(p.name for p in out.iterdir() if not p.name.startswith(".")) == [
        "documents.jsonl", "manifest.json", "rejects.jsonl"]


def _without_run(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for record in records:
        record.pop("run_id", None)
        if "provenance" in record:
            record["provenance"].pop("run_id")
    return records


def test_parquet_row_groups_and_schema(tmp_path):
    import pyarrow.parquet as pq

    out = tmp_path / "o"
    out.mkdir()
    writer = ShardedWriter(out, "documents", "parquet", "document", "t", 1 << 30)
    record = Pipeline(config()).iter_records([str(RAW / "blog-tidepool-robots.txt")])
    first = next(r for r in record if "reject" not in r)
    for n in range(2500):
        writer.write({**first, "id": f"{n:016x}"})
    (entry,) = writer.commit()
    meta = pq.ParquetFile(out / entry["file"]).metadata
    assert entry["records"] == meta.num_rows == 2500 and meta.num_row_groups == 3
    assert pq.read_schema(out / entry["file"]).metadata[b"cleanpipe.schema_version"] == SCHEMA_VERSION.encode()


def test_a_planted_symlink_is_replaced_never_written_through(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("keep me")
    out = tmp_path / "out"
    out.mkdir()
    (out / "documents.parquet").symlink_to(victim)
    Pipeline(config(fmt="parquet")).run([str(RAW)], out, use_state=False)
    assert victim.read_text() == "keep me" and not (out / "documents.parquet").is_symlink()


def test_parse_size():
    assert parse_size("256MB") == 256 * 1024**2 and parse_size("1g") == 1024**3 and parse_size("4000") == 4000
    with pytest.raises(ValueError):
        parse_size("lots")


# -- upgrades -----------------------------------------------------------------------------------
def test_an_output_of_an_older_schema_version_is_processed_again(tmp_path):
    inputs = mixed_inputs(tmp_path / "in")
    out = tmp_path / "out"
    Pipeline(config()).run([str(inputs)], out)
    again = Pipeline(config()).run([str(inputs)], out)
    assert again.unchanged_inputs == again.inputs > 0
    manifest = json.loads((out / "manifest.json").read_text())
    manifest.pop("schema_version")  # as the outputs before the contract were
    (out / "manifest.json").write_text(json.dumps(manifest))
    upgraded = Pipeline(config()).run([str(inputs)], out)
    assert upgraded.unchanged_inputs == 0
    assert json.loads((out / "manifest.json").read_text())["schema_version"] == SCHEMA_VERSION


# -- loaders ------------------------------------------------------------------------------------
def _plain(value: Any) -> Any:
    """A loaded value as plain Python: numpy/arrow containers to lists, NaN to None, dates to ISO."""
    if value is None or value.__class__.__name__ == "NaTType":
        return None
    if isinstance(value, float):  # pandas parses JSON floats imprecisely by default (0.8058 -> 0.8058000000000001)
        return None if math.isnan(value) else round(value, 9)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        value = value.tolist()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dt.datetime):  # a loader that types ISO dates (and WARC-Dates) as timestamps
        assert value.utcoffset() in (None, dt.timedelta(0))
        if value.time() == dt.time(0):  # a date (no fetch time in the tests is midnight)
            return value.date().isoformat()
        return value.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if hasattr(value, "to_pydatetime"):  # pandas Timestamp
        return _plain(value.to_pydatetime())
    return value


def _rows(frame_records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r.items()} for r in frame_records]


def load_with(loader: str, files: list[Path], kind: str = "document", typed: bool = False) -> list[dict[str, Any]]:
    """Rows as each tool gives them with its default arguments (`typed`: given cleanpipe's Arrow
    schema where the tool would otherwise infer types from a prefix: datasets and polars on JSON)."""
    names = [str(f) for f in files]
    parquet = names[0].endswith(".parquet")
    if loader == "pandas":
        import pandas as pd

        frames = [pd.read_parquet(n) if parquet else pd.read_json(n, lines=True) for n in names]
        return _rows(pd.concat(frames, ignore_index=True).to_dict("records"))
    if loader == "polars":
        import polars as pl

        if parquet:
            frames = [pl.read_parquet(n) for n in names]
        elif typed:
            schema = pl.from_arrow(arrow_schema(kind).empty_table()).schema
            frames = [pl.read_ndjson(n, schema=schema) for n in names]
        else:
            frames = [pl.read_ndjson(n) for n in names]
        return _rows(pl.concat(frames).to_dicts())
    if loader == "duckdb":
        import duckdb

        fn = "read_parquet" if parquet else "read_json_auto"
        rel = duckdb.sql(f"SELECT * FROM {fn}({names!r})")
        return _rows([dict(zip(rel.columns, row, strict=True)) for row in rel.fetchall()])
    import datasets

    features = datasets.Features.from_arrow_schema(arrow_schema(kind)) if typed and not parquet else None
    ds = datasets.load_dataset("parquet" if parquet else "json", data_files=names, split="train", features=features)
    return _rows(list(ds))


LOADERS = ("datasets", "pandas", "duckdb", "polars")


def _two_runs(tmp_path: Path, fmt: str, shard_size: int | str) -> list[tuple[Path, list[dict[str, Any]]]]:
    """Outputs of mixed inputs over two incremental runs (the second with one new input)."""
    inputs = mixed_inputs(tmp_path / "in")
    out = tmp_path / "out"
    first = Pipeline(config(fmt=fmt, shard_size=shard_size)).run([str(inputs)], out)
    runs = [(out, read_records(out))]
    assert len(runs[0][1]) == first.documents
    (inputs / "late.txt").write_text("Tram line opens\n\nNovember 18, 2026\n\n" + ARTICLE * 3 + "\n")
    out2 = tmp_path / "out2"
    shutil.copytree(out, out2)
    second = Pipeline(config(fmt=fmt, shard_size=shard_size)).run([str(inputs)], out2)
    assert second.unchanged_inputs == second.inputs - 1
    runs.append((out2, read_records(out2)))
    assert len(runs[1][1]) == second.documents == first.documents + 1
    assert any(r["date"] == "2026-11-18" and r["date_text"] == "November 18, 2026" for r in runs[1][1])
    return runs


def _check_loaders(runs: list[tuple[Path, list[dict[str, Any]]]], fmt: str, loaders: tuple[str, ...] = (),
                   **options: Any) -> None:
    loaders = loaders or LOADERS
    for folder, expected in runs:
        for loader in loaders:
            assert load_with(loader, shards(folder, "documents"), **options) == _rows(expected), f"{loader} {fmt}"
            assert (load_with(loader, shards(folder, "rejects"), kind="reject", **options)
                    == _rows(read_records(folder, "rejects"))), f"{loader} rejects {fmt}"
    both = shards(runs[0][0], "documents") + shards(runs[1][0], "documents")
    for loader in loaders:  # both runs' outputs together, as one data set
        assert load_with(loader, both, **options) == _rows(runs[0][1] + runs[1][1]), f"{loader} two runs {fmt}"


@pytest.fixture
def loaders(tmp_path, monkeypatch):
    for module in LOADERS:
        pytest.importorskip(module)
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "hf-cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.mark.parametrize("fmt", FORMATS)
def test_outputs_of_two_incremental_runs_load_with_default_arguments(tmp_path, fmt, loaders):
    _check_loaders(_two_runs(tmp_path, fmt, "256MB"), fmt)


def test_parquet_shards_load_with_default_arguments(tmp_path, loaders):
    """Shards of one record each: every file types every field itself, nulls or not."""
    runs = _two_runs(tmp_path, "parquet", 1500)
    assert len(shards(runs[0][0], "documents")) == len(runs[0][1])
    _check_loaders(runs, "parquet")


@pytest.mark.parametrize("fmt", ["jsonl", "jsonl.zst"])
def test_jsonl_shards_load_with_the_published_schema(tmp_path, fmt, loaders):
    """JSON carries no types: a loader that infers them from a prefix (datasets: the first file;
    polars: the first 100 rows) fails when a field is null all through that prefix and typed later.
    One record per shard makes that certain here. pandas and duckdb infer over everything; polars
    loads them given the Arrow schema; datasets needs Parquet (given the schema as features, it
    still reads ISO dates as timestamps first and casts them to "YYYY-MM-DD 00:00:00")."""
    runs = _two_runs(tmp_path, fmt, 200)
    assert len(shards(runs[0][0], "documents")) == len(runs[0][1])
    _check_loaders(runs, fmt, loaders=("pandas", "duckdb", "polars"), typed=True)
    with pytest.raises(Exception, match="(?i)cast|null|generating"):
        load_with("datasets", shards(runs[0][0], "documents"))
