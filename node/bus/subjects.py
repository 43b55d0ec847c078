"""Bus subjects and who may speak on them.

A subject is `noderr.<family>.<topic>[.<more>...]`. The family names the license a sender needs:
`oracle`, `guardian`, `validator` (that node type only: `noderr.oracle.observations.SP500`
needs an active Oracle license), or `node` (any licensed type, e.g. `noderr.node.announce`).
A subject outside these families is one no node may speak on."""

from __future__ import annotations

from functools import lru_cache

from noderr.domain import NodeType

PREFIX = "noderr"
ANY_TYPE_FAMILY = "node"
ANNOUNCE = f"{PREFIX}.{ANY_TYPE_FAMILY}.announce"
HEARTBEAT = f"{PREFIX}.{ANY_TYPE_FAMILY}.heartbeat"
"""The envelope subject of heartbeat values in the KV bucket (node/bus/heartbeats.py)."""

_FAMILIES: dict[str, frozenset[NodeType]] = {
    **{node_type.name.lower(): frozenset({node_type}) for node_type in NodeType},
    ANY_TYPE_FAMILY: frozenset(NodeType),
}
_FORBIDDEN_CHARACTERS = frozenset(" \t\r\n*>")


def family(node_type: NodeType) -> str:
    """The subject family of a node type: "oracle" for ORACLE."""
    return node_type.name.lower()


def subject(family_name: str, *topic: str) -> str:
    """`noderr.<family>.<topic...>`, checked: subject("oracle", "observations", "SP500")."""
    name = ".".join((PREFIX, family_name, *topic))
    if not allowed_types(name):
        raise ValueError(f"{name!r} is not a bus subject any node type may publish on")
    return name


@lru_cache(maxsize=4096)
def allowed_types(name: str) -> frozenset[NodeType]:
    """The node types whose licensed holders may publish on subject `name` (empty: none may).

    A concrete subject only: wildcards, whitespace and empty tokens are allowed to nobody."""
    tokens = name.split(".")
    if (len(tokens) < 3 or tokens[0] != PREFIX or not all(tokens)
            or not _FORBIDDEN_CHARACTERS.isdisjoint(name)):
        return frozenset()
    return _FAMILIES.get(tokens[1], frozenset())
