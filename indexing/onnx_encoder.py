"""An optional query encoder: the catalog's sentence encoder run by ONNX Runtime with int8
weights, a few times faster than torch on one short text.

By default it embeds shoppers' queries (LODESTAR_SEARCH_QUERY_ENCODER), into the space of
the catalog's torch vectors up to quantisation noise (cosine about 0.99 with the torch
vector; see bench/results/encoder.md). LODESTAR_ENCODER_BACKEND=onnx-int8 makes it embed
the catalog too, on every core (indexing.encoder.load_encoder).

The ONNX file is made from the local model on first need: the transformer is exported with
torch's TorchScript-based exporter (input_ids, attention_mask, token_type_ids -> last hidden
state, batch and sequence axes dynamic), then its weights are quantised to int8 per channel
by onnxruntime's dynamic quantisation (activations are quantised on the fly). Pooling (mean
over the attention mask) and L2 normalisation are done here in numpy, as the model's own
sentence-transformers modules do. The file carries the source model's fingerprint, so a
changed model or recipe is exported again instead of being loaded stale.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from indexing.encoder import Encoder, Matrix, default_model_path
from models.settings import Settings
from models.timing import timed

log = logging.getLogger(__name__)

NAME_SUFFIX = "+onnx-int8"
DEFAULT_MODEL_NAME = "all-MiniLM-L6-v2"  # what SentenceEncoder calls the packaged model
INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")
OPSET = 17
# Bumped whenever the export or quantisation recipe changes: older files are then remade.
RECIPE = "torchscript-opset17+dynamic-qint8-per-channel/1"
# One intra-op thread: on the 2-core machines measured, a second one gained nothing on one
# short query under load (bench/results/encoder.md) and takes a core from other requests.
DEFAULT_THREADS = 1

_FINGERPRINT_KEY = "lodestar_source"
_RECIPE_KEY = "lodestar_recipe"


def model_name(model_path: Path | str | None) -> str:
    """The encoder name SentenceEncoder gives the same model (the embedding cache's key)."""
    return Path(model_path).name if model_path else DEFAULT_MODEL_NAME


def int8_path(model_path: Path | str | None, out_dir: Path | str) -> Path:
    return Path(out_dir) / f"{model_name(model_path)}-int8.onnx"


def _model_dir(model_path: Path | str | None) -> Path:
    path = Path(model_path) if model_path else default_model_path()
    if not path.is_dir():
        raise FileNotFoundError(f"encoder model not found at {path}")
    return path


def _read_json(path: Path) -> dict[str, Any]:
    if not path.exists():
        return {}
    data = json.loads(path.read_text(encoding="utf-8"))
    return data if isinstance(data, dict) else {}


def max_seq_length(model_path: Path | str | None) -> int:
    """The longest input, in tokens, that the sentence-transformers model reads."""
    config = _read_json(_model_dir(model_path) / "sentence_bert_config.json")
    return int(config.get("max_seq_length") or 256)


def _check_architecture(model_dir: Path) -> None:
    """This encoder re-implements the model's pipeline as Transformer -> mean pooling ->
    Normalize; refuse a model whose modules would make it compute something else."""
    modules = json.loads((model_dir / "modules.json").read_text(encoding="utf-8")) \
        if (model_dir / "modules.json").exists() else []
    kinds = [str(m.get("type", "")).rsplit(".", 1)[-1] for m in modules]
    allowed = {"Transformer", "Pooling", "Normalize"}
    if kinds and not set(kinds) <= allowed:
        raise ValueError(f"{model_dir}: modules {kinds} are more than the ONNX query encoder "
                         "reproduces (Transformer, mean Pooling, Normalize)")
    for module in modules:
        if str(module.get("type", "")).endswith("Pooling"):
            pooling = _read_json(model_dir / str(module.get("path", "")) / "config.json")
            modes = [k for k, v in pooling.items() if k.startswith("pooling_mode") and v]
            if modes and modes != ["pooling_mode_mean_tokens"]:
                raise ValueError(f"{model_dir}: pooling {modes} is not mean pooling")


def fingerprint(model_path: Path | str | None) -> str:
    """Identifies the source model's files (names, sizes, and the small ones' contents)."""
    model_dir = _model_dir(model_path)
    digest = hashlib.blake2b(digest_size=16)
    for path in sorted(p for p in model_dir.rglob("*") if p.is_file()):
        rel = path.relative_to(model_dir).as_posix()
        if rel.startswith(".") or rel.endswith(".md"):
            continue
        size = path.stat().st_size
        digest.update(f"{rel}:{size};".encode())
        if size < 1_000_000:
            digest.update(path.read_bytes())
    return digest.hexdigest()


def _file_metadata(path: Path) -> dict[str, str]:
    import onnx

    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}


class _FromQuantiser(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "onnxruntime" not in record.pathname


@contextlib.contextmanager
def _quiet_quantiser() -> Iterator[None]:
    """onnxruntime's quantiser logs a line per tensor (and advice) on the root logger."""
    quiet = _FromQuantiser()
    root = logging.getLogger()
    root.addFilter(quiet)
    try:
        yield
    finally:
        root.removeFilter(quiet)


def export_int8(model_path: Path | str | None, out_dir: Path | str) -> Path:
    """Export the model's transformer to ONNX and quantise its weights to int8.

    Writes `<out_dir>/<model-name>-int8.onnx` and returns its path. The fp32 export lives
    only in a temporary directory; the int8 file is written under a temporary name in
    `out_dir` and renamed into place, so a reader never sees half a file (two processes
    exporting at once each rename a complete file).
    """
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    model_dir = _model_dir(model_path)
    _check_architecture(model_dir)
    target = int8_path(model_path, out_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    # Eager attention: plain MatMul/Softmax ops with the padding mask always applied, the
    # most predictable graph for the TorchScript exporter.
    model = AutoModel.from_pretrained(str(model_dir), local_files_only=True,
                                      attn_implementation="eager").eval()

    class _Transformer(torch.nn.Module):
        def __init__(self, inner: torch.nn.Module) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor,
                    token_type_ids: torch.Tensor) -> torch.Tensor:
            out = self.inner(input_ids=input_ids, attention_mask=attention_mask,
                             token_type_ids=token_type_ids)
            hidden: torch.Tensor = out.last_hidden_state
            return hidden

    # Traced with two texts of different lengths, so the padding path is what is recorded.
    sample = tokenizer(["trail running shoes", "a waterproof jacket for hiking in the rain"],
                       padding=True, return_tensors="pt")
    args = tuple(sample[name] if name in sample else torch.zeros_like(sample["input_ids"])
                 for name in INPUT_NAMES)
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUT_NAMES, "last_hidden_state")}
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".export-") as tmp:
        fp32 = Path(tmp) / "model-fp32.onnx"
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")  # the exporter's deprecation and tracer notes
            torch.onnx.export(
                _Transformer(model), args, str(fp32),
                input_names=list(INPUT_NAMES), output_names=["last_hidden_state"],
                dynamic_axes=axes, opset_version=OPSET, do_constant_folding=True,
                dynamo=False,
            )
        int8 = Path(tmp) / "model-int8.onnx"
        # Per-channel weight scales: per-tensor ones cost this model about 0.03 of cosine.
        with _quiet_quantiser():
            quantize_dynamic(fp32, int8, weight_type=QuantType.QInt8, per_channel=True)
        quantised = onnx.load(str(int8))
        for key, value in ((_FINGERPRINT_KEY, fingerprint(model_dir)), (_RECIPE_KEY, RECIPE)):
            entry = quantised.metadata_props.add()
            entry.key, entry.value = key, value
        fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.",
                                       suffix=".partial")
        os.close(fd)
        try:
            onnx.save(quantised, partial)
            os.replace(partial, target)
        except BaseException:
            Path(partial).unlink(missing_ok=True)
            raise
    log.info("exported %s to %s in %.1fs (%.1f MB)", model_dir, target,
             time.perf_counter() - started, target.stat().st_size / 1e6)
    return target


def ensure_int8(model_path: Path | str | None, out_dir: Path | str) -> Path:
    """The int8 file for this model in `out_dir`, exported first if it is missing or was
    made from other model files or by another recipe."""
    target = int8_path(model_path, out_dir)
    if target.exists():
        try:
            meta = _file_metadata(target)
        except Exception:  # unreadable: remade below
            log.warning("cannot read %s; exporting it again", target, exc_info=True)
            meta = {}
        if meta.get(_FINGERPRINT_KEY) == fingerprint(model_path) \
                and meta.get(_RECIPE_KEY) == RECIPE:
            return target
        log.info("%s is out of date; exporting it again", target)
    return export_int8(model_path, out_dir)


class OnnxQueryEncoder:
    """The `Encoder` of an int8 ONNX export: same tokenizer, mean pooling over the attention
    mask, L2-normalised float32 rows. Search's query encoder by default; the catalog's
    with LODESTAR_ENCODER_BACKEND=onnx-int8.

    Activations are quantised with one range per batch, so a text's vector moves slightly
    with the texts batched beside it; search embeds one query at a time, and the catalog's
    embedding cache keeps the vector a text got when first embedded."""

    def __init__(self, onnx_path: Path | str, model_path: Path | str | None = None,
                 threads: int = DEFAULT_THREADS) -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import onnxruntime as ort
        from transformers import AutoTokenizer

        model_dir = _model_dir(model_path)
        self._name = model_name(model_path) + NAME_SUFFIX
        self._max_length = max_seq_length(model_path)
        self._tokenizer = AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self._session = ort.InferenceSession(str(onnx_path), options,
                                             providers=["CPUExecutionProvider"])
        self._inputs = [i.name for i in self._session.get_inputs()]
        dim = self._session.get_outputs()[0].shape[-1]
        if not isinstance(dim, int):
            raise ValueError(f"{onnx_path}: the hidden size is not fixed in the graph")
        self._dim = dim
        # A fast tokenizer that sets padding and truncation per call is not safe to share
        # between threads; the session itself is.
        self._lock = threading.Lock()

    @property
    def name(self) -> str:
        return self._name

    @property
    def dim(self) -> int:
        return self._dim

    @property
    def max_length(self) -> int:
        return self._max_length

    @timed("encode")
    def encode(self, texts: Sequence[str], batch_size: int = 64) -> Matrix:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        # Similar lengths together, as sentence-transformers does: less padding per batch.
        order = sorted(range(len(texts)), key=lambda i: -len(texts[i]))
        for start in range(0, len(order), max(batch_size, 1)):
            rows = order[start:start + max(batch_size, 1)]
            out[rows] = self._encode_batch([texts[i] for i in rows])
        return out

    def _encode_batch(self, texts: list[str]) -> Matrix:
        with self._lock:
            batch = self._tokenizer(texts, padding=True, truncation=True,
                                    max_length=self._max_length, return_tensors="np")
        feed = {}
        for name in self._inputs:
            values = batch[name] if name in batch else np.zeros_like(batch["input_ids"])
            feed[name] = np.asarray(values, dtype=np.int64)
        hidden = np.asarray(self._session.run(None, feed)[0], dtype=np.float32)
        mask = feed["attention_mask"][..., None].astype(np.float32)
        pooled = (hidden * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        norms = np.linalg.norm(pooled, axis=1, keepdims=True)
        return np.asarray(pooled / np.maximum(norms, 1e-12), dtype=np.float32)


def onnx_dir(settings: Settings) -> Path:
    """Where the int8 export is kept: LODESTAR_ENCODER_ONNX_DIR, else `<data_dir>/encoders`."""
    return settings.encoder.onnx_dir or settings.storage.data_dir / "encoders"


def load_query_encoder(settings: Settings, reference: Callable[[], Encoder]) -> Encoder:
    """The encoder search embeds queries with: `reference()` (the catalog's torch encoder)
    for "torch", else the int8 ONNX one, exported into `onnx_dir` on first need."""
    if settings.search.query_encoder == "torch":
        return reference()
    path = ensure_int8(settings.encoder.path, onnx_dir(settings))
    encoder = OnnxQueryEncoder(path, settings.encoder.path)
    log.info("search embeds queries with %s (%s)", encoder.name, path)
    return encoder
