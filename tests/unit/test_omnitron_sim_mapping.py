"""``mapped_products`` reads the attribute set layout through the store's memo: a write made
after a read must show in the next answer."""

from __future__ import annotations

import warnings
from pathlib import Path

from starlette.testclient import TestClient

from channel_app_template.sandbox.omnitron.app import create_app, sim_from
from channel_app_template.sandbox.omnitron.seed import seed_catalog

CH = "/api/v1/channel/1"


def _client(tmp_path: Path) -> TestClient:
    asgi = create_app(str(tmp_path / "state.db"))
    seed_catalog(sim_from(asgi).store, 6)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        client = TestClient(asgi)
    key = client.post(
        "/api/v1/auth/login/", json={"username": "sandbox", "password": "sandbox"}
    ).json()["key"]
    client.headers["Authorization"] = f"Token {key}"
    return client


def test_mapped_product_sees_a_value_label_changed_after_a_read(tmp_path: Path) -> None:
    client = _client(tmp_path)
    before = client.get(f"{CH}/mapped_products/1/").json()["mapped_attribute_values"]["1"]
    value = client.get(f"{CH}/attribute_values/?attribute=1&value={before['value']}").json()
    pk = value["results"][0]["pk"]
    assert (
        client.patch(f"{CH}/attribute_values/{pk}/", json={"label": "Renamed"}).status_code == 200
    )
    after = client.get(f"{CH}/mapped_products/1/").json()["mapped_attribute_values"]["1"]
    assert before["label"] != "Renamed" and after["label"] == "Renamed"


def test_mapped_product_sees_attribute_set_configs_moved_after_a_read(tmp_path: Path) -> None:
    client = _client(tmp_path)
    assert client.get(f"{CH}/mapped_products/2/").status_code == 200
    configs = client.get(f"{CH}/attribute_set_configs/?limit=500").json()["results"]
    for config in configs:
        moved = client.patch(
            f"{CH}/attribute_set_configs/{config['pk']}/", json={"object_id": 999_999}
        )
        assert moved.status_code == 200
    answer = client.get(f"{CH}/mapped_products/2/")
    assert answer.status_code == 406 and "no attribute set" in answer.json()["error"]
