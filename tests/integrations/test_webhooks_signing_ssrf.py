"""Webhook signatures and the SSRF guard: pure checks, no database."""

from __future__ import annotations

import time

import pytest

from integrations import signing, ssrf

SECRET = "whsec_test-secret"
BODY = b'{"id":"evt_1","type":"theme.status_changed","data":{"theme":{"id":7}}}'


def test_a_signature_made_by_seam_verifies():
    header = signing.sign(SECRET, BODY)

    assert signing.verify(SECRET, header, BODY) == int(header.split(",")[0][2:])


def test_a_tampered_body_fails_verification():
    header = signing.sign(SECRET, BODY)
    tampered = BODY.replace(b'"id":7', b'"id":8')

    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(SECRET, header, tampered)


def test_a_signature_made_with_another_secret_fails():
    header = signing.sign("whsec_someone-else", BODY)

    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(SECRET, header, BODY)


def test_a_replayed_request_with_an_old_timestamp_fails():
    header = signing.sign(SECRET, BODY, timestamp=int(time.time()) - 301)

    with pytest.raises(signing.SignatureError, match="tolerance"):
        signing.verify(SECRET, header, BODY)


def test_a_changed_timestamp_breaks_the_signature():
    t = int(time.time())
    signature = signing.sign(SECRET, BODY, timestamp=t).split(",")[1]

    with pytest.raises(signing.SignatureError, match="does not match"):
        signing.verify(SECRET, f"t={t + 5},{signature}", BODY)


@pytest.mark.parametrize("header", [None, "", "v1=abc", "t=123", "t=abc,v1=def"])
def test_a_missing_or_malformed_header_fails(header):
    with pytest.raises(signing.SignatureError):
        signing.verify(SECRET, header, BODY)


def test_any_of_several_v1_signatures_may_match():
    t = int(time.time())
    good = signing.sign(SECRET, BODY, timestamp=t).split(",")[1]

    assert signing.verify(SECRET, f"t={t},v1=deadbeef,{good}", BODY) == t


# --- SSRF ------------------------------------------------------------------------------------


@pytest.fixture
def resolves_to(monkeypatch):
    """Make every host name resolve to the given addresses (no real DNS in tests)."""

    def fake(*addresses: str) -> None:
        monkeypatch.setattr(ssrf, "_getaddrinfo", lambda host, port: list(addresses))

    return fake


@pytest.fixture
def production(settings):
    settings.WEBHOOKS_ALLOW_HTTP = False
    settings.WEBHOOKS_ALLOW_LOOPBACK = False
    return settings


def test_a_public_https_url_is_accepted(production, resolves_to):
    resolves_to("93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c")

    target = ssrf.check_url("https://hooks.example.com:8443/seam?x=1")

    assert (target.host, target.port, target.path) == ("hooks.example.com", 8443, "/seam?x=1")
    assert target.addresses[0] == "93.184.215.14"


@pytest.mark.parametrize(
    "address",
    [
        "10.0.0.5",
        "172.16.3.4",
        "192.168.1.10",
        "127.0.0.1",
        "127.1.2.3",
        "::1",
        "169.254.169.254",
        "fe80::1",
        "fd00::1",
        "::ffff:10.0.0.1",
        "::ffff:127.0.0.1",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - the address under test
        "224.0.0.1",
        "ff02::1",
        "198.18.0.1",
    ],
)
def test_a_host_resolving_to_an_internal_address_is_refused(production, resolves_to, address):
    resolves_to(address)

    with pytest.raises(ssrf.UnsafeURLError, match="cannot be sent"):
        ssrf.check_url("https://innocent-looking.example.com/hook")


def test_one_internal_address_among_public_ones_is_enough_to_refuse(production, resolves_to):
    resolves_to("93.184.215.14", "10.1.2.3")

    with pytest.raises(ssrf.UnsafeURLError, match="private"):
        ssrf.check_url("https://mixed.example.com/hook")


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/hook",
        "https://[::1]/hook",
        "https://localhost/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://2130706433/hook",  # 127.0.0.1 written as one number
    ],
)
def test_literal_and_local_names_are_refused_with_real_resolution(production, url):
    with pytest.raises(ssrf.UnsafeURLError):
        ssrf.check_url(url)


def test_plain_http_is_refused_in_production(production, resolves_to):
    resolves_to("93.184.215.14")

    with pytest.raises(ssrf.UnsafeURLError, match="https"):
        ssrf.check_url("http://hooks.example.com/hook")


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://hooks.example.com/x", "https"),
        ("https://user:pw@hooks.example.com/x", "user:password"),
        ("https:///nohost", "no host"),
        ("https://hooks.example.com:99999/x", "not a valid URL"),
    ],
)
def test_malformed_urls_get_a_clear_reason(production, resolves_to, url, message):
    resolves_to("93.184.215.14")

    with pytest.raises(ssrf.UnsafeURLError, match=message):
        ssrf.check_url(url)


def test_loopback_is_allowed_only_when_the_setting_says_so(settings):
    settings.WEBHOOKS_ALLOW_HTTP = True
    settings.WEBHOOKS_ALLOW_LOOPBACK = True

    assert ssrf.check_url("http://127.0.0.1:8999/hook").addresses == ("127.0.0.1",)
    # Loopback only: the rest of the private ranges stay closed.
    with pytest.raises(ssrf.UnsafeURLError):
        ssrf.check_url("http://10.0.0.1/hook")


def test_an_unresolvable_host_is_refused(production, monkeypatch):
    def fail(host, port):
        raise OSError("no such host")

    monkeypatch.setattr(ssrf, "_getaddrinfo", fail)

    with pytest.raises(ssrf.UnsafeURLError, match="could not be resolved"):
        ssrf.check_url("https://nowhere.invalid/hook")
