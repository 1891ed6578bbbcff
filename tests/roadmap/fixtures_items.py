"""Members the roadmap item and commitment tests need besides the shared fixtures.

Loaded with ``pytest_plugins = ["tests.roadmap.fixtures_items"]``; never imported directly."""

from __future__ import annotations

import pytest

from alignment.models import Membership, Role


@pytest.fixture
def hop_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(
        org_a, Role.HEAD_OF_PRODUCT, user__email="hop@acme.test", user__full_name="Hana Head"
    )


@pytest.fixture
def pm2_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(org_a, Role.PM, user__email="pm2@acme.test", user__full_name="Other PM")


@pytest.fixture
def csm2_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(org_a, Role.CSM, user__email="csm2@acme.test", user__full_name="Sam Second")


@pytest.fixture
def vp_a(org_a, make_member) -> Membership:  # type: ignore[no-untyped-def]
    return make_member(org_a, Role.VP_CS, user__email="vp@acme.test", user__full_name="Val VP")
