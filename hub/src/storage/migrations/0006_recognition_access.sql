-- Recognition access: what each check returned, and to whom. A user of another institution may open
-- a case, accept or decline an entry only through a row here (issue 13, items 3 and 4).

-- One row per recognition check: who asked, about which patient pseudonym and item, and why. The
-- rate limits (per user, per user and patient) count these rows.
CREATE TABLE recognition_checks (
    id {id},
    user_id BIGINT NOT NULL,
    institution_code TEXT NOT NULL,
    patient_key TEXT NOT NULL,
    exam_item_code TEXT NOT NULL,
    -- "before-examining", "referral", "consultation" or "other".
    purpose TEXT NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX recognition_checks_by_user ON recognition_checks(user_id, at_ms);
CREATE INDEX recognition_checks_by_patient ON recognition_checks(user_id, patient_key, at_ms);

-- The entries a check returned. `may_open` = 1 when the entry was valid for the checking
-- institution (its case may be opened, read-only, until `expires_at_ms`); every returned entry may be
-- accepted or declined by the checking user until then.
CREATE TABLE recognition_access (
    check_id BIGINT NOT NULL REFERENCES recognition_checks(id),
    entry_id BIGINT NOT NULL REFERENCES recognition_entries(id),
    case_id BIGINT NOT NULL REFERENCES cases(id),
    may_open BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL,
    PRIMARY KEY (check_id, entry_id)
);
CREATE INDEX recognition_access_by_entry ON recognition_access(entry_id, expires_at_ms);
CREATE INDEX recognition_access_by_case ON recognition_access(case_id, expires_at_ms);
