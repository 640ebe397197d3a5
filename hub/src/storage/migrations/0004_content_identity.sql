-- Content identity: the same image or signal stored under two patients is a possible mix-up
-- (a wrong patient picked at the modality, an ECG re-sent with another patient's ID), held for a
-- person to resolve instead of being filed silently under both.

-- What each instance holds (SHA-256 of its Pixel Data or Waveform Data values, which do not
-- change with the patient attributes or the UIDs), with the pseudonym of the patient it was
-- filed under, so that "stored already under another patient?" is one index lookup.
CREATE TABLE instance_content (
    content_key TEXT NOT NULL,
    patient_key TEXT NOT NULL,
    sop_instance_uid TEXT NOT NULL REFERENCES instances(sop_instance_uid),
    case_id BIGINT NOT NULL REFERENCES cases(id),
    PRIMARY KEY (content_key, patient_key, sop_instance_uid)
);

-- A case whose content was found under another patient: `case_id` is the later case (held),
-- `other_case_id` the one already on file. State: open, different_patient (a person confirmed
-- they are two patients; the case went to the queue), withdrawn (the later copy was a mistake).
CREATE TABLE mixups (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    other_case_id BIGINT NOT NULL REFERENCES cases(id),
    sop_instance_uid TEXT NOT NULL,
    other_sop_instance_uid TEXT NOT NULL,
    state TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    resolved_by BIGINT REFERENCES users(id),
    resolved_by_name TEXT NOT NULL DEFAULT '',
    resolution_note TEXT NOT NULL DEFAULT '',
    resolved_at_ms BIGINT NOT NULL DEFAULT 0,
    UNIQUE (case_id, other_case_id)
);
CREATE INDEX mixups_by_state ON mixups(state, id);

-- Why a case is held out of the reading queue, in words any user who may see the case may read
-- (no other case's patient); empty when it is not held.
ALTER TABLE cases ADD COLUMN hold_reason TEXT NOT NULL DEFAULT '';
