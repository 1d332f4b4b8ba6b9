"""Scoring findings against a world's ground truth: precision and recall per class."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

Key = tuple[str, str, str]


@dataclass(frozen=True, slots=True)
class ClassScore:
    finding_class: str
    expected: int
    found: int
    agreed: int

    @property
    def precision(self) -> float:
        return self.agreed / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.agreed / self.expected if self.expected else 1.0


def score(got: Mapping[Key, str], want: Mapping[Key, str]) -> dict[str, ClassScore]:
    """Per class: how many findings were expected, found, and found with the right class."""
    classes = set(got.values()) | set(want.values())
    result = {}
    for cls in sorted(classes):
        have = {k for k, v in got.items() if v == cls}
        expected = {k for k, v in want.items() if v == cls}
        result[cls] = ClassScore(cls, len(expected), len(have), len(have & expected))
    return result


def imperfect(scores: Mapping[str, ClassScore]) -> dict[str, tuple[float, float]]:
    """The classes whose precision or recall is below 1.0, for a readable assertion."""
    return {
        c: (s.precision, s.recall) for c, s in scores.items() if s.precision < 1.0 or s.recall < 1.0
    }
