"""The tweets CSV reader: liberal layout, strict labels, errors with line numbers."""

from __future__ import annotations

import pytest
import torch

from practica.data import DATASETS, tweets
from practica.errors import DataError


def write(tmp_path, text: str, name: str = "t.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_the_real_layout_header_quotes_crlf(tmp_path) -> None:
    path = write(tmp_path, 'text,sentiment\r\n'
                 'plain tweet ,1\r\n'
                 '"with, a comma and ""quotes""",0\r\n'
                 '"spans\r\ntwo lines",1\r\n')
    split = tweets.read_tweets(path)
    assert split.texts == ("plain tweet ", 'with, a comma and "quotes"', "spans\r\ntwo lines")
    assert split.labels.tolist() == [1, 0, 1] and split.labels.dtype.name == "int64"


def test_other_column_names_order_and_extra_columns(tmp_path) -> None:
    path = write(tmp_path, "\ufeffItemID, Sentiment ,SentimentText\n7,0,  sad day\n8,1,yay, fun\n")
    split = tweets.read_tweets(path)
    assert split.texts == ("  sad day", "yay, fun") and split.labels.tolist() == [0, 1]


@pytest.mark.parametrize(("header", "rows", "expected"), [
    ("Tweet,Label", "hi there,1\n", ("hi there",)),
    ("label,text", "0,hi, you\n", ("hi, you",)),  # unquoted comma put back
    ("content,score", "ok then,1\n", ("ok then",)),  # one known name: the other is the label
])
def test_liberal_header_names(tmp_path, header, rows, expected) -> None:
    assert tweets.read_tweets(write(tmp_path, f"{header}\n{rows}")).texts == expected


def test_without_a_header(tmp_path) -> None:
    last = tweets.read_tweets(write(tmp_path, "good morning,1\n\nbad, bad night,0\n", "a.csv"))
    assert last.texts == ("good morning", "bad, bad night") and last.labels.tolist() == [1, 0]
    first = tweets.read_tweets(write(tmp_path, "1,good morning\n0,y\n", "b.csv"))
    assert first.texts == ("good morning", "y") and first.labels.tolist() == [1, 0]
    # a tweet that is a header word is still data when its row holds a label
    assert tweets.read_tweets(write(tmp_path, "target,1\n", "c.csv")).texts == ("target",)


@pytest.mark.parametrize(("content", "message"), [
    ("text,sentiment\nfine,1\nbad label,2\n", r"t\.csv:3: sentiment must be 0 or 1, got '2'"),
    ("text,sentiment\nfine,1\nold labels,4\n", r":3: .*0/4"),
    ("text,sentiment\nfine,1\n\nno label\n", r":4: expected 2 fields .* found 1"),
    ("text,sentiment\n,1\n", r":2: empty tweet"),
    ("text,sentiment\nok,1\n\"open quote,1\nnext,0\n", r":3: .*quote left open"),
    ("text,sentiment\nfine, 1.0\n", r":2: sentiment must be 0 or 1, got ' 1.0'"),
    ("text,sentiment\n", r"no tweets"),
    ("a,b\nx,y\n", r":1: no header naming"),
])
def test_malformed_files_name_the_line(tmp_path, content, message) -> None:
    with pytest.raises(DataError, match=message):
        tweets.read_tweets(write(tmp_path, content))


def test_an_unclosed_quote_that_swallows_tweets_is_refused(tmp_path) -> None:
    """A quote left open merges the next lines into one record, until a later quote closes
    it: 196 of 200 tweets would be read. The record's inner lines look like records."""
    rows = [f"tweet number {i},{i % 2}" for i in range(200)]
    rows[10] = '"an open quote here,1'
    rows[14] = 'this one says "hi",0'  # the quote that closes it, four lines later
    with pytest.raises(DataError, match=r"t\.csv:12: a quote opened on this line is closed "
                                        r"only on line 16"):
        tweets.read_tweets(write(tmp_path, "text,sentiment\n" + "\n".join(rows) + "\n"))
    # a real multi-line tweet (no inner line ends like a record) is still read
    ok = 'text,sentiment\n"two\nlines",1\nnext,0\n'
    assert tweets.read_tweets(write(tmp_path, ok, "ok.csv")).texts == ("two\nlines", "next")


def test_encoding_is_ascii_with_a_placeholder(tmp_path) -> None:
    codes = tweets.encode("Hé?😀\x7f")
    assert codes.dtype == torch.uint8
    assert codes.tolist() == [72, tweets.PLACEHOLDER, 63, tweets.PLACEHOLDER, 127]
    assert int(tweets.encode("".join(map(chr, range(128)))).max()) == 127
    # undecodable bytes are read as U+FFFD, then become the placeholder
    split = tweets.read_tweets(_raw(tmp_path, b"text,sentiment\nbad \xff byte,1\n"))
    assert tweets.encode(split.texts[0]).tolist()[4] == tweets.PLACEHOLDER


def _raw(tmp_path, data: bytes):
    path = tmp_path / "raw.csv"
    path.write_bytes(data)
    return path


def test_locate_and_load_through_the_data_roots(tmp_path, monkeypatch) -> None:
    folder = tmp_path / "data" / "tweets"
    folder.mkdir(parents=True)
    write(folder, "text,sentiment\na,1\nb,0\n", "tweets_train.csv")
    write(folder, "text,sentiment\nc,0\n", "tweets_test.csv")
    assert tweets.locate() is None
    with pytest.raises(DataError, match="tweets not found .*practica data fetch tweets"):
        tweets.load()
    assert tweets.locate(tmp_path / "data") == folder
    monkeypatch.setenv("PRACTICA_DATA", str(tmp_path / "data"))
    ds = tweets.load()
    assert (len(ds.train), len(ds.test), ds.classes) == (2, 1, ("negative", "positive"))
    report = DATASETS["tweets"].verify(folder)
    assert report.valid and "1 positive / 1 negative" in report.lines[0]
    write(folder, "text,sentiment\nc,3\n", "tweets_test.csv")
    assert not DATASETS["tweets"].verify(folder).valid


def test_real_tweets(real_data) -> None:
    ds = tweets.load(real_data)
    assert (len(ds.train), len(ds.test)) == (80000, 20000)
    assert ds.train.labels.sum() == 40000 and ds.test.labels.sum() == 10000
