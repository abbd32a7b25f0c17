/// mimalloc returns freed memory to the system (glibc's per-thread arenas kept the 19 MiB
/// argon2 buffers of a login storm: 490 MB resident afterwards) and is faster on the request
/// path; measured against the system allocator in BENCHMARKS.md.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    condivisa::cli::run().await
}
