"""The egress policy, pure: which hosts and addresses a webhook may reach. Nothing here resolves or connects."""

from __future__ import annotations

from ipaddress import ip_address

import msgspec
import pytest

from callcenter_ari.webhooks.egress import EgressPolicy, literal_address
from callcenter_ari.webhooks.model import WebhookSettings

DEFAULT = EgressPolicy.from_allow(())


class TestLiterals:
    @pytest.mark.parametrize(
        ("host", "address"),
        [
            ("127.0.0.1", "127.0.0.1"),
            ("2130706433", "127.0.0.1"),  # one 32-bit number, as inet_aton (and so getaddrinfo) reads it
            ("0x7f.1", "127.0.0.1"),  # hex, then the last part fills the three bytes left
            ("0x7F000001", "127.0.0.1"),
            ("0177.0.0.1", "127.0.0.1"),  # octal
            ("127.1", "127.0.0.1"),
            ("10.1.258", "10.1.1.2"),  # a.b.c: the last part fills two bytes
            ("0", "0.0.0.0"),
            ("127.0.0.1.", "127.0.0.1"),  # a trailing dot
            ("::1", "::1"),
            ("::ffff:127.0.0.1", "::ffff:127.0.0.1"),
            ("fe80::1%25eth0", "fe80::1%eth0"),  # a zone id, percent-encoded as in a URL
        ],
    )
    def test_every_spelling_of_an_address_is_read_as_one(self, host: str, address: str) -> None:
        assert literal_address(host) == ip_address(address)

    @pytest.mark.parametrize("host", ["crm.example", "0x7g.1", "1.2.3.4.5", "256.1.1.1", "09.1.1.1", "", "1..2"])
    def test_names_and_impossible_numbers_are_not_addresses(self, host: str) -> None:
        assert literal_address(host) is None


class TestRefusedByDefault:
    @pytest.mark.parametrize(
        ("address", "why"),
        [
            ("127.0.0.1", "loopback"),
            ("127.255.0.9", "loopback"),
            ("::1", "loopback"),
            ("0.0.0.0", "unspecified"),
            ("::", "unspecified"),
            ("169.254.169.254", "link-local"),  # the cloud metadata service
            ("fe80::1", "link-local"),
            ("10.0.0.1", "private"),
            ("172.16.5.4", "private"),
            ("192.168.1.1", "private"),
            ("fd12:3456::1", "private"),
            ("224.0.0.1", "multicast"),
            ("ff02::1", "multicast"),
            ("255.255.255.255", "reserved"),
            ("240.0.0.1", "reserved"),
            ("100.64.0.1", "not a public address"),  # carrier-grade NAT
            ("192.0.2.1", "private"),  # documentation
            ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
            ("::ffff:10.0.0.1", "private"),
            ("2002:7f00:1::", "loopback"),  # 6to4 around 127.0.0.1
            ("64:ff9b::7f00:1", "reserved"),  # NAT64 around 127.0.0.1
            ("::127.0.0.1", "reserved"),  # IPv4-compatible (deprecated)
        ],
    )
    def test_internal_addresses_are_refused_with_their_kind(self, address: str, why: str) -> None:
        assert DEFAULT.refusal("crm.example", [ip_address(address)]) == why

    @pytest.mark.parametrize(
        "address", ["93.184.215.14", "2606:4700::1111", "::ffff:93.184.215.14", "2002:5db8:d70e::"]
    )
    def test_public_addresses_are_allowed(self, address: str) -> None:
        assert DEFAULT.refusal("crm.example", [ip_address(address)]) is None

    def test_one_internal_address_among_public_ones_refuses_the_host(self) -> None:
        """A name answering with a public and a private address could be connected to either."""
        addresses = [ip_address("93.184.215.14"), ip_address("10.0.0.1")]
        assert DEFAULT.refusal("crm.example", addresses) == "private"

    def test_a_host_with_no_address_is_refused(self) -> None:
        assert DEFAULT.refusal("crm.example", []) == "no address"

    @pytest.mark.parametrize("host", ["localhost", "LOCALHOST.", "api.localhost", "localhost.localdomain"])
    def test_localhost_names_are_refused_before_any_lookup(self, host: str) -> None:
        assert DEFAULT.name_refusal(host) == "loopback"
        assert DEFAULT.name_refusal("crm.example") is None


class TestAllowList:
    def test_an_allowed_network_lets_its_addresses_through_and_no_other(self) -> None:
        policy = EgressPolicy.from_allow(["10.20.0.0/16", "127.0.0.1", "fd00::/8"])
        assert policy.refusal("crm", [ip_address("10.20.3.4")]) is None
        assert policy.refusal("crm", [ip_address("::ffff:10.20.3.4")]) is None  # the same address, mapped
        assert policy.refusal("crm", [ip_address("127.0.0.1")]) is None
        assert policy.refusal("crm", [ip_address("fd12::1")]) is None
        assert policy.refusal("crm", [ip_address("10.21.0.1")]) == "private"
        assert policy.refusal("crm", [ip_address("127.0.0.2")]) == "loopback"

    def test_an_allowed_host_name_may_resolve_to_anything(self) -> None:
        """The operator names their CRM on the private network; its own addresses are theirs to choose."""
        policy = EgressPolicy.from_allow(["CRM.corp.example."])
        assert policy.refusal("crm.corp.example", [ip_address("10.9.9.9")]) is None
        assert policy.name_refusal("crm.corp.example") is None
        assert policy.refusal("other.corp.example", [ip_address("10.9.9.9")]) == "private"

    def test_an_allowed_localhost_name_is_allowed(self) -> None:
        assert EgressPolicy.from_allow(["localhost"]).name_refusal("localhost") is None

    @pytest.mark.parametrize("bad", ["10.0.0.0/33", "not a host!", "", "http://crm.example", "10.0.0.1/8"])
    def test_an_entry_that_is_neither_a_network_nor_a_host_name_is_refused(self, bad: str) -> None:
        with pytest.raises(ValueError, match="egress_allow"):
            EgressPolicy.from_allow([bad])

    def test_the_settings_check_their_allow_list(self) -> None:
        assert WebhookSettings(egress_allow=("10.0.0.0/8", "crm.corp.example")).egress_allow
        with pytest.raises(msgspec.ValidationError, match="egress_allow"):
            msgspec.convert({"egress_allow": ["10.0.0.0/99"]}, WebhookSettings)
