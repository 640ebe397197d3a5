-- The reading workflow's index. Patient identifiers appear only as keyed pseudonyms and masked
-- display forms; raw identifiers stay inside the stored DICOM instances.
-- {id} and {real} are filled in per dialect. Booleans are 0/1, times are Unix milliseconds.

CREATE TABLE institutions (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    level TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);

CREATE TABLE users (
    id {id},
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    institution_code TEXT NOT NULL REFERENCES institutions(code),
    senior BIGINT NOT NULL DEFAULT 0,
    token_hash TEXT NOT NULL UNIQUE,
    created_at_ms BIGINT NOT NULL,
    disabled BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE cases (
    id {id},
    institution_code TEXT NOT NULL REFERENCES institutions(code),
    study_instance_uid TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    modality TEXT NOT NULL,
    exam_item_code TEXT NOT NULL,
    priority BIGINT NOT NULL,
    critical BIGINT NOT NULL DEFAULT 0,
    critical_reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL,
    patient_key TEXT NOT NULL,
    patient_key_version BIGINT NOT NULL,
    patient_id_masked TEXT NOT NULL,
    patient_display TEXT NOT NULL,
    patient_sex TEXT NOT NULL DEFAULT '',
    patient_age_years BIGINT NOT NULL DEFAULT -1,
    study_date TEXT NOT NULL DEFAULT '',
    study_description TEXT NOT NULL DEFAULT '',
    clinical_note TEXT NOT NULL DEFAULT '',
    possible_repeat TEXT NOT NULL DEFAULT '',
    instance_count BIGINT NOT NULL DEFAULT 0,
    total_bytes BIGINT NOT NULL DEFAULT 0,
    pending_jobs BIGINT NOT NULL DEFAULT 0,
    created_at_ms BIGINT NOT NULL,
    last_instance_at_ms BIGINT NOT NULL,
    received_at_ms BIGINT NOT NULL DEFAULT 0,
    processing_at_ms BIGINT NOT NULL DEFAULT 0,
    ready_at_ms BIGINT NOT NULL DEFAULT 0,
    claimed_at_ms BIGINT NOT NULL DEFAULT 0,
    reported_at_ms BIGINT NOT NULL DEFAULT 0,
    signed_at_ms BIGINT NOT NULL DEFAULT 0,
    deadline_at_ms BIGINT NOT NULL DEFAULT 0,
    claimed_by BIGINT REFERENCES users(id),
    claim_expires_at_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX cases_by_state ON cases(state, critical, priority, received_at_ms);
CREATE INDEX cases_by_institution ON cases(institution_code, created_at_ms);
CREATE INDEX cases_by_patient ON cases(patient_key);

CREATE TABLE instances (
    sop_instance_uid TEXT PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES cases(id),
    series_instance_uid TEXT NOT NULL,
    series_number BIGINT NOT NULL DEFAULT 0,
    instance_number BIGINT NOT NULL DEFAULT 0,
    sop_class_uid TEXT NOT NULL,
    transfer_syntax_uid TEXT NOT NULL,
    modality TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    size BIGINT NOT NULL,
    rows BIGINT NOT NULL DEFAULT 0,
    columns BIGINT NOT NULL DEFAULT 0,
    frames BIGINT NOT NULL DEFAULT 0,
    processing_error TEXT NOT NULL DEFAULT '',
    source TEXT NOT NULL,
    received_at_ms BIGINT NOT NULL
);
CREATE INDEX instances_by_case ON instances(case_id, series_number, instance_number);

CREATE TABLE artifacts (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    name TEXT NOT NULL,
    media_type TEXT NOT NULL,
    blob_key TEXT NOT NULL,
    size BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    PRIMARY KEY (case_id, name)
);

CREATE TABLE measurements (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    name TEXT NOT NULL,
    source TEXT NOT NULL,
    lead TEXT NOT NULL DEFAULT '',
    value {real} NOT NULL,
    unit TEXT NOT NULL,
    PRIMARY KEY (case_id, name, source, lead)
);

CREATE TABLE flags (
    case_id BIGINT NOT NULL REFERENCES cases(id),
    code TEXT NOT NULL,
    critical BIGINT NOT NULL,
    message TEXT NOT NULL,
    PRIMARY KEY (case_id, code)
);

CREATE TABLE jobs (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_expires_at_ms BIGINT NOT NULL DEFAULT 0,
    error TEXT NOT NULL DEFAULT '',
    created_at_ms BIGINT NOT NULL,
    finished_at_ms BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX jobs_by_state ON jobs(state, id);
CREATE INDEX jobs_by_case ON jobs(case_id, kind, state);

CREATE TABLE reports (
    id {id},
    case_id BIGINT NOT NULL REFERENCES cases(id),
    version BIGINT NOT NULL,
    status TEXT NOT NULL,
    findings TEXT NOT NULL,
    impression TEXT NOT NULL,
    critical BIGINT NOT NULL,
    author_id BIGINT NOT NULL REFERENCES users(id),
    signer_id BIGINT REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    signed_at_ms BIGINT NOT NULL DEFAULT 0,
    amend_reason TEXT NOT NULL DEFAULT '',
    UNIQUE (case_id, version)
);
CREATE INDEX reports_by_time ON reports(created_at_ms);

CREATE TABLE audit (
    id {id},
    at_ms BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    actor TEXT NOT NULL,
    institution_code TEXT NOT NULL,
    action TEXT NOT NULL,
    case_id BIGINT NOT NULL DEFAULT 0,
    patient_key TEXT NOT NULL DEFAULT '',
    detail TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_by_case ON audit(case_id, id);
CREATE INDEX audit_by_action ON audit(action, id);

-- Domain events, written in the same transaction as the change they announce (an outbox), and
-- delivered to subscribers such as result recognition until each has handled it.
CREATE TABLE events (
    id {id},
    kind TEXT NOT NULL,
    case_id BIGINT NOT NULL,
    payload TEXT NOT NULL,
    created_at_ms BIGINT NOT NULL
);
CREATE TABLE event_deliveries (
    event_id BIGINT NOT NULL REFERENCES events(id),
    subscriber TEXT NOT NULL,
    delivered_at_ms BIGINT NOT NULL,
    PRIMARY KEY (event_id, subscriber)
);
