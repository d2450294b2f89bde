#!/usr/bin/env python3
"""Convert the sentence-transformers all-MiniLM-L6-v2 folder to a GGUF file.

Torch-free: reads `model.safetensors` with safetensors' numpy API and writes
GGUF with llama.cpp's own `gguf` package, using its BERT tensor-name map, so
the file loads in llama.cpp as architecture `bert` with a WordPiece ("bert")
tokenizer and mean pooling. Matrices are stored as F16, vectors (norms,
biases) and the position and token-type embeddings as F32, as llama.cpp's
convert_hf_to_gguf.py does.

`moodshelf models fetch` runs this inside a private virtual environment with
the pinned versions from models/requirements.txt; the output is byte-for-byte
reproducible for those versions, which is why the manifest can pin its sha256.

Usage: convert_minilm.py MODEL_DIR OUT.gguf
"""

import json
import sys
from pathlib import Path

import gguf
import numpy as np
from safetensors.numpy import load_file

ARCH = gguf.MODEL_ARCH.BERT


def phantom(token: str) -> str:
    # llama.cpp's WPM tokenizer marks word starts with U+2581 instead of
    # marking continuations with "##" (see convert_hf_to_gguf.py, BertModel).
    if token.startswith("[") and token.endswith("]"):
        return token
    if token.startswith("##"):
        return token[2:]
    return "\u2581" + token


def main(model_dir: Path, out: Path) -> None:
    config = json.loads((model_dir / "config.json").read_text())
    tokenizer = json.loads((model_dir / "tokenizer.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "bert" or tokenizer["model"]["type"] != "WordPiece":
        raise SystemExit(f"{model_dir}: not a BERT model with a WordPiece tokenizer")

    vocab: dict[str, int] = tokenizer["model"]["vocab"]
    tokens = [""] * len(vocab)
    for text, idx in vocab.items():
        tokens[idx] = text
    special = {t["id"]: t["content"] for t in tokenizer.get("added_tokens", []) if t.get("special")}
    types = [
        gguf.TokenType.CONTROL if i in special else gguf.TokenType.NORMAL for i in range(len(tokens))
    ]
    ids = {v: k for k, v in special.items()}

    n_blocks = int(config["num_hidden_layers"])
    writer = gguf.GGUFWriter(str(out), gguf.MODEL_ARCH_NAMES[ARCH])
    writer.add_name("all-MiniLM-L6-v2")
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_context_length(int(config["max_position_embeddings"]))
    writer.add_embedding_length(int(config["hidden_size"]))
    writer.add_feed_forward_length(int(config["intermediate_size"]))
    writer.add_block_count(n_blocks)
    writer.add_head_count(int(config["num_attention_heads"]))
    writer.add_layer_norm_eps(float(config["layer_norm_eps"]))
    writer.add_causal_attention(False)
    writer.add_pooling_type(gguf.PoolingType.MEAN)

    writer.add_tokenizer_model("bert")
    writer.add_tokenizer_pre("default")
    writer.add_token_list([phantom(t) for t in tokens])
    writer.add_token_types(types)
    writer.add_token_type_count(int(config.get("type_vocab_size", 2)))
    writer.add_bos_token_id(ids["[CLS]"])
    writer.add_sep_token_id(ids["[SEP]"])
    writer.add_unk_token_id(ids["[UNK]"])
    writer.add_pad_token_id(ids["[PAD]"])
    writer.add_mask_token_id(ids["[MASK]"])

    names = gguf.get_tensor_name_map(ARCH, n_blocks)
    tensors = load_file(str(model_dir / "model.safetensors"))
    for name in sorted(tensors):
        if name.endswith("position_ids") or name.startswith("pooler."):
            continue  # buffers and the unused pooler head
        new_name = names.get_name(name.removeprefix("bert."), try_suffixes=(".weight", ".bias"))
        if new_name is None:
            raise SystemExit(f"no GGUF name for tensor {name}")
        data = tensors[name].astype(np.float32)
        # As convert_hf_to_gguf.py: position and token-type embeddings stay
        # F32 (llama.cpp adds the token-type row to F32 activations, which
        # its CPU backend cannot do from F16).
        keep_f32 = new_name.startswith(("position_embd", "token_types"))
        if data.ndim >= 2 and not keep_f32:
            data = data.astype(np.float16)
        writer.add_tensor(new_name, data)

    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    main(Path(sys.argv[1]), Path(sys.argv[2]))
