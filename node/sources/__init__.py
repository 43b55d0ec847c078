"""Where an Oracle node's numbers come from: sources of quotes and bars behind one interface
(`base.Source`), the replay of real market data shipped in PyPI packages (`replay`), and a
seeded L2 order-book simulator around the replayed mid price (`book`). Nothing here touches the
network; a live exchange adapter implements `base.LiveExchangeSource`."""
