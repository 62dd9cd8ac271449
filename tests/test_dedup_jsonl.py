from __future__ import annotations

import json

from cleanpipe.dedup_jsonl import dedup_jsonl


def test_kept_lines_keep_their_text_and_gain_the_count(tmp_path):
    src = tmp_path / "c.jsonl"
    lines = ['{"id": "a",  "text": "Great post, thanks for sharing this one"}',  # spacing kept as read
             '{"id": "b", "text": "great post thanks for sharing this one!!", "x": [1, 2]}',
             '{"id": "c", "text": "Something else entirely, about the ferry", "duplicates": 7}',  # the field exists
             '{"id": "d", "other": "no text field"}',
             '{"id": "e", "text": "Great post, thanks for sharing this one \\u00e9"}']
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, rejects = tmp_path / "u.jsonl", tmp_path / "r.jsonl"
    summary = dedup_jsonl([str(src)], "text", out, rejects)
    kept = out.read_text(encoding="utf-8").splitlines()
    assert kept[0] == lines[0][:-1] + ',"duplicates":1}'
    assert [json.loads(k) for k in kept[1:]] == [
        {"id": "c", "text": "Something else entirely, about the ferry", "duplicates": 0},
        {"id": "d", "other": "no text field"},
        {"id": "e", "text": "Great post, thanks for sharing this one é", "duplicates": 0}]
    dropped = [json.loads(r) for r in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["duplicate_of"], r["kept_text"]) for r in dropped] == [
        ("b", "a", "Great post, thanks for sharing this one")]
    assert dropped[0]["record"] == json.loads(lines[1])
    assert (summary.kept, summary.dropped, summary.no_field) == (3, 1, 1)


def test_lines_orjson_refuses_or_misreads_are_read_as_json_reads_them(tmp_path):
    # NaN and a lone surrogate escape are json's extensions; integers beyond 64 bits must stay exact
    big = 123456789012345678901234567890
    src = tmp_path / "c.jsonl"
    lines = [f'{{"id": {big}, "text": "The ferry was late again this morning, sadly", "score": NaN}}',
             '{"id": "b", "text": "the ferry was late again this morning sadly!!"}',
             '{"id": 2.5, "text": "Another comment entirely, about the trains"}',
             '{"id": "d", "text": "another comment entirely about the trains!", "n": 12345678901234567890123}',
             '{"id": "s", "text": "A lone \\ud800 surrogate"}']
    src.write_bytes(("\n".join(lines) + "\n").encode("utf-8") + '{"id": "e", "text": "caf\xe9"}\n'.encode("latin-1"))
    out, rejects = tmp_path / "u.jsonl", tmp_path / "r.jsonl"
    summary = dedup_jsonl([str(src)], "text", out, rejects)
    assert (summary.kept, summary.dropped, summary.bad_lines) == (3, 2, 1)
    kept = out.read_text(encoding="utf-8").splitlines()
    assert kept == [lines[0][:-1] + ',"duplicates":1}', lines[2][:-1] + ',"duplicates":1}',
                    lines[4][:-1] + ',"duplicates":0}']
    dropped = [json.loads(r) for r in rejects.read_text(encoding="utf-8").splitlines()]
    assert [(r["id"], r["duplicate_of"]) for r in dropped[:2]] == [("b", str(big)), ("d", "2.5")]
    assert dropped[1]["record"]["n"] == 12345678901234567890123
    assert dropped[2]["reason"] == "bad-json"


def test_reject_lines_are_what_json_dumps_writes(tmp_path):
    src = tmp_path / "c.jsonl"
    texts = ['Quote \\"this\\" \\\\ and a tab\\t and \\u2028 and \\u0001, said Zoë 😀 today',
             'quote \\"this\\" \\\\ and a tab\\t and \\u2028 and \\u0001, said zoë 😀 todays']
    src.write_text("".join(f'{{"id": "k{i}\\u00e9", "text": "{t}"}}\n' for i, t in enumerate(texts)), encoding="utf-8")
    out, rejects = tmp_path / "u.jsonl", tmp_path / "r.jsonl"
    dedup_jsonl([str(src)], "text", out, rejects)
    (line,) = rejects.read_text(encoding="utf-8").rstrip("\n").split("\n")  # U+2028 ends no JSONL line
    rec = json.loads(line)
    head = json.dumps({k: v for k, v in rec.items() if k != "record"}, ensure_ascii=False, separators=(",", ":"))
    assert line.startswith(head[:-1] + ',"record":{"id": "k1')  # the record itself as read
    assert rec["kept_text"] == json.loads(f'"{texts[0]}"') and rec["id"] == "k1é" and 0.6 <= rec["similarity"] < 1


def test_a_kept_text_or_id_holding_a_lone_surrogate_is_quoted_by_its_rejects(tmp_path):
    """UTF-8 cannot hold a lone surrogate: the reject writes it as the escape it was read from."""
    src = tmp_path / "c.jsonl"
    lines = ['{"id": "a\\udc80", "text": "Great article \\ud800 thanks a lot for this"}',
             '{"id": "b\\ud801", "text": "Great article \\ud800 thanks a lot for this!"}']
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out, rejects = tmp_path / "u.jsonl", tmp_path / "r.jsonl"
    summary = dedup_jsonl([str(src)], "text", out, rejects)
    assert (summary.kept, summary.dropped) == (1, 1)
    (rec,) = [json.loads(r) for r in rejects.read_text(encoding="utf-8").splitlines()]
    assert (rec["id"], rec["duplicate_of"]) == ("b\ud801", "a\udc80")
    assert rec["kept_text"] == "Great article \ud800 thanks a lot for this"
    assert rec["record"] == json.loads(lines[1])
