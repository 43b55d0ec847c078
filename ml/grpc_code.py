"""The code grpc_tools.protoc generates from ml/volatility.proto. It is built by `make setup`,
never committed; without it the server cannot start, and this says how to get it."""

from __future__ import annotations

PROTOC = ("python -m grpc_tools.protoc -I. --python_out=. --pyi_out=. --grpc_python_out=. "
          "ml/volatility.proto")

try:
    from ml import volatility_pb2 as messages
    from ml import volatility_pb2_grpc as services
except ModuleNotFoundError as error:
    if error.name not in ("ml.volatility_pb2", "ml.volatility_pb2_grpc"):
        raise
    raise ImportError(f"the gRPC code of ml/volatility.proto is missing ({error.name}): run "
                      f"`make setup`, or `{PROTOC}` in the repository root") from error

__all__ = ["messages", "services"]
