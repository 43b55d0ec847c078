"""The 15 Oracle functions of the catalogue (grouped by category in aggregation, market_data,
order_book, liquidity and quality), their registry, and the round worker that runs them:
collect -> validate -> detect outliers -> aggregate -> decide publish."""
