"""The code grpc_tools.protoc generates from client/volatility.proto. It is built by `make setup`,
never committed; without it the server cannot start, and this says how to get it."""

from __future__ import annotations

PROTOC = ("python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. --grpc_python_out=. "
          "client/volatility.proto")

try:
    from client import volatility_pb2 as messages
    from client import volatility_pb2_grpc as services
except ModuleNotFoundError as error:
    if error.name not in ("client.volatility_pb2", "client.volatility_pb2_grpc"):
        raise
    raise ImportError(f"the gRPC code of client/volatility.proto is missing ({error.name}): run "
                      f"`make setup`, or `{PROTOC}` in the repository root") from error

__all__ = ["messages", "services"]
