//! The scale-path index: PostgreSQL, shared by several hub replicas.
//!
//! The same SQL as SQLite runs here unchanged. PostgreSQL infers each parameter's type from where
//! it appears (`$2 = 1` makes `$2` an `int4`, `c.id = $1` an `int8`), so values are bound through
//! [`PgValue`], which converts to whatever type the server inferred instead of insisting on one.
//! Transactions run at READ COMMITTED; every contended change in the hub is a conditional
//! `UPDATE ... WHERE <expected state>` or an `INSERT ... ON CONFLICT`, which are safe there.

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::BytesMut;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_postgres::types::{IsNull, ToSql, Type, to_sql_checked};
use tokio_postgres::{Client, NoTls};

use super::sql::{Dialect, Row, SqlBackend, SqlTx, StorageError, TxMode, Value};

/// Connections kept open.
const POOL_SIZE: usize = 8;

/// A pool of connections to one PostgreSQL database.
pub struct PostgresBackend {
    url: String,
    connect: super::postgres_tls::PgConnect,
    idle: Arc<Mutex<Vec<Client>>>,
    permits: Arc<Semaphore>,
}

impl PostgresBackend {
    /// Connects to `url` (`postgres://user:password@host:port/db`, or with `host=/socket/dir`);
    /// `sslmode=verify-full&sslrootcert=<CA file>` connects over verified TLS
    /// ([`super::postgres_tls`]).
    pub async fn connect(url: &str) -> Result<Self, StorageError> {
        let connect = super::postgres_tls::parse(url).map_err(|message| StorageError::Open {
            location: redact(url),
            message,
        })?;
        let backend = PostgresBackend {
            url: url.to_owned(),
            connect,
            idle: Arc::new(Mutex::new(Vec::new())),
            permits: Arc::new(Semaphore::new(POOL_SIZE)),
        };
        // Fail at start-up, not at the first request, if the database is unreachable.
        let first = backend.open_client().await?;
        backend.idle.lock().map_err(|_| poisoned())?.push(first);
        Ok(backend)
    }

    async fn open_client(&self) -> Result<Client, StorageError> {
        let failed = |e: tokio_postgres::Error| StorageError::Open {
            location: redact(&self.url),
            message: error_chain(&e),
        };
        let config = &self.connect.config;
        let client = match &self.connect.tls {
            Some(tls) => {
                let (client, connection) = config.connect(tls.clone()).await.map_err(failed)?;
                spawn_connection(connection);
                client
            }
            None => {
                let (client, connection) = config.connect(NoTls).await.map_err(failed)?;
                spawn_connection(connection);
                client
            }
        };
        Ok(client)
    }
}

/// Drives a connection until it closes.
fn spawn_connection<F>(connection: F)
where
    F: std::future::Future<Output = Result<(), tokio_postgres::Error>> + Send + 'static,
{
    tokio::spawn(async move {
        if let Err(e) = connection.await {
            tracing::warn!("PostgreSQL connection closed: {e}");
        }
    });
}

/// An error and its causes (a TLS failure's reason is in its source).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let next = s.to_string();
        if !text.contains(&next) {
            text = format!("{text}: {next}");
        }
        source = s.source();
    }
    text
}

fn poisoned() -> StorageError {
    StorageError::database("BEGIN", "connection pool poisoned")
}

/// The URL without its password, for messages.
fn redact(url: &str) -> String {
    crate::config::redact::redact_url(url)
}

#[async_trait]
impl SqlBackend for PostgresBackend {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    async fn begin(&self, _mode: TxMode) -> Result<Box<dyn SqlTx>, StorageError> {
        let permit = self
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| poisoned())?;
        let pooled = self.idle.lock().map_err(|_| poisoned())?.pop();
        let client = match pooled {
            Some(c) if !c.is_closed() => c,
            _ => self.open_client().await?,
        };
        client
            .batch_execute("BEGIN")
            .await
            .map_err(|e| map_error("BEGIN", &e))?;
        Ok(Box::new(PostgresTx {
            client: Some(client),
            idle: self.idle.clone(),
            _permit: permit,
        }))
    }
}

struct PostgresTx {
    client: Option<Client>,
    idle: Arc<Mutex<Vec<Client>>>,
    _permit: OwnedSemaphorePermit,
}

impl PostgresTx {
    fn client(&self, sql: &str) -> Result<&Client, StorageError> {
        self.client
            .as_ref()
            .ok_or_else(|| StorageError::database(sql, "transaction already finished"))
    }
}

fn map_error(sql: &str, e: &tokio_postgres::Error) -> StorageError {
    use tokio_postgres::error::SqlState;
    match e.code() {
        Some(code)
            if *code == SqlState::UNIQUE_VIOLATION || *code == SqlState::FOREIGN_KEY_VIOLATION =>
        {
            StorageError::constraint(
                sql,
                e.as_db_error()
                    .map_or_else(|| e.to_string(), ToString::to_string),
            )
        }
        _ => StorageError::database(
            sql,
            e.as_db_error()
                .map_or_else(|| e.to_string(), ToString::to_string),
        ),
    }
}

fn bind(params: &[Value]) -> Vec<PgValue<'_>> {
    params.iter().map(PgValue).collect()
}

fn refs<'a>(values: &'a [PgValue<'a>]) -> Vec<&'a (dyn ToSql + Sync)> {
    values.iter().map(|v| v as &(dyn ToSql + Sync)).collect()
}

#[async_trait]
impl SqlTx for PostgresTx {
    async fn execute(&mut self, sql: &str, params: &[Value]) -> Result<u64, StorageError> {
        let values = bind(params);
        self.client(sql)?
            .execute(sql, &refs(&values))
            .await
            .map_err(|e| map_error(sql, &e))
    }

    async fn query(&mut self, sql: &str, params: &[Value]) -> Result<Vec<Row>, StorageError> {
        let values = bind(params);
        let rows = self
            .client(sql)?
            .query(sql, &refs(&values))
            .await
            .map_err(|e| map_error(sql, &e))?;
        rows.iter().map(|r| read_row(sql, r)).collect()
    }

    async fn execute_batch(&mut self, sql: &str) -> Result<(), StorageError> {
        self.client(sql)?
            .batch_execute(sql)
            .await
            .map_err(|e| map_error(sql, &e))
    }

    async fn commit(mut self: Box<Self>) -> Result<(), StorageError> {
        let client = self
            .client
            .take()
            .ok_or_else(|| StorageError::database("COMMIT", "transaction already finished"))?;
        let result = client
            .batch_execute("COMMIT")
            .await
            .map_err(|e| map_error("COMMIT", &e));
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(client);
        }
        result
    }
}

impl Drop for PostgresTx {
    fn drop(&mut self) {
        let Some(client) = self.client.take() else {
            return;
        };
        // Roll back asynchronously; the connection returns to the pool once that is done.
        let idle = self.idle.clone();
        if let Ok(handle) = tokio::runtime::Handle::try_current() {
            handle.spawn(async move {
                if client.batch_execute("ROLLBACK").await.is_ok()
                    && let Ok(mut idle) = idle.lock()
                {
                    idle.push(client);
                }
            });
        }
    }
}

fn read_row(sql: &str, row: &tokio_postgres::Row) -> Result<Row, StorageError> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let fail = |e: tokio_postgres::Error| map_error(sql, &e);
        let ty = column.type_();
        let value = if *ty == Type::INT8 {
            row.try_get::<_, Option<i64>>(i)
                .map_err(fail)?
                .map(Value::Int)
        } else if *ty == Type::INT4 {
            row.try_get::<_, Option<i32>>(i)
                .map_err(fail)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::INT2 {
            row.try_get::<_, Option<i16>>(i)
                .map_err(fail)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::FLOAT8 {
            row.try_get::<_, Option<f64>>(i)
                .map_err(fail)?
                .map(Value::Real)
        } else if *ty == Type::FLOAT4 {
            row.try_get::<_, Option<f32>>(i)
                .map_err(fail)?
                .map(|v| Value::Real(v.into()))
        } else if *ty == Type::BOOL {
            row.try_get::<_, Option<bool>>(i)
                .map_err(fail)?
                .map(|v| Value::Int(v.into()))
        } else if *ty == Type::NUMERIC {
            return Err(StorageError::database(
                sql,
                format!(
                    "column {} is NUMERIC; cast it to BIGINT or DOUBLE PRECISION",
                    column.name()
                ),
            ));
        } else {
            row.try_get::<_, Option<String>>(i)
                .map_err(fail)?
                .map(Value::Text)
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row(values))
}

/// A [`Value`] bound to whatever type PostgreSQL inferred for its parameter.
#[derive(Debug)]
struct PgValue<'a>(&'a Value);

impl ToSql for PgValue<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self.0 {
            Value::Null => Ok(IsNull::Yes),
            Value::Int(v) => {
                if *ty == Type::INT8 {
                    v.to_sql(ty, out)
                } else if *ty == Type::INT4 {
                    i32::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::INT2 {
                    i16::try_from(*v)?.to_sql(ty, out)
                } else if *ty == Type::BOOL {
                    (*v != 0).to_sql(ty, out)
                } else if *ty == Type::FLOAT8 {
                    (*v as f64).to_sql(ty, out)
                } else {
                    v.to_string().to_sql(ty, out)
                }
            }
            Value::Real(v) => {
                if *ty == Type::FLOAT4 {
                    (*v as f32).to_sql(ty, out)
                } else {
                    v.to_sql(ty, out)
                }
            }
            Value::Text(s) => s.as_str().to_sql(ty, out),
        }
    }

    fn accepts(ty: &Type) -> bool {
        [
            Type::INT2,
            Type::INT4,
            Type::INT8,
            Type::FLOAT4,
            Type::FLOAT8,
            Type::BOOL,
            Type::TEXT,
            Type::VARCHAR,
            Type::BPCHAR,
            Type::NAME,
            Type::UNKNOWN,
        ]
        .contains(ty)
    }

    to_sql_checked!();
}

#[cfg(test)]
mod tests {
    #[test]
    fn passwords_never_reach_messages() {
        assert_eq!(
            super::redact("postgres://hub:s3cret@db:5432/hub"),
            "postgres://hub:***@db:5432/hub"
        );
        assert_eq!(
            super::redact("host=/tmp dbname=hub"),
            "host=/tmp dbname=hub"
        );
    }
}
