"""A searchable collection: a faiss index, Parquet metadata and a JSON manifest in one folder.

`engine index build/add` write it, `engine query`, `engine serve` and `engine.open_index` read it.
"""
