"""Full-text search over the catalog: weighted tsvector columns kept by Postgres itself.

The lexical retriever of search matches shop words exactly (brands, model numbers, tags),
which a sentence embedding blurs. The columns are generated, so every write path (import,
demo generator, admin API) keeps them current inside its own transaction.

Postgres has four weight labels and the shop wants five tiers (title > brand > category >
tags > description), so the description gets a column of its own that ranking weighs
below the four labelled fields; `search_all` holds every field and is what queries match
against through its GIN index.

Without the unaccent extension (the embedded server has none), `lodestar_fold` lowers the
case and strips the accents of Latin letters with `translate`, which is immutable and so
allowed in a generated column; `ranking.query.fold` does the same to queries.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# Kept in step with ranking.query.ACCENTED / PLAIN (a test compares the two).
ACCENTED = "àáâãäåāăąçćčďđèéêëēėęěğìíîïīįıłñńňòóôõöøōőŕřśşšťùúûüūůűųýÿźżž"
PLAIN = "aaaaaaaaacccddeeeeeeeegiiiiiiilnnnoooooooorrssstuuuuuuuuyyzzz"

FIELDS = (
    "setweight(to_tsvector('english'::regconfig, lodestar_fold(title || ' ' || product_id)), 'A')"
    " || setweight(to_tsvector('english'::regconfig, lodestar_fold(brand)), 'B')"
    " || setweight(to_tsvector('english'::regconfig,"
    " lodestar_fold(category || ' ' || subcategory)), 'C')"
    " || setweight(to_tsvector('english'::regconfig, lodestar_fold(lodestar_join(tags))), 'D')"
)
DESCRIPTION = "to_tsvector('english'::regconfig, lodestar_fold(description))"


def upgrade() -> None:
    assert len(ACCENTED) == len(PLAIN)
    # lower() follows the database's locale, which may leave "É" as it is (the C locale),
    # so the upper-case letters are in the table too.
    upper = ACCENTED.upper()
    assert len(upper) == len(ACCENTED)
    op.execute(
        "CREATE FUNCTION lodestar_fold(value text) RETURNS text"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        f" RETURN translate(lower(value), '{ACCENTED}{upper}', '{PLAIN}{PLAIN}')"
    )
    # array_to_string is only STABLE (it goes through each element's output function);
    # for text[] it cannot change, so a wrapper may say IMMUTABLE.
    op.execute(
        "CREATE FUNCTION lodestar_join(value text[]) RETURNS text"
        " LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT"
        " RETURN array_to_string(value, ' ')"
    )
    op.execute(f"ALTER TABLE products ADD COLUMN search_fields tsvector"
               f" GENERATED ALWAYS AS ({FIELDS}) STORED")
    op.execute(f"ALTER TABLE products ADD COLUMN search_description tsvector"
               f" GENERATED ALWAYS AS ({DESCRIPTION}) STORED")
    op.execute(f"ALTER TABLE products ADD COLUMN search_all tsvector"
               f" GENERATED ALWAYS AS (({FIELDS}) || setweight({DESCRIPTION}, 'D')) STORED")
    op.execute("CREATE INDEX ix_products_search_all ON products USING gin (search_all)")


def downgrade() -> None:
    op.execute("DROP INDEX ix_products_search_all")
    for column in ("search_all", "search_description", "search_fields"):
        op.execute(f"ALTER TABLE products DROP COLUMN {column}")
    op.execute("DROP FUNCTION lodestar_join(text[])")
    op.execute("DROP FUNCTION lodestar_fold(text)")
