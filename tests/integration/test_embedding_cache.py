"""The embedding cache: unchanged texts are read back, changed ones re-embedded."""

from __future__ import annotations

import numpy as np

from indexing.encoder import SentenceEncoder, embed_with_cache
from models.db import Database


def test_only_new_or_changed_texts_are_encoded(db: Database, encoder: SentenceEncoder) -> None:
    texts = ["Trail running shoe, waterproof", "Espresso machine with milk frother"]
    first, encoded_first = embed_with_cache(db, encoder, texts)
    assert encoded_first == 2
    again, encoded_again = embed_with_cache(db, encoder, texts)
    assert encoded_again == 0
    np.testing.assert_allclose(again, first, rtol=1e-6)

    changed = [texts[0], "Espresso machine, stainless steel", texts[0]]
    vectors, encoded = embed_with_cache(db, encoder, changed)
    assert encoded == 1  # the one new text, once, even though another text repeats
    np.testing.assert_allclose(vectors[0], first[0], rtol=1e-6)
    np.testing.assert_allclose(vectors[2], first[0], rtol=1e-6)
    assert abs(float(np.linalg.norm(vectors[1])) - 1.0) < 1e-5
