"""The closed sets of values that front ends offer as choices, from the
modules that define them."""

from engine.documents.explain import FORMATS
from engine.documents.memos import LANGUAGES as MEMO_LANGUAGES
from engine.evaluation.pipeline import MEMOS
from engine.evaluation.partitions import PART_ROWS
from engine.rulebook.model import NO_RULE
from engine.documents.notices import LANGUAGES as NOTICE_LANGUAGES
from engine.workflow.signoff import FACTORS, OUTCOMES

__all__ = ["FACTORS", "FORMATS", "MEMOS", "MEMO_LANGUAGES", "NOTICE_LANGUAGES", "NO_RULE", "OUTCOMES", "PART_ROWS"]
