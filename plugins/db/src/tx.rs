//! `conn:transaction(fn)`: runs `fn(tx)` in a transaction, commits when it returns (giving
//! back what it returned) and rolls back when it raises (raising the same error again).
//! `tx` has the connection's `query`, `query_one` and `execute`, all on the transaction's one
//! connection, and `tx:transaction(fn)` nests with a savepoint: released when that `fn`
//! returns, rolled back to when it raises, the outer transaction going on either way.
//! Statements of coroutines sharing one `tx` take turns. Once its `fn` has returned, a `tx`
//! that was kept refuses statements ("the transaction has ended").

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use assay_sdk::tokio::sync::Mutex;
use assay_sdk::{Args, Callback, Error, Methods, Multi, Object, ObjectType, Result, Value};
use sqlx::{AssertSqlSafe, Executor, MySql, Postgres, Transaction};

use crate::conn::{Action, Db, Failure, Rows, sql_and_params};

/// A transaction in progress, on one backend.
enum Open {
    Postgres(Transaction<'static, Postgres>),
    MySql(Transaction<'static, MySql>),
    Sqlite(crate::sqlite::Guard),
}

/// The `tx` a transaction's function gets.
pub struct Tx {
    /// `None` once the transaction has ended.
    open: Mutex<Option<Open>>,
    /// Savepoints made so far, for unique names.
    savepoints: AtomicUsize,
}

/// Begins a transaction on `db`, runs `f(tx)`, and commits or rolls back.
pub async fn run(db: &Db, f: Callback) -> Result<Multi> {
    let fail = |e: sqlx::Error| Error::new(Failure::Sql(e).message());
    let open = match db {
        Db::Postgres(pool) => Open::Postgres(pool.begin().await.map_err(fail)?),
        Db::MySql(pool) => Open::MySql(pool.begin().await.map_err(fail)?),
        Db::Sqlite(pool) => {
            let fail = |e: Failure| Error::new(e.message());
            let mut guard = pool.acquire().await.map_err(fail)?;
            crate::sqlite::command(&mut guard, pool.begin())
                .await
                .map_err(fail)?;
            Open::Sqlite(guard)
        }
    };
    let tx = Arc::new(Tx {
        open: Mutex::new(Some(open)),
        savepoints: AtomicUsize::new(0),
    });
    let _ends = EndsWithCall(tx.clone());
    let outcome = f
        .call(vec![Value::Object(Object::from_arc(tx.clone()))])
        .await;
    let open = tx.open.lock().await.take();
    let Some(open) = open else {
        return Err(Error::new("the transaction ended inside its function"));
    };
    match outcome {
        Ok(values) => {
            match open {
                Open::Postgres(t) => t.commit().await.map_err(Failure::Sql),
                Open::MySql(t) => t.commit().await.map_err(Failure::Sql),
                Open::Sqlite(mut g) => crate::sqlite::command(&mut g, "COMMIT").await,
            }
            .map_err(|e| Error::new(format!("commit: {}", e.message())))?;
            Ok(Multi(values))
        }
        Err(raised) => {
            let rolled_back = match open {
                Open::Postgres(t) => t.rollback().await.map_err(Failure::Sql),
                Open::MySql(t) => t.rollback().await.map_err(Failure::Sql),
                Open::Sqlite(mut g) => crate::sqlite::command(&mut g, "ROLLBACK").await,
            };
            match rolled_back {
                Ok(()) => Err(raised),
                Err(e) => Err(Error::new(format!(
                    "{} (and the rollback failed: {})",
                    raised.message(),
                    e.message()
                ))),
            }
        }
    }
}

/// Ends the transaction (rolling it back) if its `conn:transaction` call goes away before it
/// finishes (the task was cancelled): the `tx` object may live on until the collector frees
/// it, and its locks and connection with it.
struct EndsWithCall(Arc<Tx>);

impl Drop for EndsWithCall {
    fn drop(&mut self) {
        let _runtime = assay_sdk::runtime().enter();
        match self.0.open.try_lock() {
            Ok(mut open) => drop(open.take()),
            // A statement of the transaction holds it: end it once that lets go.
            Err(_) => {
                let tx = self.0.clone();
                assay_sdk::runtime().spawn(async move { drop(tx.open.lock().await.take()) });
            }
        }
    }
}

impl Tx {
    /// Runs a statement on the transaction's connection.
    async fn run(&self, args: Args, action: Action) -> Result<Value> {
        let (sql, params) = sql_and_params(&args, 0)?;
        crate::control::refuse(&sql, true).map_err(Error::new)?;
        self.on_connection(sql, &params, action)
            .await
            .map_err(|e| Error::new(e.message()))
    }

    async fn on_connection(
        &self,
        sql: String,
        params: &[Value],
        action: Action,
    ) -> std::result::Result<Value, Failure> {
        let mut open = self.open.lock().await;
        match open.as_mut() {
            None => Err(Failure::Call(
                "the transaction has ended (use tx only inside its function)".into(),
            )),
            Some(Open::Postgres(t)) => crate::postgres::run(t, sql, params, action).await,
            Some(Open::MySql(t)) => crate::mysql::run(t, sql, params, action).await,
            Some(Open::Sqlite(t)) => crate::sqlite::run(t, sql, params, action).await,
        }
    }

    /// Runs plain SQL (a savepoint command) on the transaction's connection.
    async fn command(&self, sql: String) -> std::result::Result<(), Failure> {
        let mut open = self.open.lock().await;
        match open.as_mut() {
            None => Err(Failure::Call("the transaction has ended".into())),
            Some(Open::Postgres(t)) => t
                .execute(AssertSqlSafe(sql))
                .await
                .map(drop)
                .map_err(Failure::Sql),
            Some(Open::MySql(t)) => t
                .execute(AssertSqlSafe(sql))
                .await
                .map(drop)
                .map_err(Failure::Sql),
            Some(Open::Sqlite(g)) => crate::sqlite::command(g, &sql).await,
        }
    }

    /// `tx:transaction(fn)`: a savepoint around `fn(tx)`.
    async fn nested(self: Arc<Self>, args: Args) -> Result<Multi> {
        args.at_most(1, 0)?;
        let f = args.callback(1, "fn")?;
        let name = format!(
            "assay_savepoint_{}",
            self.savepoints.fetch_add(1, Ordering::Relaxed)
        );
        let fail = |e: Failure| Error::new(e.message());
        self.command(format!("SAVEPOINT {name}"))
            .await
            .map_err(fail)?;
        match f
            .call(vec![Value::Object(Object::from_arc(self.clone()))])
            .await
        {
            Ok(values) => {
                self.command(format!("RELEASE SAVEPOINT {name}"))
                    .await
                    .map_err(fail)?;
                Ok(Multi(values))
            }
            Err(raised) => match self.command(format!("ROLLBACK TO SAVEPOINT {name}")).await {
                Ok(()) => Err(raised),
                Err(e) => Err(Error::new(format!(
                    "{} (and rolling back to the savepoint failed: {})",
                    raised.message(),
                    e.message()
                ))),
            },
        }
    }
}

impl ObjectType for Tx {
    const TYPE_NAME: &'static str = "db.Transaction";

    fn methods(m: &mut Methods<Self>) {
        m.async_method("query", |this: Arc<Tx>, args| {
            let action = Action::query(Rows::All);
            async move { this.run(args, action).await }
        });
        m.async_method("query_one", |this: Arc<Tx>, args| {
            let action = Action::query(Rows::First);
            async move { this.run(args, action).await }
        });
        m.async_method("execute", |this: Arc<Tx>, args| async move {
            this.run(args, Action::Execute).await
        });
        m.async_method("transaction", |this: Arc<Tx>, args| this.nested(args));
    }
}

impl Drop for Tx {
    fn drop(&mut self) {
        // A transaction left open (its task cancelled) rolls back as its connection goes back
        // to the pool, which needs the plugin's runtime.
        let _runtime = assay_sdk::runtime().enter();
        drop(self.open.get_mut().take());
    }
}
