"""Search query handling: fold, normalise, validate and split what a shopper typed.

The lexical retriever matches the query against tsvector columns that Postgres builds with
`lodestar_fold(text) = translate(lower(text), ACCENTED, PLAIN)` (migration 0006). A query
must be folded the same way or "Café" would never meet "cafe"; `fold` applies the same
table first, so any letter the table knows folds identically on both sides. Pure: strings
in, strings out, no I/O.

Normalising keeps the characters shop words are made of: letters, digits, and the
punctuation that lives inside product names ("usb-c", "vl-420", "2.5", "men's", "h&m",
"c++"). An apostrophe inside a word is kept ("men's" stays "men's"), because Postgres'
parser then splits the query exactly as it split the indexed title ("men", "s"), so both
sides agree without this module guessing at English possessives.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

# Kept in step with migrations/versions/0006_search.py (a unit test compares the two).
ACCENTED = "àáâãäåāăąçćčďđèéêëēėęěğìíîïīįıłñńňòóôõöøōőŕřśşšťùúûüūůűųýÿźżž"
PLAIN = "aaaaaaaaacccddeeeeeeeegiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz"

_FOLD_TABLE = str.maketrans(ACCENTED, PLAIN)

# The English stopword list of Postgres' `english` text search configuration (snowball's
# english.stop). Postgres drops these from both documents and queries, so a query made
# only of them can match nothing and is refused before it reaches the database.
_ENGLISH_STOP = """
    i me my myself we our ours ourselves you your yours yourself yourselves he him his
    himself she her hers herself it its itself they them their theirs themselves what which
    who whom this that these those am is are was were be been being have has had having do
    does did doing a an the and but if or because as until while of at by for with about
    against between into through during before after above below to from up down in out on
    off over under again further then once here there when where why how all any both each
    few more most other some such no nor not only own same so than too very s t can will
    just don should now
"""
STOPWORDS: frozenset[str] = frozenset(_ENGLISH_STOP.split())

# Punctuation that may sit inside a token; everything else that is not a letter or a digit
# separates tokens. Of these, the first three are stripped again at a token's edges, where
# they are sentence punctuation or quotes rather than part of a name.
_INNER = frozenset("-'.&+")
_EDGES = "-.'"
# Typographic look-alikes a phone keyboard or a pasted title brings in.
_LOOKALIKES = str.maketrans({"’": "'", "‘": "'", "ʼ": "'", "‐": "-", "‑": "-"})


def fold(text: str) -> str:
    """Lower-case and strip accents the way `lodestar_fold` does, and a little further.

    The ACCENTED→PLAIN table comes first so every letter Postgres folds is folded the same
    here (it also covers letters that have no Unicode decomposition: "ł", "đ", "ø", "ı").
    A Latin letter the table lacks ("ṃ", "ǎ", a decomposed "e" + U+0301) loses its marks
    through NFKD, and compatibility forms ("ﬁ", full-width "ＣＡＦＥ") become ASCII.
    That NFKD step is taken only where it turns the character into ASCII: a Cyrillic "й",
    a Japanese "ガ" or a Hindi vowel sign would otherwise lose a mark that changes the
    letter, and Postgres keeps those characters as they are. "ß" becomes "ss".

    Postgres does not take the NFKD or "ß" steps, so a title with a letter outside the table
    is indexed unfolded; such letters are rare in shop text, and the table can grow.
    """
    lowered = text.lower()
    if lowered.isascii():
        return lowered
    # NFC first, so a base letter and a separate combining mark meet the table as one.
    folded = unicodedata.normalize("NFC", lowered).translate(_FOLD_TABLE).replace("ß", "ss")
    if folded.isascii():
        return folded
    out: list[str] = []
    for ch in folded:
        if ch.isascii():
            out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category == "Mn":
            # A mark left over after NFC (no precomposed form): drop it from a Latin base.
            if not (out and out[-1].isascii()):
                out.append(ch)
            continue
        plain = "".join(c for c in unicodedata.normalize("NFKD", ch)
                        if unicodedata.category(c) != "Mn")
        out.append(plain if plain and plain.isascii() else ch)
    return "".join(out)


def normalise(raw: str) -> str:
    """Fold, keep only the characters shop words are made of, collapse the spaces.

    "  Trail-Runner, USB-C (2.5m)!" gives "trail-runner usb-c 2.5m". Hyphens, dots and
    apostrophes are kept inside a token and stripped at its edges ("'90s" → "90s",
    "usb-c." → "usb-c", "..." → nothing); "&" and "+" are kept even alone ("h & m", "c++").
    """
    folded = fold(raw).translate(_LOOKALIKES)
    spaced = "".join(ch if ch.isalnum() or ch in _INNER else " " for ch in folded)
    kept = (token.strip(_EDGES) for token in spaced.split())
    return " ".join(token for token in kept if token)


def tokens(text: str) -> list[str]:
    """The tokens of a normalised string (which has single spaces, none at the ends)."""
    return text.split()


def is_stopword(token: str) -> bool:
    """Whether Postgres would drop every part of this token as a stopword.

    Postgres splits "it's" into "it" and "s", both stopwords, so "it's" carries nothing to
    search for either; "men's" keeps "men".
    """
    return all(part in STOPWORDS for part in token.split("'") if part)


def _is_search_term(token: str) -> bool:
    # A lone "&" or "+" has nothing for the text index to match.
    return not is_stopword(token) and any(ch.isalnum() for ch in token)


class InvalidQuery(ValueError):
    """A query the search endpoint refuses, with a stable code for clients to branch on.

    Codes: "empty_query", "query_too_long", "no_search_terms". `message` is a sentence an
    API client can show as it is.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ParsedQuery:
    """A query ready for retrieval.

    raw:   what the client sent, unchanged.
    text:  `normalise(raw)`: what the lexical retriever hands to Postgres.
    terms: the tokens of `text` that can match something (no stopwords, no lone symbols),
           in order of first appearance, each once.
    """

    raw: str
    text: str
    terms: tuple[str, ...]


def parse_query(raw: str, max_chars: int) -> ParsedQuery:
    """Validate and normalise a search query; raise InvalidQuery when it cannot be searched.

    The length limit applies to the raw string and is checked before anything else, so a
    megabyte of input costs one `len` and not a Unicode normalisation.
    """
    if max_chars < 1:
        raise ValueError(f"max_chars must be at least 1, got {max_chars}")
    if len(raw) > max_chars:
        raise InvalidQuery("query_too_long",
                           f"q is {len(raw)} characters long; at most {max_chars} are allowed")
    text = normalise(raw)
    if not text:
        raise InvalidQuery("empty_query",
                           "q has nothing to search for: it is empty or only punctuation")
    terms = tuple(dict.fromkeys(t for t in tokens(text) if _is_search_term(t)))
    if not terms:
        raise InvalidQuery("no_search_terms",
                           f"q ({text!r}) has only common words such as 'the' or 'and' or lone "
                           "symbols; add a word that names what you are looking for")
    return ParsedQuery(raw=raw, text=text, terms=terms)
