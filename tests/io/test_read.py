from __future__ import annotations

import gzip
import io
import json
import zlib
from pathlib import Path

import pytest
from warcio.statusandheaders import StatusAndHeaders
from warcio.warcwriter import WARCWriter

from cleanpipe.config import ReadConfig
from cleanpipe.io.read import InputError, Reader, decode_bytes, gunzip_capped, iter_input_paths, sniff_format
from cleanpipe.model import Document, Reject


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


@pytest.mark.parametrize("text, encoding", [
    # short pages in their legacy encodings, no charset declared: each came out as mojibake before
    ("Киев\n\nНовая линия трамвая открылась в понедельник.\n", "koi8_r"),  # was Shift-JIS
    ("Le café à côté de la gare a rouvert lundi après trois mois de travaux.", "cp1252"),  # was cp775
    ("Él está en la ciudad, y mañana irá al mercado con su familia.", "cp1252"),  # was cp1250 ("mańana")
    ("Nowa linia tramwajowa została otwarta w poniedziałek rano w centrum miasta.", "iso8859_2"),
    # English with a non-ASCII symbol or two stays windows-1252 (the web's default)
    ("If you are looking for a Realtor®, a real estate agent can help.\nAll contents copyright © 2006.", "cp1252"),
])
def test_undeclared_legacy_encodings_of_short_texts(text, encoding):
    assert decode_bytes(text.encode(encoding))[0] == text


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


# -- #20 and #18: streaming, WARC as crawls write it, JSON detection, paths --------------------------
PAGE = "<html><head><title>T</title></head><body><p>A page of real prose, long enough to keep.</p></body></html>"


def _docs(out):
    return [o for o in out if isinstance(o, Document)]


def _rejects(out):
    return [o for o in out if isinstance(o, Reject)]


def _http(status="200 OK", ctype="text/html; charset=utf-8", extra=()):
    return StatusAndHeaders(status, [("Content-Type", ctype), *extra], protocol="HTTP/1.1")


def _crawl_warc(path, gz=True, pages=3, body=None):
    """A WARC as a crawler writes it: warcinfo, then per page request + response + metadata, an image,
    a PDF, a 404 and a revisit."""
    body = body or PAGE.encode()
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=gz)
        w.write_record(w.create_warcinfo_record("crawl.warc", {"software": "test"}))
        for i in range(pages):
            url = f"https://news.example/{i}"
            req = StatusAndHeaders(f"GET /{i} HTTP/1.1", [("Host", "news.example")], is_http_request=True)
            w.write_record(w.create_warc_record(url, "request", http_headers=req))
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=_http()))
            w.write_record(w.create_warc_record(url, "metadata", payload=io.BytesIO(b"via: seed"),
                                                warc_content_type="application/warc-fields"))
        w.write_record(w.create_warc_record("https://news.example/a.png", "response",
                                            payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + bytes(500)),
                                            http_headers=_http(ctype="image/png")))
        w.write_record(w.create_warc_record("https://news.example/a.pdf", "response",
                                            payload=io.BytesIO(b"%PDF-1.4 ..."),
                                            http_headers=_http(ctype="application/pdf")))
        w.write_record(w.create_warc_record("https://news.example/gone", "response",
                                            payload=io.BytesIO(b"<html><body>Not found</body></html>"),
                                            http_headers=_http(status="404 Not Found")))
        w.write_record(w.create_revisit_record("https://news.example/0", "sha1:AAAA", "https://news.example/0",
                                               "2026-11-30T00:00:00Z"))
    return path


def test_warc_only_pages_become_documents_others_counted(tmp_path):
    reader = Reader(ReadConfig())
    out = list(reader.run([str(_crawl_warc(tmp_path / "crawl.warc.gz"))]))
    assert [d.source.url for d in out] == [f"https://news.example/{i}" for i in range(3)]
    assert all(isinstance(d, Document) and d.source.record_id.startswith("<urn:uuid:") and d.source.fetched_at
               for d in out)
    assert reader.skipped == {"record:warcinfo": 1, "record:request": 3, "record:metadata": 3,
                              "content-type:image/png": 1, "content-type:application/pdf": 1,
                              "http-status:404": 1, "record:revisit": 1}


def test_warc_max_bytes_limits_a_record_not_the_container(tmp_path):
    body = (PAGE[:-14] + "<p>" + "word " * 2000 + "</p></body></html>").encode()
    path = _crawl_warc(tmp_path / "big.warc", gz=False, pages=20, body=body)
    assert path.stat().st_size > 200_000
    out = read_all([path], max_bytes=50_000)
    assert len(_docs(out)) == 20 and not _rejects(out)
    out = read_all([path], max_bytes=5_000)  # now each page is too large: one reject per record
    assert [r.reason for r in out] == ["too-large"] * 20 and all(r.kind == "record" for r in out)


def test_warc_reader_memory_is_bounded_by_a_record_not_the_file(tmp_path):
    import random
    import tracemalloc
    rnd = random.Random(1)
    words = [f"w{rnd.randrange(10**6)}" for _ in range(5000)]
    path = tmp_path / "large.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for i in range(150):
            text = " ".join(rnd.choice(words) for _ in range(15000))  # ~120 KB, compresses ~2x
            w.write_record(w.create_warc_record(f"https://e.org/{i}", "response", http_headers=_http(),
                                                payload=io.BytesIO(f"<html><body><p>{text}</p></body></html>".encode())))
    assert path.stat().st_size > 6_000_000
    tracemalloc.start()
    n = sum(1 for o in Reader(ReadConfig(max_bytes=1_000_000)).run([str(path)]) if isinstance(o, Document))
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert n == 150
    assert peak < 4_000_000, peak  # a record or two plus buffers, not the 6+ MB file (18 MB unpacked)


def test_warc_http_chunked_gzip_and_header_charset(tmp_path):
    html = "<html><body><p>Zoë Šimić aus Zürich, naïve café.</p></body></html>"
    gz = gzip.compress(html.encode("utf-8"))
    chunked = b"".join(b"%x\r\n%s\r\n" % (len(gz[i:i + 100]), gz[i:i + 100]) for i in range(0, len(gz), 100)) + b"0\r\n\r\n"
    latin = "<html><body><p>Café “crème” brûlée</p></body></html>".encode("cp1252")
    path = tmp_path / "enc.warc"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=False)
        w.write_record(w.create_warc_record("https://e.org/chunked", "response", payload=io.BytesIO(chunked),
                                            http_headers=_http(extra=[("Content-Encoding", "gzip"),
                                                                      ("Transfer-Encoding", "chunked")]),
                                            length=len(chunked)))
        w.write_record(w.create_warc_record("https://e.org/latin", "response", payload=io.BytesIO(latin),
                                            http_headers=_http(ctype="text/html; charset=ISO-8859-1")))
    a, b = read_all([path])
    assert "Zoë Šimić aus Zürich" in a.content
    assert "Café “crème” brûlée" in b.content and b.source.encoding == "cp1252"  # WHATWG: latin-1 is 1252


def test_warc_truncated_header_is_kept_and_marked(tmp_path):
    path = tmp_path / "t.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        rec = w.create_warc_record("https://e.org/t", "response", payload=io.BytesIO(PAGE.encode()),
                                   http_headers=_http())
        rec.rec_headers.add_header("WARC-Truncated", "length")
        w.write_record(rec)
    (doc,) = read_all([path])
    assert doc.stages == [{"stage": "read", "truncated": "length"}]


def test_truncated_uncompressed_warc_keeps_intact_records_and_rejects_the_cut_one(tmp_path):
    """#18.7: the cut record was kept as if whole, rc 0."""
    data = _warc_bytes_plain([("https://e.org/a", PAGE.encode()), ("https://e.org/b", PAGE.encode()),
                              ("https://e.org/c", PAGE.encode() * 3)])
    path = tmp_path / "cut.warc"
    path.write_bytes(data[: len(data) - 150])
    out = read_all([path])
    assert [d.source.url for d in _docs(out)] == ["https://e.org/a", "https://e.org/b"]
    (rej,) = _rejects(out)
    assert rej.reason == "truncated-record" and rej.record == 2 and rej.is_error


def test_truncated_warc_gz_keeps_intact_records(tmp_path):
    """#18.7: a truncated .warc.gz lost its intact records too (the whole file was gunzipped first)."""
    data = _warc_bytes([("https://e.org/a", PAGE.encode()), ("https://e.org/b", PAGE.encode()),
                        ("https://e.org/c", PAGE.encode() * 3)])
    path = tmp_path / "cut.warc.gz"
    path.write_bytes(data[: len(data) - 60])
    out = read_all([path])
    assert [d.source.url for d in _docs(out)] == ["https://e.org/a", "https://e.org/b"]
    (rej,) = _rejects(out)
    assert rej.reason == "truncated-record" and rej.record == 2 and rej.is_error


def _warc_bytes_plain(pages):
    buf = io.BytesIO()
    writer = WARCWriter(buf, gzip=False)
    for url, body in pages:
        writer.write_record(writer.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                      http_headers=_http()))
    return buf.getvalue()


def test_wet_conversion_records_are_text(tmp_path):
    path = tmp_path / "crawl.warc.wet.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        w.write_record(w.create_warcinfo_record("crawl.wet", {"software": "test"}))
        for i in range(2):
            w.write_record(w.create_warc_record(f"https://e.org/{i}", "conversion",
                                                payload=io.BytesIO(f"Page {i} title\nIts text.".encode()),
                                                warc_content_type="text/plain"))
    out = read_all([path])
    assert [(d.source.url, d.source.content_type) for d in out] == [("https://e.org/0", "text"),
                                                                     ("https://e.org/1", "text")]


def test_arc_file(tmp_path):
    body = PAGE.encode()
    http = b"HTTP/1.0 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    head = b"1 0 test\nURL IP-address Archive-date Content-type Archive-length\n"
    filedesc = b"filedesc://t.arc 0.0.0.0 20261130000000 text/plain %d\n%s\n" % (len(head), head)
    rec = b"https://e.org/arc 1.2.3.4 20261130000000 text/html %d\n%s\n" % (len(http), http)
    (tmp_path / "old.arc").write_bytes(filedesc + rec)
    (doc,) = read_all([tmp_path / "old.arc"])
    assert doc.source.url == "https://e.org/arc" and "real prose" in doc.content


# JSONL / JSON ---------------------------------------------------------------------------------------
def _dolma(n, words=800):
    return b"".join(json.dumps({"id": f"d{i}", "text": f"Record {i}. " + "lorem ipsum dolor " * words,
                                "metadata": {"url": f"https://e.org/{i}"}}).encode() + b"\n" for i in range(n))


def test_crawler_jsonl_on_stdin_with_a_long_first_line():
    """#20: a first line over 2,048 bytes made stdin JSONL one document of raw JSON, rc 0."""
    out = list(Reader(stdin=io.BytesIO(_dolma(20))).run(["-"]))
    assert len(out) == 20 and all(isinstance(d, Document) for d in out)
    assert out[3].source.url == "https://e.org/3" and out[3].source.record == 3 and out[3].source.record_id == "d3"
    assert out[3].content.startswith("Record 3. lorem")


def test_jsonl_in_a_json_named_file_and_json_array(tmp_path):
    (tmp_path / "crawl.json").write_bytes(_dolma(5))
    (tmp_path / "array.json").write_text(json.dumps([{"raw_content": "first text"}, {"html": "<p>two</p>"}, 3]))
    out = read_all([tmp_path / "array.json", tmp_path / "crawl.json"])
    assert [(o.source.format, o.source.record) for o in out[:2]] == [("json", 0), ("json", 1)]
    assert out[1].source.content_type == "html" and out[2].reason == "bad-record"
    assert [d.source.record for d in out[3:]] == [0, 1, 2, 3, 4]


def test_json_without_a_text_field_is_rejected_per_record_never_a_text_document(tmp_path):
    lines = b"".join(json.dumps({"title": f"t{i}", "payload": "x" * 3000}).encode() + b"\n" for i in range(4))
    (tmp_path / "meta.json").write_bytes(lines)
    out = read_all([tmp_path / "meta.json"]) + list(Reader(stdin=io.BytesIO(lines)).run(["-"]))
    assert [(o.kind, o.reason) for o in out] == [("record", "no-content")] * 8
    (tmp_path / "junk.json").write_text("this is not json at all")
    (rej,) = read_all([tmp_path / "junk.json"])
    assert rej.reason == "not-json" and "jsonl" in rej.detail


def test_text_that_starts_like_json_is_still_text(tmp_path):
    (tmp_path / "a.txt").write_text("[Update] The council met again.\nMore text.")
    (tmp_path / "b").write_text("{braces} are not JSON here.\n")
    out = read_all([tmp_path / "a.txt", tmp_path / "b"])
    assert [(o.source.format, o.content[:8]) for o in out] == [("text", "[Update]"), ("text", "{braces}")]


@pytest.mark.parametrize("suffix", [".jsonl.gz", ".jsonl.zst", ".json.zst"])
def test_compressed_jsonl_streams(tmp_path, suffix):
    data = _dolma(30)
    if suffix.endswith(".gz"):
        packed = b"".join(gzip.compress(data[i:i + 5000]) for i in range(0, len(data), 5000))  # many members
    else:
        import zstandard
        packed = zstandard.ZstdCompressor().compress(data)
    (tmp_path / f"c{suffix}").write_bytes(packed)
    out = read_all([tmp_path / f"c{suffix}"])
    assert [d.source.url for d in out] == [f"https://e.org/{i}" for i in range(30)]


def test_truncated_jsonl_gz_keeps_the_records_before_the_cut(tmp_path):
    data = gzip.compress(_dolma(30))
    (tmp_path / "cut.jsonl.gz").write_bytes(data[: len(data) * 2 // 3])
    out = read_all([tmp_path / "cut.jsonl.gz"])
    docs, (rej,) = _docs(out), _rejects(out)
    assert len(docs) >= 15 and [d.source.record for d in docs] == list(range(len(docs)))
    assert rej.reason == "truncated-gzip" and rej.is_error


def test_json_lone_surrogate_escape_becomes_replacement_character(tmp_path):
    (tmp_path / "s.jsonl").write_text('{"text": "Lone \\ud800 here, pair \\ud83d\\ude00 kept"}\n')
    (doc,) = read_all([tmp_path / "s.jsonl"])
    assert doc.content == "Lone \ufffd here, pair \U0001f600 kept"
    assert doc.stages == [{"stage": "read", "replaced_chars": 1}]
    doc.content.encode("utf-8")


def test_jsonl_line_over_max_bytes_is_one_reject_and_the_rest_are_read(tmp_path):
    lines = [json.dumps({"text": "short one"}), json.dumps({"text": "x" * 5000}), json.dumps({"text": "after"})]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    out = read_all([tmp_path / "r.jsonl"], max_bytes=1000)
    assert [(type(o).__name__, o.source.record if isinstance(o, Document) else o.reason) for o in out] == [
        ("Document", 0), ("Reject", "too-large"), ("Document", 2)]


# #18 ------------------------------------------------------------------------------------------------
def test_exclude_keeps_the_output_folder_out_of_the_inputs(tmp_path):
    """#18.4: `run d --out d/clean` read its own output back."""
    (tmp_path / "a.txt").write_text("page")
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "documents.jsonl").write_text('{"text": "old output"}\n')
    (tmp_path / "state").mkdir()
    (tmp_path / "state" / "x.txt").write_text("x")
    got = list(iter_input_paths([str(tmp_path)], exclude=[tmp_path / "clean", str(tmp_path / "state")]))
    assert got == [str(tmp_path / "a.txt")]
    reader = Reader(exclude=[tmp_path / "clean"])
    assert [d.source.path for d in reader.run([str(tmp_path / "clean" / "documents.jsonl"), str(tmp_path / "a.txt")])] \
        == [str(tmp_path / "a.txt")]


def test_non_utf8_file_name_is_read_and_recorded_losslessly(tmp_path):
    """#18.5: a name with byte 0xff killed every run with UnicodeEncodeError."""
    import os

    from cleanpipe.io.read import display_path, path_from_display
    raw = os.fsencode(str(tmp_path)) + b"/x\xff\\y.txt"
    with open(raw, "wb") as fh:
        fh.write(b"A page of text.")
    (doc,) = read_all([tmp_path])
    assert doc.source.path == str(tmp_path) + "/x\\xff\\\\y.txt"
    json.dumps(doc.to_dict(), ensure_ascii=False).encode("utf-8")  # the writers can store it
    assert os.fsencode(path_from_display(doc.source.path)) == raw
    assert display_path("plain/ä\\b.txt") == "plain/ä\\b.txt"  # names that decode are left alone


def test_non_utf8_file_name_whole_run(tmp_path):
    import os
    import subprocess
    import sys
    (tmp_path / "in").mkdir()
    with open(os.fsencode(str(tmp_path / "in")) + b"/x\xff.txt", "w") as fh:
        fh.write("A page of prose that has quite enough words in it to be kept by the cleaner as an article.\n" * 4)
    res = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(tmp_path / "in"), "--out",
                          str(tmp_path / "out"), "--no-state", "--workers", "1"], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    (record,) = [json.loads(line) for line in (tmp_path / "out" / "documents.jsonl").read_text().splitlines()]
    assert record["source"]["path"].endswith("/x\\xff.txt")


def test_unreadable_subfolder_is_a_reject(tmp_path, monkeypatch):
    """#18.6: a folder the walk cannot list was skipped silently (rc 0). Root reads any folder, so the
    permission error is simulated where the walk meets it."""
    import os
    (tmp_path / "a.txt").write_text("page")
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "b.txt").write_text("hidden page")
    real_scandir = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", scandir)
    out = read_all([tmp_path])
    assert isinstance(out[0], Document)
    rej = out[1]
    assert (rej.kind, rej.reason, rej.path) == ("input", "unreadable", str(tmp_path / "locked")) and rej.is_error


def test_unreadable_subfolder_whole_run_without_root_powers(tmp_path):
    """#18.6 for real: a chmod 000 folder, the run without the capabilities that let root read anything."""
    import os
    import shutil
    import subprocess
    import sys
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root and setpriv to drop root's read-anything capabilities")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.txt").write_text("A page of prose that has quite enough words in it to be kept as an article.\n" * 4)
    locked = tmp_path / "in" / "locked"
    locked.mkdir()
    (locked / "b.txt").write_text("A page nobody can read.\n")
    locked.chmod(0)
    try:
        res = subprocess.run(["setpriv", "--bounding-set=-dac_override,-dac_read_search", sys.executable, "-m",
                              "cleanpipe", "run", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-state",
                              "--workers", "1"], capture_output=True, text=True, cwd=Path(__file__).resolve().parents[2])
    finally:
        locked.chmod(0o755)
    assert res.returncode == 3, res.stderr
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert [(r["reason"], r["path"]) for r in rejects] == [("unreadable", str(locked))]


def test_many_tiny_gzip_members_read_in_linear_time(tmp_path):
    """#18 should-fix: ~190,000 members took 112 s (each member copied what was left)."""
    import time
    member = gzip.compress(b"ab\n", mtime=0)
    path = tmp_path / "many.txt.gz"
    path.write_bytes(member * 100_000)
    start = time.perf_counter()
    (doc,) = read_all([path])
    assert time.perf_counter() - start < 10
    assert len(doc.content) == 300_000 - 1 or doc.content.count("ab") == 100_000


def test_gzip_bomb_refused_without_holding_the_output(tmp_path):
    """#18 should-fix: a 400 MB .gz peaked at 921 MB while being refused."""
    import os
    import tracemalloc
    comp = zlib.compressobj(1, zlib.DEFLATED, 31)
    path = tmp_path / "noise.txt.gz"
    with open(path, "wb") as fh:  # 40 MB that gzip cannot shrink: the input itself is large
        for _ in range(40):
            fh.write(comp.compress(os.urandom(1 << 20)))
        fh.write(comp.flush())
    tracemalloc.start()
    (rej,) = read_all([path], max_bytes=2_000_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert rej.reason == "too-large"
    assert peak < 12_000_000, peak


def test_stray_latin1_byte_in_a_utf8_page_is_replaced_not_a_legacy_charset(tmp_path):
    """#18 should-fix: one 0xe9 in a UTF-8 page decoded the page as mac_latin2."""
    data = "Zoë Šimić wrote to Đorđe Balašević about the café.\n".encode() * 3 + b"caf\xe9 au lait\n"
    (tmp_path / "p.txt").write_bytes(data)
    (doc,) = read_all([tmp_path / "p.txt"])
    assert doc.content.startswith("Zoë Šimić") and "caf\ufffd au lait" in doc.content
    assert doc.source.encoding == "utf-8" and doc.stages == [{"stage": "read", "replaced_bytes": 1}]


def test_declared_iso_8859_1_means_windows_1252():
    html = '<html><head><meta charset="iso-8859-1"></head><body>“quoted” — dash</body></html>'
    text, enc = decode_bytes(html.encode("cp1252"))
    assert "“quoted” — dash" in text and enc == "cp1252"
