"""What a dataset source is asked for: which set, how many samples, how noisy, how split, which seed."""

from __future__ import annotations

from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from dagrad.ops.datasets import DIGITS_COUNT

DataName = Literal["circle", "xor", "blobs", "spirals", "moons", "sine", "polynomial", "digits"]
DATA_NAMES: tuple[str, ...] = get_args(DataName)
CLASSIFICATION = frozenset({"circle", "xor", "blobs", "spirals", "moons", "digits"})
MAX_SAMPLES = 20_000  # train + test: a teaching set, a few hundred kB of features at most
MAX_CLASSES = 8


class DataSpec(BaseModel):
    """One dataset, fully determined by these fields (the same spec always gives the same tensors)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: DataName = Field(description="Which set: 2-D classification, 1-D regression (sine, polynomial) or digits.")
    samples: int = Field(
        200, ge=4, le=MAX_SAMPLES, strict=True, description=f"Train + test samples (digits: at most {DIGITS_COUNT})."
    )
    noise: float = Field(
        0.1,
        ge=0,
        le=10,
        allow_inf_nan=False,
        strict=True,
        description="Standard deviation of the Gaussian noise on the 2-D points or on the regression target "
        "(digits: unused, the images are as scikit-learn ships them).",
    )
    test_fraction: float = Field(
        0.2,
        ge=0,
        lt=1,
        allow_inf_nan=False,
        strict=True,
        description="Share of the samples held out as the test split.",
    )
    seed: int = Field(0, ge=0, le=2**63 - 1, strict=True, description="Seed of the set's own generator.")
    classes: int = Field(
        3,
        ge=2,
        le=MAX_CLASSES,
        strict=True,
        description="blobs: number of blobs; spirals: number of arms (2 is the classic two spirals). Unused by the others.",
    )
    degree: int = Field(3, ge=1, le=6, strict=True, description="polynomial only: degree of the seeded polynomial.")

    @field_validator("samples")
    @classmethod
    def _digits_ship_1797(cls, samples: int, info: ValidationInfo) -> int:
        if info.data.get("name") == "digits" and samples > DIGITS_COUNT:
            raise ValueError(f"digits has {DIGITS_COUNT} images: ask for at most {DIGITS_COUNT} samples")
        return samples

    @field_validator("classes")
    @classmethod
    def _a_sample_per_class(cls, classes: int, info: ValidationInfo) -> int:
        samples = info.data.get("samples")
        if info.data.get("name") in ("blobs", "spirals") and samples is not None and samples < classes:
            raise ValueError(f"{samples} samples cannot fill {classes} classes: ask for fewer classes or more samples")
        return classes

    @property
    def task(self) -> Literal["classification", "regression"]:
        return "classification" if self.name in CLASSIFICATION else "regression"

    @property
    def test_count(self) -> int:
        """Samples in the test split: the fraction rounded down, so the train split is never empty."""
        return int(self.samples * self.test_fraction)
