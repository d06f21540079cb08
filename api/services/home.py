"""The home page: carousel rows for a shopper, no product shown twice across rows."""

from __future__ import annotations

import msgspec

from api import schemas
from api.resources import Resources
from api.services.catalog import get_product
from api.services.lists import trending
from api.services.recommend import recommend, to_response
from api.services.similar import ItemFilters, similar_items
from models.history import load_history
from ranking.history import anchors, item_confidences, session_anchors


def home_rows(
    resources: Resources, user_id: str, session_id: str | None, per_row: int, request_id: str,
    device_type: str | None = None,
) -> schemas.HomeResponse:
    """"Picked for you", then "Because you viewed X" for the product the shopper cares
    most about right now (the session's latest, else their strongest), then "Trending in
    Y" for that product's category (or trending overall). Each row asks for enough extra
    items to stay full after what earlier rows showed is dropped."""
    rec, version = recommend(resources, user_id, per_row, ItemFilters(), session_id=session_id,
                             device_type=device_type)
    picked = to_response(user_id, rec, version, request_id)
    shown = {item.product_id for item in picked.items}
    rows = [schemas.HomeRow("Picked for you", "picked_for_you", picked.items)]
    if version is None:
        # The fallback answered (no trustworthy index): the other rows need the index.
        return schemas.HomeResponse(user_id=user_id, rows=rows, strategy=picked.strategy,
                                    model_version=None, request_id=request_id)

    settings = resources.settings
    history = load_history(resources.database, user_id, session_id, None,
                           settings.rec_history_events)
    confidences = item_confidences(history.events, settings.event_weights(),
                                   settings.decay_per_day, history.newest or 0.0)
    focus = session_anchors(history.session_events, 1) or anchors(confidences, 1)
    anchor = get_product(resources.database, focus[0][0]) if focus else None
    category = anchor.category if anchor else None
    if anchor is not None:
        similar = similar_items(resources, anchor.product_id, per_row + len(shown),
                                ItemFilters(in_stock=True))
        reason = schemas.Reason("because_you_viewed", anchor.product_id, None)
        items = [schemas.RankedItem(**msgspec.structs.asdict(item), reason=reason)
                 for item in similar.items if item.product_id not in shown][:per_row]
        if items:
            rows.append(schemas.HomeRow(f"Because you viewed {anchor.title}",
                                        "because_you_viewed", items,
                                        product_id=anchor.product_id))
            shown |= {item.product_id for item in items}
    hot = trending(resources, min(per_row + len(shown), settings.max_limit),
                   ItemFilters(category=category))
    hot_items = [item for item in hot.items if item.product_id not in shown][:per_row]
    if hot_items:
        title = f"Trending in {category}" if category else "Trending now"
        rows.append(schemas.HomeRow(title, "trending", hot_items, category=category))
    return schemas.HomeResponse(user_id=user_id, rows=rows, strategy=picked.strategy,
                                model_version=version, request_id=request_id)
