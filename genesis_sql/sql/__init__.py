"""The SQL surface: the functions and macros ``install()`` registers, and WHERE pushdown (``pushdown/``)."""
