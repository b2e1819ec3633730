"""Embedding: a table of learned vectors, one per index, looked up: ``torch.nn.Embedding``.

``Embedding(num_embeddings, embedding_dim)(indices)`` is ``weight[indices]``: integer indices
of any shape give vectors of shape (*indices.shape, embedding_dim). It is the same as
multiplying one-hot rows by ``weight`` without building them: the forward pass copies the
rows (cost: the output's size), and the gradient adds each output vector's gradient onto its
row of ``weight`` (an index used twice gets the sum), the indexing op's rule.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ..factories import default_generator
from ..ops.select import where
from ..tensor import Tensor
from .modules import Module, Rng, _is_integer


class Embedding(Module):
    """``weight`` (num_embeddings, embedding_dim), drawn from the standard normal as PyTorch's
    default, from ``rng`` (a np.random.RandomState or Generator; the thread's default if None).

    ``padding_idx`` (an index, negative counting from the end, or None): that row starts at
    zeros and gets no gradient, so it stays what it is (a "no token" vector), as PyTorch.
    Indices must be integers in [0, num_embeddings): a numpy integer array or a list, not a
    Tensor (whose values are floats).
    """

    weight_names = ("weight",)

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        padding_idx: int | None = None,
        *,
        rng: Rng | None = None,
    ):
        for name, size in [("num_embeddings", num_embeddings), ("embedding_dim", embedding_dim)]:
            if not (_is_integer(size) and size >= 1):
                raise ValueError(f"Embedding: {name}={size!r}; expected an integer >= 1.")
        if padding_idx is not None:
            if not (_is_integer(padding_idx) and -num_embeddings <= padding_idx < num_embeddings):
                raise ValueError(
                    f"Embedding: padding_idx={padding_idx!r}; expected None or an integer in "
                    f"[-{num_embeddings}, {num_embeddings})."
                )
            padding_idx = int(padding_idx) % num_embeddings
        self.num_embeddings, self.embedding_dim = int(num_embeddings), int(embedding_dim)
        self.padding_idx = padding_idx
        rng = default_generator() if rng is None else rng
        weight = rng.standard_normal((num_embeddings, embedding_dim))
        if padding_idx is not None:
            weight[padding_idx] = 0.0
        self.weight = Tensor(weight, requires_grad=True)

    def extra_repr(self) -> str:
        text = f"{self.num_embeddings}, {self.embedding_dim}"
        return text if self.padding_idx is None else f"{text}, padding_idx={self.padding_idx}"

    def forward(self, indices: Any) -> Tensor:
        index = self.checked_indices(indices)
        rows = self.weight[index]
        if self.padding_idx is None:
            return rows
        # the padding row's values, but cut from the graph: no gradient reaches it
        learned = (index != self.padding_idx)[..., None]
        return where(learned, rows, rows.detach())

    def checked_indices(self, indices: Any) -> np.ndarray:
        if isinstance(indices, Tensor):
            raise TypeError(
                f"{self!r}: the indices are a Tensor (float values); expected integer indices, "
                "a numpy integer array or a list."
            )
        index = np.array(indices)  # a copy: the user's array stays theirs
        if index.dtype.kind not in "iu":
            raise TypeError(
                f"{self!r}: the indices have dtype {index.dtype} (shape {index.shape}); expected "
                "integers."
            )
        if index.size and (index.min() < 0 or index.max() >= self.num_embeddings):
            raise ValueError(
                f"{self!r}: indices from {index.min()} to {index.max()} (shape {index.shape}); "
                f"expected 0 <= index < {self.num_embeddings}."
            )
        return index
