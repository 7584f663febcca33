"""An order's link to the VTEX Admin: made only from an account name and an order id that can be part of an
address; otherwise no link (never a guessed or a broken one)."""

from __future__ import annotations

import pytest

from refundkit.config import load_settings
from refundkit.errors import ConfigError
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


def test_an_account_whose_admin_lives_elsewhere_sets_the_address() -> None:
    settings = load_settings(
        env={"REFUNDKIT_ADMIN_ORDER_URL": "https://{account}.example.com/admin/checkout/#/orders/{order_id}"},
        env_file=False,
    )
    assert admin_order_url("lojabr", "1306331686122-01", settings.admin_order_url) == (
        "https://lojabr.example.com/admin/checkout/#/orders/1306331686122-01"
    )
    assert load_settings(env={}, env_file=False).admin_order_url is None  # the default form


def test_an_address_that_is_not_https_or_lacks_the_order_is_refused_in_one_line() -> None:
    for bad in (
        "http://{account}.myvtex.com/admin/orders/{order_id}",
        "javascript:alert(1)//{order_id}",
        "https://{account}.myvtex.com/admin/orders/",
        "https://{account}.myvtex.com/{token}/{order_id}",
    ):
        with pytest.raises(
            ConfigError, match=r"REFUNDKIT_ADMIN_ORDER_URL .*give an https:// address with \{order_id\}"
        ):
            load_settings(env={"REFUNDKIT_ADMIN_ORDER_URL": bad}, env_file=False)
