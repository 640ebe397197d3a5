//! ECG pipelines (placeholder until built).
