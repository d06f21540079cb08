"""The home page for one request: each row's list fetched, then composed by ranking.home."""

from __future__ import annotations

from api import schemas
from api.resources import Resources
from api.services.buy_again import buy_again
from api.services.lists import trending
from api.services.present import present
from api.services.recommend import recommend
from api.services.similar import similar_items
from models.catalog import product_row
from models.history import load_history
from ranking import home
from ranking.reasons import (
    BECAUSE_YOU_VIEWED_ROW,
    BUY_AGAIN_ROW,
    PICKED_FOR_YOU_ROW,
    TRENDING_ROW,
    home_row_title,
)
from retrieval.filters import ItemFilters
from retrieval.results import listed


def home_rows(
    resources: Resources, user_id: str, session_id: str | None, per_row: int, request_id: str,
    device_type: str | None = None,
) -> schemas.HomeResponse:
    """"Picked for you", "Buy it again" (when something is due), "Because you viewed X"
    and "Trending in Y", no product twice. Each
    row asks for enough extra items to stay full after what earlier rows showed is dropped."""
    picked = recommend(resources, user_id, per_row, ItemFilters(), session_id=session_id,
                       device_type=device_type)
    rows = [schemas.HomeRow(home_row_title(PICKED_FOR_YOU_ROW), PICKED_FOR_YOU_ROW,
                            present(picked, schemas.RankedItem))]
    shown = set(picked.product_ids)

    def response() -> schemas.HomeResponse:
        return schemas.HomeResponse(user_id=user_id, rows=rows, strategy=picked.strategy,
                                    model_version=picked.version, request_id=request_id)

    if picked.version is None:
        # The fallback answered (no trustworthy index): the other rows need the index.
        return response()

    settings = resources.settings
    history = load_history(resources.database, user_id, session_id, None,
                           settings.rec.history_events)
    blocked = history.blocked
    again = buy_again(resources, user_id, per_row + len(shown), blocked)
    again_items = home.unseen(again.items, shown, per_row)
    if again_items:
        rows.append(schemas.HomeRow(home_row_title(BUY_AGAIN_ROW), BUY_AGAIN_ROW,
                                    present(listed(again_items, again.shown, again.strategy,
                                                   again.version), schemas.RankedItem)))
        shown |= {item.product_id for item in again_items}
    focus = home.focus_product(history, settings.training.event_weights(),
                               settings.training.decay_per_day)
    anchor = product_row(resources.database, focus) if focus else None
    category = anchor.category if anchor else None
    if anchor is not None:
        similar = similar_items(resources, anchor.product_id, per_row + len(shown),
                                ItemFilters(in_stock=True), blocked)
        items = home.because_you_viewed(home.unseen(similar.items, shown, per_row),
                                        anchor.product_id)
        if items:
            rows.append(schemas.HomeRow(
                home_row_title(BECAUSE_YOU_VIEWED_ROW, product_title=anchor.title),
                BECAUSE_YOU_VIEWED_ROW,
                present(listed(items, similar.shown, similar.strategy, similar.version),
                        schemas.RankedItem),
                product_id=anchor.product_id))
            shown |= {item.product_id for item in items}
    hot = trending(resources, min(per_row + len(shown) + len(blocked),
                                  settings.serving.max_limit), ItemFilters(category=category))
    hot_items = home.unseen(hot.items, shown | blocked, per_row)
    if hot_items:
        rows.append(schemas.HomeRow(
            home_row_title(TRENDING_ROW, category=category), TRENDING_ROW,
            present(listed(hot_items, hot.shown, hot.strategy, hot.version),
                    schemas.RankedItem),
            category=category))
    return response()
