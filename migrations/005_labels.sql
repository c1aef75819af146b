-- What people call a model's columns and values, kept per model NAME so that refits keep them:
-- value labels (genesis_label('workers', 'state', 93, 'California'), or a mapping query at fit) and column
-- notes (a description and unit, carried from the source's COMMENT ON COLUMN at fit). Values are stored as
-- JSON text so that 93 and '93' stay apart. genesis_describe, prompt_context and ask read them.
CREATE TABLE genesis.labels (
    model        VARCHAR NOT NULL,
    column_name  VARCHAR NOT NULL,
    value        VARCHAR NOT NULL,
    label        VARCHAR NOT NULL,
    updated_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (model, column_name, value)
);

CREATE TABLE genesis.column_notes (
    model        VARCHAR NOT NULL,
    column_name  VARCHAR NOT NULL,
    description  VARCHAR,
    unit         VARCHAR,
    updated_at   TIMESTAMP NOT NULL DEFAULT current_timestamp,
    PRIMARY KEY (model, column_name)
);
