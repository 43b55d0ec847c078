"""What a node function's run found, carried by its execution record: a node reports it
(POST /nodes/executions), the backend stores it, GET /network/executions shows it, so an
auditor reads whom a validator named without the node's logs.

Only findings that someone acts on have a field: `double_signs` (detect_double_sign: the
signer, where, and the evidence's name that a governance proposal quotes) and `low_scores`
(score_peer: the peers it scored below its threshold). A field belongs to one function
(RESULT_FIELDS); the backend refuses a result of another function's field. Bounded so that no
node can store an unbounded blob: no other keys, every value of a fixed shape, at most
MAX_ITEMS per list (a run that finds more reports the first MAX_ITEMS; its log has them all).
The backend validates what a node reports with `extra="forbid"` (an unknown key is refused);
read back, unknown keys are ignored, so a client reads a newer backend's answers.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_ITEMS = 32
MAX_STORED_BYTES = 16_384
"""The stored JSON's size limit (the database's check): two full lists fit with room."""
ADDRESS = r"^0x[0-9a-fA-F]{40}$"
SHA256_HEX = r"^[0-9a-f]{64}$"
BIGINT_MAX = 2**63 - 1


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)


class DoubleSign(Finding):
    """A validator that signed two different votes for one (round, view, phase)."""

    signer: str = Field(pattern=ADDRESS, description="The double signer's address.")
    round: int = Field(ge=0, le=BIGINT_MAX)
    view: int = Field(ge=0, le=BIGINT_MAX)
    phase: Literal["pre_prepare", "prepare", "commit"]
    evidence: str = Field(pattern=SHA256_HEX,
                          description="sha256 (hex) of the two signed messages' canonical JSON: "
                                      "the evidence's name, as the node logs it.")


class LowScore(Finding):
    """A peer scored below the coordinator's threshold over the recent rounds."""

    peer: str = Field(pattern=ADDRESS)
    score: float = Field(ge=0, le=1, allow_inf_nan=False)


class ExecutionResult(Finding):
    """What one run found; null fields were not found (or are not its function's)."""

    double_signs: list[DoubleSign] | None = Field(None, min_length=1, max_length=MAX_ITEMS)
    low_scores: list[LowScore] | None = Field(None, min_length=1, max_length=MAX_ITEMS)

    def fields(self) -> set[str]:
        """The names of the fields it carries."""
        return {name for name in type(self).model_fields if getattr(self, name) is not None}


RESULT_FIELDS = {"detect_double_sign": "double_signs", "score_peer": "low_scores"}
"""The one result field of each function that reports one."""
