"""Tweet tokenisation and hashed uni+bi-gram ids: no vocabulary to fit, nothing downloaded.

``tokenize`` copes with the debris of scraped tweets: HTML entities (unescaped twice, since some
tweets were escaped twice, e.g. ``&amp;#128514;``), ``RT`` markers, @mentions, URLs, hashtags,
elongated words, emoji and punctuation runs. ``hash_ids`` maps each unigram and each adjacent
bigram to one of ``n_buckets - 1`` buckets with CRC-32 (stable across processes and machines,
unlike Python's salted ``hash``) and pads or truncates to ``max_len`` ids, with id 0 kept for
padding. Because hashing needs no vocabulary, no statistic is fitted on any split.
"""

from __future__ import annotations

import html
import re
import zlib
from collections.abc import Iterable

import numpy as np

from msmult.validation import whole

URL_TOKEN = "<url>"
USER_TOKEN = "<user>"
NUMBER_TOKEN = "<num>"

_URL = re.compile(r"(?:https?://|www\.)\S+|\b[a-z0-9.-]+\.(?:com|net|org|ly|co)/\S*", re.I)
_MENTION = re.compile(r"@\w+:?")  # the colon of "RT @user:" goes with the mention
_RETWEET = re.compile(r"(?<![\w@#])rt\b:?", re.I)
_ELONGATED = re.compile(r"(\w)\1{2,}")
_TOKEN = re.compile(
    r"""
    <url>|<user>                        # placeholders inserted above
    | \#?\w+(?:['’]\w+)*                 # words (with apostrophes), numbers, hashtags
    | [!?.]+                            # runs of !, ? and .
    | [^\s\w]                           # any other single symbol: emoji, punctuation
    """,
    re.X,
)


def normalize(text: str) -> str:
    """Unescape HTML twice, replace URLs and @mentions by placeholders, drop ``RT``, lower-case."""
    text = html.unescape(html.unescape(str(text)))
    text = _URL.sub(f" {URL_TOKEN} ", text)
    text = _MENTION.sub(f" {USER_TOKEN} ", text)
    text = _RETWEET.sub(" ", text)
    text = _ELONGATED.sub(r"\1\1", text.lower())
    return text


def tokenize(text: str) -> list[str]:
    """Tokens of one tweet: words, ``<url>``, ``<user>``, ``<num>``, hashtags as their word,
    punctuation runs and single symbols (each emoji is one token)."""
    tokens = []
    for token in _TOKEN.findall(normalize(text)):
        if token.startswith("#") and len(token) > 1:
            token = token[1:]  # "#Hashtag" reads as the word it contains
        if token.isdigit():
            token = NUMBER_TOKEN
        tokens.append(token.replace("’", "'"))
    # one placeholder for a run of them ("<user> <user> <user>" in long reply chains)
    return [
        t
        for i, t in enumerate(tokens)
        if not (t in (URL_TOKEN, USER_TOKEN) and i and tokens[i - 1] == t)
    ]


def ngrams(tokens: list[str]) -> list[str]:
    """Unigrams, then adjacent bigrams, tagged so that a unigram and a bigram never share a key."""
    return [f"u:{t}" for t in tokens] + [f"b:{a} {b}" for a, b in zip(tokens, tokens[1:])]


def bucket(key: str, n_buckets: int) -> int:
    """Stable bucket id in ``1 .. n_buckets - 1`` (0 is padding)."""
    return 1 + zlib.crc32(key.encode("utf-8")) % (n_buckets - 1)


def hash_ids(texts: Iterable[str], n_buckets: int = 2**18, max_len: int = 64) -> np.ndarray:
    """(n, max_len) int64 ids of each text's hashed uni+bi-grams, truncated or padded with 0.

    Unigrams come first, so truncation drops bigrams of long texts before any unigram.
    """
    whole("n_buckets", n_buckets, 2, what=" (id 0 pads)")
    whole("max_len", max_len, 1, what=" (token ids per text)")
    rows = [[bucket(g, n_buckets) for g in ngrams(tokenize(t))][:max_len] for t in texts]
    ids = np.zeros((len(rows), max_len), dtype=np.int64)
    for i, row in enumerate(rows):
        ids[i, : len(row)] = row
    return ids
