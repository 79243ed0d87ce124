"""The development CA, operator-configured signing chains, and the issued-id ledger."""

from __future__ import annotations

import io
from concurrent.futures import ThreadPoolExecutor

import pytest
from cryptography import x509
from PIL import Image

from imagine.guard.c2pa_sign import SigningConfig, read_c2pa, sign_png
from imagine.guard.devca import DOCUMENT_SIGNING, _make_chain, ensure_dev_ca
from imagine.guard.ledger import Ledger
from imagine.guard.metadata import GenerationInfo


def _png() -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (256, 256), (90, 140, 200)).save(buf, "PNG")
    return buf.getvalue()


def test_dev_ca_is_made_once_with_the_extensions_c2pa_requires(tmp_path):
    ca = ensure_dev_ca(tmp_path / "devca")
    first = ca.chain.read_bytes()
    assert ensure_dev_ca(tmp_path / "devca").chain.read_bytes() == first
    assert (ca.key.stat().st_mode & 0o777) == 0o600
    leaf, root = x509.load_pem_x509_certificates(first)
    assert leaf.issuer == root.subject and leaf.subject != root.subject  # not self-signed
    assert not leaf.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert leaf.extensions.get_extension_for_class(x509.KeyUsage).value.digital_signature
    assert DOCUMENT_SIGNING in leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value


def test_concurrent_first_use_yields_one_consistent_ca(tmp_path):
    with ThreadPoolExecutor(4) as pool:
        cas = list(pool.map(lambda _: ensure_dev_ca(tmp_path / "devca"), range(4)))
    chain, key = cas[0].chain.read_bytes(), cas[0].key.read_bytes()
    config = SigningConfig(chain, key, trust_anchors_pem=cas[0].root.read_text())
    signed = sign_png(_png(), GenerationInfo(prompt="p", model_id="m", seed=1), config)
    assert read_c2pa(signed, config.trust_anchors_pem).state == "valid"
    assert list((tmp_path).iterdir()) == [tmp_path / "devca"]  # no temporary folders left behind


def test_operator_chain_is_used_and_trusted_only_when_anchored(data_home, monkeypatch, tmp_path):
    from imagine.config import get_settings

    root_pem, chain_pem, key_pem = _make_chain()
    (tmp_path / "chain.pem").write_bytes(chain_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    (tmp_path / "root.pem").write_bytes(root_pem)
    monkeypatch.setenv("IMAGINE_GUARD__C2PA_CERT", str(tmp_path / "chain.pem"))
    monkeypatch.setenv("IMAGINE_GUARD__C2PA_KEY", str(tmp_path / "key.pem"))
    get_settings.cache_clear()
    config = SigningConfig.from_settings()
    assert config.chain_pem == chain_pem
    signed = sign_png(_png(), GenerationInfo(prompt="p", model_id="m", seed=1), config)
    unanchored = read_c2pa(signed, config.trust_anchors_pem)  # dev root only: not the operator's
    assert unanchored.state == "valid" and not unanchored.trusted
    monkeypatch.setenv("IMAGINE_GUARD__C2PA_TRUST_ANCHORS", str(tmp_path / "root.pem"))
    get_settings.cache_clear()
    anchored = read_c2pa(signed, SigningConfig.from_settings().trust_anchors_pem)
    assert anchored.state == "valid" and anchored.trusted


def test_half_configured_chain_is_an_error(data_home, monkeypatch, tmp_path):
    from imagine.config import get_settings

    monkeypatch.setenv("IMAGINE_GUARD__C2PA_CERT", str(tmp_path / "chain.pem"))
    get_settings.cache_clear()
    with pytest.raises(ValueError, match="c2pa_key"):
        SigningConfig.from_settings()


def test_ledger_records_and_looks_up(tmp_path):
    ledger = Ledger(tmp_path / "issued.sqlite")
    gid = ledger.new_generation_id(7)
    assert 0 <= gid < 2**32 and ledger.lookup(gid, 7) is None
    ledger.record(gid, 7, "model-a", "ab" * 32)
    found = Ledger(tmp_path / "issued.sqlite").lookup(gid, 7)
    assert found is not None and found.model_id == "model-a" and found.png_sha256 == "ab" * 32
    assert ledger.lookup(gid, 8) is None
