//! Cross-crate tests on real parts: real media files written by
//! `moodshelf-libgen`, a real SQLite catalog, a real LanceDB index, the real
//! embedding model through llama.cpp, real file-system events. The engine
//! runs here with no desktop around it.

mod changes;
mod disks;
mod endpoint;
mod history;
mod hostile;
mod person;
mod recommend;
mod same_answers;
mod scan;
mod search;
mod sound;
mod understanding;
mod watch;
