"""Training torch classifiers: many at once when their architecture stacks, else one at a time.

Each model keeps its own semantics exactly as if trained alone: its initialisation seed, its own
shuffling order each epoch (a generator seeded with its seed), its own rows (``FitData.rows``:
a bootstrap resample, a fold's complement), Adam with weight decay (elementwise, so the summed
loss of N stacked models gives each model its own gradient and update), the same learning-rate
schedule, epochs and batch size, and its own early stopping (a model whose patience runs out
keeps its best epoch's weights; its stack goes on for the others). Models whose training rows
give the same number of batches per epoch share Adam's step count, so they train as one stack
(``msmult.models.stacked``); the stacks are cut to fit ``memory_gb``. A batch of fewer rows than
``batch_size`` (the last of an epoch) is padded and its padding masked out, the same way in every
stack, so a model's numbers do not depend on how many models share its stack, nor on which.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch.nn import functional as F

from msmult.errors import MsmultError
from msmult.models.early_stopping import Adam, EarlyStopping, learning_rate, split_validation
from msmult.models.stacked import NotStackable, StackedNet
from msmult.progress import progress_bar
from msmult.targets import as_targets

log = logging.getLogger("msmult")
TRAINER = "stacked-2026.12"  # the training code's version: part of the victim cache key
GIB = 2**30
VALIDATION_ROWS = 1024  # rows per stacked validation pass (bounds memory)
# On the CPU a stack's working set (``bytes_per_model`` times its models) past about this size
# leaves the caches, and each model then trains slower than in a smaller stack (2-core Xeon,
# per-model seconds: text 1.8 in stacks of 2 vs 3.5 of 20, CNN 3.7 in stacks of 4 vs 4.9 of 20;
# the MLP's 50 fit in one stack). A model's numbers do not depend on its stack's size.
CPU_STACK_BYTES = 48 * 2**20


@dataclass(frozen=True)
class FitData:
    """What one model trains on: ``x[rows]`` (all of ``x`` when ``rows`` is None) against ``y``
    (labels (n,) or probabilities (n, c)); ``validation`` (x, y) drives early stopping."""

    x: np.ndarray
    y: np.ndarray
    rows: np.ndarray | None = None
    validation: tuple[np.ndarray, np.ndarray] | None = None


def as_tensor(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """Floats become float32 (features, pixels); integers stay int64 (token ids)."""
    tensor = torch.as_tensor(x)
    tensor = tensor.long() if not tensor.is_floating_point() else tensor.float()
    return tensor.to(device)


@dataclass
class Plan:
    """One model's training rows (indices into the run's shared row tensor) and validation."""

    model: Any
    rows: torch.Tensor
    val_x: torch.Tensor | None = None
    val_targets: torch.Tensor | None = None


def train(models: Sequence[Any], data: Sequence[FitData]) -> None:
    """Train ``models`` (``TorchClassifier``s configured alike but for their seeds; see the module
    docstring) on ``data``, in place."""
    template = models[0]
    device = template.build_device()
    x_all, targets, plans = shared_rows(models, data, device)
    for plan in plans:
        plan.model.build(tuple(x_all.shape[1:]))
        check_inputs(plan.model.module_, x_all)
    try:
        StackedNet([plan.model.module_ for plan in plans[:1]])
    except NotStackable as reason:
        if len(plans) > 1:
            log.info(
                "batched training: %s; training %d models one after another", reason, len(plans)
            )
        for plan in plans:
            train_alone(plan, x_all, targets)
        return
    threads = torch.get_num_threads()
    thread_safe = StackedNet([plans[0].model.module_]).thread_safe
    for stack in stacks(plans, x_all):
        # torch's batched products split the work by model, never inside one model's sums, so
        # a model's numbers do not depend on the thread count when N > 1; a stack of one, and
        # a network with convolutions, runs on one thread so that they do not either
        torch.set_num_threads(min(threads, len(stack)) if thread_safe else 1)
        try:
            train_stack(stack, x_all, targets)
        finally:
            torch.set_num_threads(threads)


def check_inputs(module: torch.nn.Module, x: torch.Tensor) -> None:
    """The architecture's own input check (e.g. token ids within the vocabulary), run once."""
    check = getattr(module, "check_inputs", None)
    if check is not None:
        check(x)


def shared_rows(
    models: Sequence[Any], data: Sequence[FitData], device: torch.device
) -> tuple[torch.Tensor, torch.Tensor, list[Plan]]:
    """One row tensor and one (n, c) target tensor holding every distinct ``x`` once, and each
    model's plan: its training rows there (after its seeded validation split) and validation."""
    arrays: dict[int, int] = {}  # id(x) -> offset in the shared tensors
    xs, ys, plans = [], [], []
    offset = 0
    for model, item in zip(models, data):
        key = id(item.x), id(item.y)
        if key not in arrays:
            arrays[key] = offset
            xs.append(item.x)
            ys.append(as_targets(item.y, model.n_classes))
            offset += len(item.x)
        rows = np.arange(len(item.x)) if item.rows is None else np.asarray(item.rows)
        validation = item.validation
        if validation is None and model.validation_share > 0:
            train_part, held = split_validation(len(rows), model.validation_share, model.seed)
            held_rows = rows[held]
            validation = (item.x[held_rows], item.y[held_rows])
            rows = rows[train_part]
        plan = Plan(model, torch.as_tensor(rows + arrays[key], device=device))
        if validation is not None:
            plan.val_x = as_tensor(validation[0], device)
            plan.val_targets = torch.as_tensor(
                as_targets(validation[1], model.n_classes), device=device
            )
        plans.append(plan)
    x_all = as_tensor(np.concatenate(xs) if len(xs) > 1 else xs[0], device)
    targets = torch.as_tensor(np.concatenate(ys) if len(ys) > 1 else ys[0], device=device)
    return x_all, targets, plans


def stacks(plans: list[Plan], x_all: torch.Tensor) -> list[list[Plan]]:
    """Plans grouped by batches per epoch (models that share Adam's step count), each group cut
    into chunks that fit the template's ``memory_gb`` and, on the CPU, ``CPU_STACK_BYTES``."""
    template = plans[0].model
    per_model = bytes_per_model(template, x_all)
    fits = int(template.memory_gb * GIB // per_model)
    if fits < 1:
        raise MsmultError(
            f"memory_gb={template.memory_gb} is not allowed: one {type(template.module_).__name__} "
            f"({template.name}) needs about {per_model / GIB:.3g} GiB to train (weights, Adam state "
            f"and the activations of a batch of {template.batch_size} rows), e.g. "
            f"memory_gb={max(1, math.ceil(2 * per_model / GIB))}."
        )
    groups: dict[int, list[Plan]] = {}
    for plan in plans:
        groups.setdefault(math.ceil(len(plan.rows) / template.batch_size), []).append(plan)
    size = fits
    if x_all.device.type == "cpu":
        size = min(fits, max(1, CPU_STACK_BYTES // per_model))
    chunks = [group[i : i + size] for group in groups.values() for i in range(0, len(group), size)]
    if any(len(group) > fits for group in groups.values()):
        log.info(
            "batched training: %d models in %d stacks of at most %d (memory_gb=%s)",
            len(plans),
            len(chunks),
            fits,
            template.memory_gb,
        )
    return chunks


def bytes_per_model(template: Any, x_all: torch.Tensor) -> int:
    """Memory one model of a stack takes: its weights four times over (weights, gradient, Adam's
    two moments) plus a best-weights copy, and three times the activations of one batch
    (forward outputs, their gradients, the convolutions' unfolded columns)."""
    stack = StackedNet([template.module_])
    with torch.no_grad():
        x, activations = x_all[:1].unsqueeze(0), 0
        for layer in stack.layers:
            x = layer(stack, x)
            activations += x.numel()
    row = x_all[:1].numel() * x_all.element_size()
    return 4 * (5 * stack.parameter_count() + 3 * template.batch_size * activations) + row


def epoch_batches(
    plans: list[Plan], generators: list[torch.Generator], batch_size: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """This epoch's (steps, N, batch_size) row indices, each model's rows in its own shuffled
    order, and the (steps, N, batch_size) mask of real rows (the padding of short batches is 0)."""
    steps = math.ceil(len(plans[0].rows) / batch_size)
    index = torch.zeros((len(plans), steps * batch_size), dtype=torch.long)
    mask = torch.zeros((len(plans), steps * batch_size))
    for i, (plan, generator) in enumerate(zip(plans, generators)):
        order = torch.randperm(len(plan.rows), generator=generator)
        index[i, : len(order)] = plan.rows.cpu()[order]
        mask[i, : len(order)] = 1.0
    shape = (len(plans), steps, batch_size)
    return index.view(shape).transpose(0, 1), mask.view(shape).transpose(0, 1)


def train_stack(plans: list[Plan], x_all: torch.Tensor, targets: torch.Tensor) -> None:
    """Train the models of ``plans`` (same batches per epoch) as one stack."""
    template = plans[0].model
    device = x_all.device
    stack = StackedNet([plan.model.module_ for plan in plans])
    optimiser = Adam(list(stack.leaves.values()), template.weight_decay, fused=True)
    stopping = StackedStopping(plans, stack)
    generators = [torch.Generator().manual_seed(plan.model.seed) for plan in plans]
    steps = math.ceil(len(plans[0].rows) / template.batch_size)
    label = (
        f"training {len(plans)} {template.name}s" if len(plans) > 1 else f"training {template.name}"
    )
    with progress_bar(label, template.epochs * steps) as advance:
        for epoch in range(template.epochs):
            lr = learning_rate(*template.schedule(), epoch)
            index, mask = epoch_batches(plans, generators, template.batch_size)
            index, mask = index.to(device), mask.to(device)
            for step in range(steps):
                logits = stack.forward(x_all[index[step]])
                rows = mask[step]
                loss = F.cross_entropy(
                    logits.flatten(0, 1), targets[index[step]].flatten(0, 1), reduction="none"
                ).view(rows.shape)
                total = ((loss * rows).sum(1) / rows.sum(1).clamp(min=1.0)).sum()
                stack.zero_grad()
                total.backward()
                optimiser.step(lr)
                advance(1)
            if stopping.all_stopped(epoch):
                break
    stopping.finish()
    stack.copy_into([plan.model.module_ for plan in plans], stopping.final_state())
    for plan in plans:
        plan.model.module_.eval()


class StackedStopping:
    """Early stopping for each model of a stack that has validation rows, as ``EarlyStopping``
    does for one model: its loss after every epoch, a copy of its best epoch's weights, and a
    stop after ``patience`` epochs without improvement (the stack trains on for the others)."""

    def __init__(self, plans: list[Plan], stack: StackedNet) -> None:
        self.plans, self.stack = plans, stack
        self.watched = [i for i, plan in enumerate(plans) if plan.val_x is not None]
        self.best_loss = {i: float("inf") for i in self.watched}
        self.best_epoch = {i: -1 for i in self.watched}
        self.losses: dict[int, list[float]] = {i: [] for i in self.watched}
        self.stopped: set[int] = set()
        self.best = stack.snapshot()

    @torch.no_grad()
    def all_stopped(self, epoch: int) -> bool:
        """Record this epoch's validation losses; True when every model has stopped."""
        active = [i for i in self.watched if i not in self.stopped]
        if not active:
            return False
        logits = self.validation_logits()
        improved = []
        for i in active:
            plan = self.plans[i]
            loss = float(F.cross_entropy(logits[i][: len(plan.val_x)], plan.val_targets))
            self.losses[i].append(loss)
            if loss < self.best_loss[i]:
                self.best_loss[i], self.best_epoch[i] = loss, epoch
                improved.append(i)
            patience = plan.model.patience
            if patience is not None and epoch - self.best_epoch[i] >= patience:
                self.stopped.add(i)
        if improved:
            for name, leaf in self.stack.leaves.items():
                self.best[name][improved] = leaf.detach()[improved]
        return len(self.stopped) == len(self.plans)

    def validation_logits(self) -> torch.Tensor:
        """(N, most validation rows, classes) logits, each model on its own validation rows
        (models without them, or with fewer, on padding)."""
        longest = max(len(self.plans[i].val_x) for i in self.watched)
        example = self.plans[self.watched[0]].val_x
        rows = example.new_zeros((len(self.plans), longest, *example.shape[1:]))
        for i in self.watched:
            rows[i, : len(self.plans[i].val_x)] = self.plans[i].val_x
        parts = [
            self.stack.forward(rows[:, start : start + VALIDATION_ROWS])
            for start in range(0, longest, VALIDATION_ROWS)
        ]
        return torch.cat(parts, dim=1)

    def finish(self) -> None:
        """Record each watched model's best epoch and validation losses on its estimator."""
        for i in self.watched:
            model = self.plans[i].model
            model.best_epoch_, model.val_losses_ = self.best_epoch[i], self.losses[i]

    def final_state(self) -> dict[str, torch.Tensor]:
        """Every model's weights to keep (name -> (N, P)): its best epoch's for watched models,
        else its last."""
        state = self.stack.snapshot()
        for name in state:
            state[name][self.watched] = self.best[name][self.watched]
        return state


def train_alone(plan: Plan, x_all: torch.Tensor, targets: torch.Tensor) -> None:
    """One model's training loop, for architectures that do not stack."""
    model, module = plan.model, plan.model.module_
    inputs, answers = x_all[plan.rows], targets[plan.rows]
    optimiser = Adam(list(module.parameters()), model.weight_decay, fused=False)
    stopper = None
    if plan.val_x is not None:
        stopper = EarlyStopping(module, plan.val_x, plan.val_targets, model.patience)
    generator = torch.Generator().manual_seed(model.seed)
    n_batches = -(-len(inputs) // model.batch_size)
    module.train()
    with progress_bar(f"training {model.name}", model.epochs * n_batches) as advance:
        for epoch in range(model.epochs):
            lr = learning_rate(*model.schedule(), epoch)
            order = torch.randperm(len(inputs), generator=generator).to(inputs.device)
            for start in range(0, len(inputs), model.batch_size):
                batch = order[start : start + model.batch_size]
                module.zero_grad(set_to_none=True)
                loss = F.cross_entropy(module(inputs[batch]), answers[batch])
                loss.backward()
                optimiser.step(lr)
                advance(1)
            if stopper is not None and stopper.should_stop(epoch):
                break
    if stopper is not None:
        stopper.restore()
        model.best_epoch_, model.val_losses_ = stopper.best_epoch, stopper.losses
    module.eval()
