"""Why the cash view and the cohort view of one range differ, in figures.

Over an order's whole history both views count the same refunds. Over a range they do not: the cash view (refunds
by the date the money went back) counts refunds made in the range on orders placed *before* it, and the cohort view
(refunds by their order's date) counts refunds of the range's orders made *after* it (or dated outside it).
:func:`views_difference` measures both parts from the refunds each view counted, so that
``cash − made in the range on earlier orders + made outside the range on its orders = cohort`` holds exactly.
"""

from __future__ import annotations

import polars as pl

from ..money import format_money

__all__ = ["VIEWS_DIFFERENCE_SCHEMA", "explain_views_difference", "views_difference"]

VIEWS_DIFFERENCE_SCHEMA: dict[str, pl.DataType] = {
    "currency": pl.String(),
    "cash_view_minor": pl.Int64(),  # refunds the refund-date view counts over the range
    "cohort_view_minor": pl.Int64(),  # refunds the order-date view counts over the range
    "difference_minor": pl.Int64(),  # cash − cohort
    "only_cash_refunds": pl.Int64(),
    "only_cash_minor": pl.Int64(),  # dated in the range, on orders placed before it (or not known)
    "only_cohort_refunds": pl.Int64(),
    "only_cohort_minor": pl.Int64(),  # on orders placed in the range, dated outside it
}
_KEY = ["kind", "order_id", "refund_id"]


def views_difference(cash_refunds: pl.DataFrame, cohort_refunds: pl.DataFrame) -> pl.DataFrame:
    """Per currency, the refunds each view counts over the same range and the two parts that make them differ
    (:data:`VIEWS_DIFFERENCE_SCHEMA`). Inputs: the refunds each view counted, one row per refund with ``kind,
    order_id, refund_id, currency, amount_minor`` (a report's ``refunds``)."""
    cash = cash_refunds.select(*_KEY, "currency", "amount_minor")
    cohort = cohort_refunds.select(*_KEY, "currency", "amount_minor")

    def total(df: pl.DataFrame, name: str, count: str | None = None) -> pl.DataFrame:
        aggs = [pl.col("amount_minor").sum().cast(pl.Int64).alias(name)]
        if count:
            aggs.append(pl.len().cast(pl.Int64).alias(count))
        return df.group_by("currency").agg(aggs)

    parts = [
        total(cash, "cash_view_minor"),
        total(cohort, "cohort_view_minor"),
        total(cash.join(cohort, on=_KEY, how="anti"), "only_cash_minor", "only_cash_refunds"),
        total(cohort.join(cash, on=_KEY, how="anti"), "only_cohort_minor", "only_cohort_refunds"),
    ]
    currencies = pl.concat([p.select("currency") for p in parts]).unique()
    out = currencies
    for part in parts:
        out = out.join(part, on="currency", how="left")
    out = out.fill_null(0).with_columns(
        (pl.col("cash_view_minor") - pl.col("cohort_view_minor")).alias("difference_minor")
    )
    return out.select([pl.col(c).cast(t) for c, t in VIEWS_DIFFERENCE_SCHEMA.items()]).sort("currency")


def explain_views_difference(diff: pl.DataFrame) -> list[str]:
    """One paragraph per currency saying, with its figures, why the two views differ over the range."""
    out = []
    for r in diff.iter_rows(named=True):
        cur = r["currency"]
        m = {k: format_money(v, cur) for k, v in r.items() if k.endswith("_minor")}
        if not r["only_cash_refunds"] and not r["only_cohort_refunds"]:
            out.append(f"{cur}: both views count the same refunds over this range, {m['cash_view_minor']} in all.")
            continue
        lead = (
            f"{cur}: over this range refunds come to {m['cash_view_minor']} by refund date (cash view) and "
            f"{m['cohort_view_minor']} by order date (cohort view)."
        )
        parts = [lead]
        if r["only_cash_refunds"]:
            parts.append(
                f"{m['only_cash_minor']} ({_refunds(r['only_cash_refunds'])}) went back during the range on orders "
                "placed before it: the cash view counts them here, the cohort view in their orders' periods."
            )
        if r["only_cohort_refunds"]:
            parts.append(
                f"{m['only_cohort_minor']} ({_refunds(r['only_cohort_refunds'])}) belong to orders placed in the "
                "range but are dated outside it: the cohort view counts them here, the cash view in the period they "
                "happened."
            )
        parts.append(
            f"{m['cash_view_minor']} − {m['only_cash_minor']} + {m['only_cohort_minor']} = {m['cohort_view_minor']}."
        )
        out.append(" ".join(parts))
    return out


def _refunds(n: int) -> str:
    return f"{n:,} refund" + ("" if n == 1 else "s")
