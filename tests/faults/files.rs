//! The files the real binary writes are private to its user (issue
//! 17.10): the data directory 0700, the database and mails 0600.

#![cfg(unix)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use crate::helpers::Db;
use crate::server::Instance;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("metadata")
        .permissions()
        .mode()
        & 0o777
}

#[tokio::test]
async fn the_database_and_its_directory_are_private() {
    let instance = Instance::new(&Db::Sqlite, "files").await;
    let dir = instance.data_dir.path().to_path_buf();
    // An older version left the directory open to everyone.
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    instance.user_add("coordinator", None, "bestanden@example.org");
    assert_eq!(mode(&dir), 0o700, "the data directory");
    let database = instance.sqlite_file().expect("a SQLite file");
    assert_eq!(mode(&database), 0o600, "the database");
    for entry in std::fs::read_dir(&dir).expect("list") {
        let path = entry.expect("entry").path();
        assert_eq!(
            mode(&path) & 0o077,
            0,
            "{} is readable by others",
            path.display()
        );
    }
}
