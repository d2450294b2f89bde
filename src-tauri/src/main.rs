//! The desktop app's executable: a reader process when started as one
//! (engine `reader`), otherwise the app itself ([`moodshelf_desktop::run`]).

// No console window behind the app on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // The app's own executable reads media files in child processes, where
    // memory and time limits are enforced (engine `reader`).
    if std::env::args_os()
        .nth(1)
        .is_some_and(|a| a == moodshelf_engine::reader::WORKER_ARG)
    {
        moodshelf_engine::reader::serve();
    }
    if let Ok(exe) = std::env::current_exe() {
        moodshelf_engine::reader::use_reader_processes(exe);
    }
    moodshelf_desktop::run();
}
