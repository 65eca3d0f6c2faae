"""Bag-of-n-grams text classifier over hashed token ids (``msmult.data.text``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from msmult.errors import MsmultError
from msmult.models.layers import check_row_shape, hidden_and_head, named_layers
from msmult.validation import whole


class MeanEmbedding(nn.EmbeddingBag):
    """Mean of the embeddings of each row's non-padding ids (id 0 = padding; a row of padding only
    gives a zero vector). ``mode="sum"`` with per-row weights 1 / (number of non-padding ids) is
    what ``mode="mean"`` with ``padding_idx=0`` computes, but takes torch's fast CPU kernel: ~5x
    quicker than the ``padding_idx`` path in forward passes."""

    def __init__(self, vocab_size: int, embed_dim: int) -> None:
        super().__init__(vocab_size, embed_dim, mode="sum", padding_idx=0)

    @staticmethod
    def row_weights(ids: torch.Tensor) -> torch.Tensor:
        """Per-id weights: 1 / (non-padding ids in the row) for real ids, 0 for padding."""
        present = (ids != 0).float()
        return present / present.sum(dim=-1, keepdim=True).clamp(min=1.0)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return super().forward(ids, per_sample_weights=self.row_weights(ids))


class EmbeddingBagClassifier(nn.Module):
    """Mean of the embeddings of a row's hashed uni+bi-gram ids (id 0 = padding, ignored; a row of
    padding only gives a zero vector), then
    Linear -> ReLU -> MaskSite blocks and a linear head producing class logits (fastText-like).

    Dropout exploration masks single units after each hidden linear layer (64 by default). The
    embedding table itself is not a MaskSite: masking an embedding dimension would act on every
    n-gram at once, and the hidden layer already covers that. ``vocab_size`` must be at least the
    tokenizer's ``n_buckets``.
    """

    def __init__(
        self,
        input_shape: Sequence[int],
        n_classes: int,
        vocab_size: int = 2**18,
        embed_dim: int = 64,
        hidden: Sequence[int] = (64,),
    ) -> None:
        super().__init__()
        check_row_shape(
            input_shape,
            1,
            "EmbeddingBagClassifier",
            "(length,) of token ids: use a text dataset (e.g. dataset=davidson)",
        )
        self.vocab_size = whole(
            "module.vocab_size",
            vocab_size,
            2,
            what=", at least the dataset's n_buckets",
            example="victim.module.vocab_size=32768",
        )
        embed_dim = whole("module.embed_dim", embed_dim, 1, example="victim.module.embed_dim=32")
        self.embedding = MeanEmbedding(self.vocab_size, embed_dim)
        self.net = nn.Sequential(*hidden_and_head(embed_dim, hidden, n_classes))

    def check_inputs(self, ids: torch.Tensor) -> None:
        """Refuse inputs that are not token ids within ``vocab_size``."""
        if ids.is_floating_point():
            raise MsmultError(
                "EmbeddingBagClassifier received floating-point inputs; it needs integer token ids "
                "(msmult.data.text.hash_ids)."
            )
        if ids.numel() and int(ids.max()) >= self.vocab_size:
            raise MsmultError(
                f"Token id {int(ids.max())} is outside vocab_size={self.vocab_size}; set the "
                "model's vocab_size to at least the dataset's n_buckets."
            )

    def stacked_layers(self) -> list[tuple[str, nn.Module]]:
        """The layers ``forward`` applies, for batched training (``msmult.models.stacked``)."""
        return [("embedding", self.embedding), *named_layers("net", self.net)]

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        self.check_inputs(ids)
        return self.net(self.embedding(ids.long()))
