//! `synack-sim`: run, sweep, plot and shrink simulator scenarios.

fn main() -> std::process::ExitCode {
    synack_sim::cli::main()
}
