"""One rule for "is this address in those networks": trusted proxies and the loopback exemption of the caps."""

from __future__ import annotations

import pytest

from server.addresses import LOOPBACK, in_networks, networks


@pytest.mark.parametrize("address", ["127.0.0.1", "127.9.9.9", "::1", "::ffff:127.0.0.1", "::ffff:7f00:1"])
def test_every_spelling_of_a_loopback_address_is_loopback(address: str) -> None:
    assert in_networks(address, networks(frozenset(LOOPBACK)))


@pytest.mark.parametrize("address", ["10.0.0.1", "::ffff:10.0.0.1", "2001:db8::1", "", None, "not an address",
                                     "127.0.0.1.evil", "localhost"])
def test_other_addresses_and_non_addresses_are_not_loopback(address: str | None) -> None:
    assert not in_networks(address, networks(frozenset(LOOPBACK)))


def test_a_scope_id_does_not_hide_an_address_from_its_network() -> None:
    assert in_networks("fe80::1%eth0", networks(frozenset({"fe80::/10"})))


def test_a_single_address_is_a_network_of_one_and_junk_is_refused() -> None:
    assert in_networks("192.0.2.7", networks(frozenset({"192.0.2.7"})))
    assert not in_networks("192.0.2.8", networks(frozenset({"192.0.2.7"})))
    with pytest.raises(ValueError):
        networks(frozenset({"proxy.example"}))
