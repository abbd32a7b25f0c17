//! The connection pool hands back connections in a clean state: what a dropped transaction or a
//! cancelled query left behind never reaches the next request (vendor/README.md: the release
//! ping that still goes to the server in exactly these cases). One connection, so the second
//! statement must run on the connection the first one left.
use std::time::Duration;

use condivisa::db::connect_url;
use sea_orm::{ConnectionTrait, DbBackend, Statement, TransactionTrait};

use crate::helpers::*;

fn statement(db: &impl ConnectionTrait, sql: &str) -> Statement {
    Statement::from_string(db.get_database_backend(), sql.to_string())
}

async fn count(db: &impl ConnectionTrait) -> i64 {
    let row = db
        .query_one_raw(statement(db, "SELECT COUNT(*) AS n FROM pool_probe"))
        .await
        .unwrap()
        .unwrap();
    row.try_get("", "n").unwrap()
}

#[tokio::test]
async fn a_dropped_transaction_is_rolled_back_before_the_connection_is_used_again() {
    let (url, _guard) = fresh_database().await;
    let db = connect_url(&url, 1, Duration::from_secs(10)).await.unwrap();
    db.execute_unprepared("CREATE TABLE pool_probe (x INTEGER)")
        .await
        .unwrap();
    for _ in 0..3 {
        let txn = db.begin().await.unwrap();
        txn.execute_unprepared("INSERT INTO pool_probe (x) VALUES (1)")
            .await
            .unwrap();
        drop(txn);
        assert_eq!(count(&db).await, 0, "the dropped insert is not visible");
    }
    if db.get_database_backend() == DbBackend::Postgres {
        // Still inside the dropped transaction, its insert would hold a transaction id.
        let row = db
            .query_one_raw(statement(
                &db,
                "SELECT txid_current_if_assigned() IS NULL AS fresh",
            ))
            .await
            .unwrap()
            .unwrap();
        assert!(row.try_get::<bool>("", "fresh").unwrap());
    }
    db.execute_unprepared("INSERT INTO pool_probe (x) VALUES (2)")
        .await
        .unwrap();
    assert_eq!(count(&db).await, 1, "a write outside a transaction commits");
}

#[tokio::test]
async fn the_answer_of_a_cancelled_query_never_reaches_the_next_one() {
    let (url, _guard) = fresh_database().await;
    let db = connect_url(&url, 1, Duration::from_secs(10)).await.unwrap();
    let slow = match db.get_database_backend() {
        DbBackend::Postgres => "SELECT 41 AS answer FROM pg_sleep(0.5)",
        // SQLite has no sleep: a count long enough to be cut off.
        _ => {
            "WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000000) \
             SELECT 41 + COUNT(*) * 0 AS answer FROM c"
        }
    };
    for _ in 0..3 {
        // The slow query is cut off by the timeout while the server is still working on it.
        let cut = tokio::time::timeout(
            Duration::from_millis(50),
            db.query_one_raw(statement(&db, slow)),
        )
        .await;
        assert!(cut.is_err(), "the slow query finished within 50 ms");
        let row = db
            .query_one_raw(statement(&db, "SELECT 42 AS answer"))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(row.try_get::<i32>("", "answer").unwrap(), 42);
    }
}
