-- Result recognition tells the truth about every entry, and reports say who wrote what.

-- One standing decision per entry and institution: accepted or declined, never both. The primary
-- key is what makes them exclusive, on SQLite and PostgreSQL alike, even for two doctors of one
-- institution deciding at the same moment. Reversing an acceptance removes its row (the ledger keeps
-- both rows), so the institution may decide again.
CREATE TABLE recognition_decisions (
    entry_id BIGINT NOT NULL REFERENCES recognition_entries(id),
    institution_code TEXT NOT NULL REFERENCES institutions(code),
    -- "accept" or "decline".
    decision TEXT NOT NULL,
    ledger_id BIGINT REFERENCES recognition_ledger(id),
    decline_id BIGINT REFERENCES recognition_declines(id),
    at_ms BIGINT NOT NULL,
    PRIMARY KEY (entry_id, institution_code)
);

-- Decisions already taken: a standing acceptance wins over declines recorded beside it.
INSERT INTO recognition_decisions (entry_id, institution_code, decision, ledger_id, at_ms)
    SELECT l.entry_id, l.institution_code, 'accept', MIN(l.id), MIN(l.at_ms)
    FROM recognition_ledger l
    WHERE l.kind = 'accept'
      AND NOT EXISTS (SELECT 1 FROM recognition_ledger r WHERE r.reverses_id = l.id)
    GROUP BY l.entry_id, l.institution_code;
INSERT INTO recognition_decisions (entry_id, institution_code, decision, decline_id, at_ms)
    SELECT d.entry_id, d.institution_code, 'decline', MIN(d.id), MIN(d.at_ms)
    FROM recognition_declines d
    WHERE NOT EXISTS (SELECT 1 FROM recognition_decisions x
                      WHERE x.entry_id = d.entry_id AND x.institution_code = d.institution_code)
    GROUP BY d.entry_id, d.institution_code;

-- Why an entry is not recognisable, as a code beside the sentence: "no-qc-pass" or
-- "outside-catalogue" (empty when it is recognisable).
ALTER TABLE recognition_entries ADD COLUMN reason_code TEXT NOT NULL DEFAULT '';
UPDATE recognition_entries
    SET reason_code = CASE WHEN reason LIKE '%quality-control%' THEN 'no-qc-pass'
                           ELSE 'outside-catalogue' END
    WHERE recognisable = 0;

-- Who changed the findings or impression of a version while signing it (NULL: nobody did, the
-- author's text was signed as written).
ALTER TABLE reports ADD COLUMN editor_id BIGINT REFERENCES users(id);
