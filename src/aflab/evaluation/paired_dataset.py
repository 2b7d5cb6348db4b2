"""A dataset whose slices never split a query's free/paid pair.

Samples come in pairs (free then paid, adjacent). Inspect applies ``--limit N`` (and
``--limit START,STOP``) as a slice of the dataset; here a slice is widened to whole
pairs, so ``inspect eval aflab/helpful_only --limit 3`` runs 4 samples (2 queries), never
a free sample without its paid twin. ``--sample-id`` still selects exactly the ids given.
"""

from __future__ import annotations

from typing import Union, overload

from inspect_ai.dataset import Dataset, MemoryDataset, Sample

__all__ = ["PairedDataset"]


class PairedDataset(MemoryDataset):
    """A :class:`MemoryDataset` of adjacent (free, paid) pairs; slices keep pairs whole."""

    @overload
    def __getitem__(self, index: int) -> Sample: ...

    @overload
    def __getitem__(self, index: slice) -> Dataset: ...

    def __getitem__(self, index: Union[int, slice]) -> Union[Sample, Dataset]:
        if isinstance(index, int):
            return self.samples[index]
        start, stop, step = index.indices(len(self.samples))
        if step != 1:
            raise ValueError("a paired dataset is sliced with step 1 only")
        start -= start % 2  # back to the pair's first sample
        stop += stop % 2  # on to the pair's last sample
        return PairedDataset(samples=self.samples[start:stop], name=self.name,
                             location=self.location, shuffled=self.shuffled)
