"""Custom identifiers, composite sort keys and hasOne against the real engine, in process."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.client.app import InProcessApp, in_process_app
from tests.client.conftest import FIXTURES

pytestmark = pytest.mark.anyio


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[InProcessApp]:
    async with in_process_app(tmp_path, FIXTURES / "keys_schema.graphql") as served:
        yield served


async def test_single_sort_key_identifier(app: InProcessApp) -> None:
    products = app.client().models.Product
    for region in ("eu", "us", "uk"):
        created = await products.create(sku="SKU-1", region=region, title=f"Widget {region}")
        assert created.errors is None
    got = await products.get(sku="SKU-1", region="eu")
    assert got.data is not None and got.data["title"] == "Widget eu"
    page = await products.list(sku="SKU-1", region={"beginsWith": "u"}, sort_direction="DESC")
    assert [p["region"] for p in page.data] == ["us", "uk"]
    updated = await products.update(sku="SKU-1", region="eu", title="Widget v2")
    assert updated.data is not None and updated.data["title"] == "Widget v2"
    deleted = await products.delete({"sku": "SKU-1", "region": "eu"})
    assert deleted.data is not None and deleted.data["region"] == "eu"
    missing_key = await products.get(sku="SKU-1")
    assert missing_key.data is None and missing_key.errors


async def test_composite_sort_key_condition(app: InProcessApp) -> None:
    orders = app.client().models.Order
    for status, placed in (
        ("OPEN", "2024-01-01T00:00:00.000Z"),
        ("OPEN", "2024-02-01T00:00:00.000Z"),
        ("SHIPPED", "2024-01-15T00:00:00.000Z"),
    ):
        assert (await orders.create(customerId="c1", status=status, placedAt=placed)).errors is None
    page = await orders.list(customerId="c1", statusPlacedAt={"beginsWith": {"status": "OPEN"}})
    assert page.errors is None
    assert [o["placedAt"] for o in page.data] == ["2024-01-01T00:00:00.000Z", "2024-02-01T00:00:00.000Z"]


async def test_has_one_with_references(app: InProcessApp) -> None:
    client = app.client()
    account = (await client.models.Account.create(email="a@example.com")).data
    assert account is not None
    empty = await account.profile()
    assert empty.data is None and empty.errors is None
    await client.models.Profile.create(bio="hello", account=account)
    profile = (await account.profile()).data
    assert profile is not None and profile["bio"] == "hello"
    owner = (await profile.account()).data
    assert owner is not None and owner["email"] == "a@example.com"
    eager = (await client.models.Account.get(id=account["id"], selection_set=["email", "profile.bio"])).data
    assert eager == {"email": "a@example.com", "profile": {"bio": "hello"}}
