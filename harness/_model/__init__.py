"""What a file says: YAML, case files, datasets, service specs and presets, pointers, schemas."""
