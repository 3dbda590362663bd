"""Image models as provider data: the preset rows, saved tables, and what a size means."""

from __future__ import annotations

import pytest

from byecore_cli.config.models import ImageModel, Provider, Settings
from byecore_cli.config.providers import ProviderRequest, build_provider
from byecore_cli.errors import NotFound, UsageError
from byecore_cli.images import catalog
from byecore_cli.providers.presets import PRESETS


@pytest.mark.parametrize("row", [p for p in PRESETS if p.image_models], ids=lambda p: p.name)
def test_every_preset_image_table_is_valid_settings(row):
    for data in row.image_models.values():
        model = ImageModel.model_validate(data)
        assert model.missing_size_tier is None or model.missing_size_tier in model.tiers


def test_the_byecore_preset_carries_the_gateways_image_2_table():
    provider, _ = build_provider(ProviderRequest(name="byecore", key="k"))
    table = catalog.SizeTable("image-2", "byecore", provider.image_models["image-2"])
    assert [(s.size, s.tier, s.price) for s in table.rows()] == [
        ("1024x1024", "1K", 0.05), ("2048x2048", "2K", 0.10), ("1536x1024", "2K", 0.10),
        ("1024x1536", "2K", 0.10), ("3840x2160", "4K", 0.20), ("2160x3840", "4K", 0.20)]
    assert table.cheapest().size == "1024x1024"
    assert table.missing_price() == "2K ($0.10)"


def test_a_provider_without_a_preset_has_no_image_models():
    provider, _ = build_provider(ProviderRequest(name="x", base_url="https://x.example",
                                                 key="k"))
    assert provider.image_models is None and catalog.image_models(provider) == {}


def test_a_provider_saved_before_image_data_gets_its_presets_table():
    old = Provider(base_url="https://api.byecore.com", protocols=["chat"], preset="byecore")
    assert list(catalog.image_models(old)) == ["image-2"]
    none = Provider(base_url="https://api.byecore.com", protocols=["chat"], preset="byecore",
                    image_models={})
    assert catalog.image_models(none) == {}  # said so explicitly: none


def test_a_saved_table_overrides_the_preset_and_is_validated():
    mine = {"image-2": {"tiers": {"small": {"sizes": ["1024x1024"], "price": 0.04}}}}
    provider = Provider(base_url="https://api.byecore.com", protocols=["chat"],
                        preset="byecore", image_models=mine)
    assert catalog.SizeTable("image-2", "p", catalog.image_models(provider)["image-2"]
                             ).resolve("small").price == 0.04
    for bad in ({"tiers": {"1K": {"sizes": ["1024"]}}},
                {"tiers": {"1K": {"sizes": ["1024x1024"]}, "2K": {"sizes": ["1024x1024"]}}},
                {"tiers": {"1K": {"sizes": ["1024x1024"]}}, "missing_size_tier": "2K"},
                {"tiers": {"1K": {"sizes": ["1024x1024"], "price": -1}}}):
        with pytest.raises(ValueError):
            ImageModel.model_validate(bad)


def _table():
    provider, _ = build_provider(ProviderRequest(name="byecore", key="k"))
    return catalog.SizeTable("image-2", "byecore", provider.image_models["image-2"])


@pytest.mark.parametrize(("spec", "size"), [
    ("1024x1024", "1024x1024"), (" 1536 X 1024 ", "1536x1024"), ("1k", "1024x1024"),
    ("2K", "2048x2048"), ("4k", "3840x2160"), ("2160×3840", "2160x3840")])
def test_sizes_and_tier_names_resolve(spec, size):
    assert _table().resolve(spec).size == size


@pytest.mark.parametrize("spec", ["512x512", "8K", "big", "auto"])
def test_an_unlisted_size_is_refused_with_every_valid_one_and_its_price(spec):
    with pytest.raises(UsageError) as caught:
        _table().resolve(spec)
    message = caught.value.message
    assert "1024x1024 (1K, $0.05)" in message and "2160x3840 (4K, $0.20)" in message
    assert "2K ($0.10)" in message  # what sending it anyway would cost


def test_without_a_table_sizes_must_be_wxh():
    table = catalog.SizeTable("m", "p", None)
    assert table.resolve("800X600").size == "800x600" and table.cheapest() is None
    with pytest.raises(UsageError):
        table.resolve("1K")


def _settings(**providers) -> Settings:
    return Settings(providers=providers, default_provider=next(iter(providers)))


def test_choose_and_route_find_the_provider_that_lists_the_model():
    chat = Provider(base_url="https://a.example", protocols=["chat"])
    gw = Provider(base_url="https://api.byecore.com", protocols=["chat"], preset="byecore")
    settings = _settings(chat=chat, gw=gw)
    assert catalog.choose(settings) == ("gw", "image-2")
    assert catalog.choose(settings, "image-2") == ("gw", "image-2")
    assert catalog.choose(settings, "gw/image-2") == ("gw", "image-2")
    assert catalog.choose(settings, "other") == ("chat", "other")  # the default provider
    with pytest.raises(UsageError):
        catalog.choose(settings, provider="chat")  # lists none, and no --model
    with pytest.raises(NotFound):
        catalog.choose(settings, provider="nope")
    assert catalog.route(settings, "image-2")[:2] == ("gw", "image-2")
    assert catalog.route(settings, "chat/x")[:2] == ("chat", "x")
    with pytest.raises(NotFound):
        catalog.route(Settings(), "image-2")


@pytest.mark.parametrize(("price", "text"), [(0.05, "$0.05"), (0.1, "$0.10"), (0.042, "$0.042"),
                                             (2, "$2.00"), (None, "price unknown")])
def test_price_text(price, text):
    assert catalog.price_text(price) == text
