"""The recaption stage: descriptive captions from the pixels (never the scene records), pluggable, scrubbed."""

from __future__ import annotations

import json
import random
from collections import Counter

import pyarrow.parquet as pq
import pytest

from imagine.dataset.recaption import (
    COLUMN,
    SceneCheckerCaptioner,
    TransformersCaptioner,
    load_captioner,
    scene_from_detections,
    scrub_held_out,
)
from imagine.platform.captions import uses_held_out_words
from imagine.platform.checker import SceneChecker
from imagine.platform.render import render_scene
from imagine.platform.scenes import Scene, sample_scene


def _looks(scene: Scene) -> Counter:
    return Counter((o.kind, o.colour, o.upside_down) for o in scene.objects)


def _relations(scene: Scene) -> set:
    name = lambda o: (o.kind, o.colour)  # noqa: E731
    return {(name(scene.objects[i]), rel, name(scene.objects[j])) for i, rel, j in scene.relations()}


def test_the_demo_captioner_describes_what_true_renders_show():
    """On true renders the detections rebuild the scene: objects, colours, background and relations."""
    rng = random.Random(11)
    scenes = [sample_scene(rng) for _ in range(60)]
    images = [render_scene(sc, 64) for sc in scenes]
    seen = [scene_from_detections(d, bg) for d, bg in SceneChecker.load().detect(images)]
    looks = sum(s is not None and _looks(s) == _looks(t) and s.background == t.background for s, t in zip(seen, scenes))
    # Relations between objects that look different (what captions state), only where the looks were right.
    rel_ok = [_relations(s) == _relations(t) for s, t in zip(seen, scenes)
              if s is not None and _looks(s) == _looks(t) and len({(o.kind, o.colour) for o in t.objects}) == len(t.objects)]
    assert looks / len(scenes) >= 0.95
    assert sum(rel_ok) / len(rel_ok) >= 0.85

    captions = SceneCheckerCaptioner().describe(images)
    for scene, text in zip(scenes, captions):
        assert text is not None and scene.background in text
        assert not uses_held_out_words(text)
    assert captions == SceneCheckerCaptioner().describe(images)  # same pixels, same words


def test_a_two_object_caption_names_both_and_where_they_are():
    from imagine.platform.scenes import SceneObject

    scene = Scene("grass", (SceneObject("car", "red", (0.05, 0.35, 0.4, 0.7)), SceneObject("tree", "blue", (0.6, 0.3, 0.95, 0.65))))
    [text] = SceneCheckerCaptioner().describe([render_scene(scene, 64)])
    assert text.startswith("a red car and a blue tree on a grass background; ")
    clause = text.split("; ", 1)[1]
    # Every wording of the relation keeps its direction.
    assert clause in {"the red car is to the left of the blue tree", "the blue tree has the red car on its left",
                      "the red car sits left of the blue tree"}


def test_held_out_words_are_scrubbed_from_descriptive_captions():
    assert scrub_held_out("A crimson automobile and two azure disks by the coast") == "A red car and two blue circles by the beach"
    assert uses_held_out_words(scrub_held_out("an inverted lemon valentine, ebony conifers")) == []
    assert scrub_held_out("a reddish shape") == "a reddish shape"  # words, not substrings


def test_load_captioner_rejects_what_it_cannot_load(tmp_path):
    assert load_captioner("none") is None and load_captioner(None) is None
    assert isinstance(load_captioner("checker"), SceneCheckerCaptioner)
    with pytest.raises(ValueError, match="config.json"):
        load_captioner(tmp_path / "nothing-here")


@pytest.fixture(scope="module")
def demo_build(tmp_path_factory):
    """A demo platform export whose scene records are deleted before the build: the captioner has only pixels."""
    from imagine.dataset.build import build_dataset
    from imagine.platform.demo import generate_demo

    root = tmp_path_factory.mktemp("recaption")
    generate_demo(root / "platform", posts=120, seed=3, progress=False, workers=1)
    scenes = {r["post_id"]: Scene.from_json(r["scene_json"]) for r in pq.read_table(root / "platform" / "scenes.parquet").to_pylist()}
    (root / "platform" / "scenes.parquet").unlink()
    (root / "platform" / "truth.parquet").unlink()
    report = build_dataset(root / "platform" / "posts.parquet", root / "platform" / "owners.parquet", None,
                           root / "dataset", progress=False)
    return root, report, scenes


def test_the_build_writes_descriptive_captions_and_records_the_captioner(demo_build):
    from imagine.dataset.versions import open_images

    root, report, scenes = demo_build
    rows = open_images(root / "dataset").to_table(columns=["post_id", "caption", COLUMN]).to_pylist()
    # Every kept post is described (the demo photos are not square: the caption describes the centre crop
    # the model trains on, which may cut off an object the scene record and the user's caption still name;
    # how right the words are is measured on true renders above).
    assert rows and all(r[COLUMN] and " background" in r[COLUMN] for r in rows)
    assert {r["post_id"] for r in rows} <= set(scenes)
    assert all(not uses_held_out_words(r[COLUMN]) for r in rows)
    card = json.loads((report.card_dir / "card.json").read_text())
    assert card["captioner"] == {"id": "scene-checker", "version": SceneCheckerCaptioner().version}
    assert "scene-checker" in (report.card_dir / "CARD.md").read_text()


def _tiny_image_to_text(folder):
    """A random ViT -> GPT-2 captioner whose vocabulary is mostly held-out words, saved as a local folder."""
    import torch
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (GPT2Config, GPT2LMHeadModel, PreTrainedTokenizerFast, VisionEncoderDecoderModel,
                              ViTConfig, ViTImageProcessor, ViTModel)

    from imagine.platform.captions import HELD_OUT_SYNONYMS

    words = ["[PAD]", "[BOS]", "[EOS]", "[UNK]", "a", "and", *sorted(set(HELD_OUT_SYNONYMS.values()))]
    tok = Tokenizer(models.WordLevel({w: i for i, w in enumerate(words)}, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=tok, pad_token="[PAD]", bos_token="[BOS]", eos_token="[EOS]",
                                        unk_token="[UNK]")
    torch.manual_seed(0)
    encoder = ViTModel(ViTConfig(image_size=32, patch_size=8, hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                 intermediate_size=64))
    decoder = GPT2LMHeadModel(GPT2Config(vocab_size=len(words), n_positions=64, n_embd=32, n_layer=1, n_head=2,
                                         add_cross_attention=True, bos_token_id=1, eos_token_id=2, pad_token_id=0))
    model = VisionEncoderDecoderModel(encoder=encoder, decoder=decoder)
    model.config.decoder_start_token_id, model.config.pad_token_id, model.config.eos_token_id = 1, 0, 2
    model.generation_config.decoder_start_token_id = 1
    model.generation_config.pad_token_id, model.generation_config.eos_token_id = 0, 2
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    ViTImageProcessor(size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def test_an_operators_image_to_text_folder_plugs_in_and_its_words_are_scrubbed(tmp_path):
    import pyarrow as pa

    from imagine.dataset.recaption import RecaptionStage
    from imagine.dataset.transform import png_bytes

    folder = _tiny_image_to_text(tmp_path / "my-captioner")
    captioner = load_captioner(folder)
    assert isinstance(captioner, TransformersCaptioner)
    assert captioner.id == "my-captioner" and len(captioner.version) == 12
    rng = random.Random(0)
    images = [render_scene(sample_scene(rng), 64) for _ in range(5)]
    raw = captioner.describe(images)
    assert len(raw) == 5 and sum(bool(uses_held_out_words(t or "")) for t in raw) >= 1  # this model says "crimson"
    batch = pa.RecordBatch.from_pydict({
        "included": [True, False, True, True, True, True],
        "image": [png_bytes(images[0]), None, *(png_bytes(im) for im in images[1:])],
    })
    out = RecaptionStage(captioner)(batch).column(COLUMN).to_pylist()
    assert out[1] is None  # an excluded row is never described
    described = [t for t in out if t]
    assert described and all(not uses_held_out_words(t) for t in described)
