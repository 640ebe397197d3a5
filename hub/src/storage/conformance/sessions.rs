//! Conformance: browser sessions found by their hash until they end, never for a disabled user,
//! and gone once deleted.

use super::super::{Store, sessions, users};

/// Runs last: disables `user` (one nothing else uses afterwards).
pub(super) async fn check(store: &Store, user: i64) {
    let mut tx = store.write().await.unwrap();
    for (hash, ends) in [("s-open", 5_000), ("s-ended", 2_000), ("s-other", 5_000)] {
        let s = sessions::NewSession {
            id_hash: hash,
            user_id: user,
            created_at_ms: 1_000,
            expires_at_ms: ends,
        };
        sessions::insert(tx.as_mut(), &s).await.unwrap();
    }
    tx.commit().await.unwrap();

    let mut tx = store.write().await.unwrap();
    let (found, ends) = sessions::user_of(tx.as_mut(), "s-open", 3_000)
        .await
        .unwrap()
        .expect("an open session is found by its hash");
    assert_eq!((found.id, ends), (user, 5_000));
    let ended = sessions::user_of(tx.as_mut(), "s-ended", 3_000).await;
    assert!(ended.unwrap().is_none(), "an ended session is not found");
    assert!(
        sessions::user_of(tx.as_mut(), "nope", 0)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        sessions::delete_expired(tx.as_mut(), 3_000).await.unwrap(),
        1
    );
    assert!(sessions::delete(tx.as_mut(), "s-other").await.unwrap());
    assert!(!sessions::delete(tx.as_mut(), "s-other").await.unwrap());
    tx.commit().await.unwrap();

    let mut tx = store.write().await.unwrap();
    assert!(users::disable_user(tx.as_mut(), user).await.unwrap());
    let gone = sessions::user_of(tx.as_mut(), "s-open", 3_000)
        .await
        .unwrap();
    assert!(gone.is_none(), "a disabled user's session is not found");
    assert_eq!(
        sessions::delete_for_user(tx.as_mut(), user).await.unwrap(),
        1
    );
    tx.commit().await.unwrap();
}
