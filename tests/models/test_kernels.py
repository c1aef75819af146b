"""The compiled sampling loops compute bit for bit what their numpy definitions compute.

Each reference below is the array code a kernel replaced (genesis_sql.models._kernels); equality is exact
(``np.array_equal``), because a row's values must not depend on how they are computed (DESIGN.md
"Determinism"), and because users' stored seeds keep giving the rows they gave.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy.special import ndtri

from genesis_sql.models._calibration import KNOTS, Calibration
from genesis_sql.models._columns import Z_GRID, Z_LIMIT
from genesis_sql.models._decoder import BatchDecoder
from genesis_sql.models._encoding import TableEncoding
from genesis_sql.models._forest import DenseCategories, TruncatedNormals
from genesis_sql.models._random import DIMS_PER_ATTEMPT, NORMAL_TABLE, row_states, standard_normals, uniforms
from genesis_sql.models._random import _mix as random_mix
from tests.models.conftest import typed

RNG = np.random.default_rng(11)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def _mix(x: np.ndarray) -> np.ndarray:
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    return x


def reference_uniforms(states: np.ndarray, dims: int, attempts: np.ndarray, offset: int) -> np.ndarray:
    positions = np.arange(offset + 1, offset + dims + 1, dtype=np.uint64)[None, :]
    with np.errstate(over="ignore"):
        counter = (attempts.astype(np.uint64)[:, None] * np.uint64(DIMS_PER_ATTEMPT) + positions) * _GOLDEN
        bits = _mix(counter + states[:, None])
    bits >>= np.uint64(11)
    return (bits.astype(np.float64) + 0.5) * (1.0 / 9007199254740992.0)


def reference_normals(u: np.ndarray) -> np.ndarray:
    tail, scale, last, table, rise = NORMAL_TABLE
    position = np.clip((u - tail) * scale, 0.0, last)
    left = position.astype(np.int64)
    position -= left
    out = rise[left] * position + table[left]
    tails = (u < tail) | (u > 1.0 - tail)
    out[tails] = ndtri(u[tails])
    return out


def test_row_origins_and_the_finaliser_are_splitmix64s():
    rows = np.r_[np.arange(5_000), 2**40 + np.arange(100), 2**62]
    for key in (0, 1, 0xC0FFEE, 2**64 - 1):
        with np.errstate(over="ignore"):
            expected = _mix(rows.astype(np.uint64) * _GOLDEN ^ np.uint64(key))
        assert np.array_equal(row_states(key, rows), expected)
    words = RNG.integers(0, 2**63, (300, 7), dtype=np.int64).astype(np.uint64)
    assert np.array_equal(random_mix(words.copy()), _mix(words.copy()))


def test_uniforms_are_the_splitmix_positions_of_each_try():
    rows = np.arange(20_000, dtype=np.int64) * 7919
    states = row_states(0xC0FFEE, rows)
    attempts = RNG.integers(0, 5, rows.size)
    for dims, offset in [(1, 0), (9, 0), (3, 40), (1, DIMS_PER_ATTEMPT - 2)]:
        expected = reference_uniforms(states, dims, attempts, offset)
        assert np.array_equal(uniforms(states, dims, attempts=attempts, offset=offset), expected)
    assert np.array_equal(uniforms(states, 4), reference_uniforms(states, 4, np.zeros(rows.size, np.int64), 0))


def test_standard_normals_read_the_table_in_the_body_and_the_exact_quantile_in_the_tails():
    u = np.r_[RNG.random(200_000), 1e-300, 1.0 / 256.0, 0.5, 1.0 - 1.0 / 256.0, 1.0 - 1e-16, 1e-5, 0.999999]
    assert np.array_equal(standard_normals(u), reference_normals(u))
    block = RNG.random((300, 7))[:, ::2]  # a strided block keeps its shape
    assert np.array_equal(standard_normals(block), reference_normals(block.ravel()).reshape(block.shape))


def _truncated_normals(shape: tuple[int, ...]) -> TruncatedNormals:
    mean, sd = RNG.normal(size=shape), RNG.exponential(size=shape)
    sd[..., 0] = 0.0  # a point mass
    low, high = mean - RNG.exponential(size=shape) * 3, mean + RNG.exponential(size=shape) * 3
    low[..., 1] = mean[..., 1] + 2.0  # a range far above the mean: inverted through the survival function
    high[..., 1] = mean[..., 1] + 9.0
    return TruncatedNormals.of(mean, sd, low, high)


def reference_draws(normals: TruncatedNormals, u: np.ndarray) -> np.ndarray:
    p = normals.width * u
    p += normals.start
    np.clip(p, 1e-300, 1.0, out=p)
    e = reference_normals(p.ravel()).reshape(p.shape)
    e *= normals.scale
    e += normals.mean
    np.maximum(e, normals.floor, out=e)
    return np.minimum(e, normals.ceiling, out=e)


def test_truncated_normal_draws_match_their_array_definition():
    normals = _truncated_normals((40_000, 4))
    u = RNG.random((40_000, 4))
    u[:50] = 1e-9  # deep in the lower tail of every range
    assert np.array_equal(normals.invert(u), reference_draws(normals, u))


def test_packed_leaves_draw_what_their_single_precision_parameters_define():
    leaves = _truncated_normals((300, 3))
    table = leaves.packed()
    which = RNG.integers(0, 300, 50_000)
    u = RNG.random((50_000, 5))
    columns = np.array([4, 1, 2], dtype=np.intp)
    gathered = TruncatedNormals(*np.moveaxis(np.take(table, which, axis=0), 1, 0))
    expected = reference_draws(gathered, np.take(u, columns, axis=1))
    assert np.array_equal(TruncatedNormals.draw(table, which, u, columns), expected)


def reference_knot_map(calibration: Calibration, scores: np.ndarray) -> np.ndarray:
    """The calibration's map one dimension at a time: the segment by np.searchsorted, then its line."""
    knot_map = calibration._map
    out = np.empty_like(scores)
    for k, values in enumerate(knot_map._search.arrays):
        segment = knot_map._search.offsets[k] + np.searchsorted(values, scores[:, k], side="right")
        line = np.clip(scores[:, k], values[0], values[-1]) * knot_map._slope[segment]
        line += knot_map._intercept[segment]
        at_mass = knot_map._mass[segment] == scores[:, k]
        line[at_mass] = knot_map._normal[segment[at_mass]]
        out[:, k] = line
    return out


def test_calibration_maps_scores_as_its_knots_define_including_point_masses_and_the_ends():
    samples = np.column_stack([RNG.standard_t(3, 50_000), np.round(RNG.normal(size=50_000), 1),
                               np.where(RNG.random(50_000) < 0.3, 0.5, RNG.normal(size=50_000))])
    calibration = Calibration.fit(samples)
    assert calibration.knots.shape == (KNOTS, 3)
    scores = np.r_[RNG.normal(size=(60_000, 3)) * 2, samples[:5_000], [[np.inf, -np.inf, 0.5]] * 3]
    assert np.array_equal(calibration.apply(scores), reference_knot_map(calibration, scores))


def _decoder() -> tuple[TableEncoding, BatchDecoder]:
    n = 5_000
    table = pa.table({
        "price": pa.array(np.round(RNG.lognormal(6, 1, n), 2)),
        "weight": pa.array(RNG.normal(70, 12, n), mask=RNG.random(n) < 0.1),
        "rooms": pa.array(RNG.integers(1, 8, n)),
        "colour": pa.array(RNG.choice(["red", "green", "blue", "grey"], n)),
        "city": pa.array([f"city {i}" for i in RNG.integers(0, 60, n)]),
    })
    table, columns = typed(table)
    encoding = TableEncoding.fit(table, columns, np.random.default_rng(0))
    return encoding, BatchDecoder(encoding.codecs, encoding.latent)


def reference_continuous(decoder: BatchDecoder, z: np.ndarray) -> np.ndarray:
    zt = z.T[decoder.cont_dims]
    position = np.clip(zt, -Z_LIMIT, Z_LIMIT)
    position += Z_LIMIT
    position *= (Z_GRID - 1) / (2 * Z_LIMIT)
    left = np.minimum(position.astype(np.int64), Z_GRID - 2)
    position -= left
    left += decoder.grid_offsets[:, None]
    x = decoder.grid_rise[left] * position + decoder.grid[left]
    rounded = np.flatnonzero(~np.isnan(decoder.round_scale))
    scale = decoder.round_scale[rounded][:, None]
    x[rounded] = np.round(x[rounded] * scale) / scale
    x[zt < decoder.null_below[:, None]] = np.nan
    return x


def test_decoding_continuous_columns_matches_the_grid_definition():
    encoding, decoder = _decoder()
    assert decoder.cont_dims.size == 2 and decoder.round_scale[0] == 100.0
    z = np.r_[RNG.normal(size=(40_000, encoding.dims)) * 1.5, np.full((2, encoding.dims), 9.0),
              np.full((2, encoding.dims), -9.0)]
    assert np.array_equal(decoder._continuous(z), reference_continuous(decoder, z), equal_nan=True)


def test_interval_coded_columns_decode_to_the_interval_each_score_lies_in():
    encoding, decoder = _decoder()
    z = RNG.normal(size=(30_000, encoding.dims))
    decoded = decoder.decode(z)
    assert len(decoder.searched) == 3
    for j, i, codec, bounds, values in decoder.searched:
        bounds = bounds if isinstance(bounds, np.ndarray) else bounds.arrays[0]
        picked = values[np.searchsorted(bounds, z[:, j], side="right")]
        got = decoded[i].indices.to_numpy() if isinstance(decoded[i], pa.DictionaryArray) else decoded[i]
        assert np.array_equal(np.asarray(got), picked.astype(np.asarray(got).dtype))


@pytest.mark.parametrize("categories", [2, 5, 16])
def test_dense_categories_count_the_shares_below_each_uniform_in_single_precision(categories):
    shares = RNG.dirichlet(np.ones(categories), size=500)
    cumulative = np.cumsum(shares, axis=1)
    cumulative[:, -1] = 1.0
    sampler = DenseCategories(cumulative.astype(np.float32))
    leaf = RNG.integers(0, 500, 80_000)
    u = np.r_[RNG.random(80_000 - 2), 0.0, 1.0 - 1e-12]
    rows, u32 = sampler.cumulative[leaf], u.astype(np.float32)
    expected = (rows[:, :-1] < u32[:, None]).sum(axis=1)
    assert np.array_equal(sampler.pick(leaf, u), expected)
    strided = np.column_stack([u, u])[:, 1]
    assert np.array_equal(sampler.pick(leaf, strided), expected)
