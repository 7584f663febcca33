"""An order's link to the VTEX Admin: made only from an account name and an order id that can be part of an
address; otherwise no link (never a guessed or a broken one)."""

from __future__ import annotations

from refundkit.vtex.oms import admin_order_url


def test_an_order_links_to_its_page_in_the_account_s_admin() -> None:
    assert admin_order_url("lojabr", "1306331686122-01") == "https://lojabr.myvtex.com/admin/orders/1306331686122-01"


def test_no_link_from_an_account_or_an_id_that_cannot_be_part_of_an_address() -> None:
    for account, order_id in [
        (None, "1306331686122-01"),
        ("", "1306331686122-01"),
        ("evil.com/x", "1306331686122-01"),
        ("-lojabr", "1306331686122-01"),
        ("lojabr", "../../admin"),
        ("lojabr", "<script>"),
        ("lojabr", ""),
    ]:
        assert admin_order_url(account, order_id) is None, (account, order_id)
