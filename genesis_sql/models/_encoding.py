"""A table's columns as codecs: training rows to standard-normal scores, generated scores back to rows.

Every synthesizer models the same thing, the *latent* columns (numbers, datetimes, categories and text
lengths) as standard-normal scores, and leaves the rest to the codecs: identifiers are made fresh per
row, text words come from the text codec, NULLs, bounds, precision and categories come back through
each column's marginal. So every method supports the same column kinds, and a generated row depends only
on its scores and its own counter-based uniforms.
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
from scipy.special import ndtri

from genesis_sql.models._columns import MAX_WORDS, CategoricalCodec, Codec, IdCodec, TextCodec, codec_for
from genesis_sql.models._decoder import BatchDecoder
from genesis_sql.models._identity import NAME_STYLES, names_in_emails
from genesis_sql.models._random import uniforms
from genesis_sql.schema import ColumnSpec

_CLIP = 1e-12
# Uniform positions one text column may use (16 retries of MAX_WORDS words each).
TEXT_POSITIONS = MAX_WORDS * 16


class TableEncoding:
    """The fitted codecs of a model's columns, and the latent (modelled) part of them.

    Args:
        columns: the model's column specs.
        codecs: one fitted codec per column.
    """

    def __init__(self, columns: list[ColumnSpec], codecs: list[Codec]) -> None:
        self.columns = columns
        self.codecs = codecs
        self.latent = [i for i, c in enumerate(codecs) if c.latent]
        self.schema = pa.schema([(c.name, codec.target_type) for c, codec in zip(columns, codecs)])
        self._decoder: BatchDecoder | None = None
        self._category_normals: dict[int, np.ndarray] = {}

    @classmethod
    def fit(cls, data: pa.Table, columns: list[ColumnSpec], rng: np.random.Generator) -> TableEncoding:
        """Fit one codec per column of ``data``, then link identifier columns to each other."""
        codecs = [codec_for(spec).fit(data.column(spec.name), rng) for spec in columns]
        _link_identities(data, codecs)
        return cls(columns, codecs)

    @property
    def dims(self) -> int:
        """Number of latent dimensions."""
        return len(self.latent)

    def categorical_dims(self) -> list[int]:
        """Latent dimensions that are categories (modelled as codes rather than continuous scores)."""
        return [j for j, i in enumerate(self.latent) if isinstance(self.codecs[i], CategoricalCodec)]

    def normal_scores(self, data: pa.Table) -> np.ndarray:
        """Standard-normal scores (rows x latent dims) of ``data``: mid-ranks through the inverse normal CDF."""
        if not self.latent:
            return np.zeros((data.num_rows, 0))
        scores = np.column_stack([self.codecs[i].scores(data.column(self.columns[i].name)) for i in self.latent])
        return ndtri(np.clip(scores, _CLIP, 1 - _CLIP))

    def category_codes(self, data: pa.Table, j: int) -> np.ndarray:
        """Category index of each row for categorical latent dimension ``j``."""
        i = self.latent[j]
        return self.codecs[i].codes(data.column(self.columns[i].name))

    def category_normals(self, j: int) -> np.ndarray:
        """The normal score at the middle of each category's interval, for categorical latent dimension ``j``
        (computed once: every block of rows of a forest asks for it)."""
        normals = self._category_normals.get(j)
        if normals is None:
            codec = self.codecs[self.latent[j]]
            normals = ndtri(np.clip((codec.lower_ + codec.bounds_) / 2.0, _CLIP, 1 - _CLIP))
            normals.flags.writeable = False
            self._category_normals[j] = normals
        return normals

    def decode(self, rows: np.ndarray, attempts: np.ndarray, key: int, states: np.ndarray, z: np.ndarray,
               *, offset: int) -> pa.Table:
        """Rows of the model's columns from latent scores ``z`` (rows x latent dims).

        Text words draw uniforms from position ``offset`` on, ``TEXT_POSITIONS`` per text column, so the
        caller keeps its own positions below ``offset``.
        """
        if self._decoder is None:
            self._decoder = BatchDecoder(self.codecs, self.latent)
        decoded = self._decoder.decode(z)
        arrays: dict[int, pa.Array] = dict(decoded)
        tag = f"{key & 0xFFFFFF:06x}"
        texts = [i for i, c in enumerate(self.codecs) if isinstance(c, TextCodec)]
        names = {c.spec.name: i for i, c in enumerate(self.codecs)}
        # Columns derived from another (an email from a name) come after the one they read.
        for i in sorted(texts, key=lambda i: self.codecs[i].source_ is not None):
            codec = self.codecs[i]
            start = offset + texts.index(i) * TEXT_POSITIONS
            source = arrays[names[codec.source_]].to_pylist() if codec.source_ is not None else None
            arrays[i] = codec.sample_text(
                z[:, self.latent.index(i)],
                lambda retry, o=start: uniforms(states, MAX_WORDS, attempts=attempts, offset=o + retry * MAX_WORDS),
                source)
        for i, codec in enumerate(self.codecs):
            if isinstance(codec, IdCodec):
                source = arrays[names[codec.source_]].to_pylist() if codec.source_ is not None else None
                arrays[i] = codec.sample_ids(rows, tag, source)
        # Names rather than the schema: categories stay dictionary-encoded (cheap to make and to hand over).
        return pa.Table.from_arrays([arrays[i] for i in range(len(self.codecs))], names=self.schema.names)

    def to_state(self) -> tuple[list[dict[str, Any]], dict[str, np.ndarray]]:
        """Codec metadata (one per column) and arrays keyed ``"<column index>.<name>"``."""
        metas, arrays = [], {}
        for i, codec in enumerate(self.codecs):
            meta, codec_arrays = codec.to_state()
            metas.append(meta)
            arrays.update({f"{i}.{key}": value for key, value in codec_arrays.items()})
        return metas, arrays

    @classmethod
    def from_state(cls, columns: list[ColumnSpec], metas: list[dict[str, Any]],
                   arrays: dict[str, np.ndarray]) -> TableEncoding:
        """Inverse of :meth:`to_state` (other keys in ``arrays`` are ignored)."""
        codecs = []
        for i, (spec, meta) in enumerate(zip(columns, metas)):
            prefix = f"{i}."
            own = {k[len(prefix):]: v for k, v in arrays.items() if k.startswith(prefix)}
            codecs.append(type(codec_for(spec)).from_state(spec, meta, own))
        return cls(columns, codecs)


def _link_identities(data: pa.Table, codecs: list[Codec]) -> None:
    """Give identifier columns the locale of the table's names (a national identity number keeps its own
    scheme's), and derive emails from a name column when the training emails spell the names of the same rows."""
    styled = [c for c in codecs if getattr(c, "style_", None) not in (None, "free")]
    named = [c for c in styled if isinstance(c, TextCodec) and c.style_ in NAME_STYLES]
    if not named:
        return
    for codec in styled:
        if codec.style_ not in (*NAME_STYLES, "national_id"):
            codec.locale_ = named[0].locale_
        if codec.style_ != "email":
            continue
        emails = data.column(codec.spec.name).to_pylist()
        for name in sorted(named, key=lambda c: NAME_STYLES.index(c.style_)):
            if names_in_emails(emails, data.column(name.spec.name).to_pylist()):
                codec.source_ = name.spec.name
                break
