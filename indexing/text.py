"""What the encoder reads of a product: one string built from its fields. Pure."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def product_text(
    title: str,
    brand: str,
    category: str,
    subcategory: str,
    description: str,
    tags: Sequence[str],
) -> str:
    """The text embedded for a product: title first (it carries the most signal and the
    encoder truncates long inputs), then brand and taxonomy, tags, and the description."""
    parts = [title.strip()]
    if brand:
        parts.append(f"Brand: {brand.strip()}")
    taxonomy = " > ".join(p.strip() for p in (category, subcategory) if p and p.strip())
    if taxonomy:
        parts.append(f"Category: {taxonomy}")
    clean_tags = [t.strip() for t in tags if t and t.strip()]
    if clean_tags:
        parts.append("Tags: " + ", ".join(clean_tags))
    if description and description.strip():
        parts.append(description.strip())
    return ". ".join(parts)


def text_hash(text: str) -> bytes:
    """Key of the embedding cache: a product whose text is unchanged is never re-embedded."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()
