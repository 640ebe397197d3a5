-- Browser sessions (issue 17): a user who signs in to the hub's web pages and viewer with their
-- token gets a cookie holding a random session id. Only the id's SHA-256 is kept here, with the
-- user and the time the session ends; a disabled user's sessions stop working at once (the
-- look-up joins `users` on `disabled = 0`), and signing out deletes the row.
CREATE TABLE web_sessions (
    id_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users(id),
    created_at_ms BIGINT NOT NULL,
    expires_at_ms BIGINT NOT NULL
);
CREATE INDEX web_sessions_by_user ON web_sessions(user_id);
CREATE INDEX web_sessions_by_expiry ON web_sessions(expires_at_ms);
