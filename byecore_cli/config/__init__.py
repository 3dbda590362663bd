"""byecore's own settings: pydantic models (models.py) and their TOML store (store.py)."""
