"""Corpus download against a local HTTP server on 127.0.0.1, and the offline builder."""

import hashlib
import http.server
import io
import socket
import threading
import zipfile

import pytest

from charrnn import corpora
from charrnn.errors import CharRNNError


@pytest.fixture
def server(tmp_path):
    """Serves tmp_path/www on 127.0.0.1; yields the base URL."""
    www = tmp_path / "www"
    www.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *a, **kw):
            super().__init__(*a, directory=str(www), **kw)

        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _recipe(data: bytes, transform="none", saved: bytes | None = None):
    saved = data if saved is None else saved
    return corpora.Recipe(
        "demo", "http://invalid.example/x", hashlib.sha256(saved).hexdigest(), len(saved), transform
    )


def test_download_checks_sha256_and_reuses_file(server, tmp_path):
    www, base = server
    body = b"To be, or not to be\n" * 100
    (www / "t.txt").write_bytes(body)
    rec = _recipe(body)
    seen = []
    path = corpora.get(
        rec,
        tmp_path / "data",
        url=f"{base}/t.txt",
        progress=lambda done, total: seen.append((done, total)),
    )
    assert path.read_bytes() == body and seen[-1] == (len(body), len(body))
    (www / "t.txt").unlink()  # a verified file is not downloaded again
    assert corpora.get(rec, tmp_path / "data", url=f"{base}/t.txt") == path


def test_download_never_replaces_another_file_without_overwrite(server, tmp_path):
    www, base = server
    body = b"To be, or not to be\n" * 10
    (www / "t.txt").write_bytes(body)
    mine = tmp_path / "demo.txt"
    mine.write_bytes(b"my own notes")
    requests = []
    with pytest.raises(CharRNNError, match="--overwrite"):
        corpora.get(_recipe(body), mine, url=f"{base}/t.txt",
                    progress=lambda *a: requests.append(a))  # fmt: skip
    assert mine.read_bytes() == b"my own notes" and not requests  # refused before downloading
    assert corpora.get(_recipe(body), tmp_path, url=f"{base}/t.txt", overwrite=True) == mine
    assert mine.read_bytes() == body


def test_text_normalising_and_unzip_transforms(server, tmp_path):
    www, base = server
    raw = b"\xef\xbb\xbfline one\r\nline two\r\n"
    (www / "w.txt").write_bytes(raw)
    path = corpora.get(
        _recipe(raw, "text", b"line one\nline two\n"), tmp_path / "a", url=f"{base}/w.txt"
    )
    assert path.read_bytes() == b"line one\nline two\n"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("member", b"zipped text")
    (www / "z.zip").write_bytes(buf.getvalue())
    rec = _recipe(buf.getvalue(), "unzip:member", b"zipped text")
    assert corpora.get(rec, tmp_path / "b", url=f"{base}/z.zip").read_bytes() == b"zipped text"


def test_checksum_mismatch_leaves_no_file(server, tmp_path):
    www, base = server
    (www / "t.txt").write_bytes(b"tampered")
    with pytest.raises(CharRNNError, match="checksum mismatch"):
        corpora.get(_recipe(b"original"), tmp_path / "d", url=f"{base}/t.txt")
    assert not (tmp_path / "d" / "demo.txt").exists()


def test_offline_gives_clear_error(tmp_path):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(CharRNNError, match="are you offline"):
        corpora.get(_recipe(b"x"), tmp_path, url=f"http://127.0.0.1:{port}/x", timeout=5)


def test_http_error_and_unknown_name(server, tmp_path):
    _, base = server
    with pytest.raises(CharRNNError, match="HTTP 404"):
        corpora.get(_recipe(b"x"), tmp_path, url=f"{base}/missing.txt")
    with pytest.raises(CharRNNError, match="known corpora"):
        corpora.recipe("nope")


def test_recipes_are_complete():
    rs = corpora.recipes()
    assert set(rs) >= {"tinyshakespeare", "warpeace", "enwik8", "text8"}
    for r in rs.values():
        assert r.url.startswith("http") and len(r.sha256) == 64 and r.size > 0


def test_cli_get_with_mirror(cli, server, tmp_path):
    www, base = server
    (www / "input.txt").write_bytes(b"not shakespeare")
    code, _, err = cli(
        "corpus", "get", "tinyshakespeare", "--out", tmp_path, "--url", f"{base}/input.txt"
    )
    assert code == 1 and "checksum mismatch" in err


def test_pystdlib_builder_is_deterministic_code(tmp_path):
    a = corpora.build("pystdlib", tmp_path / "a.txt", max_bytes=50_000).read_text()
    b = corpora.build("pystdlib", tmp_path / "b.txt", max_bytes=50_000).read_text()
    assert a == b and len(a) >= 50_000 and "def " in a and a.isascii()
