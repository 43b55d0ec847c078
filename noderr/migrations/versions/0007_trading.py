"""The paper trading desk's records: orders (sent or refused), fills, refusals, equity points,
and the positions the fills make.

Every row carries the desk (the submitting node's address, lowercase 0x hex) and the run id
the desk gave its run. `trading_orders.filled_quantity` and `status` and the rows of
`trading_positions` are derived from the fills when they are stored (backend/trading.py), in
the same transaction. One index per filter of GET /trading/orders (newest first) and of
GET /trading/pnl.

Revision ID: 0007_trading
Revises: 0006_network
Create Date: 2026-12-11
"""

from alembic import op

revision = "0007_trading"
down_revision = "0006_network"
branch_labels = None
depends_on = None

UPGRADE = [
    """
    CREATE TABLE trading_orders (
        id bigserial PRIMARY KEY,
        desk text NOT NULL,
        run_id text NOT NULL,
        order_id text NOT NULL,
        instrument text NOT NULL,
        side text NOT NULL CHECK (side IN ('buy', 'sell')),
        order_type text NOT NULL CHECK (order_type IN ('market', 'limit')),
        time_in_force text NOT NULL CHECK (time_in_force IN ('IOC', 'GTC')),
        quantity numeric NOT NULL CHECK (quantity > 0),
        limit_price numeric CHECK (limit_price > 0),
        created_at timestamptz NOT NULL,
        filled_quantity numeric NOT NULL DEFAULT 0,
        status text NOT NULL
            CHECK (status IN ('sent', 'partially_filled', 'filled', 'rejected')),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trading_orders_desk_run_id_order_id_key UNIQUE (desk, run_id, order_id),
        CONSTRAINT trading_orders_filled_quantity_check
            CHECK (filled_quantity >= 0 AND filled_quantity <= quantity)
    )""",
    "CREATE INDEX trading_orders_by_time ON trading_orders (created_at, id)",
    "CREATE INDEX trading_orders_by_desk ON trading_orders (desk, created_at, id)",
    "CREATE INDEX trading_orders_by_instrument ON trading_orders (instrument, created_at, id)",
    "CREATE INDEX trading_orders_by_status ON trading_orders (status, created_at, id)",
    """
    CREATE TABLE trading_fills (
        id bigserial PRIMARY KEY,
        desk text NOT NULL,
        run_id text NOT NULL,
        order_id text NOT NULL,
        instrument text NOT NULL,
        side text NOT NULL CHECK (side IN ('buy', 'sell')),
        quantity numeric NOT NULL CHECK (quantity > 0),
        price numeric NOT NULL CHECK (price > 0),
        fee numeric NOT NULL CHECK (fee >= 0),
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trading_fills_order_fkey FOREIGN KEY (desk, run_id, order_id)
            REFERENCES trading_orders (desk, run_id, order_id)
    )""",
    "CREATE INDEX trading_fills_by_order ON trading_fills (desk, run_id, order_id)",
    """
    CREATE TABLE trading_rejections (
        id bigserial PRIMARY KEY,
        desk text NOT NULL,
        run_id text NOT NULL,
        order_id text NOT NULL,
        check_name text NOT NULL,
        check_value double precision,
        check_limit double precision,
        reason text NOT NULL,
        at timestamptz NOT NULL,
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trading_rejections_desk_run_id_order_id_key UNIQUE (desk, run_id, order_id),
        CONSTRAINT trading_rejections_order_fkey FOREIGN KEY (desk, run_id, order_id)
            REFERENCES trading_orders (desk, run_id, order_id)
    )""",
    """
    CREATE TABLE trading_equity (
        id bigserial PRIMARY KEY,
        desk text NOT NULL,
        run_id text NOT NULL,
        at timestamptz NOT NULL,
        cash numeric NOT NULL,
        market_value numeric NOT NULL,
        equity numeric NOT NULL,
        realized_pnl numeric NOT NULL,
        unrealized_pnl numeric NOT NULL,
        fees numeric NOT NULL CHECK (fees >= 0),
        recorded_at timestamptz NOT NULL DEFAULT now(),
        CONSTRAINT trading_equity_desk_run_id_at_key UNIQUE (desk, run_id, at)
    )""",
    "CREATE INDEX trading_equity_by_time ON trading_equity (at, id)",
    "CREATE INDEX trading_equity_by_desk ON trading_equity (desk, at, id)",
    """
    CREATE TABLE trading_positions (
        desk text NOT NULL,
        run_id text NOT NULL,
        instrument text NOT NULL,
        quantity numeric NOT NULL,
        cost numeric NOT NULL,
        realized_pnl numeric NOT NULL,
        fills bigint NOT NULL,
        last_fill_at timestamptz NOT NULL,
        PRIMARY KEY (desk, run_id, instrument)
    )""",
]

DOWNGRADE = [
    "DROP TABLE trading_positions",
    "DROP TABLE trading_equity",
    "DROP TABLE trading_rejections",
    "DROP TABLE trading_fills",
    "DROP TABLE trading_orders",
]


def upgrade() -> None:
    for statement in UPGRADE:
        op.execute(statement)


def downgrade() -> None:
    for statement in DOWNGRADE:
        op.execute(statement)
