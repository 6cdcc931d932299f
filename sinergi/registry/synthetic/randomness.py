"""Reproducible uniform draws as polars expressions (splitmix64 of a row
index, one stream per name), and choices made from them."""

from __future__ import annotations

import math
import random
from collections.abc import Sequence

import polars as pl

_U64 = pl.UInt64


class SeededRandom:
    """Uniform [0, 1) streams: splitmix64 of a row index, one stream per name.

    ``draw`` adds the streams as columns ``_u_<name>`` once, so expressions
    that use a draw many times (a weighted choice compares it with every
    threshold) read a column instead of recomputing the hash.
    """

    def __init__(self, seed: int):
        self.seed = seed

    def params(self, stream: str) -> tuple[int, int]:
        rng = random.Random(f"sinergi-synthetic:{self.seed}:{stream}")
        return rng.getrandbits(64) | 1, rng.getrandbits(64)

    def expr(self, index: str, stream: str) -> pl.Expr:
        a, b = self.params(stream)
        z = pl.col(index).cast(_U64) * pl.lit(a, _U64) + pl.lit(b, _U64)
        z = (z ^ (z // pl.lit(1 << 30, _U64))) * pl.lit(0xBF58476D1CE4E5B9, _U64)
        z = (z ^ (z // pl.lit(1 << 27, _U64))) * pl.lit(0x94D049BB133111EB, _U64)
        z = z ^ (z // pl.lit(1 << 31, _U64))
        return ((z // pl.lit(1 << 11, _U64)).cast(pl.Float64) * (2.0 ** -53)).alias(
            "_u_" + stream)

    def draw(self, df: pl.DataFrame, index: str, *streams: str) -> pl.DataFrame:
        return df.with_columns([self.expr(index, s) for s in streams])


def U(stream: str) -> pl.Expr:
    """A drawn uniform (see ``SeededRandom.draw``)."""
    return pl.col("_u_" + stream)


def normal(a: str, b: str) -> pl.Expr:
    """Standard normal from two drawn uniforms (Box-Muller)."""
    return (-2.0 * (1.0 - U(a)).log()).sqrt() * (2 * math.pi * U(b)).cos()


def weighted(u: pl.Expr, options: Sequence[tuple[object, float]],
            dtype: pl.DataType = pl.Int16) -> pl.Expr:
    """A value drawn with the given weights, from one uniform."""
    total = float(sum(w for _v, w in options))
    if len(options) == 1:
        return pl.lit(options[0][0], dtype)
    chain = None
    cum = 0.0
    for value, weight in options[:-1]:
        cum += weight / total
        cond = u < cum
        chain = (pl.when(cond) if chain is None else chain.when(cond)).then(
            pl.lit(value, dtype))
    return chain.otherwise(pl.lit(options[-1][0], dtype))


def pick(u: pl.Expr, values: Sequence[str]) -> pl.Expr:
    """One of ``values``, uniformly."""
    idx = (u * len(values)).floor().cast(pl.Int32).clip(0, len(values) - 1)
    return pl.lit(pl.Series(values, dtype=pl.String)).gather(idx)
