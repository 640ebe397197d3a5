//! The scale-path blob store: an S3-compatible object store (SeaweedFS, MinIO, Ceph RGW, AWS S3)
//! through the `object_store` crate, shared by several hub replicas and remote workers.
//!
//! Keys are the same content hashes as on disk, fanned out as `ab/cd/<sha256>`. A PUT that returns
//! success is durable by the store's own guarantee; files over 16 MiB go up as multipart uploads so
//! no upload is held whole in memory.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload, WriteMultipart};
use tokio::io::AsyncReadExt;

use super::blob::{BlobStore, check_key, sha256_hex};
use super::sql::StorageError;

/// Parts of a multipart upload, and the size above which one is used.
const PART_BYTES: usize = 16 << 20;

/// A put of bytes already stored is skipped if they were written this recently; an older copy is
/// written again, so that the orphan collector of another replica sees it as new.
const FRESH: Duration = Duration::from_secs(600);

/// Where the S3-compatible store is and how to sign requests. Its `Debug` masks the secret key.
#[derive(Clone)]
pub struct S3Config {
    /// Bucket name.
    pub bucket: String,
    /// Endpoint URL, e.g. `http://127.0.0.1:8333`; empty for AWS itself.
    pub endpoint: String,
    /// Region (any value for most S3-compatible servers).
    pub region: String,
    /// Access key id.
    pub access_key_id: String,
    /// Secret access key.
    pub secret_access_key: String,
}

impl std::fmt::Debug for S3Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Config")
            .field("bucket", &self.bucket)
            .field(
                "endpoint",
                &crate::config::redact::redact_url(&self.endpoint),
            )
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &crate::config::redact::MASK)
            .finish()
    }
}

impl S3Config {
    /// Reads `s3://bucket` plus the standard AWS_* environment variables (AWS_ENDPOINT_URL,
    /// AWS_REGION, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY).
    pub fn from_url(
        url: &str,
        vars: impl Fn(&str) -> Option<String>,
    ) -> Result<S3Config, StorageError> {
        let bucket = url
            .strip_prefix("s3://")
            .map(|b| b.trim_end_matches('/'))
            .filter(|b| !b.is_empty() && !b.contains('/'))
            .ok_or_else(|| {
                StorageError::Blob(format!("blob URL {url:?} is not of the form s3://bucket"))
            })?;
        Ok(S3Config {
            bucket: bucket.to_owned(),
            endpoint: vars("AWS_ENDPOINT_URL").unwrap_or_default(),
            region: vars("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            access_key_id: vars("AWS_ACCESS_KEY_ID").unwrap_or_default(),
            secret_access_key: vars("AWS_SECRET_ACCESS_KEY").unwrap_or_default(),
        })
    }
}

/// Blobs in an S3 bucket.
pub struct S3BlobStore {
    store: Arc<dyn ObjectStore>,
    bucket: String,
}

fn s3_err(what: &str, e: impl std::fmt::Display) -> StorageError {
    StorageError::Blob(format!("{what}: {e}"))
}

impl S3BlobStore {
    /// Connects to the bucket (it must exist).
    pub fn open(cfg: &S3Config) -> Result<Self, StorageError> {
        let mut builder = AmazonS3Builder::new()
            .with_bucket_name(&cfg.bucket)
            .with_region(&cfg.region)
            .with_access_key_id(&cfg.access_key_id)
            .with_secret_access_key(&cfg.secret_access_key);
        if !cfg.endpoint.is_empty() {
            builder = builder
                .with_endpoint(&cfg.endpoint)
                .with_allow_http(cfg.endpoint.starts_with("http://"));
        }
        let store = builder
            .build()
            .map_err(|e| s3_err(&format!("cannot configure bucket {}", cfg.bucket), e))?;
        Ok(S3BlobStore {
            store: Arc::new(store),
            bucket: cfg.bucket.clone(),
        })
    }

    fn path_of(key: &str) -> Result<ObjectPath, StorageError> {
        check_key(key)?;
        Ok(ObjectPath::from(format!(
            "{}/{}/{key}",
            &key[0..2],
            &key[2..4]
        )))
    }

    fn name(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

#[async_trait]
impl BlobStore for S3BlobStore {
    async fn put_file(&self, file: &Path, sha256: &str) -> Result<(), StorageError> {
        let path = Self::path_of(sha256)?;
        let written = self.written_at(sha256).await?;
        if written.is_some_and(|t| t.elapsed().unwrap_or_default() < FRESH) {
            let _ = tokio::fs::remove_file(file).await;
            return Ok(());
        }
        let mut f = tokio::fs::File::open(file)
            .await
            .map_err(|e| s3_err(&format!("cannot open {}", file.display()), e))?;
        let len = f.metadata().await.map_err(|e| s3_err("stat", e))?.len();
        if len <= PART_BYTES as u64 {
            let mut buf = Vec::with_capacity(len as usize);
            f.read_to_end(&mut buf)
                .await
                .map_err(|e| s3_err("read", e))?;
            self.store
                .put(&path, PutPayload::from(buf))
                .await
                .map_err(|e| s3_err(&format!("cannot store {}", self.name(sha256)), e))?;
        } else {
            let upload = self
                .store
                .put_multipart(&path)
                .await
                .map_err(|e| s3_err("cannot start multipart upload", e))?;
            let mut writer = WriteMultipart::new_with_chunk_size(upload, PART_BYTES);
            let mut buf = vec![0u8; PART_BYTES];
            loop {
                let n = f.read(&mut buf).await.map_err(|e| s3_err("read", e))?;
                if n == 0 {
                    break;
                }
                writer
                    .wait_for_capacity(2)
                    .await
                    .map_err(|e| s3_err("multipart upload", e))?;
                writer.write(&buf[..n]);
            }
            writer
                .finish()
                .await
                .map_err(|e| s3_err(&format!("cannot store {}", self.name(sha256)), e))?;
        }
        let _ = tokio::fs::remove_file(file).await;
        Ok(())
    }

    async fn put_bytes(&self, bytes: Vec<u8>) -> Result<String, StorageError> {
        let key = sha256_hex(&bytes);
        let path = Self::path_of(&key)?;
        self.store
            .put(&path, PutPayload::from(bytes))
            .await
            .map_err(|e| s3_err(&format!("cannot store {}", self.name(&key)), e))?;
        Ok(key)
    }

    async fn size(&self, key: &str) -> Result<u64, StorageError> {
        let meta = self
            .store
            .head(&Self::path_of(key)?)
            .await
            .map_err(|e| s3_err(&format!("cannot stat {}", self.name(key)), e))?;
        Ok(meta.size)
    }

    async fn read_range(
        &self,
        key: &str,
        offset: u64,
        len: usize,
    ) -> Result<Vec<u8>, StorageError> {
        let size = self.size(key).await?;
        let end = (offset + len as u64).min(size);
        if offset >= end {
            return Ok(Vec::new());
        }
        let bytes = self
            .store
            .get_range(&Self::path_of(key)?, offset..end)
            .await
            .map_err(|e| s3_err(&format!("cannot read {}", self.name(key)), e))?;
        Ok(bytes.to_vec())
    }

    async fn local_copy(&self, key: &str, scratch: &Path) -> Result<PathBuf, StorageError> {
        use futures::StreamExt;
        use tokio::io::AsyncWriteExt;
        tokio::fs::create_dir_all(scratch)
            .await
            .map_err(|e| s3_err("cannot create scratch directory", e))?;
        let dest = scratch.join(copy_name(key));
        let got = self
            .store
            .get(&Self::path_of(key)?)
            .await
            .map_err(|e| s3_err(&format!("cannot read {}", self.name(key)), e))?;
        let mut stream = got.into_stream();
        let mut file = tokio::fs::File::create(&dest)
            .await
            .map_err(|e| s3_err("cannot create local copy", e))?;
        while let Some(chunk) = stream.next().await {
            let chunk = chunk.map_err(|e| s3_err(&format!("cannot read {}", self.name(key)), e))?;
            file.write_all(&chunk)
                .await
                .map_err(|e| s3_err("cannot write local copy", e))?;
        }
        file.flush()
            .await
            .map_err(|e| s3_err("cannot write local copy", e))?;
        Ok(dest)
    }

    async fn exists(&self, key: &str) -> Result<bool, StorageError> {
        Ok(self.written_at(key).await?.is_some())
    }

    async fn written_before(
        &self,
        group: u8,
        before: SystemTime,
    ) -> Result<Vec<String>, StorageError> {
        use futures::TryStreamExt;
        let prefix = ObjectPath::from(format!("{group:02x}"));
        let listed: Vec<object_store::ObjectMeta> = self
            .store
            .list(Some(&prefix))
            .try_collect()
            .await
            .map_err(|e| s3_err(&format!("cannot list s3://{}/{prefix}", self.bucket), e))?;
        Ok(listed
            .into_iter()
            .filter(|m| SystemTime::from(m.last_modified) < before)
            .filter_map(|m| m.location.filename().map(str::to_owned))
            .filter(|k| check_key(k).is_ok())
            .collect())
    }

    async fn written_at(&self, key: &str) -> Result<Option<SystemTime>, StorageError> {
        match self.store.head(&Self::path_of(key)?).await {
            Ok(meta) => Ok(Some(SystemTime::from(meta.last_modified))),
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(s3_err(&format!("cannot stat {}", self.name(key)), e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StorageError> {
        match self.store.delete(&Self::path_of(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(s3_err(&format!("cannot remove {}", self.name(key)), e)),
        }
    }
}

/// A local copy's file name: unique per use, so concurrent renders or jobs of one blob in one
/// process (each deletes its copy when done) never share, truncate or delete each other's file.
fn copy_name(key: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{key}.{}.{n}", std::process::id())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression (by reading): the copy was named `<key>.<pid>`, so two renders of one blob in
    /// one hub wrote, and then deleted, the same file.
    #[test]
    fn each_local_copy_of_a_blob_has_its_own_file() {
        let names: std::collections::HashSet<_> = (0..100).map(|_| copy_name("ab12")).collect();
        assert_eq!(names.len(), 100);
        assert!(names.iter().all(|n| n.starts_with("ab12.")));
    }

    #[test]
    fn urls_and_environment_configure_the_store() {
        let vars = |k: &str| match k {
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:8333".to_owned()),
            "AWS_ACCESS_KEY_ID" => Some("id".to_owned()),
            _ => None,
        };
        let cfg = S3Config::from_url("s3://dicom-blobs/", vars).unwrap();
        assert_eq!(
            (
                cfg.bucket.as_str(),
                cfg.endpoint.as_str(),
                cfg.region.as_str()
            ),
            ("dicom-blobs", "http://127.0.0.1:8333", "us-east-1")
        );
        assert!(S3Config::from_url("s3://", vars).is_err());
        assert!(S3Config::from_url("file:///tmp", vars).is_err());
    }
}
