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
