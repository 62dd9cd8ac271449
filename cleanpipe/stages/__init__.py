"""The pipeline stages: each a plain unit, input in, output plus a record of what it did out."""
