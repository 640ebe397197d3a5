-- Instances that arrive for a study whose case was signed final open a new case that follows it,
-- instead of joining what the signer already reported on (and what its recognition entry covers).
-- So a study may now have several cases: `study_uid` is the study's DICOM Study Instance UID on
-- every one of them, while `study_instance_uid` stays the unique key of a case: the study's UID
-- for its first case, "<study UID>#<id of the case followed>" for each later one (a '#' never
-- appears in a UID). `follows_case_id` is the signed case a later one follows, 0 for a first.
ALTER TABLE cases ADD COLUMN study_uid TEXT NOT NULL DEFAULT '';
UPDATE cases SET study_uid = study_instance_uid;
ALTER TABLE cases ADD COLUMN follows_case_id BIGINT NOT NULL DEFAULT 0;
CREATE INDEX cases_by_study_uid ON cases(study_uid, id);

-- The collector of orphan blobs asks, for each old blob, whether any row points at it.
CREATE INDEX instances_by_blob ON instances(blob_key);
CREATE INDEX artifacts_by_blob ON artifacts(blob_key);
