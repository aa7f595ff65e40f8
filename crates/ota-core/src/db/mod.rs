//! One SQL interface over the two store back ends: SQLite (a desk, embedded) and PostgreSQL (a team).
//!
//! The store's queries are written once, in the SQL both engines accept, with `?N` placeholders; the
//! PostgreSQL side rewrites them to `$N` (see [`translate`]). Where the engines really differ (full-text
//! search, bulk import) the store asks [`Sql::dialect`] and branches, in the store module that owns the
//! query. Values cross as [`Value`], so a store function never sees which engine it talks to.

mod postgres;
mod sqlite;
pub(crate) mod translate;
mod value;

pub use postgres::{fresh_test_database, PgPool, PgTarget, TEST_DATABASE_URL_ENV};
pub(crate) use sqlite::SqliteSql;
pub use value::{FromValue, Row, ToValue, Value};

use crate::error::{CoreError, CoreResult};

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    Sqlite,
    Postgres,
}

/// A connection (inside a transaction for writes) of either back end.
pub trait Sql {
    fn dialect(&self) -> Dialect;
    /// Runs one statement; answers how many rows it changed.
    fn execute(&self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<usize>;
    /// Runs one statement and answers all its rows.
    fn query(&self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<Vec<Row>>;
    /// Runs several statements with no parameters (schema changes).
    fn execute_batch(&self, sql: &str) -> CoreResult<()>;
}

/// The conveniences every store module uses, on top of [`Sql`].
pub trait SqlExt: Sql {
    /// The one row `sql` answers, mapped; [`CoreError::NoRows`] when there is none.
    fn query_row<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        map: impl FnOnce(&Row) -> CoreResult<T>,
    ) -> CoreResult<T> {
        match self.query(sql, params)?.first() {
            Some(row) => map(row),
            None => Err(CoreError::NoRows),
        }
    }

    /// The first row `sql` answers, if any, mapped.
    fn query_opt<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        map: impl FnOnce(&Row) -> CoreResult<T>,
    ) -> CoreResult<Option<T>> {
        self.query(sql, params)?.first().map(map).transpose()
    }

    /// Every row `sql` answers, mapped.
    fn query_map<T>(
        &self,
        sql: &str,
        params: &[&dyn ToValue],
        map: impl FnMut(&Row) -> CoreResult<T>,
    ) -> CoreResult<Vec<T>> {
        self.query(sql, params)?.iter().map(map).collect()
    }

    /// The first column of the one row `sql` answers.
    fn query_value<T: FromValue>(&self, sql: &str, params: &[&dyn ToValue]) -> CoreResult<T> {
        self.query_row(sql, params, |row| row.get(0))
    }
}

impl<S: Sql + ?Sized> SqlExt for S {}

/// `params![a, b]`: the parameters of one statement, in placeholder order.
#[macro_export]
macro_rules! sql_params {
    () => { &[] as &[&dyn $crate::db::ToValue] };
    ($($param:expr),+ $(,)?) => { &[$(&$param as &dyn $crate::db::ToValue),+] as &[&dyn $crate::db::ToValue] };
}
pub use crate::sql_params as params;
