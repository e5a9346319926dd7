r"""Reader for a local copy of ModelNet10 / ModelNet40 (nothing is downloaded).

The expected layout is the one of the Princeton archives::

    ModelNet10/
      bathtub/
        train/bathtub_0001.off ...
        test/bathtub_0107.off ...
      bed/
        ...

OFF meshes are parsed with PyTorch Geometric's ``parse_off`` (after removing comments,
blank lines and the header glitch of some ModelNet files, ``OFF490 518 0``) and points
are sampled on the surface by area with ``torch_geometric.transforms.SamplePoints``
(seeded per file, so a dataset is reproducible).
"""

from __future__ import annotations

import zlib
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

__all__ = ["read_off", "ModelNetFolder"]

_SPLITS = ("train", "test")


def read_off(path: str | Path) -> tuple[Tensor, Tensor]:
    """Read an OFF mesh: vertices ``(V, 3)`` and triangles ``(F, 3)`` (quads are split).

    Raises
    ------
    ValueError
        If the file is not a readable OFF mesh (the message names the file).

    Examples
    --------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "tri.off")
    >>> _ = open(path, "w").write("OFF\\n3 1 0\\n0 0 0\\n1 0 0\\n0 1 0\\n3 0 1 2\\n")
    >>> verts, faces = read_off(path)
    >>> verts.shape, faces.tolist()
    (torch.Size([3, 3]), [[0, 1, 2]])
    """
    from torch_geometric.io.off import parse_off

    path = Path(path)
    lines = []
    for raw in path.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if line:
            lines.append(line)
    if not lines or not lines[0].startswith("OFF"):
        raise ValueError(
            f"read_off: {path} is not an OFF file (its first line must start with 'OFF')."
        )
    # "OFF" alone, or ModelNet's glitch "OFF490 518 0": parse_off handles both forms
    lines[0] = "OFF" if lines[0] == "OFF" else "OFF" + lines[0][3:].strip()
    try:
        data = parse_off(lines)
    except (ValueError, IndexError, RuntimeError) as exc:
        raise ValueError(f"read_off: could not parse {path}: {exc}") from exc
    face = data.face
    if face is None or face.numel() == 0:
        raise ValueError(f"read_off: {path} has no triangle or quad faces.")
    return data.pos.to(torch.get_default_dtype()), face.t().contiguous()


class ModelNetFolder(torch.utils.data.Dataset):
    r"""Point clouds sampled from the ModelNet folder layout ``<root>/<class>/<split>/*.off``.

    Each item is a ``torch_geometric.data.Data`` with ``pos`` ``(num_points, 3)`` sampled
    uniformly by area on the mesh (``SamplePoints``) and ``y`` ``(1,)`` the class index
    (classes sorted by name). Sampling is seeded by ``seed`` and the file name, so the
    same item is returned every time.

    Parameters
    ----------
    root : str or Path
        Folder containing one sub-folder per class.
    split : str
        ``"train"`` or ``"test"``.
    num_points : int
        Points sampled per mesh.
    classes : sequence of str, optional
        Subset (and order) of classes; default all sub-folders, sorted.
    seed : int
        Base seed of the sampling.
    cache : bool
        Keep sampled clouds in memory after the first access.

    Examples
    --------
    >>> import tempfile, os
    >>> root = tempfile.mkdtemp()
    >>> os.makedirs(os.path.join(root, "box", "train"))
    >>> _ = open(os.path.join(root, "box", "train", "a.off"), "w").write(
    ...     "OFF\n4 2 0\n0 0 0\n1 0 0\n1 1 0\n0 1 0\n3 0 1 2\n3 0 2 3\n")
    >>> ds = ModelNetFolder(root, "train", num_points=16)
    >>> len(ds), ds[0].pos.shape, ds.classes
    (1, torch.Size([16, 3]), ['box'])
    """

    def __init__(
        self,
        root: str | Path,
        split: str = "train",
        num_points: int = 1024,
        classes: list[str] | None = None,
        seed: int = 0,
        cache: bool = True,
    ) -> None:
        root = Path(root)
        if split not in _SPLITS:
            raise ValueError(f"ModelNetFolder: 'split' must be one of {_SPLITS}, got {split!r}.")
        if not root.is_dir():
            raise ValueError(
                f"ModelNetFolder: 'root' {str(root)!r} is not a folder. Point it at the "
                f"unpacked ModelNet10/ModelNet40 folder (<root>/<class>/{split}/*.off)."
            )
        if isinstance(num_points, bool) or not isinstance(num_points, int) or num_points < 1:
            raise ValueError(
                f"ModelNetFolder: 'num_points' must be a positive integer, got {num_points!r}."
            )
        found = sorted(p.name for p in root.iterdir() if (p / split).is_dir())
        if classes is None:
            classes = found
        missing = [c for c in classes if c not in found]
        if missing or not classes:
            raise ValueError(
                f"ModelNetFolder: no '{split}' folder for classes {missing or '(none)'} under "
                f"{root}. Classes found: {', '.join(found) or '(none)'}."
            )
        self.root = root
        self.split = split
        self.num_points = num_points
        self.classes = list(classes)
        self.seed = int(seed)
        self.files: list[tuple[Path, int]] = [
            (f, label)
            for label, c in enumerate(self.classes)
            for f in sorted((root / c / split).glob("*.off"))
        ]
        self._cache: dict[int, object] | None = {} if cache else None

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, index: int) -> Any:  # torch_geometric.data.Data
        if self._cache is not None and index in self._cache:
            return self._cache[index]
        from torch_geometric.data import Data
        from torch_geometric.transforms import SamplePoints

        path, label = self.files[index]
        verts, faces = read_off(path)
        mesh = Data(pos=verts, face=faces.t().contiguous())
        file_seed = zlib.crc32(f"{self.seed}:{path.parent.parent.name}/{path.name}".encode())
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(file_seed)
            sampled = SamplePoints(self.num_points)(mesh)
        item = Data(pos=sampled.pos, y=torch.tensor([label]), num_nodes=self.num_points)
        if self._cache is not None:
            self._cache[index] = item
        return item

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(root={str(self.root)!r}, split={self.split!r}, "
            f"num_points={self.num_points}, classes={len(self.classes)}, size={len(self)})"
        )
