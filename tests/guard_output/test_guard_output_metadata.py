"""A1111 ``parameters`` text and IPTC XMP: what other tools read from our files."""

from __future__ import annotations

import pytest

from imagine.guard.metadata import (
    TRAINED_ALGORITHMIC_MEDIA,
    GenerationInfo,
    digital_source_type,
    format_parameters,
    parse_parameters,
    xmp_packet,
)


def test_format_follows_a1111():
    info = GenerationInfo(prompt="a cat", model_id="imagine-v1", seed=1, steps=20, guidance=4.0,
                          sampler="dpmpp", negative_prompt="dog", width=256, height=256)
    assert format_parameters(info) == (
        "a cat\nNegative prompt: dog\n"
        "Steps: 20, Sampler: DPM++ 2M, CFG scale: 4, Seed: 1, Size: 256x256, Model: imagine-v1"
    )


def test_round_trip_with_separators_in_values():
    info = GenerationInfo(prompt="line one, with comma\nline two: colon", model_id="my, model: v2", seed=99,
                          guidance=7.5, sampler="euler", negative_prompt="ugly,\nbad", width=384, height=256)
    parsed = parse_parameters(format_parameters(info))
    assert parsed["prompt"] == info.prompt and parsed["negative_prompt"] == info.negative_prompt
    assert parsed["Model"] == "my, model: v2" and parsed["CFG scale"] == "7.5" and parsed["Sampler"] == "Euler"
    assert parsed["Size"] == "384x256"


def test_parses_text_written_by_automatic1111():
    text = ("masterpiece, a lighthouse at dusk\nNegative prompt: lowres, blurry\n"
            "Steps: 30, Sampler: DPM++ 2M Karras, CFG scale: 7, Seed: 3141592, Size: 512x768, "
            'Model hash: 6ce0161689, Model: v1-5-pruned-emaonly, Lora hashes: "a: 1, b: 2", Version: v1.6.0')
    parsed = parse_parameters(text)
    assert parsed["prompt"] == "masterpiece, a lighthouse at dusk"
    assert parsed["negative_prompt"] == "lowres, blurry"
    assert parsed["Seed"] == "3141592" and parsed["Model hash"] == "6ce0161689"
    assert parsed["Lora hashes"] == "a: 1, b: 2" and parsed["Version"] == "v1.6.0"


def test_prompt_left_out():
    info = GenerationInfo(prompt="secret", model_id="m", seed=1, negative_prompt="hidden")
    text = format_parameters(info, include_prompt=False)
    assert "secret" not in text and "hidden" not in text
    assert parse_parameters(text)["prompt"] == "" and parse_parameters(text)["Seed"] == "1"


def test_not_a1111_is_an_error():
    with pytest.raises(ValueError):
        parse_parameters("just some text")


def test_xmp_digital_source_type():
    xmp = xmp_packet(GenerationInfo(prompt="p", model_id="a<b>&c", seed=1))
    assert digital_source_type(xmp) == TRAINED_ALGORITHMIC_MEDIA
    assert digital_source_type(xmp.encode()) == TRAINED_ALGORITHMIC_MEDIA
    attribute_form = ('<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
                      '<rdf:Description xmlns:Iptc4xmpExt="http://iptc.org/std/Iptc4xmpExt/2008-02-29/" '
                      'Iptc4xmpExt:DigitalSourceType="http://cv.iptc.org/newscodes/digitalsourcetype/digitalCapture"/>'
                      "</rdf:RDF></x:xmpmeta>")
    assert digital_source_type(attribute_form).endswith("digitalCapture")
    assert digital_source_type("<x:xmpmeta broken") is None
