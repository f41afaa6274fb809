"""The canonical JSON behind decision ids and the store's sealed inputs is
written out directly for speed; it must stay exactly what json.dumps writes,
or ids would change and old decisions would no longer replay."""

from __future__ import annotations

import csv
import hashlib
import json

from conftest import AS_OF, BATCH_COLUMNS, CATEGORIES, RULES, TABLES, consent, finding, write_consents
from engine.evaluation.judging import _position_content, evaluate_files
from engine.record.store import canonical_input_json
from helpers import canonical_input, decision_content

NASTY = [
    'a "quoted" word', "back\\slash", "tab\there", "two\nlines", "carriage\rreturn", "line\u2028separator",
    "control\x01char", "emoji 😀 and 轻微交通事故", "=SUM(A1)", "", "  padded  ", "</script><b>x</b>", "null",
]


def canonical(value) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def test_decision_ids_and_sealed_inputs_are_json_dumps_to_the_byte(tmp_path):
    rows, consents = [], []
    for number, text in enumerate(NASTY):
        candidate = f"C-{number}{text.strip()[:3]}" if number % 2 else f"C-{number}"
        rows.append(finding(candidate, "van_driver", f"F-{number}-{text[:2]}", CATEGORIES[number % 15], "minor",
                            "2024-05-01", source=text, jurisdiction=text[::-1], description=text))
        rows.append(finding(candidate, "van_driver", f"F-{number}-b", "traffic_violation", "serious", "2023-02-28",
                            description=f"{text} again"))
        consents.append(consent(candidate, CATEGORIES[: 5 + number % 10], purpose=f"Screening: {text}"))
    rows.append(finding("C-bad", "van_driver", "F-bad", "no_such_category", "minor", "2024-01-01", description="x"))
    batch = tmp_path / "batch.csv"
    with batch.open("w", encoding="utf-8", newline="") as handle:
        # Every value quoted: a bare carriage return would end the record.
        writer = csv.writer(handle, quoting=csv.QUOTE_ALL)
        writer.writerow(BATCH_COLUMNS)
        writer.writerows([row.get(column, "") for column in BATCH_COLUMNS] for row in rows)
    consents_file = write_consents(tmp_path / "consents.csv", consents + [consent("C-bad", signed_on="2026-13-01")])

    result = evaluate_files(batch, consents_file, rules=RULES, tables=TABLES, as_of=AS_OF)
    assert len(result.decisions) == len(NASTY) + 1
    for decision in result.decisions:
        position = _position_content(result.tables, decision.position.position_id) if decision.position else None
        content = decision_content(
            decision.candidate_id, position, decision.consent, decision.reason,
            [judged.finding for judged in decision.findings], decision.rejected, result.rulebook, result.as_of,
        )
        assert decision.decision_id == "D-" + hashlib.sha256(canonical(content).encode("utf-8")).hexdigest()[:20]
        assert canonical_input_json(result, decision) == canonical(canonical_input(result, decision))
        for judged in decision.findings:
            assert judged.finding.canonical_json() == canonical(judged.finding.canonical())
        if decision.consent:
            assert decision.consent.canonical_json() == canonical(decision.consent.canonical())
