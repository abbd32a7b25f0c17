//! SQLite allocates through mimalloc and keeps no global memory statistics.
//!
//! Profiled under the members-page load on a SQLite file (`perf record`, BENCHMARKS.md): the
//! system allocator behind SQLite (malloc, `_int_malloc`, `malloc_consolidate`, free) took
//! about 14 % of the server's CPU, and the process-wide mutex SQLite takes around every
//! allocation to keep its memory statistics (`SQLITE_CONFIG_MEMSTATUS`, on by default) about
//! 6 % more, contended by the pool's worker threads. condivisa reads none of those statistics
//! and already runs mimalloc for everything else.
//!
//! Both settings must be made before SQLite initialises, i.e. before the first connection is
//! opened; [`install`] runs once, from `db::connect_url`. If SQLite was initialised earlier
//! (another library in the same process), the settings are refused and SQLite keeps its
//! defaults: slower, equally correct, and logged.
use std::ffi::{c_int, c_void};
use std::sync::Once;

use libsqlite3_sys as ffi;

unsafe extern "C" fn mi_sqlite_malloc(size: c_int) -> *mut c_void {
    // SQLite never asks for a negative size; 0 maps to a minimal block, as malloc(0) may.
    unsafe { libmimalloc_sys::mi_malloc(usize::try_from(size).unwrap_or(0)) }
}

unsafe extern "C" fn mi_sqlite_free(block: *mut c_void) {
    unsafe { libmimalloc_sys::mi_free(block) }
}

unsafe extern "C" fn mi_sqlite_realloc(block: *mut c_void, size: c_int) -> *mut c_void {
    unsafe { libmimalloc_sys::mi_realloc(block, usize::try_from(size).unwrap_or(0)) }
}

unsafe extern "C" fn mi_sqlite_size(block: *mut c_void) -> c_int {
    let size = unsafe { libmimalloc_sys::mi_usable_size(block) };
    c_int::try_from(size).unwrap_or(c_int::MAX)
}

unsafe extern "C" fn mi_sqlite_roundup(size: c_int) -> c_int {
    // mimalloc's blocks are 8-byte aligned: SQLite may use the rounded size in full.
    size.saturating_add(7) & !7
}

unsafe extern "C" fn mi_sqlite_init(_: *mut c_void) -> c_int {
    ffi::SQLITE_OK
}

unsafe extern "C" fn mi_sqlite_shutdown(_: *mut c_void) {}

static INSTALL: Once = Once::new();

/// Configures SQLite's allocator, and its planner for every connection ([`super::sqlite_plans`]),
/// once per process; later calls do nothing.
pub fn install() {
    INSTALL.call_once(|| {
        let methods = ffi::sqlite3_mem_methods {
            xMalloc: Some(mi_sqlite_malloc),
            xFree: Some(mi_sqlite_free),
            xRealloc: Some(mi_sqlite_realloc),
            xSize: Some(mi_sqlite_size),
            xRoundup: Some(mi_sqlite_roundup),
            xInit: Some(mi_sqlite_init),
            xShutdown: Some(mi_sqlite_shutdown),
            pAppData: std::ptr::null_mut(),
        };
        // SAFETY: sqlite3_config is only allowed before sqlite3_initialize (it answers
        // SQLITE_MISUSE otherwise, changing nothing); SQLite copies `methods` before the call
        // returns; the functions above are thread-safe (mimalloc frees across threads).
        let (memstatus, malloc) = unsafe {
            (
                ffi::sqlite3_config(ffi::SQLITE_CONFIG_MEMSTATUS, 0 as c_int),
                ffi::sqlite3_config(
                    ffi::SQLITE_CONFIG_MALLOC,
                    &methods as *const ffi::sqlite3_mem_methods,
                ),
            )
        };
        if memstatus != ffi::SQLITE_OK || malloc != ffi::SQLITE_OK {
            tracing::warn!(
                memstatus,
                malloc,
                "SQLite was initialised before condivisa configured it: it keeps the system \
                 allocator and its memory statistics (slower, not wrong)"
            );
        }
        super::sqlite_plans::install();
    });
}
