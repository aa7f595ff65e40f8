//! [`Sql`] over PostgreSQL (team mode): a small pool of `tokio-postgres` connections.
//!
//! The store's functions are synchronous (they were written for SQLite, where a call is a few
//! microseconds), and they are called from inside tokio tasks. So the connections are driven by a
//! runtime on a thread of the pool's own, and a store call waits for its answers with a plain
//! `futures` executor: the caller's runtime is never re-entered, exactly as a rusqlite call blocks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::error::Error as _;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use bytes::BytesMut;
use futures::executor::block_on;
use tokio_postgres::types::{FromSql, IsNull, ToSql, Type};
use tokio_postgres::{Client, Config, NoTls, Statement};

use super::{translate, Dialect, Row, Sql, ToValue, Value};
use crate::error::{CoreError, CoreResult};

/// Where the team database is: its URL (`postgres://user@host:port/db`, no password) and the password
/// kept apart (from the keychain or a credentials file), so the URL can be shown and logged.
#[derive(Clone)]
pub struct PgTarget {
    config: Config,
    shown: String,
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.shown)
    }
}

impl PgTarget {
    /// Parses a `postgres://` or `postgresql://` URL. A password written in the URL is taken, but never
    /// shown again (prefer `password`).
    pub fn parse(url: &str, password: Option<&str>) -> CoreResult<Self> {
        let trimmed = url.trim();
        if !(trimmed.starts_with("postgres://") || trimmed.starts_with("postgresql://")) {
            return Err(CoreError::TeamDatabase {
                message: format!(
                    "{trimmed:?} is not a PostgreSQL URL (postgres://user@host:5432/database)"
                ),
                unreachable: false,
            });
        }
        let mut config: Config = trimmed.parse().map_err(|e| CoreError::TeamDatabase {
            message: format!("the team database URL is not valid: {e}"),
            unreachable: false,
        })?;
        if let Some(password) = password.filter(|p| !p.is_empty()) {
            config.password(password);
        }
        config.application_name("ota-console");
        config.connect_timeout(Duration::from_secs(5));
        Ok(Self {
            shown: redact(trimmed),
            config,
        })
    }

    /// The URL with any password replaced by `***`.
    pub fn shown(&self) -> &str {
        &self.shown
    }
}

/// `postgres://user:secret@host/db` → `postgres://user:***@host/db`.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_string(),
    }
}

/// How many connections one process opens at most: the runner's writes are serialised per campaign
/// anyway; more would only crowd the server when many runners share it.
const MAX_CONNECTIONS: usize = 8;

pub struct PgPool {
    target: PgTarget,
    io: tokio::runtime::Handle,
    /// Dropping this ends the I/O thread (and with it every connection).
    _stop: std::sync::mpsc::Sender<()>,
    idle: Mutex<PoolState>,
    freed: Condvar,
}

struct PoolState {
    idle: Vec<PgConn>,
    open: usize,
}

struct PgConn {
    client: Client,
    statements: RefCell<HashMap<String, Statement>>,
}

impl std::fmt::Debug for PgPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgPool")
            .field("target", &self.target)
            .finish()
    }
}

impl PgPool {
    /// Starts the pool's I/O thread and opens one connection, so a wrong URL or password fails here.
    pub fn connect(target: PgTarget) -> CoreResult<Arc<Self>> {
        let (handle_tx, handle_rx) = std::sync::mpsc::channel();
        let (stop_tx, stop_rx) = std::sync::mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("ota-postgres-io".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = handle_tx.send(Err(e.to_string()));
                        return;
                    }
                };
                let _ = handle_tx.send(Ok(runtime.handle().clone()));
                // Drive the connections until the pool is dropped (the sender goes away).
                runtime.block_on(async move {
                    let _ = tokio::task::spawn_blocking(move || stop_rx.recv()).await;
                });
            })
            .map_err(|e| CoreError::TeamDatabase {
                message: format!("could not start the database thread: {e}"),
                unreachable: false,
            })?;
        let io = handle_rx
            .recv()
            .map_err(|e| e.to_string())
            .and_then(|r| r)
            .map_err(|message| CoreError::TeamDatabase {
                message,
                unreachable: false,
            })?;
        let pool = Arc::new(Self {
            target,
            io,
            _stop: stop_tx,
            idle: Mutex::new(PoolState {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        });
        let first = pool.open_connection()?;
        pool.idle.lock().unwrap_or_else(|p| p.into_inner()).open = 1;
        pool.give_back(first);
        Ok(pool)
    }

    pub fn target(&self) -> &PgTarget {
        &self.target
    }

    fn open_connection(&self) -> CoreResult<PgConn> {
        let config = self.target.config.clone();
        let io = self.io.clone();
        let connected = block_on(self.io.spawn(async move {
            let (client, connection) = config.connect(NoTls).await?;
            io.spawn(async move {
                if let Err(e) = connection.await {
                    tracing::warn!("team database connection ended: {e}");
                }
            });
            Ok::<_, tokio_postgres::Error>(client)
        }))
        .map_err(|e| CoreError::TeamDatabase {
            message: format!("the database thread stopped: {e}"),
            unreachable: true,
        })?;
        let client = connected.map_err(|e| pg_error(&self.target, e))?;
        Ok(PgConn {
            client,
            statements: RefCell::new(HashMap::new()),
        })
    }

    fn take(&self) -> CoreResult<PgConn> {
        let mut state = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        loop {
            while let Some(conn) = state.idle.pop() {
                if !conn.client.is_closed() {
                    return Ok(conn);
                }
                state.open = state.open.saturating_sub(1);
            }
            if state.open < MAX_CONNECTIONS {
                state.open += 1;
                drop(state);
                return self.open_connection().inspect_err(|_| {
                    let mut state = self.idle.lock().unwrap_or_else(|p| p.into_inner());
                    state.open = state.open.saturating_sub(1);
                });
            }
            state = self.freed.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }

    fn give_back(&self, conn: PgConn) {
        let mut state = self.idle.lock().unwrap_or_else(|p| p.into_inner());
        if conn.client.is_closed() {
            state.open = state.open.saturating_sub(1);
        } else {
            state.idle.push(conn);
        }
        drop(state);
        self.freed.notify_one();
    }

    /// Listens on `channel` on a connection of its own, for as long as the receiver is kept: each
    /// notice's payload is sent on. A lost connection is made again (every few seconds while the server
    /// is down), so notices resume when it is back; `on_reconnect` is sent then, since notices sent
    /// meanwhile are lost and whoever listens should read afresh.
    pub fn listen(
        &self,
        channel: &str,
        on_reconnect: &str,
    ) -> tokio::sync::mpsc::UnboundedReceiver<String> {
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let config = self.target.config.clone();
        let shown = self.target.shown.clone();
        let listen = format!("LISTEN {channel}");
        let on_reconnect = on_reconnect.to_string();
        self.io.spawn(async move {
            let mut first = true;
            while !tx.is_closed() {
                match config.connect(NoTls).await {
                    Ok((client, mut connection)) => {
                        let (notices_tx, mut notices) =
                            tokio::sync::mpsc::unbounded_channel::<String>();
                        let driver = tokio::spawn(async move {
                            while let Some(message) =
                                futures::future::poll_fn(|cx| connection.poll_message(cx)).await
                            {
                                match message {
                                    Ok(tokio_postgres::AsyncMessage::Notification(n)) => {
                                        if notices_tx.send(n.payload().to_string()).is_err() {
                                            break;
                                        }
                                    }
                                    Ok(_) => {}
                                    Err(_) => break,
                                }
                            }
                        });
                        if client.batch_execute(&listen).await.is_ok() {
                            if !first {
                                let _ = tx.send(on_reconnect.clone());
                            }
                            first = false;
                            while let Some(payload) = notices.recv().await {
                                if tx.send(payload).is_err() {
                                    break;
                                }
                            }
                        }
                        driver.abort();
                        tracing::warn!(database = %shown, "lost the team database's change notices; reconnecting");
                    }
                    Err(err) => {
                        tracing::debug!(database = %shown, error = %err, "cannot listen for change notices yet");
                    }
                }
                tokio::time::sleep(Duration::from_secs(2)).await;
            }
        });
        rx
    }

    /// Runs statements that cannot run inside a transaction (`CREATE DATABASE`).
    pub fn execute_outside_transaction(&self, sql: &str) -> CoreResult<()> {
        let conn = self.take()?;
        let result =
            block_on(conn.client.batch_execute(sql)).map_err(|e| pg_error(&self.target, e));
        self.give_back(conn);
        result
    }

    /// Runs `f` in one transaction: all its writes land, or none do.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&dyn Sql) -> CoreResult<T>) -> CoreResult<T> {
        self.transaction("BEGIN", f)
    }

    /// Runs `f`'s reads in one read-only snapshot: its queries agree with each other while runners
    /// write (a dashboard's counts and its page), as they do on SQLite's reader connection.
    pub(crate) fn read<T>(&self, f: impl FnOnce(&dyn Sql) -> CoreResult<T>) -> CoreResult<T> {
        self.transaction("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY", f)
    }

    fn transaction<T>(
        &self,
        begin: &str,
        f: impl FnOnce(&dyn Sql) -> CoreResult<T>,
    ) -> CoreResult<T> {
        let conn = self.take()?;
        let result = (|| {
            let sql = PgSql {
                conn: &conn,
                target: &self.target,
            };
            sql.execute_batch(begin)?;
            match f(&sql) {
                Ok(value) => {
                    sql.execute_batch("COMMIT")?;
                    Ok(value)
                }
                Err(err) => {
                    // A failed ROLLBACK means the connection is gone: the server rolls back on its own.
                    let _ = sql.execute_batch("ROLLBACK");
                    Err(err)
                }
            }
        })();
        self.give_back(conn);
        result
    }
}

struct PgSql<'a> {
    conn: &'a PgConn,
    target: &'a PgTarget,
}

impl PgSql<'_> {
    fn statement(&self, sql: &str) -> CoreResult<Statement> {
        if let Some(stmt) = self.conn.statements.borrow().get(sql) {
            return Ok(stmt.clone());
        }
        let translated = translate::to_postgres(sql);
        let stmt = block_on(self.conn.client.prepare(&translated)).map_err(|e| {
            let mut err = pg_error(self.target, e);
            if let CoreError::TeamDatabase { message, .. } = &mut err {
                message.push_str(&format!(" (in: {})", one_line(&translated)));
            }
            err
        })?;
        self.conn
            .statements
            .borrow_mut()
            .insert(sql.to_string(), stmt.clone());
        Ok(stmt)
    }

    fn bind(params: &[&dyn ToValue]) -> Vec<PgParam> {
        params.iter().map(|p| PgParam(p.to_value())).collect()
    }
}

fn one_line(sql: &str) -> String {
    sql.split_whitespace().collect::<Vec<_>>().join(" ")
}

impl Sql for PgSql<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<usize> {
        let stmt = self.statement(sql)?;
        let values = Self::bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let n = block_on(self.conn.client.execute(&stmt, &refs))
            .map_err(|e| pg_error(self.target, e))?;
        Ok(n as usize)
    }

    fn query(&self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<Vec<Row>> {
        let stmt = self.statement(sql)?;
        let values = Self::bind(params);
        let refs: Vec<&(dyn ToSql + Sync)> =
            values.iter().map(|v| v as &(dyn ToSql + Sync)).collect();
        let rows =
            block_on(self.conn.client.query(&stmt, &refs)).map_err(|e| pg_error(self.target, e))?;
        rows.iter().map(read_row).collect()
    }

    fn execute_batch(&self, sql: &str) -> CoreResult<()> {
        block_on(self.conn.client.batch_execute(sql)).map_err(|e| pg_error(self.target, e))
    }
}

fn read_row(row: &tokio_postgres::Row) -> CoreResult<Row> {
    let mut values = Vec::with_capacity(row.len());
    for (i, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let column_error = |e: tokio_postgres::Error| CoreError::Column {
            index: i,
            message: e.to_string(),
        };
        let value = match *ty {
            Type::BOOL => row
                .try_get::<_, Option<bool>>(i)
                .map_err(column_error)?
                .map(|b| Value::Int(i64::from(b))),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(i)
                .map_err(column_error)?
                .map(|n| Value::Int(n.into())),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(i)
                .map_err(column_error)?
                .map(|n| Value::Int(n.into())),
            Type::INT8 => row
                .try_get::<_, Option<i64>>(i)
                .map_err(column_error)?
                .map(Value::Int),
            Type::OID => row
                .try_get::<_, Option<u32>>(i)
                .map_err(column_error)?
                .map(|n| Value::Int(n.into())),
            Type::FLOAT4 => row
                .try_get::<_, Option<f32>>(i)
                .map_err(column_error)?
                .map(|x| Value::Real(x.into())),
            Type::FLOAT8 => row
                .try_get::<_, Option<f64>>(i)
                .map_err(column_error)?
                .map(Value::Real),
            Type::NUMERIC => row
                .try_get::<_, Option<Numeric>>(i)
                .map_err(column_error)?
                .map(|n| n.0),
            Type::BYTEA => row
                .try_get::<_, Option<Vec<u8>>>(i)
                .map_err(column_error)?
                .map(Value::Blob),
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => row
                .try_get::<_, Option<String>>(i)
                .map_err(column_error)?
                .map(Value::Text),
            ref other => {
                return Err(CoreError::Column {
                    index: i,
                    message: format!(
                        "column {:?} has type {other}, which the store does not read",
                        column.name()
                    ),
                })
            }
        };
        values.push(value.unwrap_or(Value::Null));
    }
    Ok(Row::new(values))
}

/// A parameter, converted to whatever type PostgreSQL inferred for its placeholder.
#[derive(Debug)]
struct PgParam(Value);

impl ToSql for PgParam {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        let mismatch = || -> Box<dyn std::error::Error + Sync + Send> {
            format!("cannot send {:?} as {ty}", self.0).into()
        };
        match (&self.0, ty) {
            (Value::Null, _) => Ok(IsNull::Yes),
            (Value::Int(n), &Type::INT8) => n.to_sql(ty, out),
            (Value::Int(n), &Type::INT4) => i32::try_from(*n)?.to_sql(ty, out),
            (Value::Int(n), &Type::INT2) => i16::try_from(*n)?.to_sql(ty, out),
            (Value::Int(n), &Type::BOOL) => (*n != 0).to_sql(ty, out),
            (Value::Int(n), &Type::FLOAT8) => (*n as f64).to_sql(ty, out),
            (Value::Int(n), &Type::FLOAT4) => (*n as f32).to_sql(ty, out),
            (Value::Int(n), &Type::TEXT | &Type::VARCHAR | &Type::UNKNOWN) => {
                n.to_string().to_sql(&Type::TEXT, out)
            }
            (Value::Real(x), &Type::FLOAT8) => x.to_sql(ty, out),
            (Value::Real(x), &Type::FLOAT4) => (*x as f32).to_sql(ty, out),
            (Value::Text(s), &Type::TEXT | &Type::VARCHAR | &Type::BPCHAR | &Type::NAME) => {
                s.as_str().to_sql(ty, out)
            }
            (Value::Text(s), &Type::UNKNOWN) => s.as_str().to_sql(&Type::TEXT, out),
            (Value::Blob(b), &Type::BYTEA) => b.as_slice().to_sql(ty, out),
            _ => Err(mismatch()),
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    tokio_postgres::types::to_sql_checked!();
}

/// A `NUMERIC` (what PostgreSQL's `SUM` of integers answers), read as an integer when it has no
/// fraction, else as a real number.
struct Numeric(Value);

impl<'a> FromSql<'a> for Numeric {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        // Binary NUMERIC: ndigits, weight, sign, dscale (all i16), then base-10000 digits.
        let word = |i: usize| -> Result<i16, Box<dyn std::error::Error + Sync + Send>> {
            raw.get(i * 2..i * 2 + 2)
                .map(|b| i16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "truncated NUMERIC".into())
        };
        let (ndigits, weight, sign, dscale) = (word(0)?, word(1)?, word(2)?, word(3)?);
        if sign == 0xC000_u16 as i16 {
            return Err("NaN is not a number the store keeps".into());
        }
        let mut value = 0f64;
        for i in 0..ndigits.max(0) as usize {
            let digit = f64::from(word(4 + i)?);
            value += digit * 10_000f64.powi(i32::from(weight) - i as i32);
        }
        if sign == 0x4000 {
            value = -value;
        }
        Ok(Numeric(if dscale == 0 && value.abs() < 9.0e15 {
            Value::Int(value as i64)
        } else {
            Value::Real(value)
        }))
    }

    fn accepts(ty: &Type) -> bool {
        *ty == Type::NUMERIC
    }
}

/// A driver error in words. A connection that could not be made or broke is `unreachable` (the
/// callers wait and retry); a refused statement is a bug or a constraint and is said as such.
fn pg_error(target: &PgTarget, err: tokio_postgres::Error) -> CoreError {
    if let Some(db) = err.as_db_error() {
        return CoreError::TeamDatabase {
            message: format!("{}: {}", db.code().code(), db.message()),
            unreachable: false,
        };
    }
    let unreachable = err.is_closed()
        || err
            .source()
            .is_some_and(|s| s.downcast_ref::<std::io::Error>().is_some())
        || err.to_string().contains("timeout");
    // "error connecting to server" alone does not say why: add the cause (refused, no such host, timeout).
    let message = match err.source() {
        Some(cause) => format!("{err}: {cause} ({})", target.shown()),
        None => format!("{err} ({})", target.shown()),
    };
    CoreError::TeamDatabase {
        message,
        unreachable,
    }
}

/// The environment variable naming the PostgreSQL that tests use (`cargo xtask test` starts a throwaway
/// cluster and sets it; `cargo xtask postgres` starts one by hand).
pub const TEST_DATABASE_URL_ENV: &str = "OTA_CONSOLE_TEST_DATABASE_URL";

/// For tests: a new, empty database on the test cluster, answered as its URL. Each test gets its own,
/// so tests run in parallel without seeing each other's rows; the cluster is thrown away afterwards.
pub fn fresh_test_database() -> CoreResult<String> {
    use std::sync::atomic::{AtomicU32, Ordering};
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let base = std::env::var(TEST_DATABASE_URL_ENV).map_err(|_| CoreError::TeamDatabase {
        message: format!(
            "{TEST_DATABASE_URL_ENV} is not set: run the tests with `cargo xtask test`, or start a \
             cluster with `cargo xtask postgres` and export the URL it prints"
        ),
        unreachable: false,
    })?;
    let name = format!(
        "ota_test_{}_{}_{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed),
        crate::model::now_ms() % 1_000_000
    );
    let admin = PgPool::connect(PgTarget::parse(&base, None)?)?;
    admin.execute_outside_transaction(&format!("CREATE DATABASE {name}"))?;
    let mut url = url::Url::parse(&base).map_err(|e| CoreError::TeamDatabase {
        message: format!("{TEST_DATABASE_URL_ENV}: {e}"),
        unreachable: false,
    })?;
    url.set_path(&name);
    Ok(url.to_string())
}
