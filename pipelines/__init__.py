"""Item pipelines, one job each, in the order ITEM_PIPELINES (crawler/settings.py) gives them."""
