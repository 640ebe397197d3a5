-- Result mutual recognition: the entries signed reports create, the append-only savings ledger and
-- the refusals. Money is in fen (1/100 yuan) so sums are exact. Days are "YYYY-MM-DD" (UTC).

-- One entry per case: created when its report is signed, its report and impression updated when the
-- report is amended. `recognisable` = 0 entries are kept with the reason (e.g. no quality-control pass).
CREATE TABLE recognition_entries (
    id {id},
    case_id BIGINT NOT NULL UNIQUE REFERENCES cases(id),
    report_id BIGINT NOT NULL REFERENCES reports(id),
    patient_key TEXT NOT NULL,
    exam_item_code TEXT NOT NULL,
    category TEXT NOT NULL,
    modality TEXT NOT NULL,
    institution_code TEXT NOT NULL REFERENCES institutions(code),
    institution_level TEXT NOT NULL,
    exam_date TEXT NOT NULL,
    -- The last valid day, and the first millisecond after it (for queries).
    valid_until TEXT NOT NULL,
    valid_until_ms BIGINT NOT NULL,
    scope TEXT NOT NULL,
    hr_mark TEXT NOT NULL,
    -- The performing institution's fee on the exam day (0 if the price table has none).
    fee_fen BIGINT NOT NULL,
    recognisable BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    impression TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL
);
CREATE INDEX recognition_entries_by_patient
    ON recognition_entries(patient_key, exam_item_code, valid_until_ms);

-- The savings ledger: append only. An acceptance books the fee the accepting institution would have
-- charged; a correction is a reversal row (negative fee) pointing at the row it cancels.
CREATE TABLE recognition_ledger (
    id {id},
    entry_id BIGINT NOT NULL REFERENCES recognition_entries(id),
    kind TEXT NOT NULL,
    reverses_id BIGINT UNIQUE REFERENCES recognition_ledger(id),
    institution_code TEXT NOT NULL REFERENCES institutions(code),
    institution_level TEXT NOT NULL,
    exam_item_code TEXT NOT NULL,
    modality TEXT NOT NULL,
    performing_institution TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    fee_fen BIGINT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at_ms BIGINT NOT NULL
);
CREATE INDEX recognition_ledger_by_time ON recognition_ledger(at_ms);
CREATE INDEX recognition_ledger_by_entry ON recognition_ledger(entry_id, institution_code);

-- Refusals to recognise, with one of the standard reason codes.
CREATE TABLE recognition_declines (
    id {id},
    entry_id BIGINT NOT NULL REFERENCES recognition_entries(id),
    institution_code TEXT NOT NULL REFERENCES institutions(code),
    exam_item_code TEXT NOT NULL,
    modality TEXT NOT NULL,
    user_id BIGINT NOT NULL,
    reason TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    at_ms BIGINT NOT NULL
);
CREATE INDEX recognition_declines_by_time ON recognition_declines(at_ms);
