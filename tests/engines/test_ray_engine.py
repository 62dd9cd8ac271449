"""The Ray engine against the local engine, on a real single-machine Ray (loopback only)."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import random
from pathlib import Path

import pytest
from click.testing import CliRunner

from cleanpipe.cli import main
from cleanpipe.config import Config
from cleanpipe.engines.pipeline import Pipeline
from cleanpipe.engines.ray_engine import RayPipeline
from tests.conftest import RAW

RUN_SPECIFIC = ("run_id", "processed_at", "config")  # differ between any two runs (config: the worker count)


@pytest.fixture(scope="module")
def local_ray():
    os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")  # keep Ray on 127.0.0.1
    import ray

    ray.init(num_cpus=2, include_dashboard=False, logging_level="ERROR", log_to_driver=False)
    yield ray
    ray.shutdown()


def _records(files: list[Path]) -> list[dict]:
    out = []
    for path in files:
        for line in path.read_text(encoding="utf-8").splitlines():
            record = json.loads(line)
            record.pop("run_id", None)
            for key in RUN_SPECIFIC:
                record.get("provenance", {}).pop(key, None)
            out.append(record)
    return sorted(out, key=lambda r: json.dumps(r, sort_keys=True))


def _files(out: Path, kind: str) -> list[Path]:
    manifest = json.loads((out / "manifest.json").read_text())
    return [out / f["file"] for f in manifest["files"] if f["kind"] == kind]


def _outputs(out: Path) -> tuple[list[dict], list[dict]]:
    return _records(_files(out, "documents")), _records(_files(out, "rejects"))


COMMENT_POOL = [
    "The night tram is far too loud for the people who live along the harbour road, every single night.",
    "Thanks for writing this up, it is the first clear account of the council meeting I have read.",
    "Great article!",
    "I do not agree with the council at all: the ferry was never the problem and the noise at night is worse "
    "than it was last year, before the new timetable came in and the depot moved to the island.",
    "Who pays for the new pavement on Mill Street?",
]
NAMES = ["Ingrid Solberg"] * 6 + ["Ingrid Solbreg", "ingrid solberg", "Henrik Aalto", "Henrik Aalto", "H. Aalto"]


def _mutate(rng: random.Random, text: str) -> str:
    words = text.split(" ")
    for _ in range(rng.randint(1, 2)):
        words[rng.randrange(len(words))] = rng.choice(["tram", "council", "night", "road", "ferry"])
    return " ".join(words)


PITCH = "Harbour Gazette journalism is funded by readers like you, and every story stays free to read."


def _page(rng: random.Random, i: int, pitch: bool = False) -> str:
    lines = ["Harbour Gazette", "  • Home", "  • Local", "", f"Story number {i} about the harbour", "",
             f"By {rng.choice(NAMES)}", "November 3, 2026", ""] + ([PITCH, ""] if pitch else [])
    for _ in range(3):
        lines += [" ".join(rng.choice(["The", "council", "met", rng.choice(NAMES), "on", "Tuesday", "to",
                                       "discuss", "the", "tram", "timetable", "and", "residents", "spoke"])
                           for _ in range(30)) + ".", ""]
    lines += ["Share this article", "Facebook", "", f"{rng.randint(2, 6)} Comments", ""]
    for _ in range(rng.randint(0, 6)):
        base = rng.choice(COMMENT_POOL)
        text = base if rng.random() < 0.4 else _mutate(rng, base)
        lines += [f"{rng.choice(['Ann', 'Bo', 'Cyd'])} says:", "November 4, 2026 at 9:12 am", text, "Reply", ""]
    lines += ["© 2026 Harbour Gazette. All rights reserved."]
    return "\n".join(lines) + "\n"


def _generated_corpus(root: Path, pages: int = 40) -> Path:
    rng = random.Random(7)
    raw = root / "raw"
    (raw / "a").mkdir(parents=True)
    (raw / "b").mkdir()
    for i in range(pages):
        (raw / ("a" if i % 2 else "b") / f"page-{i:03d}.txt").write_text(_page(rng, i), encoding="utf-8")
    (raw / "b" / "copy-of-page-001.txt").write_bytes((raw / "a" / "page-001.txt").read_bytes())
    # one site's pages share a line the cleaner keeps (the repeats pass removes it); one has nothing else
    pitch_only = f"Harbour Gazette\nHome\n\n{PITCH}\n\n© 2026 Harbour Gazette. All rights reserved.\n"
    records = [json.dumps({"url": f"https://example.org/{i}", "text": _page(rng, 100 + i, pitch=True) if i else pitch_only})
               for i in range(6)]
    (raw / "crawl.jsonl.gz").write_bytes(gzip.compress(("\n".join(records[:3] + ["{not json"] + records[3:]))
                                                       .encode()))
    (raw / "broken.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (raw / "empty.txt").write_text("   \n", encoding="utf-8")
    return raw


def _both_engines(tmp_path: Path, inputs: list[str], partitions: int, **config: object):
    local = Pipeline(Config(workers=1, **config)).run(inputs, tmp_path / "local", use_state=False)
    ray_summary = RayPipeline(Config(workers=2, **config)).run(inputs, tmp_path / "ray", partitions=partitions)
    return local, ray_summary, _outputs(tmp_path / "local"), _outputs(tmp_path / "ray")


def test_bundled_samples_give_the_same_records_on_ray(local_ray, tmp_path):
    local, on_ray, (docs_l, rej_l), (docs_r, rej_r) = _both_engines(tmp_path, [str(RAW)], partitions=2)
    assert docs_r == docs_l and rej_r == rej_l
    assert len(docs_l) >= 4 and on_ray.comments_dropped == local.comments_dropped > 0
    assert on_ray.inputs == local.inputs == len(list(RAW.iterdir()))  # files, not rows
    manifest = json.loads((tmp_path / "ray" / "manifest.json").read_text())
    assert manifest["engine"] == "ray" and manifest["config_sha256"] == Pipeline(Config()).config_sha256
    listed = [p["file"] for p in manifest["files"]]
    assert listed == sorted(p.name for p in (tmp_path / "ray").glob("*.jsonl"))
    for entry in manifest["files"]:
        assert hashlib.sha256((tmp_path / "ray" / entry["file"]).read_bytes()).hexdigest() == entry["sha256"]


@pytest.mark.parametrize("partitions", [1, 5])
def test_generated_corpus_same_kept_comments_names_and_rejects(local_ray, tmp_path, partitions):
    raw = _generated_corpus(tmp_path)
    local, on_ray, (docs_l, rej_l), (docs_r, rej_r) = _both_engines(tmp_path, [str(raw)], partitions)
    # the corpus exercises what must agree: near-duplicate chains, copies across pages, a duplicate
    # document, name variants, unreadable inputs and records
    reasons = {r["reason"] for r in rej_l}
    assert {"duplicate", "duplicate-document", "bad-json", "empty"} <= reasons
    assert any(r["comment"]["method"] == "minhash" for r in rej_l if r["reason"] == "duplicate")
    assert any(s["stage"] == "names" and s["spans"] for d in docs_l for s in d["provenance"]["stages"])
    assert sum(s["stage"] == "repeats" for d in docs_l for s in d["provenance"]["stages"]) == 5
    assert any(r["reason"] == "no-content" and r["spans"][0]["reason"] == "site-repeat" for r in rej_l)
    assert docs_r == docs_l
    assert rej_r == rej_l
    for key in ("documents", "comments_kept", "comments_dropped", "errors", "name_merges", "exit_code"):
        assert on_ray.to_dict()[key] == local.to_dict()[key], key
    assert dict(on_ray.rejects) == dict(local.rejects)


def test_output_parts_follow_input_order(local_ray, tmp_path):
    raw = _generated_corpus(tmp_path, pages=12)
    RayPipeline(Config(workers=2)).run([str(raw)], tmp_path / "ray", partitions=3)
    local = Pipeline(Config(workers=1)).run([str(raw)], tmp_path / "local", use_state=False)
    assert local.documents > 0
    ray_paths = [json.loads(line)["source"]["path"]
                 for part in _files(tmp_path / "ray", "documents")
                 for line in part.read_text().splitlines()]
    local_paths = [json.loads(line)["source"]["path"]
                   for line in (tmp_path / "local" / "documents.jsonl").read_text().splitlines()]
    assert ray_paths == local_paths


def test_ray_writes_parquet_shards_like_the_local_engine(local_ray, tmp_path):
    import pyarrow.parquet as pq

    config = Config(workers=2)
    config.output.format = "parquet"
    RayPipeline(config).run([str(RAW)], tmp_path / "ray", partitions=2)
    Pipeline(Config(workers=1, output=config.output)).run([str(RAW)], tmp_path / "local", use_state=False)

    def rows(out: Path, kind: str) -> list[dict]:
        found = [r for f in _files(out, kind) for r in pq.read_table(f).to_pylist()]
        for r in found:
            r.pop("run_id", None)
            r.get("provenance", {}).pop("run_id", None)
        return found

    for kind in ("documents", "rejects"):
        assert rows(tmp_path / "ray", kind) == rows(tmp_path / "local", kind) != []
    assert all(f.name.startswith(("documents", "rejects")) and f.suffix == ".parquet"
               for f in _files(tmp_path / "ray", "documents") + _files(tmp_path / "ray", "rejects"))


def test_cli_engine_ray_and_its_usage_errors(local_ray, tmp_path):
    runner = CliRunner()
    result = runner.invoke(main, ["run", str(RAW), "--out", str(tmp_path / "out"), "--engine", "ray", "-q"])
    assert result.exit_code == 0, result.output
    assert list((tmp_path / "out").glob("documents*.jsonl"))
    assert runner.invoke(main, ["run", "-", "--engine", "ray"]).exit_code == 2
    assert runner.invoke(main, ["run", str(RAW), "--ray-address", "auto"]).exit_code == 2
    assert "--engine [local|ray]" in runner.invoke(main, ["run", "--help"]).output


def test_dedup_off_and_alias_names_agree_too(local_ray, tmp_path):
    from cleanpipe.config import DedupConfig, NamesConfig

    aliases = tmp_path / "aliases.toml"
    aliases.write_text('"Ingrid Solberg" = ["Ingrid Solbreg"]\n', encoding="utf-8")
    raw = _generated_corpus(tmp_path, pages=10)
    local, on_ray, (docs_l, rej_l), (docs_r, rej_r) = _both_engines(
        tmp_path, [str(raw)], partitions=2, dedup=DedupConfig(enabled=False),
        names=NamesConfig(mode="aliases", aliases=str(aliases)))
    assert local.comments_dropped == on_ray.comments_dropped == 0 and local.name_merges == on_ray.name_merges == 1
    assert docs_r == docs_l and rej_r == rej_l


def test_an_empty_folder_stops_the_run_before_anything_is_written(local_ray, tmp_path):
    from cleanpipe.io.read import NoInputs

    (tmp_path / "empty").mkdir()
    with pytest.raises(NoInputs, match="no input found"):
        RayPipeline(Config(workers=2)).run([str(tmp_path / "empty")], tmp_path / "out")
    assert not (tmp_path / "out" / "manifest.json").exists()


def test_pii_redactions_agree(local_ray, tmp_path):
    from cleanpipe.config import PiiConfig

    raw = _generated_corpus(tmp_path, pages=8)
    rng = random.Random(3)
    page = _page(rng, 99).replace(
        "Share this article\n",
        "Readers can reach the Ingrid Solbreg desk at news@example.org or on (415) 555-2671 weekdays, "
        "or by card 4111 1111 1111 1111 for the appeal.\n\nShare this article\n")
    page = page.replace("Reply\n", "Mail me at ann.lee@example.org or ring +44 20 7946 0958.\nReply\n", 1)
    (raw / "a" / "page-pii.txt").write_text(page, encoding="utf-8")
    kinds = ["email", "phone", "ip", "credit_card", "iban"]
    _, _, (docs_l, rej_l), (docs_r, rej_r) = _both_engines(tmp_path, [str(raw)], partitions=2,
                                                           pii=PiiConfig(kinds=kinds))
    (doc,) = [d for d in docs_l if d["source"]["path"].endswith("page-pii.txt")]
    assert "desk at <EMAIL> or on <PHONE> weekdays, or by card <CREDIT_CARD>" in doc["text"]
    redactions = doc["provenance"]["stages"][-1]["spans"]
    assert {(r["field"].split("/")[0], r["reason"]) for r in redactions} >= {("text", "email"), ("text", "phone"),
                                                                          ("text", "credit_card")}
    assert docs_r == docs_l and rej_r == rej_l


def test_near_duplicate_documents_agree_and_name_both_urls(local_ray, tmp_path):
    raw = _generated_corpus(tmp_path, pages=16)
    story = (RAW / "news-harbour-tram.txt").read_text(encoding="utf-8")
    lines = story.splitlines()
    at = next(i for i, line in enumerate(lines) if line.startswith("Not everyone is pleased"))
    added = ("A spokesperson for the partner paper said the story had been checked again before it was "
             "republished, and that readers had asked for more coverage of the tram line and its timetable.")
    # boilerplate changed (other masthead and menu, a republishing note), a paragraph added, another URL
    republished = "\n".join(["The Partner Post", "  • News", "  • Sport", "", *lines[8:at], added, "",
                             *lines[at:], "", "Republished with permission from the Coastline Courier."])
    rng = random.Random(11)
    near = _page(rng, 500)
    near_copy = near.replace("Story number 500", "Story number 500, updated", 1)
    records = [{"url": "https://courier.example/tram", "text": story},
               {"url": "https://gazette.example/500", "text": near},
               {"url": "https://partner.example/2026/tram-line", "text": republished},
               {"url": "https://amp.courier.example/tram", "text": story},  # the same text: exact
               {"url": "https://gazette.example/500?print", "text": near_copy}]
    (raw / "republished.jsonl").write_text("\n".join(json.dumps(r) for r in records) + "\n", encoding="utf-8")
    doc_dedup = Config().doc_dedup
    doc_dedup.enabled = True
    for partitions in (1, 3):
        local, on_ray, (docs_l, rej_l), (docs_r, rej_r) = _both_engines(
            tmp_path / str(partitions), [str(raw)], partitions, doc_dedup=doc_dedup)
        copies = {r["document"]["url"]: r for r in rej_l if r["reason"] == "near-duplicate-document"}
        assert set(copies) >= {"https://partner.example/2026/tram-line", "https://amp.courier.example/tram",
                               "https://gazette.example/500?print"}
        partner = copies["https://partner.example/2026/tram-line"]["document"]
        assert partner["duplicate_of_url"] == "https://courier.example/tram" and partner["method"] == "minhash"
        assert doc_dedup.threshold <= partner["similarity"] < 1.0
        kept = next(d for d in docs_l if d["source"]["url"] == "https://courier.example/tram")
        assert partner["duplicate_of"] == kept["id"]
        assert copies["https://amp.courier.example/tram"]["document"]["method"] == "exact"
        assert not any((d["source"]["url"] or "").startswith("https://partner.example") for d in docs_l)
        assert docs_r == docs_l
        assert rej_r == rej_l
        assert dict(on_ray.rejects) == dict(local.rejects)
        assert on_ray.documents == local.documents
