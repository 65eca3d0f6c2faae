"""Bag-of-n-grams text classifier over hashed token ids (``msmult.data.text``)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from msmult.errors import MsmultError
from msmult.models.layers import check_row_shape, hidden_and_head
from msmult.validation import whole


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
        # mode="sum" with per-row weights 1 / (number of non-padding ids) is the mean of the
        # non-padding embeddings (what mode="mean" with padding_idx=0 computes) but takes torch's
        # fast CPU kernel: ~5x quicker than the padding_idx path in forward passes.
        self.embedding = nn.EmbeddingBag(self.vocab_size, embed_dim, mode="sum", padding_idx=0)
        self.net = nn.Sequential(*hidden_and_head(embed_dim, hidden, n_classes))

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
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
        ids = ids.long()
        present = (ids != 0).float()
        weights = present / present.sum(dim=1, keepdim=True).clamp(min=1.0)  # all-padding rows: 0
        return self.net(self.embedding(ids, per_sample_weights=weights))
