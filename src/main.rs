//! The `lifecourse` binary: see `lifecourse --help`.

fn main() -> std::process::ExitCode {
    lifecourse::cli::main()
}
