"""The embedding cache: unchanged texts are read back, changed ones re-embedded."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from indexing.encoder import SentenceEncoder, embed_with_cache, native_bf16
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


def test_bf16_gives_the_fp32_vectors_to_within_rounding(encoder: SentenceEncoder) -> None:
    texts = ["Trail running shoe, waterproof", "Espresso machine with milk frother",
             "Bloomfield foldable 4-seater rattan corner sofa. Brand: Bloomfield. Category: "
             "Home > Sofas. Tags: outdoor, garden. Weatherproof weave on a steel frame."]
    fp32 = encoder.encode(texts)
    encoder.bf16 = True
    try:
        bf16 = encoder.encode(texts)
    finally:
        encoder.bf16 = False
    cosines = (fp32 * bf16).sum(axis=1)
    assert cosines.min() > 0.999
    assert not np.array_equal(fp32, bf16)  # it did compute in bf16
    np.testing.assert_allclose(np.linalg.norm(bf16, axis=1), 1.0, atol=1e-5)


def test_bf16_is_native_only_with_the_cpu_flags(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("flags\t\t: fpu sse2 avx2 avx512f avx512_bf16 avx512_vnni\n")
    assert native_bf16(info)
    info.write_text("flags\t\t: fpu sse2 avx2 avx512f avx512_vnni\n")
    assert not native_bf16(info)
    assert not native_bf16(tmp_path / "missing")
