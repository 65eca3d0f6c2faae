"""Tweet tokenisation and hashed n-gram ids (msmult.data.text); synthetic strings only."""

from __future__ import annotations

import os
import subprocess
import sys
import zlib

import numpy as np
import pytest

from msmult.data.text import NUMBER_TOKEN, URL_TOKEN, USER_TOKEN, bucket, hash_ids, ngrams, tokenize
from msmult.errors import MsmultError


def test_html_entities_are_unescaped_twice():
    assert tokenize("fish &amp; chips") == ["fish", "&", "chips"]
    assert tokenize("&#8220;quoted&#8221;") == ["“", "quoted", "”"]
    # doubly escaped emoji: &amp;#128514; -> &#128514; -> the emoji itself, one token each
    assert tokenize("lol &amp;#128514;&amp;#128514;") == ["lol", "\U0001f602", "\U0001f602"]
    assert tokenize("i &lt;3 you") == ["i", "<", NUMBER_TOKEN, "you"]


def test_mentions_and_retweet_markers():
    assert tokenize("RT @someone: hello there") == [USER_TOKEN, "hello", "there"]
    assert tokenize("@a @b @c you too") == [USER_TOKEN, "you", "too"]  # a run becomes one
    assert tokenize("rt this") == ["this"]
    assert tokenize("art start") == ["art", "start"]  # "rt" inside words stays


def test_urls_become_one_placeholder():
    for url in ["http://t.co/AbC123", "https://example.org/a?b=c", "www.example.com/x"]:
        assert tokenize(f"look {url} now") == ["look", URL_TOKEN, "now"]


def test_hashtags_case_elongation_numbers_punctuation():
    assert tokenize("#Monday Blues") == ["monday", "blues"]
    assert tokenize("soooooo goooood") == ["soo", "good"]
    assert tokenize("Don’t stop") == ["don't", "stop"]
    assert tokenize("2 times!!! really?!") == [NUMBER_TOKEN, "times", "!!!", "really", "?!"]
    assert tokenize("") == []


def test_ngrams_tag_unigrams_and_bigrams():
    assert ngrams(["a", "b", "c"]) == ["u:a", "u:b", "u:c", "b:a b", "b:b c"]


def test_hash_ids_shape_padding_and_truncation():
    ids = hash_ids(["one two three", "", "x " * 100], n_buckets=1000, max_len=8)
    assert ids.shape == (3, 8) and ids.dtype == np.int64
    assert (ids[0, :5] > 0).all() and (ids[0, 5:] == 0).all()  # 3 unigrams + 2 bigrams
    assert (ids[1] == 0).all()
    assert (ids[2] > 0).all()  # truncated to max_len
    assert ids.min() >= 0 and ids.max() < 1000
    assert ids[0, 0] == 1 + zlib.crc32(b"u:one") % 999 == bucket("u:one", 1000)


def test_hash_ids_do_not_depend_on_python_hash_seed():
    code = (
        "from msmult.data.text import hash_ids; "
        "print(hash_ids(['Same text &amp; more'])[0, :6].tolist())"
    )
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == str(hash_ids(["Same text &amp; more"])[0, :6].tolist())


@pytest.mark.parametrize("kwargs", [{"n_buckets": 1}, {"max_len": 0}])
def test_hash_ids_rejects_bad_sizes(kwargs):
    with pytest.raises(MsmultError):
        hash_ids(["a"], **kwargs)
