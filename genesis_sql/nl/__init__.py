"""Natural language over the catalog: model descriptions, prompt context, ``ask``, the SQL validator, MCP.

Everything here reads its vocabulary from the catalog (model and column names, category values, labels,
column notes), never from lists written for particular tables.
"""
