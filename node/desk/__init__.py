"""The PAPER trading desk: a strategy trading the instruments of the agreed feeds against a
simulated venue, every order risk-checked before it reaches the venue. Nothing here trades real
money or speaks to a network; time and prices are passed in, so a run is deterministic.

venue (the Venue interface and the simulated one), portfolio (Decimal accounting), strategy
(volatility-targeted trend following), gate (the risk gate callable and its local form), desk
(the loop that ties them) and agreed_feed (the values agreed on-chain as the loop's prices,
from an injected reader) are described in docs/desk.md."""
