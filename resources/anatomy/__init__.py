"""The shape model's statistics (shape_model.json), derived from CAMUS: see its ``terms``."""
