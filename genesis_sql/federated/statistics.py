"""What travels: the sufficient statistics of a Gaussian copula, computed by each site on its own rows.

Every round the aggregator sends a *request* (JSON); each site answers with named vectors that
:func:`layout` fixes in name, length, fixed-point precision and record-level sensitivity, on both sides
from the request alone (a site never takes the aggregator's word for a sensitivity). Rows never leave a
site; only these sums do, and only through secure aggregation. The rounds:

``domain``
    row count; per categorical column counts over keyed-hash slots (or over fixed values for booleans)
    and the longest value's length; per numeric column its NULL count, a histogram on a universal
    signed-log grid (32 bins a decade) and its precision (decimals or timestamp step) as a one-hot;
    per integer id column the bit length of its largest value as a one-hot.
``marginals``
    per categorical column, for each occupied slot: how many sites hold its value, the value's bytes
    times that indicator (in 3-byte chunks) and a keyed checksum, so the sum reveals each value once and
    no site's values; per numeric column a histogram on agreed bins: the exact lattice of its values
    (step 1, 10**-decimals, or the timestamp step) when that has at most ``LATTICE_LIMIT`` points, else
    bins at the quantiles of the domain histogram plus fine bins over its extremes.
``scores``
    with the agreed codecs, the row count, sums and cross-products of the normal scores, and per
    categorical column with three or more categories the count and score sums of each category (what
    the copula's category layout and its latent correlation are computed from).
"""
from __future__ import annotations

import hashlib
import json
import math
from typing import Any

import numpy as np
import pyarrow as pa
from scipy.special import ndtri

from genesis_sql.errors import FederatedError
from genesis_sql.federated._ring import encode
from genesis_sql.federated._wire import unpack_array
from genesis_sql.models._columns import _DATETIME_STEPS_US, Codec, _to_float, codec_for
from genesis_sql.schema import ColumnSpec, decimals_of

# Universal signed-log grid of the domain round: BINS_PER_DECADE bins per decade over
# [10**LOW_DECADE, 10**HIGH_DECADE) for each sign, values beyond clipped to the end bins, zero its own bin.
BINS_PER_DECADE = 32
LOW_DECADE, HIGH_DECADE = -9, 18
SIDE_BINS = (HIGH_DECADE - LOW_DECADE) * BINS_PER_DECADE
GRID_BINS = 2 * SIDE_BINS + 1
# Largest lattice histogram (points) before a column falls back to quantile bins.
LATTICE_LIMIT = 16_384
# Categorical values travel as 3-byte chunks (so count x chunk stays far inside the ring); longest value.
CHUNK_BYTES = 3
MAX_CHUNKS = 128
PRECISION_SLOTS = 8  # decimals 0..6 and "more" (numeric); timestamp step index 0..5 (datetime)
ID_BITS = 64
# Fixed-point fraction bits of score sums (counts are exact integers).
SCORE_BITS = 24
# Without DP the scores are bounded by the copula's clip of 1e-12 (|z| < 7.04).
Z_BOUND = 7.1


def _entry(name: str, length: int, bits: int = 0, sensitivity: float | None = 1.0) -> dict[str, Any]:
    return {"name": name, "length": int(length), "bits": bits, "sensitivity": sensitivity}


def layout(request: dict[str, Any], schema: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The named vectors a round's answer holds, in order: name, length, fraction bits, L2 sensitivity.

    ``sensitivity`` is how far one record (added or removed) moves that vector in L2 norm, after the
    round's clipping; None marks vectors that are not noised under DP (the categorical values' bytes,
    released only for slots that passed the noisy count threshold of the domain round).
    """
    kind = request["kind"]
    out = []
    if kind == "domain":
        out.append(_entry("rows", 1))
        for plan in request["columns"]:
            i, mode = plan["index"], plan["mode"]
            if "slots" in plan:
                out += [_entry(f"{i}.slots", plan["slots"]), _entry(f"{i}.chunks", MAX_CHUNKS + 1, 0, math.sqrt(2))]
            if mode == "fixed":
                out.append(_entry(f"{i}.counts", len(plan["values"])))
            elif mode == "numeric":
                out += [_entry(f"{i}.nulls", 1), _entry(f"{i}.grid", GRID_BINS),
                        _entry(f"{i}.precision", PRECISION_SLOTS, 0, math.sqrt(2))]
            elif mode == "id":
                out.append(_entry(f"{i}.bits", ID_BITS + 1, 0, math.sqrt(2)))
    elif kind == "marginals":
        for plan in request["columns"]:
            i = plan["index"]
            if plan["mode"] == "labels":
                k = len(plan["slots"])
                out += [_entry(f"{i}.present", k, 0, None), _entry(f"{i}.label", k * plan["chunks"], 0, None),
                        _entry(f"{i}.check", k, 0, None), _entry(f"{i}.multi", k, 0, None)]
            elif "size" in plan:
                out.append(_entry(f"{i}.hist", plan["size"]))
            else:
                bins = len(plan["bins"]) * plan["parts"] if plan["mode"] == "refine" else len(plan["edges"]) - 1
                out += [_entry(f"{i}.hist", bins), _entry(f"{i}.offset", bins, SCORE_BITS),
                        _entry(f"{i}.offset2", bins, SCORE_BITS)]
    elif kind == "scores":
        d, clip = len(request["latent"]), request.get("clip")
        bound = clip if clip is not None else Z_BOUND * math.sqrt(max(d, 1))
        out += [_entry("n", 1), _entry("sum", d, SCORE_BITS, bound),
                _entry("cross", d * (d + 1) // 2, SCORE_BITS, bound**2)]
        for j, size in request["categories"].items():
            out += [_entry(f"cat{j}.n", size), _entry(f"cat{j}.sum", size * d, SCORE_BITS, bound)]
    else:
        raise FederatedError(f"Unknown statistics round {kind!r}.")
    return out


def round_sensitivity(entries: list[dict[str, Any]]) -> float:
    """The L2 sensitivity of a whole round's noised vectors together."""
    return math.sqrt(sum(e["sensitivity"] ** 2 for e in entries if e["sensitivity"] is not None))


def json_value(value: Any) -> str:
    """A categorical value as the canonical JSON text its slot and label are computed from."""
    if isinstance(value, float) and not math.isfinite(value):
        value = None
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def slot_of(text: str, salt: str, slots: int) -> int:
    """The keyed-hash slot of a value's JSON text."""
    digest = hashlib.blake2b(text.encode(), digest_size=8, key=f"slot|{salt}".encode()).digest()
    return int.from_bytes(digest, "little") % slots


def checksum_of(text: str, salt: str) -> int:
    """A 24-bit keyed checksum of a value's JSON text (catches two values sharing a slot)."""
    digest = hashlib.blake2b(text.encode(), digest_size=3, key=f"check|{salt}".encode()).digest()
    return int.from_bytes(digest, "little")


def chunks_of(text: str, chunks: int) -> np.ndarray:
    """A value's UTF-8 bytes as ``chunks`` integers of 3 bytes each (zero padded)."""
    data = text.encode()
    if len(data) > chunks * CHUNK_BYTES:
        raise FederatedError(f"A categorical value of {len(data)} bytes is longer than the agreed "
                             f"{chunks * CHUNK_BYTES}.")
    data = data.ljust(chunks * CHUNK_BYTES, b"\0")
    return np.array([int.from_bytes(data[k:k + CHUNK_BYTES], "big") for k in range(0, len(data), CHUNK_BYTES)],
                    dtype=np.float64)


def text_of(chunks: np.ndarray) -> str:
    """Inverse of :func:`chunks_of`."""
    data = b"".join(int(c).to_bytes(CHUNK_BYTES, "big") for c in chunks)
    return data.rstrip(b"\0").decode()


def grid_index(x: np.ndarray) -> np.ndarray:
    """Bin of each finite value on the universal signed-log grid."""
    out = np.full(x.size, SIDE_BINS, dtype=np.int64)
    nonzero = x != 0
    with np.errstate(divide="ignore"):
        k = np.floor((np.log10(np.abs(x[nonzero])) - LOW_DECADE) * BINS_PER_DECADE)
    k = np.clip(k, 0, SIDE_BINS - 1).astype(np.int64)
    out[nonzero] = np.where(x[nonzero] > 0, SIDE_BINS + 1 + k, SIDE_BINS - 1 - k)
    return out


def grid_bounds(index: int) -> tuple[float, float]:
    """The value interval [low, high] of a grid bin (the end bins reach to the clipped extremes)."""
    if index == SIDE_BINS:
        return 0.0, 0.0
    k = index - SIDE_BINS - 1 if index > SIDE_BINS else SIDE_BINS - 1 - index
    low = 10.0 ** (k / BINS_PER_DECADE + LOW_DECADE) if k > 0 else 0.0
    high = 10.0 ** ((k + 1) / BINS_PER_DECADE + LOW_DECADE) if k < SIDE_BINS - 1 else math.inf
    return (low, high) if index > SIDE_BINS else (-high, -low)


def precision_slot(finite: np.ndarray, spec: ColumnSpec) -> int:
    """The one-hot slot of a site's precision: decimals (numeric) or timestamp step index (datetime)."""
    if spec.kind == "datetime":
        for index, step in enumerate(_DATETIME_STEPS_US):
            if finite.size == 0 or np.all(np.mod(finite, step) == 0):
                return index
        return len(_DATETIME_STEPS_US) - 1
    places = decimals_of(finite)
    return PRECISION_SLOTS - 1 if places is None else places


def lattice_index(x: np.ndarray, plan: dict[str, Any]) -> np.ndarray:
    """Bin of each value in a histogram plan: its lattice point, or its quantile bin."""
    if "size" in plan:
        return np.clip(np.round((x - plan["lo"]) / plan["step"]), 0, plan["size"] - 1).astype(np.int64)
    edges = np.asarray(plan["edges"], dtype=np.float64)
    return np.clip(np.searchsorted(edges, x, side="right") - 1, 0, edges.size - 2)


class SiteTable:
    """A site's training rows with the agreed column specs, and what it caches between rounds."""

    def __init__(self, table: pa.Table) -> None:
        self.table = table
        self.codecs: dict[int, Codec] = {}
        # The agreed codecs as sent (JSON) and the latest category layouts: all a site keeps between rounds.
        self.codec_states: dict[str, Any] = {}
        self.layouts: dict[str, list[int]] = {}

    def spec(self, schema: list[dict[str, Any]], i: int) -> ColumnSpec:
        return ColumnSpec.from_dict(schema[i])

    def numbers(self, spec: ColumnSpec) -> np.ndarray:
        return _to_float(self.table.column(spec.name), spec)

    def texts(self, name: str) -> list[str]:
        return [json_value(v) for v in self.table.column(name).to_pylist()]


def compute(site: SiteTable, request: dict[str, Any], schema: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """One site's statistics for a round (float64 vectors, before noise and encoding)."""
    kind = request["kind"]
    out: dict[str, np.ndarray] = {}
    if kind == "domain":
        out["rows"] = np.array([site.table.num_rows], dtype=np.float64)
        for plan in request["columns"]:
            i, mode = plan["index"], plan["mode"]
            spec = site.spec(schema, i)
            if mode == "fixed":
                position = {v: k for k, v in enumerate(plan["values"])}
                out[f"{i}.counts"] = np.bincount([position[t] for t in site.texts(spec.name)],
                                                 minlength=len(plan["values"])).astype(np.float64)
            if "slots" in plan:
                excluded = set(plan.get("exclude", ()))
                texts = [t for t in site.texts(spec.name) if t not in excluded]
                slots = [slot_of(t, plan["salt"], plan["slots"]) for t in texts]
                out[f"{i}.slots"] = np.bincount(slots, minlength=plan["slots"]).astype(np.float64)
                longest = max((len(t.encode()) for t in set(texts)), default=0)
                chunks = -(-longest // CHUNK_BYTES)
                if chunks > MAX_CHUNKS:
                    raise FederatedError(f"Column {spec.name!r} holds values of {longest} bytes; federated training "
                                         f"shares categories up to {MAX_CHUNKS * CHUNK_BYTES} bytes.")
                out[f"{i}.chunks"] = np.eye(MAX_CHUNKS + 1)[chunks]
            if mode == "numeric":
                x = site.numbers(spec)
                finite = x[~np.isnan(x)]
                out[f"{i}.nulls"] = np.array([x.size - finite.size], dtype=np.float64)
                out[f"{i}.grid"] = np.bincount(grid_index(finite), minlength=GRID_BINS).astype(np.float64)
                out[f"{i}.precision"] = np.eye(PRECISION_SLOTS)[precision_slot(finite, spec)]
            elif mode == "id":
                x = site.numbers(spec) if plan.get("integer") else np.zeros(0)
                top = int(np.nanmax(x)) if x.size and np.isfinite(x).any() else 0
                out[f"{i}.bits"] = np.eye(ID_BITS + 1)[min(max(top, 0).bit_length(), ID_BITS)]
    elif kind == "marginals":
        for plan in request["columns"]:
            i = plan["index"]
            spec = site.spec(schema, i)
            if plan["mode"] == "labels":
                held, shared = {}, set()
                for t in set(site.texts(spec.name)) - set(plan.get("exclude", ())):
                    slot = slot_of(t, plan["salt"], plan["slots_total"])
                    if slot in held:
                        shared.add(slot)  # two of this site's values in one slot: flagged, sent again later
                    held[slot] = t
                k, chunks = len(plan["slots"]), plan["chunks"]
                present, label, check = np.zeros(k), np.zeros(k * chunks), np.zeros(k)
                multi = np.array([slot in shared for slot in plan["slots"]], dtype=np.float64)
                for position, slot in enumerate(plan["slots"]):
                    if slot in held:
                        present[position] = 1
                        label[position * chunks:(position + 1) * chunks] = chunks_of(held[slot], chunks)
                        check[position] = checksum_of(held[slot], plan["salt"])
                out.update({f"{i}.present": present, f"{i}.label": label, f"{i}.check": check, f"{i}.multi": multi})
            elif plan["mode"] == "refine":
                out.update(_refined(site.numbers(spec), plan))
            else:
                x = site.numbers(spec)
                finite = x[~np.isnan(x)]
                size = plan["size"] if "size" in plan else len(plan["edges"]) - 1
                bins = lattice_index(finite, plan)
                out[f"{i}.hist"] = np.bincount(bins, minlength=size).astype(np.float64)
                if "edges" in plan:
                    # Where in its bin each value lies (0..1): the bins' first two moments tell a point
                    # mass (a repeated value, which a KS test sees) from values spread over the bin.
                    edges = np.asarray(plan["edges"], dtype=np.float64)
                    width = edges[bins + 1] - edges[bins]
                    u = np.clip(np.where(width > 0, (finite - edges[bins]) / np.where(width > 0, width, 1.0), 0.0),
                                0.0, 1.0)
                    out[f"{i}.offset"] = np.bincount(bins, weights=u, minlength=size)
                    out[f"{i}.offset2"] = np.bincount(bins, weights=u * u, minlength=size)
    elif kind == "scores":
        out.update(_scores(site, request, schema))
    return out


def _refined(x: np.ndarray, plan: dict[str, Any]) -> dict[str, np.ndarray]:
    """Counts and position moments over the ``parts`` equal parts of each chosen quantile bin."""
    i, parts, chosen = plan["index"], plan["parts"], plan["bins"]
    edges = np.asarray(plan["edges"], dtype=np.float64)
    finite = x[~np.isnan(x)]
    bins = lattice_index(finite, plan)
    position = {b: k for k, b in enumerate(chosen)}
    slot = np.array([position.get(int(b), -1) for b in bins], dtype=np.int64)
    keep = slot >= 0
    width = edges[bins[keep] + 1] - edges[bins[keep]]
    scaled = np.clip((finite[keep] - edges[bins[keep]]) / width, 0.0, 1.0) * parts
    part = np.minimum(np.floor(scaled), parts - 1)
    index = slot[keep] * parts + part.astype(np.int64)
    v = np.clip(scaled - part, 0.0, 1.0)
    size = len(chosen) * parts
    return {f"{i}.hist": np.bincount(index, minlength=size).astype(np.float64),
            f"{i}.offset": np.bincount(index, weights=v, minlength=size),
            f"{i}.offset2": np.bincount(index, weights=v * v, minlength=size)}


def _load_codecs(site: SiteTable, request: dict[str, Any], schema: list[dict[str, Any]]) -> None:
    if "codecs" in request:
        site.codec_states, site.layouts = request["codecs"], {}
    site.layouts.update(request.get("layouts", {}))
    site.codecs = {}
    for key, state in site.codec_states.items():
        i = int(key)
        spec = site.spec(schema, i)
        arrays = {name: unpack_array(packed) for name, packed in state["arrays"].items()}
        site.codecs[i] = type(codec_for(spec)).from_state(spec, state["meta"], arrays)
    for key, order in site.layouts.items():
        site.codecs[int(key)].set_layout(np.asarray(order, dtype=np.int64))


def normal_scores(site: SiteTable, latent: list[int], schema: list[dict[str, Any]]) -> np.ndarray:
    """The site's normal scores (rows x latent columns) under the agreed codecs."""
    if not latent:
        return np.zeros((site.table.num_rows, 0))
    columns = [site.codecs[i].scores(site.table.column(schema[i]["name"])) for i in latent]
    return ndtri(np.clip(np.column_stack(columns), 1e-12, 1 - 1e-12))


def _scores(site: SiteTable, request: dict[str, Any], schema: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    _load_codecs(site, request, schema)
    latent = request["latent"]
    z = normal_scores(site, latent, schema)
    clip = request.get("clip")
    if clip is not None:
        norms = np.linalg.norm(z, axis=1)
        z = z * np.minimum(1.0, clip / np.maximum(norms, 1e-300))[:, None]
    upper = np.triu_indices(len(latent))
    out = {"n": np.array([z.shape[0]], dtype=np.float64), "sum": z.sum(axis=0), "cross": (z.T @ z)[upper]}
    for key, size in request["categories"].items():
        j = int(key)
        codes = site.codecs[latent[j]].codes(site.table.column(schema[latent[j]]["name"]))
        known = codes >= 0
        out[f"cat{j}.n"] = np.bincount(codes[known], minlength=size).astype(np.float64)
        sums = np.zeros((size, len(latent)))
        np.add.at(sums, codes[known], z[known])
        out[f"cat{j}.sum"] = sums.ravel()
    return out


def encode_round(values: dict[str, np.ndarray], entries: list[dict[str, Any]], noise_sigma: float = 0.0,
                 rng: np.random.Generator | None = None) -> np.ndarray:
    """A round's statistics as one fixed-point word vector in layout order, with Gaussian noise of
    standard deviation ``noise_sigma`` added to every noised entry (record-level DP, opt-in)."""
    words = []
    for entry in entries:
        value = np.asarray(values.get(entry["name"], np.zeros(0)), dtype=np.float64).ravel()
        if value.size != entry["length"]:
            raise FederatedError(f"Statistic {entry['name']!r} has {value.size} values; the round expects "
                                 f"{entry['length']}.")
        if noise_sigma > 0 and entry["sensitivity"] is not None:
            value = value + (rng or np.random.default_rng()).normal(0.0, noise_sigma, value.size)
        words.append(encode(value, entry["bits"]))
    return np.concatenate(words) if words else np.zeros(0, dtype=np.uint64)


def decode_round(words: np.ndarray, entries: list[dict[str, Any]]) -> dict[str, np.ndarray]:
    """Inverse of :func:`encode_round` on a sum of encodings."""
    from genesis_sql.federated._ring import decode

    out, start = {}, 0
    for entry in entries:
        part = words[start:start + entry["length"]]
        out[entry["name"]] = decode(part, entry["bits"])
        start += entry["length"]
    return out
