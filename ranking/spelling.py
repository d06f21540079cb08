"""Typo tolerance for shop words, without pg_trgm (the embedded Postgres has no extensions).

The vocabulary is the catalog's own words (titles, brands, categories, tags) with how often
each occurs; a query token the catalog does not know is corrected to the known word closest
to it in Damerau-Levenshtein distance (optimal string alignment: a swap of two neighbouring
letters is one edit, as it is one slip of the fingers). Ties go to the more frequent word.

Lookups use a symmetric-delete index (the SymSpell idea): two strings within k edits can
both be shortened, by deleting at most k characters from each, to a common string. Each
known word is stored under itself and its deletes; a query token probes the index with its
own deletes. A lookup is then a few dozen probes plus an exact distance check on the
handful of words they return, however large the vocabulary. Pure: no I/O.

How deep the deletes go: a token shorter than LONG_TOKEN is allowed one edit, a longer one
`max_distance` edits. One edit needs one delete on each side. For a long token, k edits need
up to k deletes of the token, and up to k deletes of the word only for words that are long
themselves: a word of length m < LONG_TOKEN is at least LONG_TOKEN - m insertions away from
any long token, which leaves at most k - (LONG_TOKEN - m) edits that delete from the word.
Indexing just that many deletes keeps the index complete: every word within the allowed
distance is found, as a test checks against a scan of the vocabulary. (Indexing only one
delete per word would miss two substitutions or two dropped letters, the commonest two-edit
typos: about half of them in a benchmark on 50K words.)

How the deletes are stored: a 50K-word catalog has some three million of them, which as a
dict of Python strings took 16 s to build and 0.8 GB. Instead each delete is a 64-bit
polynomial hash, computed for a whole group of same-length words at once as one matrix
product of their character codes, and packed with the word's id into a sorted uint64 array
with a directory of hash buckets (about 0.5 s and 35 MB for 50K words). A hash collision can
only add a candidate, and every candidate is verified with the real distance, so the hashing
never changes an answer.
"""

from __future__ import annotations

import functools
import itertools
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from ranking.query import is_stopword, normalise, tokens

# Tokens this long or longer may be corrected by up to max_distance edits; shorter, by one.
LONG_TOKEN = 8
# Longer strings are not indexed or corrected: the deletes of a word grow as length^k, and a
# 60-letter "word" is a run-together string or a code, not something a shopper misspells.
MAX_WORD_LENGTH = 32

_HYPHEN_OR_APOSTROPHE = re.compile(r"[-']")

_Packed = npt.NDArray[np.uint64]

# An entry is (hash of a delete, top 40 bits) | (word id, low 24 bits): one sort orders
# entries by hash, and the ids of one hash lie in one run. 40 bits leave a probe a few in a
# million chances of a false candidate (verified away); 24 bits allow 16M distinct words.
_ID_BITS = 24
_MAX_WORDS = 1 << _ID_BITS
_ID_MASK = np.uint64(_MAX_WORDS - 1)
_HASH_MASK = np.uint64(((1 << 64) - 1) ^ (_MAX_WORDS - 1))
# Odd, so its powers never vanish modulo 2**64 (the FNV-64 prime).
_BASE = 0x100000001B3
# Words added since the last merge are kept in a small second table, so that adding the
# words of one product does not copy the main arrays; the two are merged once the small one
# holds this many words or a quarter of the main one, whichever is more.
_RECENT_WORDS = 2048

_EMPTY: _Packed = np.zeros(0, dtype=np.uint64)


@functools.cache
def _delete_matrix(length: int, depth: int) -> npt.NDArray[np.uint64]:
    """(length, C) matrix M such that codes @ M hashes each way of deleting depth characters.

    Column c holds, at each kept position, the power of _BASE that position takes in the
    polynomial hash of the shortened string (and 0 at deleted positions), so the product of
    a word's character codes with M is the hash of every one of its depth-deletes.
    """
    combos = list(itertools.combinations(range(length), depth))
    matrix = np.zeros((length, len(combos)), dtype=np.uint64)
    powers = [pow(_BASE, e, 1 << 64) for e in range(length + 1)]
    for column, removed in enumerate(combos):
        kept = [k for k in range(length) if k not in removed]
        for rank, k in enumerate(kept):
            matrix[k, column] = powers[len(kept) - 1 - rank]
    return matrix


def _codes(words: Sequence[str], length: int) -> npt.NDArray[np.uint64]:
    """The character codes of same-length words as a (len(words), length) array."""
    raw = "".join(words).encode("utf-32-le", errors="surrogatepass")
    return np.frombuffer(raw, dtype=np.uint32).reshape(len(words), length).astype(np.uint64)


def _hashes(codes: npt.NDArray[np.uint64], depth: int) -> npt.NDArray[np.uint64]:
    """(rows, C) hashes of every depth-delete of each row (depth 0: the word itself)."""
    hashed: npt.NDArray[np.uint64] = codes @ _delete_matrix(codes.shape[1], depth)
    return hashed


@dataclass(frozen=True)
class _Table:
    """The packed entries of some words (each word and its deletes, all depths), sorted.

    `starts` is a directory over the top bits of the hash: the entries of bucket k are
    entries[starts[k]:starts[k + 1]], about three of them. A lookup of every probe at once
    is then two gathers and a compare in numpy, where a binary search of millions of
    entries would take some twenty cache misses per probe. All depths share one array: the
    few extra candidates a short token meets among the deeper deletes of long words fail
    the length check before any distance is computed.
    """

    entries: _Packed
    starts: npt.NDArray[np.int64]
    shift: np.uint64
    words: int

    @staticmethod
    def of(entries: _Packed, words: int) -> _Table:
        bits = max(1, len(entries).bit_length() - 2)
        shift = np.uint64(64 - bits)
        sizes = np.bincount((entries >> shift).astype(np.intp), minlength=1 << bits)
        starts = np.zeros((1 << bits) + 1, dtype=np.int64)
        np.cumsum(sizes, out=starts[1:])
        return _Table(entries, starts, shift, words)

    def merged(self, entries: _Packed, words: int) -> _Table:
        """This table with the sorted entries of some more words."""
        if not words:
            return self
        if not self.words:
            return _Table.of(entries, words)
        # Insert the smaller sorted array into the larger: one pass, no full re-sort.
        big, small = ((self.entries, entries) if len(self.entries) >= len(entries)
                      else (entries, self.entries))
        return _Table.of(np.insert(big, np.searchsorted(big, small), small), self.words + words)

    def ids(self, probes: _Packed) -> list[int]:
        """The ids of the words with an entry under any of these (masked) hashes."""
        if not self.words:
            return []
        buckets = (probes >> self.shift).astype(np.intp)
        low = self.starts[buckets]
        sizes = self.starts[buckets + 1] - low
        total = int(sizes.sum())
        if not total:
            return []
        # The index of every entry of every probed bucket, bucket after bucket.
        positions = np.repeat(low - (np.cumsum(sizes) - sizes), sizes) + np.arange(total)
        found = self.entries[positions]
        same = (found & _HASH_MASK) == np.repeat(probes, sizes)
        ids: list[int] = (found[same] & _ID_MASK).tolist()
        return ids


_NO_WORDS = _Table.of(_EMPTY, 0)


def _entries(words: Sequence[str], first_id: int, depth_of: dict[int, int]) -> _Packed:
    """The sorted entries of words whose ids are first_id, first_id + 1, …"""
    by_length: dict[int, list[int]] = {}
    for offset, word in enumerate(words):
        if 0 < len(word) <= MAX_WORD_LENGTH:
            by_length.setdefault(len(word), []).append(offset)
    parts: list[_Packed] = [_EMPTY]
    for length, offsets in by_length.items():
        codes = _codes([words[o] for o in offsets], length)
        ids = np.asarray(offsets, dtype=np.uint64) + np.uint64(first_id)
        for depth in range(min(depth_of[length], length) + 1):
            entries = (_hashes(codes, depth) & _HASH_MASK) | ids[:, None]
            parts.append(entries.ravel())
    return np.sort(np.concatenate(parts))


def _osa_within(a: str, b: str, bound: int) -> int:
    """The OSA distance of a and b if it is at most bound, else bound + 1 (and sooner)."""
    if a == b:
        return 0
    # A shared prefix or suffix never changes the distance; trimming it shrinks the table.
    start = 0
    shortest = min(len(a), len(b))
    while start < shortest and a[start] == b[start]:
        start += 1
    end_a, end_b = len(a), len(b)
    while end_a > start and end_b > start and a[end_a - 1] == b[end_b - 1]:
        end_a -= 1
        end_b -= 1
    a, b = a[start:end_a], b[start:end_b]
    la, lb = len(a), len(b)
    if abs(la - lb) > bound:
        return bound + 1
    if la == 0 or lb == 0:
        return max(la, lb)
    # Only cells within `bound` of the diagonal can hold a value up to bound (a cell's value
    # is at least |i - j|), so each row computes just that band; cells outside it stay at
    # `over`, which is all a value above the bound needs to be.
    over = bound + 1
    before = [over] * (lb + 1)  # row i - 2, for transpositions
    previous = [j if j <= bound else over for j in range(lb + 1)]
    for i in range(1, la + 1):
        ai = a[i - 1]
        current = [over] * (lb + 1)
        if i <= bound:
            current[0] = i
        row_min = current[0]
        for j in range(max(1, i - bound), min(lb, i + bound) + 1):
            bj = b[j - 1]
            value = min(previous[j - 1] + (ai != bj), previous[j] + 1, current[j - 1] + 1)
            if i > 1 and j > 1 and ai == b[j - 2] and a[i - 2] == bj:
                value = min(value, before[j - 2] + 1)
            current[j] = value
            row_min = min(row_min, value)
        # Every later cell is at least the minimum of one of the two rows above it (a
        # transposition reaches back two rows, but then the row between holds a cell no
        # larger), so once a whole row exceeds the bound the distance does too.
        if row_min > bound:
            return over
        before, previous = previous, current
    return min(previous[lb], over)


def _within_one(a: str, b: str) -> bool:
    """Whether the OSA distance of a and b is at most 1, in one pass and no table."""
    la, lb = len(a), len(b)
    if la < lb:
        a, b, la, lb = b, a, lb, la
    if la - lb > 1:
        return False
    i = 0
    while i < lb and a[i] == b[i]:
        i += 1
    if la > lb:
        return a[i + 1:] == b[i:]  # one character of a left out of b
    if i >= la - 1:
        return True  # equal, or differ in the last character only
    return a[i + 1:] == b[i + 1:] or (  # one substitution, or one swap of neighbours
        a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2:] == b[i + 2:])


def osa_distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance, optimal string alignment variant.

    Insertions, deletions, substitutions and swaps of two adjacent characters cost one
    each; no substring is edited twice (so "ca" → "abc" is 3, not 2 as in the unrestricted
    distance), which is what lets a bounded check stop early and is all a typo needs.
    """
    return _osa_within(a, b, max(len(a), len(b)))


class Vocabulary:
    """The catalog's words with counts, and the index that corrects a token to one of them.

    Writers (`add`) serialise on a lock, as the server adds the words of products written
    while it runs. Readers (`correct`, `in`) take no lock: the index is an immutable pair
    of tables that a writer replaces with one assignment, and the word list only grows, so
    a reader sees the index before or after a write, never half of it, and a correction
    never waits on an import.
    """

    def __init__(self, counts: Mapping[str, int] | None = None, max_distance: int = 2,
                 min_length: int = 4) -> None:
        # Deeper than 3 the deletes of a long word run into the thousands per word.
        if not 1 <= max_distance <= 3:
            raise ValueError(f"max_distance must be 1, 2 or 3, got {max_distance}")
        if min_length < 1:
            raise ValueError(f"min_length must be at least 1, got {min_length}")
        self.max_distance = max_distance
        self.min_length = min_length
        # How many deletes of a word of each length a long token can need (module docstring).
        self._depth_of = {length: max(1, max_distance - max(0, LONG_TOKEN - length))
                          for length in range(1, MAX_WORD_LENGTH + 1)}
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}
        self._words: list[str] = []  # id -> word; only ever appended to
        self._index = (_NO_WORDS, _NO_WORDS)  # (main, recent)
        if counts:
            for word, count in counts.items():
                if count < 1:
                    raise ValueError(f"count of {word!r} must be positive, got {count}")
            self._add_counts(counts.items())

    def add(self, words: Iterable[str]) -> None:
        """Count each word once more; a word not seen before becomes a correction target."""
        self._add_counts((word, 1) for word in words)

    def __contains__(self, word: object) -> bool:
        return word in self._counts

    def __len__(self) -> int:
        return len(self._counts)

    def count(self, word: str) -> int:
        """How often the word was added (0 when unknown)."""
        return self._counts.get(word, 0)

    def _add_counts(self, pairs: Iterable[tuple[str, int]]) -> None:
        pairs = list(pairs)  # a generator is consumed before the lock is taken
        with self._lock:
            new_words: list[str] = []
            for word, count in pairs:
                if not word:
                    continue
                known = self._counts.get(word)
                if known is None:
                    new_words.append(word)
                    self._counts[word] = count
                else:
                    self._counts[word] = known + count
            if not new_words:
                return
            if len(self._words) + len(new_words) > _MAX_WORDS:
                raise ValueError(f"a vocabulary holds at most {_MAX_WORDS} words")
            added = _entries(new_words, len(self._words), self._depth_of)
            # The words first: a reader that sees the new index must find their ids.
            self._words.extend(new_words)
            main, recent = self._index
            recent = recent.merged(added, len(new_words))
            if recent.words >= max(_RECENT_WORDS, main.words // 4):
                main, recent = main.merged(recent.entries, recent.words), _NO_WORDS
            self._index = (main, recent)

    def correct(self, token: str) -> str | None:
        """The known word this token was probably meant to be, or None to leave it alone.

        None when the token is known, shorter than min_length (short words have too many
        neighbours to guess among), contains a digit (model numbers and sizes differ by one
        character on purpose), or has no known word close enough: one edit for tokens
        shorter than LONG_TOKEN, max_distance edits for longer ones. Among the candidates
        the nearest wins, then the most frequent, then the alphabetically first.
        """
        length = len(token)
        if (token in self._counts or length < self.min_length or length > MAX_WORD_LENGTH
                or any(ch.isdigit() for ch in token)):
            return None
        allowed = 1 if length < LONG_TOKEN else self.max_distance
        codes = _codes([token], length)
        probes = np.concatenate([_hashes(codes, depth).ravel()
                                 for depth in range(min(allowed, length) + 1)]) & _HASH_MASK
        words, counts = self._words, self._counts
        candidates = {words[i] for table in self._index for i in table.ids(probes)}
        # In the order of the ranking after distance, the first word at a distance is the
        # best one there: a word one edit away ends the search (no known word is nearer),
        # and after a farther one only nearer words are still worth a distance check.
        best: str | None = None
        best_distance = allowed + 1
        for word in sorted(candidates, key=lambda w: (-counts.get(w, 0), w)):
            if abs(len(word) - length) >= best_distance:
                continue
            if _within_one(token, word):
                # Equal only if another thread has just added the token: then it is known.
                return None if word == token else word
            if best_distance > 2:
                distance = _osa_within(token, word, best_distance - 1)
                if distance < best_distance:
                    best, best_distance = word, distance
        return best


def correct_terms(vocabulary: Vocabulary,
                  terms: Sequence[str]) -> tuple[tuple[str, ...], dict[str, str]]:
    """The terms with corrections applied, and what changed (original → corrected).

    Two terms that correct to the same word ("trailpaek trailpeak") leave it once, as
    ParsedQuery.terms holds each term once; the mapping says which originals were changed,
    for a "showing results for …" line.
    """
    corrected: list[str] = []
    changes: dict[str, str] = {}
    for term in terms:
        fixed = vocabulary.correct(term)
        if fixed is None:
            corrected.append(term)
        else:
            corrected.append(fixed)
            changes[term] = fixed
    return tuple(dict.fromkeys(corrected)), changes


def _is_word(token: str) -> bool:
    letters = _HYPHEN_OR_APOSTROPHE.sub("", token)
    return len(token) >= 2 and letters.isalpha() and not is_stopword(token)


def words_of(text: str) -> list[str]:
    """The words of a catalog text worth adding to the vocabulary, in order, repeats kept.

    Normalised as queries are, so a query token and a catalog word meet in the same form.
    Only alphabetic words of two letters or more that are not stopwords: numbers and model
    codes ("vl-420", "2.5") are never correction targets. A hyphenated or apostrophised word
    counts whole and by its parts ("trail-runner" → "trail-runner", "trail", "runner"), since
    shoppers type it either way.
    """
    words: list[str] = []
    for token in tokens(normalise(text)):
        parts = [part for part in _HYPHEN_OR_APOSTROPHE.split(token) if part]
        for word in (token, *parts) if len(parts) > 1 else (token,):
            if _is_word(word):
                words.append(word)
    return words
