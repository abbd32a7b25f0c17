//! SQLite plans a statement once and keeps the plan, whatever values it is given.
//!
//! SQLite's planner may read the value bound to a parameter (a `LIMIT ?`, the pattern of a
//! `LIKE ?`) while it prepares a statement, and then marks that parameter so that binding it
//! again — even to the same value — expires the statement: the next step prepares it anew.
//! sqlx binds every parameter on every execution, so every page (`LIMIT ? OFFSET ?`) and every
//! search was parsed, planned and compiled again on each request. Profiled under the users
//! search (`perf record --call-graph dwarf`, BENCHMARKS.md, issue 13, tenth pass): 14 % of the
//! SQLite threads' time was `sqlite3Reprepare` under `sqlite3_step`.
//!
//! `SQLITE_DBCONFIG_ENABLE_QPSG` (the query planner stability guarantee) tells SQLite not to
//! read bound values while planning, so a prepared statement stays prepared. It changes plans,
//! never results: the plans lost are a `LIKE 'prefix%'` turned into an index range (condivisa's
//! searches are `%…%`, which no index answers) and a row estimate from a `LIMIT`. It is set on
//! every connection the process opens, through an auto-extension, since sqlx offers no hook
//! on a connection's raw handle.
use std::ffi::{c_char, c_int};

use libsqlite3_sys as ffi;

/// Runs on every new SQLite connection, inside `sqlite3_open`.
unsafe extern "C" fn plan_without_bound_values(
    db: *mut ffi::sqlite3,
    _error: *mut *mut c_char,
    _api: *const ffi::sqlite3_api_routines,
) -> c_int {
    // SAFETY: `db` is the connection being opened; the option takes an int and an optional
    // int* for the value read back.
    unsafe {
        ffi::sqlite3_db_config(
            db,
            ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
            1 as c_int,
            std::ptr::null_mut::<c_int>(),
        )
    }
}

/// Registers the setting for every connection opened from now on; called once per process
/// (`sqlite_memory::install`), before the first connection.
pub(super) fn install() {
    // SAFETY: the entry point has the signature SQLite calls auto-extensions with.
    let registered = unsafe { ffi::sqlite3_auto_extension(Some(plan_without_bound_values)) };
    if registered != ffi::SQLITE_OK {
        tracing::warn!(
            registered,
            "SQLite refused the auto-extension that keeps plans stable: statements with a \
             LIMIT or LIKE parameter are prepared again on every execution (slower, not wrong)"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::CString;

    /// A connection opened after [`install`] (as `db::connect_url` opens them).
    struct Connection(*mut ffi::sqlite3);

    impl Connection {
        fn open() -> Connection {
            super::super::sqlite_memory::install();
            let mut db = std::ptr::null_mut();
            let name = CString::new(":memory:").unwrap();
            // SAFETY: a fresh in-memory database; closed in Drop.
            assert_eq!(
                unsafe { ffi::sqlite3_open(name.as_ptr(), &mut db) },
                ffi::SQLITE_OK
            );
            Connection(db)
        }

        fn execute(&self, sql: &str) {
            let sql = CString::new(sql).unwrap();
            // SAFETY: a valid connection and a NUL-terminated statement.
            let done = unsafe {
                ffi::sqlite3_exec(
                    self.0,
                    sql.as_ptr(),
                    None,
                    std::ptr::null_mut(),
                    std::ptr::null_mut(),
                )
            };
            assert_eq!(done, ffi::SQLITE_OK);
        }

        fn stable_plans(&self) -> c_int {
            let mut now: c_int = -1;
            // SAFETY: -1 reads the option without changing it.
            unsafe {
                ffi::sqlite3_db_config(
                    self.0,
                    ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                    -1 as c_int,
                    &mut now,
                )
            };
            now
        }

        fn set_stable_plans(&self, on: bool) {
            // SAFETY: as above, setting it.
            unsafe {
                ffi::sqlite3_db_config(
                    self.0,
                    ffi::SQLITE_DBCONFIG_ENABLE_QPSG,
                    c_int::from(on),
                    std::ptr::null_mut::<c_int>(),
                )
            };
        }

        /// How many times one prepared page statement (`LIMIT ?`, `LIKE ?`) was prepared again
        /// while run five times, its parameters bound anew each time, as sqlx does.
        fn reprepared_over_five_runs(&self) -> c_int {
            let sql = CString::new("SELECT x FROM t WHERE x LIKE ?1 ORDER BY x LIMIT ?2").unwrap();
            let mut statement = std::ptr::null_mut();
            // SAFETY: valid connection, statement text and out-pointer; finalised below.
            unsafe {
                assert_eq!(
                    ffi::sqlite3_prepare_v2(
                        self.0,
                        sql.as_ptr(),
                        -1,
                        &mut statement,
                        std::ptr::null_mut()
                    ),
                    ffi::SQLITE_OK
                );
                for _ in 0..5 {
                    let pattern = CString::new("ab%").unwrap();
                    ffi::sqlite3_bind_text(
                        statement,
                        1,
                        pattern.as_ptr(),
                        -1,
                        ffi::SQLITE_TRANSIENT(),
                    );
                    ffi::sqlite3_bind_int(statement, 2, 20);
                    while ffi::sqlite3_step(statement) == ffi::SQLITE_ROW {}
                    ffi::sqlite3_reset(statement);
                }
                let reprepared =
                    ffi::sqlite3_stmt_status(statement, ffi::SQLITE_STMTSTATUS_REPREPARE, 0);
                ffi::sqlite3_finalize(statement);
                reprepared
            }
        }
    }

    impl Drop for Connection {
        fn drop(&mut self) {
            // SAFETY: opened in `open`, every statement finalised.
            unsafe { ffi::sqlite3_close(self.0) };
        }
    }

    #[test]
    fn every_connection_keeps_its_plans_whatever_values_are_bound() {
        let connection = Connection::open();
        assert_eq!(connection.stable_plans(), 1);
        connection.execute(
            "PRAGMA case_sensitive_like = ON; CREATE TABLE t (x TEXT); CREATE INDEX t_x ON t (x);
             INSERT INTO t VALUES ('abc'), ('abd'), ('xyz');",
        );
        assert_eq!(connection.reprepared_over_five_runs(), 0);

        // Without the setting, SQLite's planner reads the bound pattern and the statement is
        // prepared again on every run: what the setting is there to prevent.
        connection.set_stable_plans(false);
        assert!(connection.reprepared_over_five_runs() >= 4);
    }
}
