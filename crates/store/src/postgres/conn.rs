//! Pooled PostgreSQL connections that remember their prepared statements,
//! and the transaction wrapper the backend works through.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, GenericClient, NoTls, Row, Statement, Transaction};
use r2d2_postgres::PostgresConnectionManager;

use crate::Result;

/// Parameters as the `postgres` crate takes them.
pub(super) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

/// Staging table for `save_scores`, one per session. Rows vanish at commit.
const CREATE_SCORE_IN: &str = "CREATE TEMP TABLE score_in (
    person_id BIGINT  NOT NULL,
    eligible  BOOLEAN NOT NULL,
    score     INTEGER,
    grade     TEXT,
    reasons   TEXT    NOT NULL,
    changed   BOOLEAN NOT NULL
) ON COMMIT DELETE ROWS";

/// Prepared statements by their SQL text; the text is always a constant.
type Cache = HashMap<&'static str, Statement>;

/// A session: the client and the statements prepared on it.
pub(super) struct Conn {
    client: Client,
    cache: Cache,
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

impl Conn {
    /// Runs a read outside any explicit transaction.
    pub(super) fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let st = prepared(&mut self.cache, &mut self.client, sql)?;
        Ok(self.client.query(&st, params)?)
    }

    /// Runs a read that returns at most one row.
    pub(super) fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>> {
        let st = prepared(&mut self.cache, &mut self.client, sql)?;
        Ok(self.client.query_opt(&st, params)?)
    }

    /// Starts a read-write transaction.
    pub(super) fn transaction(&mut self) -> Result<Tx<'_>> {
        Ok(Tx {
            tx: self.client.transaction()?,
            cache: &mut self.cache,
        })
    }

    /// Starts a read-only transaction that sees one snapshot throughout.
    pub(super) fn snapshot(&mut self) -> Result<Tx<'_>> {
        let tx = self
            .client
            .build_transaction()
            .isolation_level(postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()?;
        Ok(Tx {
            tx,
            cache: &mut self.cache,
        })
    }
}

/// A transaction on a pooled session; rolled back unless committed.
pub(super) struct Tx<'a> {
    tx: Transaction<'a>,
    cache: &'a mut Cache,
}

impl<'a> Tx<'a> {
    pub(super) fn query(&mut self, sql: &'static str, params: Params<'_>) -> Result<Vec<Row>> {
        let st = prepared(self.cache, &mut self.tx, sql)?;
        Ok(self.tx.query(&st, params)?)
    }

    pub(super) fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>> {
        let st = prepared(self.cache, &mut self.tx, sql)?;
        Ok(self.tx.query_opt(&st, params)?)
    }

    pub(super) fn execute(&mut self, sql: &'static str, params: Params<'_>) -> Result<u64> {
        let st = prepared(self.cache, &mut self.tx, sql)?;
        Ok(self.tx.execute(&st, params)?)
    }

    /// The underlying transaction, for COPY and portals.
    pub(super) fn inner(&mut self) -> &mut Transaction<'a> {
        &mut self.tx
    }

    pub(super) fn commit(self) -> Result<()> {
        Ok(self.tx.commit()?)
    }
}

/// Makes sessions for the pool: connects, then creates the session's staging table.
#[derive(Debug)]
pub(super) struct Manager(PostgresConnectionManager<NoTls>);

impl Manager {
    pub(super) fn new(config: postgres::Config) -> Manager {
        Manager(PostgresConnectionManager::new(config, NoTls))
    }
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let mut client = self.0.connect()?;
        client.batch_execute(CREATE_SCORE_IN)?;
        Ok(Conn {
            client,
            cache: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        self.0.is_valid(&mut conn.client)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        self.0.has_broken(&mut conn.client)
    }
}
