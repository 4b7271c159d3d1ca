"""`practica data fetch` against a local HTTP server (127.0.0.1, started here) serving
fixtures in each data set's real format: full, interrupted and resumed, corrupted, missing
and redirected downloads, and every data set's fetch path end to end."""

from __future__ import annotations

import dataclasses
import hashlib
import io
import re
import threading
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import torch
from captioning.coco_format import write_coco_folder
from text.snapshot_fixture import random_params, write_snapshot
from transfer.fixtures import write_zip

from foundation.formats import tar_folder, write_cifar_folder, write_mnist_folder
from foundation.test_fetch_sentiment140 import sentiment140_zip
from practica import cli
from practica.data import DATASETS, cifar10, coco_captioning, hymenoptera, imagenet_weights, mnist
from practica.data import text as text_data
from practica.data import tweets as tweets_data
from practica.data.fetch import FETCHED, MANUAL, PRESENT, fetch, format_table
from practica.data.sources import SOURCES, FetchOptions
from practica.data.store import Download, download
from practica.errors import DataError


class FixtureServer(ThreadingHTTPServer):
    """Serves ``files`` by name, with the faults a test asks for, and logs every request."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.files: dict[str, bytes] = {}
        self.redirects: dict[str, str] = {}  # name -> name it moved to (302)
        self.cut_once: set[str] = set()  # send half of the body, then close the connection
        self.fail_once: dict[str, int] = {}  # answer with this status, once
        self.ignore_range: set[str] = set()  # answer 200 with the whole body to a Range
        self.requests: list[tuple[str, str | None]] = []

    def url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.server_port}/{name}"


class _Handler(BaseHTTPRequestHandler):
    server: FixtureServer

    def log_message(self, *args) -> None:  # keep the test output clean
        pass

    def do_GET(self) -> None:
        srv, name = self.server, self.path.lstrip("/")
        wanted = self.headers.get("Range")
        srv.requests.append((name, wanted))
        if name in srv.redirects:
            self.send_response(302)
            self.send_header("Location", srv.url(srv.redirects[name]))
            self.end_headers()
            return
        if name in srv.fail_once:
            self.send_error(srv.fail_once.pop(name))
            return
        if name not in srv.files:
            self.send_error(404)
            return
        body, start = srv.files[name], 0
        if wanted and name not in srv.ignore_range:
            start = int(wanted.removeprefix("bytes=").split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        rest = body[start:]
        if name in srv.cut_once:  # the connection drops half-way
            srv.cut_once.discard(name)
            rest = rest[:len(rest) // 2]
        self.wfile.write(rest)


@pytest.fixture
def server():
    srv = FixtureServer()
    thread = threading.Thread(target=srv.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


PAYLOAD = bytes(range(256)) * 400  # 100 KB


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def blob(server: FixtureServer, name: str = "blob.bin", **kwargs) -> Download:
    server.files[name] = PAYLOAD
    return Download(server.url(name), name, sha256=sha256(PAYLOAD), **kwargs)


def get(item: Download, dest: Path, **kwargs) -> Path:
    return download(item, dest, progress=False, backoff=0, **kwargs)


# --- the download machinery --------------------------------------------------------------

def test_a_full_download_is_verified_and_placed(server, tmp_path):
    out = download(blob(server), tmp_path / "dl", progress=True, backoff=0)
    assert out.read_bytes() == PAYLOAD and [p.name for p in out.parent.iterdir()] == ["blob.bin"]
    assert get(blob(server), tmp_path / "dl") == out and len(server.requests) == 1  # cached


def test_an_interrupted_download_is_resumed_with_a_range_request(server, tmp_path):
    item = blob(server)
    server.cut_once.add("blob.bin")
    assert get(item, tmp_path).read_bytes() == PAYLOAD
    assert server.requests == [("blob.bin", None), ("blob.bin", f"bytes={len(PAYLOAD) // 2}-")]


def test_a_later_call_resumes_what_an_earlier_one_left(server, tmp_path):
    item = blob(server)
    server.cut_once.add("blob.bin")
    with pytest.raises(DataError, match=r"could not download blob.bin .*closed after 51,200 of "
                                        r"102,400 bytes; gave up after 1 attempts"):
        get(item, tmp_path, retries=0)
    assert (tmp_path / ".blob.bin.part").stat().st_size == len(PAYLOAD) // 2
    assert get(item, tmp_path, retries=0).read_bytes() == PAYLOAD
    assert server.requests[-1] == ("blob.bin", f"bytes={len(PAYLOAD) // 2}-")
    assert not (tmp_path / ".blob.bin.part").exists()


def test_a_part_that_is_already_whole_is_checked_and_placed(server, tmp_path):
    item = blob(server)
    (tmp_path / ".blob.bin.part").write_bytes(PAYLOAD)  # the server answers 416
    assert get(item, tmp_path).read_bytes() == PAYLOAD


def test_a_server_ignoring_the_range_restarts_the_file(server, tmp_path):
    item = blob(server)
    server.ignore_range.add("blob.bin")
    (tmp_path / ".blob.bin.part").write_bytes(b"stale bytes of another attempt")
    assert get(item, tmp_path).read_bytes() == PAYLOAD
    assert server.requests == [("blob.bin", "bytes=30-")]


def test_a_corrupt_download_is_refused_and_deleted(server, tmp_path):
    server.files["blob.bin"] = PAYLOAD[:-1] + b"!"
    item = Download(server.url("blob.bin"), "blob.bin", sha256=sha256(PAYLOAD))
    with pytest.raises(DataError, match=r"^checksum mismatch for .*blob.bin: sha256 is .*"
                                        r"the bad file was deleted") as err:
        get(item, tmp_path)
    assert "\n" not in str(err.value) and list(tmp_path.iterdir()) == []


def test_a_file_failing_its_structure_check_is_deleted(server, tmp_path):
    def refuse(path: Path) -> None:
        raise DataError(f"{path.name} is not what it should be")

    item = dataclasses.replace(blob(server), sha256=None, check=refuse)
    with pytest.raises(DataError, match="is not what it should be .*deleted"):
        get(item, tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_a_missing_file_is_a_one_line_error_and_a_mirror_is_tried(server, tmp_path):
    missing = Download(server.url("gone.bin"), "blob.bin", sha256=sha256(PAYLOAD))
    with pytest.raises(DataError, match=r"could not download blob.bin \(.*gone.bin: HTTP 404.*"
                                        r"copy blob.bin into") as err:
        get(missing, tmp_path)
    assert "\n" not in str(err.value) and len(server.requests) == 1  # a 404 is not retried
    mirrored = dataclasses.replace(missing, mirrors=(blob(server).url,))
    assert get(mirrored, tmp_path).read_bytes() == PAYLOAD


def test_a_redirect_is_followed(server, tmp_path):
    blob(server)
    server.redirects["old/blob.bin"] = "blob.bin"
    item = Download(server.url("old/blob.bin"), "blob.bin", sha256=sha256(PAYLOAD))
    assert get(item, tmp_path).read_bytes() == PAYLOAD
    assert [name for name, _ in server.requests] == ["old/blob.bin", "blob.bin"]


def test_transient_errors_are_retried_then_given_up(server, tmp_path):
    item = blob(server)
    server.fail_once["blob.bin"] = 503
    assert get(item, tmp_path / "a").read_bytes() == PAYLOAD and len(server.requests) == 2
    server.fail_once["blob.bin"] = 503
    with pytest.raises(DataError, match="HTTP 503 .*gave up after 1 attempts"):
        get(item, tmp_path / "b", retries=0)


def test_offline_never_touches_the_network(server, tmp_path):
    item = blob(server)
    with pytest.raises(DataError, match="--offline forbids downloading it"):
        get(item, tmp_path, offline=True)
    (tmp_path / "blob.bin").write_bytes(PAYLOAD)
    assert get(item, tmp_path, offline=True).read_bytes() == PAYLOAD
    assert server.requests == []


# --- every data set's fetch path -----------------------------------------------------------

def cifar_payloads(tmp: Path) -> dict[str, bytes]:
    archive = tar_folder(write_cifar_folder(tmp / "cifar"), tmp / "cifar.tar.gz")
    return {"cifar-10-python.tar.gz": archive.read_bytes()}


def idx_payloads(tmp: Path) -> dict[str, bytes]:
    folder = write_mnist_folder(tmp / "idx")
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def tweets_payloads(tmp: Path) -> dict[str, bytes]:
    return {"trainingandtestdata.zip": sentiment140_zip(tmp / "s140.zip").read_bytes()}


def coco_payloads(tmp: Path) -> dict[str, bytes]:
    folder = write_coco_folder(tmp / "coco" / "coco_captioning")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        for path in sorted(folder.iterdir()):
            zf.write(path, f"coco_captioning/{path.name}")
    return {"coco_captioning.zip": buf.getvalue()}


def hymenoptera_payloads(tmp: Path) -> dict[str, bytes]:
    return {"hymenoptera_data.zip": write_zip(tmp / "h.zip").read_bytes()}


CORPUS = "First Citizen:\nBefore we proceed any further, hear me speak.\n\n" * 20


def book(name: str) -> str:
    return f"The Project Gutenberg EBook of {name}\n{CORPUS}"


def text_payloads(tmp: Path) -> dict[str, bytes]:
    payloads = {name: f"\ufeff{book(name)}".encode() for name in text_data.BOOKS}
    chars = "".join(sorted(set(CORPUS)))
    snapshot = write_snapshot(tmp / "snap.npz", random_params(len(chars), 8), chars)
    return {**payloads, "tinyshakespeare.txt": CORPUS.encode(),
            "shakespeare_train.txt": CORPUS.encode(),
            "char-rnn-snapshot.npz": snapshot.read_bytes()}


def weights_payloads(tmp: Path) -> dict[str, bytes]:
    state = {k: torch.zeros(shape) for k, shape in imagenet_weights.SHAPES.items()}
    torch.save(state, tmp / "w.pth")
    return {imagenet_weights.FILENAME: (tmp / "w.pth").read_bytes()}


PAYLOADS = {"cifar10": cifar_payloads, "mnist": idx_payloads, "fashion-mnist": idx_payloads,
            "tweets": tweets_payloads, "coco-captioning": coco_payloads,
            "hymenoptera": hymenoptera_payloads, "text": text_payloads,
            "resnet18-imagenet": weights_payloads}


@pytest.fixture
def local_sources(server, tmp_path, monkeypatch):
    """Every data set's downloads served by the local server, with the fixtures' digests
    where the real files have one (structure checks stay as they are)."""
    monkeypatch.setattr(cifar10, "SIZES", (100, 30))
    monkeypatch.setattr(mnist, "SIZES", (40, 20))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    no_system = dataclasses.replace(mnist.FASHION_MNIST, system_dirs=())  # ignore Debian's copy
    monkeypatch.setitem(DATASETS, "fashion-mnist", dataclasses.replace(
        DATASETS["fashion-mnist"], locate=lambda data_dir=None: mnist.locate(no_system, data_dir)))
    for name, make in PAYLOADS.items():
        (tmp_path / "fixtures" / name).mkdir(parents=True)
        payloads = make(tmp_path / "fixtures" / name)

        def local(item: Download, prefix: str = name, payloads: dict = payloads) -> Download:
            data = payloads[item.filename]
            server.files[f"{prefix}/{item.filename}"] = data
            digest = sha256(data) if item.md5 or item.sha256 else None
            return dataclasses.replace(item, url=server.url(f"{prefix}/{item.filename}"),
                                       mirrors=(), md5=None, sha256=digest, size=len(data))

        source = SOURCES[name]
        if source.own is not None:
            info = DATASETS[name]
            monkeypatch.setitem(DATASETS, name, dataclasses.replace(
                info, downloads=tuple(local(d) for d in info.downloads)))
        else:
            monkeypatch.setitem(SOURCES, name, dataclasses.replace(
                source, files=tuple((f, local(d)) for f, d in source.files)))
    return server


def loads(name: str) -> str:
    """Read the fetched data set with its own loader; a short description of what came out."""
    if name == "cifar10":
        return f"{len(cifar10.load(offline=True).train)} images"
    if name in ("mnist", "fashion-mnist"):
        return f"{len(mnist.load(name, offline=True).test)} images"
    if name == "tweets":
        ds = tweets_data.load()
        return f"{len(ds.train)}+{len(ds.test)} tweets"
    if name == "coco-captioning":
        return f"{len(coco_captioning.load().train_captions)} captions"
    if name == "hymenoptera":
        return f"{len(hymenoptera.load().splits['val'])} images"
    if name == "text":
        grimm = text_data.read_text(text_data.locate_corpus("grimm"))
        assert grimm == book("book_EN_grimms_fairy_tails.txt")
        return f"{len(text_data.read_text(text_data.locate_corpus('minchar-shakespeare')))} chars"
    return f"{imagenet_weights.check_weights(imagenet_weights.locate())} tensors"


LOADED = {"cifar10": "100 images", "mnist": "20 images", "fashion-mnist": "20 images",
          "tweets": "32+8 tweets", "coco-captioning": "12 captions", "hymenoptera": "5 images",
          "text": f"{len(CORPUS)} chars", "resnet18-imagenet": "4 tensors"}


@pytest.mark.parametrize("name", sorted(PAYLOADS))
def test_each_data_set_is_fetched_into_the_cache_and_loads(local_sources, name, capsys,
                                                           tmp_path):
    args = ["data", "fetch", name, "--no-progress"]
    if name == "tweets":
        args += ["--tweets-size", "40", "--seed", "1"]
    assert cli.main(args) == 0
    assert capsys.readouterr().out.startswith(f"{name}: fetched, ")
    assert DATASETS[name].locate() is not None
    assert loads(name) == LOADED[name]
    requests = len(local_sources.requests)
    assert cli.main(["data", "fetch", name]) == 0  # a second time: nothing is downloaded
    assert capsys.readouterr().out.startswith(f"{name}: already present")
    assert len(local_sources.requests) == requests
    leftovers = [p for p in (tmp_path / "cache").rglob(".*") if p.name.endswith(".part")]
    assert leftovers == []
    if name == "coco-captioning":
        assert not (tmp_path / "cache" / "coco_captioning.zip").exists()  # extracted, removed


def test_fetch_all_ends_with_a_table_and_manual_steps(local_sources, capsys):
    assert cli.main(["data", "fetch", "all", "--offline", "--no-progress"]) == 1
    offline = capsys.readouterr().out
    assert local_sources.requests == [] and "--offline forbids" in offline
    assert cli.main(["data", "fetch", "all", "--no-progress", "--tweets-size", "20"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["data", "set", "result", "size", "on", "disk", "details"]
    rows = {line.split()[0]: line for line in table[2:]}
    assert set(rows) == set(DATASETS)
    for name in PAYLOADS:
        assert re.search(rf"^{name} +{FETCHED} +[0-9.]+ (KB|MB) ", rows[name]), rows[name]
    assert MANUAL in rows["galaxy-zoo"] and "kaggle competitions download -c galaxy-zoo" in \
        rows["galaxy-zoo"]
    assert MANUAL in rows["colour-palette"] and "k-means" in rows["colour-palette"]
    assert cli.main(["data", "fetch", "all", "--no-progress"]) == 0
    again = capsys.readouterr().out
    assert all(PRESENT in line for line in again.splitlines()[2:]
               if not line.startswith(("galaxy-zoo", "colour-palette")))


def test_asking_for_a_tweets_size_converts_again_without_downloading_again(local_sources):
    small = FetchOptions(tweets_size=20, tweets_explicit=True)
    assert fetch("tweets", progress=False, options=small).state == FETCHED
    assert len(tweets_data.load().train) == 16
    assert fetch("tweets", progress=False).state == PRESENT
    full = FetchOptions(tweets_size=None, tweets_explicit=True)
    assert fetch("tweets", progress=False, options=full).state == FETCHED
    ds = tweets_data.load()
    assert (len(ds.train), len(ds.test)) == (60, 6)
    assert [n for n, _ in local_sources.requests] == ["tweets/trainingandtestdata.zip"]


def test_status_on_an_empty_cache_names_a_command_for_every_data_set(capsys, monkeypatch,
                                                                     tmp_path):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.setitem(DATASETS, "fashion-mnist", dataclasses.replace(
        DATASETS["fashion-mnist"], locate=lambda data_dir=None: None))
    assert cli.main(["data", "status"]) == 0
    lines = capsys.readouterr().out.splitlines()[1:]
    assert len(lines) == len(DATASETS)
    for name, line in zip(DATASETS, lines, strict=True):
        assert line.startswith(name) and "missing — " in line and "[checksum: " in line
        assert f"`practica data fetch {name}`" in line or "manual step: " in line


def test_verify_names_the_checksum_kind_and_flags_an_unofficial_copy(local_sources, capsys):
    assert cli.main(["data", "fetch", "resnet18-imagenet", "hymenoptera", "--no-progress"]) == 0
    capsys.readouterr()
    # the fixtures read correctly but are not the official files
    assert cli.main(["data", "verify", "resnet18-imagenet", "hymenoptera"]) == 1
    out = capsys.readouterr().out
    assert "resnet18-imagenet: MODIFIED" in out and "structure ok: 4 tensors" in out
    assert "hymenoptera_data.zip: sha256 DIFFERS from the official file" in out
    assert out.count("checksum kind: published") == 2


def test_format_table_lines_up(tmp_path):
    from practica.data.fetch import Outcome

    table = format_table([Outcome("a", FETCHED, 2_500_000, "/x"),
                          Outcome("longer-name", MANUAL, 0, "do this")])
    lines = table.splitlines()
    assert lines[2] == "a            fetched              2.5 MB        /x"
    assert lines[3] == "longer-name  needs a manual step  —             do this"


def test_fetch_needs_names(capsys):
    assert cli.main(["data", "fetch"]) == 2
    assert "name the data sets to fetch, or all" in capsys.readouterr().err


