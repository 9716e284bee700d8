import json

import numpy as np
import pytest

from dsb.lm.corpus import (
    _pieces,
    brown_text,
    build_corpus,
    read_token_file,
    split_stream,
    strip_gutenberg,
)
from dsb.lm.tokenizer import NEOX_SHA256, bundled_tokenizer_path, load_tokenizer, sha256_of


@pytest.fixture(scope="module")
def tokenizer():
    return load_tokenizer()


def test_bundled_tokenizer_is_pythias(tokenizer):
    assert sha256_of(bundled_tokenizer_path()) == NEOX_SHA256
    assert tokenizer.encode("Hello, I am").ids == [12092, 13, 309, 717]
    assert tokenizer.get_vocab_size() == 50277


def test_gutenberg_header_licence_and_footer_are_removed():
    text = (
        'Project Gutenberg preamble\n["Small Print" V.12.08.93]\n\n<<THIS IS COPYRIGHT\nBY US>>\n'
        "1609\nTHE SONNETS\n<<LICENCE AGAIN>>\nTHE END\nEnd of this Etext of Shakespeare\n"
    )
    out = strip_gutenberg(text)
    assert out.startswith("1609") and "THE END" in out
    assert "<<" not in out and "Gutenberg" not in out and "Etext" not in out


def test_parallel_pieces_tokenise_exactly_like_the_whole(tokenizer):
    text = "".join(f"LINE {i}.\n\n\n  indented {i}\nWord\n" for i in range(20000))
    pieces = _pieces(text, size=1000)
    assert len(pieces) > 10 and "".join(pieces) == text
    joined = [t for e in tokenizer.encode_batch(pieces) for t in e.ids]
    assert joined == tokenizer.encode(text).ids


def test_formats_read_and_bad_input_is_named(tmp_path, tokenizer):
    (tmp_path / "ca01").write_text("\tThe/at jury/nn said/vbd ./.\n\n\tIt/pps ran/vbd ./.\n")
    assert brown_text((tmp_path / "ca01").read_text()) == "The jury said .\nIt ran .\n"
    tokens, n_bytes, _ = build_corpus("brown", [str(tmp_path)], tokenizer)
    assert tokens[-1] == 0 and n_bytes == len("The jury said .\nIt ran .\n")
    (tmp_path / "d.jsonl").write_text(json.dumps({"text": "a b"}) + "\n" + json.dumps({"t": 1}))
    with pytest.raises(ValueError, match="d.jsonl:2: JSON object has no key 'text'"):
        build_corpus("jsonl", [str(tmp_path / "d.jsonl")], tokenizer)
    np.array([5, 50276, 7], dtype="<u2").tofile(tmp_path / "document.bin")
    assert list(read_token_file(tmp_path / "document.bin", 50277)) == [5, 50276, 7]
    np.array([50277], dtype="<u2").tofile(tmp_path / "bad.bin")
    with pytest.raises(ValueError, match="bad.bin: token 50277 >= vocabulary"):
        read_token_file(tmp_path / "bad.bin", 50277)
    with pytest.raises(ValueError, match="corpus format must be one of"):
        build_corpus("csv", ["x"], tokenizer)


def test_split_keeps_every_token_once_and_holds_out_the_tail():
    x = np.arange(1000)
    shards, val = split_stream(x, 3, 0.1)
    assert np.array_equal(np.concatenate([*shards, val]), x) and len(val) == 100
    with pytest.raises(ValueError, match="validation_fraction"):
        split_stream(x, 3, 1.5)
