-- DICOMweb: each series' metadata (DICOM JSON of every instance's header, bulk data by URI),
-- computed once and kept gzip-compressed in the blob store (the index holds no patient names, so
-- it holds only the blob's key). A row is current while the series still has `instance_count`
-- instances; a series that grew is computed again.
CREATE TABLE dicomweb_metadata (
    series_instance_uid TEXT PRIMARY KEY,
    instance_count BIGINT NOT NULL,
    blob_key TEXT NOT NULL,
    built_at_ms BIGINT NOT NULL
);
CREATE INDEX dicomweb_metadata_by_blob ON dicomweb_metadata(blob_key);

-- Series-level retrieves and searches find a series' instances without scanning its study.
CREATE INDEX instances_by_series ON instances(series_instance_uid, instance_number);
