from __future__ import annotations

import gzip
import io
import json

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleanpipe.config import ReadConfig
from cleanpipe.model import Document, Reject
from cleanpipe.read import InputError, Reader, decode_bytes, gunzip_capped, iter_input_paths, sniff_format


def read_all(paths, **cfg):
    return list(Reader(ReadConfig(**cfg)).run([str(p) for p in paths]))


def test_decode_utf8_bom_and_nfc():
    text, enc = decode_bytes(b"\xef\xbb\xbfCafe\xcc\x81\r\nline")
    assert text == "Caf\u00e9\nline" and enc == "utf-8"


def test_decode_declared_charset_in_html_meta():
    html = '<html><head><meta charset="windows-1252"></head><body>naïve café “quoted”</body></html>'
    text, enc = decode_bytes(html.encode("cp1252"))
    assert "naïve café “quoted”" in text and enc == "cp1252"


def test_decode_utf16_bom():
    text, enc = decode_bytes("Hello Zürich".encode("utf-16"))
    assert text == "Hello Zürich" and enc.startswith("utf-16")


def test_decode_undeclared_latin1_detected():
    text, _ = decode_bytes("Der Bürgermeister über die Straße und die Brücke.".encode("latin-1") * 5)
    assert "Bürgermeister" in text


def test_binary_is_rejected():
    with pytest.raises(InputError) as err:
        decode_bytes(bytes(range(256)) * 40)
    assert err.value.reason == "binary"


def test_gunzip_truncated_and_capped():
    data = gzip.compress(b"hello world " * 1000)
    assert gunzip_capped(data, 10**6).startswith(b"hello")
    with pytest.raises(InputError) as err:
        gunzip_capped(data[: len(data) // 2], 10**6)
    assert err.value.reason == "truncated-gzip"
    with pytest.raises(InputError) as err:
        gunzip_capped(data, 100)
    assert err.value.reason == "too-large"


@pytest.mark.parametrize("name,data,fmt", [
    ("a.html.gz", b"x", "html"),
    ("a.jsonl", b"x", "jsonl"),
    ("a.warc.gz", b"x", "warc"),
    ("dump", b"WARC/1.0\r\n", "warc"),
    ("dump", b'{"text": "a"}\n', "jsonl"),
    ("dump", b"<!DOCTYPE html><html>", "html"),
    ("page.txt", b"<html>", "html"),  # content wins over a misleading .txt only when it is markup
    ("page.txt", b"just text", "text"),
])
def test_sniff_format(name, data, fmt):
    assert sniff_format(name, data) == fmt


def test_directory_walk_is_sorted_recursive_and_skips_hidden_and_symlinks(tmp_path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "2.txt").write_text("x")
    (tmp_path / "a.txt").write_text("x")
    (tmp_path / ".hidden.txt").write_text("x")
    outside = tmp_path.parent / f"{tmp_path.name}-outside.txt"
    outside.write_text("secret")
    (tmp_path / "link.txt").symlink_to(outside)
    got = [p[len(str(tmp_path)) + 1:] for p in iter_input_paths([str(tmp_path)])]
    assert got == ["a.txt", "b/2.txt"]


def test_text_html_and_gzip_files(tmp_path):
    (tmp_path / "a.txt").write_text("Some text here.")
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(b"<html><body><p>Hi</p></body></html>"))
    docs = read_all([tmp_path])
    assert [d.source.content_type for d in docs] == ["text", "html"]
    assert all(isinstance(d, Document) and len(d.source.sha256) == 64 for d in docs)


def test_jsonl_broken_lines_only_those_rejected(tmp_path):
    path = tmp_path / "c.jsonl"
    path.write_text(
        json.dumps({"id": "x1", "text": "first", "url": "https://e.org/1"}) + "\n"
        + "{not json\n"
        + json.dumps({"html": "<p>second</p>"}) + "\n"
        + json.dumps(["not", "an", "object"]) + "\n"
        + json.dumps({"title": "no body"}) + "\n")
    out = read_all([path])
    docs = [o for o in out if isinstance(o, Document)]
    rejects = [o for o in out if isinstance(o, Reject)]
    assert [d.source.record for d in docs] == [0, 2]
    assert docs[0].source.url == "https://e.org/1" and docs[1].source.content_type == "html"
    assert docs[0].id != docs[1].id
    assert [(r.record, r.reason) for r in rejects] == [(1, "bad-json"), (3, "bad-record"), (4, "no-content")]


def _warc_bytes(pages):
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=True)
    for url, body in pages:
        headers = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=headers))
    return buf.getvalue()


def test_warc_records_and_truncated_warc(tmp_path):
    data = _warc_bytes([("https://e.org/a", b"<html><body><p>A page</p></body></html>"),
                        ("https://e.org/b", b"<html><body><p>B page</p></body></html>")])
    (tmp_path / "good.warc.gz").write_bytes(data)
    docs = read_all([tmp_path / "good.warc.gz"])
    assert [d.source.url for d in docs] == ["https://e.org/a", "https://e.org/b"]
    assert all(d.source.format == "warc" and d.source.content_type == "html" for d in docs)
    (tmp_path / "cut.warc.gz").write_bytes(data[: len(data) - 40])
    out = read_all([tmp_path / "cut.warc.gz"])
    assert any(isinstance(o, Reject) for o in out)


@pytest.mark.parametrize("content,reason", [
    (b"", "empty"),
    (b"   \n\n", "empty"),
    (b"\x00\x01\x02\x03" * 500, "binary"),
    (gzip.compress(b"x" * 5000)[:30], "truncated-gzip"),
])
def test_bad_files_become_rejects(tmp_path, content, reason):
    path = tmp_path / "bad.txt"
    path.write_bytes(content)
    (out,) = read_all([path])
    assert isinstance(out, Reject) and out.reason == reason and out.path == str(path)


def test_missing_file_and_size_limit(tmp_path):
    (tmp_path / "big.txt").write_text("word " * 1000)
    out = read_all([tmp_path / "nope.txt", tmp_path / "big.txt"], max_bytes=100)
    assert [o.reason for o in out] == ["not-found", "too-large"]


def test_stdin():
    docs = list(Reader(stdin=io.BytesIO(b"Hello from stdin.")).run(["-"]))
    assert docs[0].content == "Hello from stdin." and docs[0].source.path == "-"
