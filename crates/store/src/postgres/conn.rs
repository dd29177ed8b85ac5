//! Pooled PostgreSQL connections that remember their prepared statements,
//! and the transaction wrapper the backend works through.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{
    Client, GenericClient, NoTls, Row, SimpleQueryMessage, SimpleQueryRow, Statement, Transaction,
};
use r2d2_postgres::PostgresConnectionManager;

use crate::{Result, StoreError};

/// Parameters as the `postgres` crate takes them.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Prepared statements by their SQL text; the text is always a constant.
type Cache = HashMap<&'static str, Statement>;

/// A session: the client and the statements prepared on it.
pub(super) struct Conn {
    /// Always present until the session is dropped.
    client: Option<Client>,
    cache: Cache,
    /// Transaction control (`BEGIN …`) not sent yet: it goes out in the
    /// same round trip as the next statement, or not at all if none follows.
    deferred: Option<&'static str>,
}

impl Drop for Conn {
    /// A `postgres::Client` closes by blocking on a runtime of its own,
    /// which panics inside another one, as when an async service drops the
    /// store. So the session is closed on a thread of its own.
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            // Should the thread not start, the client closes here instead.
            let _ = std::thread::Builder::new()
                .name("pg-close".into())
                .spawn(move || drop(client));
        }
    }
}

fn prepared(
    cache: &mut Cache,
    client: &mut impl GenericClient,
    sql: &'static str,
) -> Result<Statement> {
    if let Some(st) = cache.get(sql) {
        return Ok(st.clone());
    }
    let st = client.prepare(sql)?;
    cache.insert(sql, st.clone());
    Ok(st)
}

/// `text` as an SQL string literal, escaped as libpq's `PQescapeLiteral`
/// does: quotes doubled; with a backslash, every backslash doubled in an
/// `E'…'` literal (so the result reads the same whatever
/// `standard_conforming_strings` is). `None` if `text` holds U+0000, which
/// no PostgreSQL text can (nor the simple protocol's message carry).
pub(super) fn literal(text: &str) -> Option<String> {
    if text.contains('\0') {
        return None;
    }
    let mut out = String::with_capacity(text.len() + 3);
    if text.contains('\\') {
        out.push('E');
    }
    out.push('\'');
    for c in text.chars() {
        if c == '\'' || c == '\\' {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    Some(out)
}

impl Conn {
    /// The client and the statement cache, after sending any deferred
    /// transaction control.
    fn parts(&mut self) -> Result<(&mut Client, &mut Cache)> {
        let Some(client) = &mut self.client else {
            return Err(StoreError::Corrupt(
                "database session already closed".into(),
            ));
        };
        if let Some(sql) = self.deferred.take() {
            client.batch_execute(sql)?;
        }
        Ok((client, &mut self.cache))
    }

    /// Sends `sql` (`BEGIN …`) with the next statement instead of on its own.
    pub(super) fn defer(&mut self, sql: &'static str) {
        self.deferred = Some(sql);
    }

    /// Forgets deferred transaction control; true if there was some (so the
    /// transaction never started on the server).
    pub(super) fn discard_deferred(&mut self) -> bool {
        self.deferred.take().is_some()
    }

    /// Runs statements without parameters in one round trip (with any
    /// deferred transaction control before them) and returns the rows of
    /// the last one. For constant SQL only: nothing is bound.
    pub(super) fn simple_last(&mut self, sql: &str) -> Result<Vec<SimpleQueryRow>> {
        let Some(client) = &mut self.client else {
            return Err(StoreError::Corrupt(
                "database session already closed".into(),
            ));
        };
        let messages = match self.deferred.take() {
            Some(first) => client.simple_query(&format!("{first}; {sql}"))?,
            None => client.simple_query(sql)?,
        };
        let mut last = Vec::new();
        let mut current = Vec::new();
        for m in messages {
            match m {
                SimpleQueryMessage::Row(r) => current.push(r),
                SimpleQueryMessage::CommandComplete(_) => last = std::mem::take(&mut current),
                _ => {}
            }
        }
        Ok(last)
    }

    /// Runs a read outside any explicit transaction.
    pub(super) fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let (client, cache) = self.parts()?;
        let st = prepared(cache, client, sql)?;
        Ok(client.query(&st, params)?)
    }

    /// Runs a read that returns at most one row.
    pub(super) fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>> {
        let (client, cache) = self.parts()?;
        let st = prepared(cache, client, sql)?;
        Ok(client.query_opt(&st, params)?)
    }

    /// Runs a statement; returns the number of rows it changed.
    pub(super) fn execute(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let (client, cache) = self.parts()?;
        let st = prepared(cache, client, sql)?;
        Ok(client.execute(&st, params)?)
    }

    /// Runs statements without parameters (transaction control, migrations),
    /// with any deferred transaction control in the same round trip.
    pub(super) fn batch_execute(&mut self, sql: &str) -> Result<()> {
        let Some(client) = &mut self.client else {
            return Err(StoreError::Corrupt(
                "database session already closed".into(),
            ));
        };
        match self.deferred.take() {
            Some(first) => Ok(client.batch_execute(&format!("{first}; {sql}"))?),
            None => Ok(client.batch_execute(sql)?),
        }
    }

    /// The client, for COPY and portals.
    pub(super) fn client(&mut self) -> Result<&mut Client> {
        Ok(self.parts()?.0)
    }

    /// Starts a read-only transaction that sees one snapshot throughout.
    pub(super) fn snapshot(&mut self) -> Result<Transaction<'_>> {
        let (client, _) = self.parts()?;
        Ok(client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?)
    }
}

/// Makes sessions for the pool: connects (over TLS as `sslmode` asks, see
/// `tls`) and sets the session up.
pub(super) enum Manager {
    Plain(PostgresConnectionManager<NoTls>),
    Tls(PostgresConnectionManager<super::tls::MakeRustls>),
}

impl std::fmt::Debug for Manager {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Manager::Plain(_) => "Manager(plain)",
            Manager::Tls(_) => "Manager(tls)",
        })
    }
}

impl Manager {
    /// A manager for the URL, with its `sslmode`.
    pub(super) fn from_url(url: &str) -> Result<Manager> {
        use postgres::config::SslMode as PgMode;
        use std::str::FromStr;
        let (url, mode, root) = super::tls::split_url(url)?;
        let mut config = postgres::Config::from_str(&url)?;
        Ok(match super::tls::client_config(mode, root.as_deref())? {
            None => {
                config.ssl_mode(PgMode::Disable);
                Manager::Plain(PostgresConnectionManager::new(config, NoTls))
            }
            Some(tls) => {
                config.ssl_mode(if mode == super::tls::SslMode::Prefer {
                    PgMode::Prefer
                } else {
                    PgMode::Require
                });
                Manager::Tls(PostgresConnectionManager::new(
                    config,
                    super::tls::MakeRustls::new(tls),
                ))
            }
        })
    }

    fn inner_connect(&self) -> Result<Client, postgres::Error> {
        match self {
            Manager::Plain(m) => r2d2::ManageConnection::connect(m),
            Manager::Tls(m) => r2d2::ManageConnection::connect(m),
        }
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let mut client = self.inner_connect()?;
        // ISO dates: packed records rely on them. No parallel workers and no
        // JIT: starting or compiling them costs more than the store's
        // statements take, and the scan streams in id order anyway.
        client.batch_execute(
            "SET DateStyle = 'ISO, YMD'; SET max_parallel_workers_per_gather = 0; SET jit = off",
        )?;
        Ok(Conn {
            client: Some(client),
            cache: HashMap::new(),
            deferred: None,
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        match (&mut conn.client, self) {
            (Some(client), Manager::Plain(m)) => m.is_valid(client),
            (Some(client), Manager::Tls(m)) => m.is_valid(client),
            (None, _) => Ok(()),
        }
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        // A unit of work discards what it deferred when it ends; a session
        // going back to the pool never carries a `BEGIN` to its next user.
        conn.deferred = None;
        conn.client.as_mut().is_none_or(|client| match self {
            Manager::Plain(m) => m.has_broken(client),
            Manager::Tls(m) => m.has_broken(client),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::literal;

    #[test]
    fn literals_are_escaped_as_libpq_does() {
        assert_eq!(literal("abc").as_deref(), Some("'abc'"));
        assert_eq!(literal("").as_deref(), Some("''"));
        assert_eq!(literal("it's").as_deref(), Some("'it''s'"));
        assert_eq!(
            literal("'); DROP TABLE x; --").as_deref(),
            Some("'''); DROP TABLE x; --'")
        );
        assert_eq!(literal(r"a\'b").as_deref(), Some(r"E'a\\''b'"));
        assert_eq!(literal("诚信").as_deref(), Some("'诚信'"));
        assert_eq!(literal("a\0b"), None);
    }
}
