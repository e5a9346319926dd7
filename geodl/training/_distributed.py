"""Several processes under ``torchrun``: joining the group and agreeing on stop flags."""

from __future__ import annotations

import os

import torch

__all__ = ["init_distributed", "rank_and_world", "sync_stop"]


def init_distributed() -> bool:
    """Join the process group when launched by ``torchrun`` (``WORLD_SIZE > 1``).

    Uses NCCL when CUDA is available, gloo otherwise. Returns True when this process is
    part of a multi-process run. Call :func:`torch.distributed.destroy_process_group`
    at the end (``geodl train`` does).

    Examples
    --------
    >>> init_distributed()  # a single process
    False
    """
    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return False
    if not torch.distributed.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        torch.distributed.init_process_group(backend=backend)
    return True


def rank_and_world() -> tuple[int, int]:
    """``(rank, world_size)`` of this process; ``(0, 1)`` outside a process group.

    Examples
    --------
    >>> rank_and_world()
    (0, 1)
    """
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        return torch.distributed.get_rank(), torch.distributed.get_world_size()
    return 0, 1


def sync_stop(out_of_time: bool, interrupted: bool) -> tuple[bool, bool]:
    """Make every rank take the same decision: the time verdict of rank 0 (clocks
    differ), and an interruption seen by any rank. One collective; none for one process.

    Examples
    --------
    >>> sync_stop(True, False)
    (True, False)
    """
    rank, world = rank_and_world()
    if world == 1:
        return out_of_time, interrupted
    device = "cuda" if torch.distributed.get_backend() == "nccl" else "cpu"
    flags = torch.tensor(
        [1.0 if (out_of_time and rank == 0) else 0.0, float(interrupted)], device=device
    )
    torch.distributed.all_reduce(flags, op=torch.distributed.ReduceOp.MAX)
    return bool(flags[0] > 0), bool(flags[1] > 0)
