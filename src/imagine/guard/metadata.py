"""What a delivered image says about itself in plain metadata: A1111 ``parameters`` text and IPTC XMP.

The ``parameters`` text follows the AUTOMATIC1111 convention so existing tools (PNG Info tabs,
sd-parsers, Civitai) read our prompts, seeds and settings; the XMP packet carries the IPTC
``DigitalSourceType`` that marks the image as made by a trained model. Both are easily stripped:
the watermark and the C2PA manifest are what survive (or show tampering).
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from datetime import datetime, timezone

TRAINED_ALGORITHMIC_MEDIA = "http://cv.iptc.org/newscodes/digitalsourcetype/trainedAlgorithmicMedia"
# An edit: the input's pixels combined with a trained model's (IPTC's term for AI-edited media).
COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA = \
    "http://cv.iptc.org/newscodes/digitalsourcetype/compositeWithTrainedAlgorithmicMedia"
XMP_KEY = "XML:com.adobe.xmp"  # the PNG iTXt keyword Adobe's XMP spec assigns
PARAMETERS_KEY = "parameters"  # the PNG tEXt keyword AUTOMATIC1111 uses
IPTC_EXT = "http://iptc.org/std/Iptc4xmpExt/2008-02-29/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"

# Our sampler registry names -> the names A1111 prints, so other tools recognise them.
A1111_SAMPLERS: dict[str, str] = {"dpmpp": "DPM++ 2M", "unipc": "UniPC", "euler": "Euler", "ddim": "DDIM"}


@dataclass(frozen=True)
class SourceImage:
    """The input of an edit, recorded as the C2PA ingredient (``parentOf``): its bytes as uploaded, their
    MIME type and a title (the upload's file name, or the gallery image it came from)."""

    data: bytes = field(repr=False)
    mime: str = "image/png"
    title: str = "input.png"


@dataclass
class GenerationInfo:
    """Everything provenance records about one delivered image.

    ``generation_id`` (32 bits) is what the watermark carries; `provenance.stamp` draws a fresh one
    when it is None. ``width``/``height`` are the delivered size, filled in by `stamp`. An edit carries its
    ``source`` (the C2PA ingredient) and ``strength`` (A1111's "Denoising strength").
    """

    prompt: str
    model_id: str
    seed: int
    steps: int = 20
    guidance: float = 4.0
    sampler: str = "dpmpp"
    negative_prompt: str | None = None
    generation_id: int | None = None
    width: int | None = None
    height: int | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    source: SourceImage | None = None
    strength: float | None = None

    @property
    def digital_source_type(self) -> str:
        return TRAINED_ALGORITHMIC_MEDIA if self.source is None else COMPOSITE_WITH_TRAINED_ALGORITHMIC_MEDIA


def format_parameters(info: GenerationInfo, *, include_prompt: bool = True) -> str:
    """The A1111 ``parameters`` text; without the prompt (and negative prompt) when asked, for privacy."""
    lines: list[str] = []
    if include_prompt:
        lines.append(info.prompt)
        if info.negative_prompt:
            lines.append(f"Negative prompt: {info.negative_prompt}")
    fields = {
        "Steps": info.steps,
        "Sampler": A1111_SAMPLERS.get(info.sampler, info.sampler),
        "CFG scale": f"{info.guidance:g}",
        "Seed": info.seed,
        "Denoising strength": f"{info.strength:g}" if info.strength is not None else None,
        "Size": f"{info.width}x{info.height}" if info.width and info.height else None,
        "Model": info.model_id,
    }
    lines.append(", ".join(f"{k}: {_quote(str(v))}" for k, v in fields.items() if v is not None))
    return "\n".join(lines)


def _quote(value: str) -> str:
    # A1111 quotes values that contain its separators.
    return f'"{value}"' if ("," in value or ":" in value or '"' in value) else value


_FIELD = re.compile(r'\s*([\w ][\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)')


def parse_parameters(text: str) -> dict[str, str]:
    """Parse A1111 ``parameters`` text into ``{"prompt", "negative_prompt", "Steps", "Seed", ...}``.

    The last line holds the ``Key: value`` pairs; lines before it are the prompt, and a line
    starting ``Negative prompt:`` begins the negative prompt. A missing prompt is an empty string.
    """
    lines = text.strip("\n").split("\n")
    if not lines or not _FIELD.match(lines[-1]) or "Steps:" not in lines[-1]:
        raise ValueError("not AUTOMATIC1111 parameters: the last line must hold 'Steps: ...' fields")
    out: dict[str, str] = {}
    for key, value in _FIELD.findall(lines[-1]):
        value = value.strip()
        if value.startswith('"') and value.endswith('"'):
            value = value[1:-1]
        out[key.strip()] = value
    prompt, negative, in_negative = [], [], False
    for line in lines[:-1]:
        if line.startswith("Negative prompt:"):
            in_negative = True
            line = line[len("Negative prompt:"):].strip()
        (negative if in_negative else prompt).append(line)
    out["prompt"] = "\n".join(prompt)
    out["negative_prompt"] = "\n".join(negative)
    return out


def xmp_packet(info: GenerationInfo) -> str:
    """An XMP packet with IPTC ``DigitalSourceType`` (trainedAlgorithmicMedia, or compositeWith... for an edit)
    and the creating tool."""
    created = info.created_at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        f' <rdf:RDF xmlns:rdf="{RDF}">\n'
        '  <rdf:Description rdf:about=""\n'
        f'    xmlns:Iptc4xmpExt="{IPTC_EXT}"\n'
        '    xmlns:xmp="http://ns.adobe.com/xap/1.0/">\n'
        f"   <Iptc4xmpExt:DigitalSourceType>{info.digital_source_type}</Iptc4xmpExt:DigitalSourceType>\n"
        f"   <xmp:CreatorTool>imagine ({_xml_escape(info.model_id)})</xmp:CreatorTool>\n"
        f"   <xmp:CreateDate>{created}</xmp:CreateDate>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )


def _xml_escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def digital_source_type(xmp: str | bytes) -> str | None:
    """The IPTC DigitalSourceType in an XMP packet (element or attribute form), or None."""
    if isinstance(xmp, bytes):
        xmp = xmp.decode("utf-8", errors="replace")
    start, end = xmp.find("<x:xmpmeta"), xmp.rfind("</x:xmpmeta>")
    if start < 0 or end < 0:
        return None
    try:
        root = ET.fromstring(xmp[start:end + len("</x:xmpmeta>")])
    except ET.ParseError:
        return None
    tag = f"{{{IPTC_EXT}}}DigitalSourceType"
    for desc in root.iter(f"{{{RDF}}}Description"):
        if tag in desc.attrib:
            return desc.attrib[tag]
        element = desc.find(tag)
        if element is not None and element.text:
            return element.text.strip()
    return None
