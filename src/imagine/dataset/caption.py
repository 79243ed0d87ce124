"""Stage 2, caption: a training caption from the user's caption (text only, before any fetch).

Rules, in order: drop URLs, @mentions and emoji; a hashtag is noise when it is a known
engagement tag (#instagood, #nofilter, ...) and is otherwise kept as its words
(#RedCar -> "red car"); whitespace and stray punctuation are collapsed. The raw caption is kept.
Empty result -> the policy's ``captions.empty`` rule; a caption judged not English -> the
policy's ``captions.non_english`` rule. A training caption over ``captions.max_chars`` is cut at
a word boundary (detail ``caption_truncated:<from>-><to>``) or rejected ``caption_too_long``, per
``captions.too_long``; a raw caption over ``captions.max_raw_chars`` is rejected before cleaning. Language is judged by a transparent heuristic: mostly
non-Latin letters, or more function words of another common language than of English.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyarrow as pa

from imagine.dataset import schema as s
from imagine.dataset.policy import Policy

_URL = re.compile(r"(?:https?://|www\.)\S+|\b\S+\.(?:com|net|org|io|ly|co)(?:/\S*)?\b", re.IGNORECASE)
_MENTION = re.compile(r"(?<!\w)@\w+")
_HASHTAG = re.compile(r"(?<!\w)#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])|(?<=[0-9])(?=[A-Za-z])")
_SPACES = re.compile(r"\s+")
_LEFTOVER = re.compile(r"\s+([,.!?;:])")
_REPEAT_PUNCT = re.compile(r"([,.!?;:])[,.!?;:\s]*(?=[,.!?;:]|$)")

HASHTAG_NOISE = frozenset({
    "instagood", "photooftheday", "nofilter", "love", "instadaily", "picoftheday", "follow",
    "followme", "like4like", "l4l", "f4f", "likeforlike", "followforfollow", "tbt", "igers",
    "instamood", "photography", "photo", "pic", "pics", "repost", "regram", "fyp", "foryou",
    "foryoupage", "viral", "trending", "explore", "explorepage", "ootd", "happy", "cute",
    "beautiful", "amazing", "instalike", "selfie", "me", "today", "weekend", "mood", "vibes",
    "goodvibes", "blessed", "sponsored", "ad", "spon", "throwback", "nofilterneeded",
})

_EN = frozenset("""a an the of and or in on at to with by for from is are was be this that these those my
your our their it its as under over near next above below left right beside behind front some two three
four one into onto up down just very what who here there today we i you he she they me him her them
""".split())
_OTHER = frozenset("""le la les un une des et est avec dans sur sous du au aux ce cette mon ma mes
el los las y con en por para una unos es del al muy
der die das und ist mit ein eine einem einen auf unter neben dem den nicht
il lo gli e con una sono della nel sul
o os as um uma com em no na do da dos das não
de het een en met op van is niet
""".split())


def _is_emoji_or_symbol(ch: str) -> bool:
    cp = ord(ch)
    return (0x1F000 <= cp <= 0x1FAFF or 0x2600 <= cp <= 0x27BF or 0x2B00 <= cp <= 0x2BFF
            or 0xFE00 <= cp <= 0xFE0F or cp == 0x200D or 0x1F1E6 <= cp <= 0x1F1FF or 0xE0020 <= cp <= 0xE007F)


def _hashtag_words(match: re.Match) -> str:
    tag = match.group(1)
    if tag.lower() in HASHTAG_NOISE or tag.isdigit():
        return " "
    words = _CAMEL.sub(" ", tag).replace("_", " ")
    return " " + words.lower() + " "


def clean_caption(raw: str | None) -> str:
    """The training caption for ``raw`` (may be empty)."""
    if not raw:
        return ""
    text = "".join(" " if _is_emoji_or_symbol(ch) else ch for ch in raw)
    text = _URL.sub(" ", text)
    text = _MENTION.sub(" ", text)
    text = re.sub(r"\b(?:RT|via)\s*:?\s*(?=\s|$)", " ", text)
    text = _HASHTAG.sub(_hashtag_words, text)
    text = _SPACES.sub(" ", text).strip()
    text = _LEFTOVER.sub(r"\1", text)
    text = _REPEAT_PUNCT.sub(r"\1", text)
    return text.strip(" ,;:-")


def cut_caption(text: str, max_chars: int) -> str:
    """``text`` cut to at most ``max_chars`` characters, at the last word boundary when there is one."""
    if len(text) <= max_chars:
        return text
    cut = text[:max_chars + 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > max_chars // 2 else text[:max_chars]).rstrip(" ,;:-")


def looks_english(text: str) -> bool:
    """Heuristic language check for a cleaned caption; see the module docstring."""
    letters = [ch for ch in text if ch.isalpha()]
    if not letters:
        return True
    non_latin = sum(1 for ch in letters if ord(ch) > 0x24F)
    if non_latin / len(letters) > 0.3:
        return False
    words = re.findall(r"[^\W\d_]+", text.lower())
    en = sum(w in _EN for w in words)
    other = sum(w in _OTHER for w in words)
    accented = sum(1 for ch in letters if 0xC0 <= ord(ch) <= 0x24F)
    if other > en:
        return False
    # No function words at all, but accented Latin letters: most likely not English.
    return not (en == 0 and accented / len(letters) > 0.05)


@dataclass
class CaptionStage:
    policy: Policy

    def __call__(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        rej = s.Rejections(batch)
        raw = batch.column("caption").to_pylist()
        out: list[str | None] = []
        for i, text in enumerate(raw):
            if not rej.included[i]:
                out.append(None)
                continue
            p = self.policy
            if text is not None and len(text) > p.max_raw_caption_chars:
                rej.reject(i, s.CAPTION_TOO_LONG, f"raw caption {len(text)} > {p.max_raw_caption_chars} characters")
                out.append(None)
                continue
            cleaned = clean_caption(text)
            if len(cleaned) > p.max_caption_chars:
                if p.too_long_caption == "exclude":
                    rej.reject(i, s.CAPTION_TOO_LONG, f"{len(cleaned)} > {p.max_caption_chars} characters")
                    out.append(None)
                    continue
                cut = cut_caption(cleaned, p.max_caption_chars)
                rej.detail[i] = f"caption_truncated:{len(cleaned)}->{len(cut)}"
                cleaned = cut
            if not cleaned:
                if self.policy.empty_caption == "exclude":
                    rej.reject(i, s.CAPTION_EMPTY)
            elif not looks_english(cleaned):
                if self.policy.non_english == "exclude":
                    rej.reject(i, s.CAPTION_NOT_ENGLISH)
                cleaned = ""
            out.append(cleaned)
        batch = s.set_column(batch, "train_caption", pa.array(out, pa.string()))
        return rej.apply(batch)
