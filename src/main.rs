//! The `runner` binary: parses the command line and hands over to the library.

use clap::Parser;

// A load run allocates and frees ~160 small blocks per call; mimalloc does that in about a
// third of glibc's instructions (decisions.md: "Issue 15: mimalloc as the binary's allocator").
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    runner::cli::Cli::parse().run()
}
