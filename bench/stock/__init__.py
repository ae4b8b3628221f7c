"""`python -m bench.stock`: the stock path alone (ATP, projection, restore, hot SKU)."""
