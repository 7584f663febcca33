"""Master Data search where VTEX leaves the answer open: the sandbox plays each plausible one, set by a flag."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import pytest

from refundkit.errors import BadResponse
from refundkit.sandbox.flags import add_sandbox_flags, config_from_args
from refundkit.vtex import VtexClient


def test_the_flags_set_each_variant(tmp_path: Path) -> None:
    p = argparse.ArgumentParser()
    add_sandbox_flags(p)
    args = p.parse_args(
        ["--memory", "--md-sort-ties", "any", "--md-search-total", "capped", "--md-wildcards", "literal"]
    )
    config = config_from_args(args, cache_dir=tmp_path)
    assert (config.md_sort_ties, config.md_search_total, config.md_wildcards) == ("any", "capped", "literal")
    defaults = config_from_args(p.parse_args(["--memory"]), cache_dir=tmp_path)
    assert (defaults.md_sort_ties, defaults.md_search_total, defaults.md_wildcards) == (
        "by-id",
        "exact",
        "case-sensitive",
    )


def _filled(sandbox_factory: Any, n: int = 120, **config: Any) -> Any:
    """A client of a sandbox whose ``probe`` entity holds ``n`` documents, 50 at each value of ``n``."""
    served = sandbox_factory(**config)
    client = VtexClient(served.settings())
    schema = {"properties": {"n": {"type": "integer"}, "name": {"type": "string"}}, "v-indexed": ["n", "name"]}
    client.masterdata.save_schema("probe", "s", schema)
    for k in range(n):
        doc = {"n": k // 50, "name": "Apc-1" if k == 0 else f"x{k}"}
        client.masterdata.put("probe", f"d{k:03d}", doc, schema="s")
    return client


@pytest.mark.parametrize("ties", ["by-id", "any"])
def test_ties_come_in_one_order_or_in_each_requests_own(sandbox_factory: Any, ties: str) -> None:
    with _filled(sandbox_factory, md_sort_ties=ties) as client:
        orders = {
            tuple(
                d["id"]
                for d in client.masterdata.search_page("probe", 0, 50, fields=("id",), schema="s", sort="n ASC")[0]
            )
            for _ in range(4)
        }
        assert all(len(o) == 50 for o in orders)
        assert len(orders) == (1 if ties == "by-id" else 4)
        for o in orders:  # the sort itself is kept: the first 50 are the n=0 documents
            assert set(o) == {f"d{k:03d}" for k in range(50)}


@pytest.mark.parametrize(("said", "total"), [("exact", 120), ("missing", None), ("capped", 120), ("rounded", 120)])
def test_the_total_as_rest_content_range_says_it(sandbox_factory: Any, said: str, total: int | None) -> None:
    with _filled(sandbox_factory, md_search_total=said) as client:
        docs, told = client.masterdata.search_page("probe", 0, 10, fields=("id",), schema="s")
        assert len(docs) == 10 and told == total
        _, some = client.masterdata.search_page("probe", 0, 10, fields=("id",), schema="s", where="n <> 9")
        assert some == (None if said == "missing" else 120)


def test_a_capped_or_rounded_total_is_wrong_past_300(sandbox_factory: Any) -> None:
    for said, told in (("capped", 300), ("rounded", 340), ("exact", 345)):
        with _filled(sandbox_factory, 345, md_search_total=said) as client:
            assert client.masterdata.search_page("probe", 0, 1, fields=("id",), schema="s")[1] == told


@pytest.mark.parametrize(
    ("wildcards", "found"),
    [("case-sensitive", ["d000"]), ("case-insensitive", ["d000"]), ("literal", []), ("refused", None)],
)
def test_a_wildcard_as_each_account_may_take_it(sandbox_factory: Any, wildcards: str, found: list[str] | None) -> None:
    with _filled(sandbox_factory, 3, md_wildcards=wildcards) as client:

        def ids(where: str) -> list[str] | None:
            try:
                return [
                    d["id"]
                    for d in client.masterdata.search_page("probe", 0, 10, fields=("id",), schema="s", where=where)[0]
                ]
            except BadResponse as exc:
                assert exc.status == 400
                return None

        assert ids('name="*pc*"') == found
        assert ids('name="*PC*"') == (
            ["d000"] if wildcards == "case-insensitive" else [] if found is not None else None
        )
        assert ids('name="Apc-1"') == ["d000"]  # no wildcard: found everywhere
