//! Files the service writes hold case data (the SQLite database, mails,
//! the demo's credentials and key): only the service's own user may read
//! them (ASVS 5.0 13.4). New files are created 0600 and directories 0700
//! through the process's umask, which also covers files other crates
//! create (SQLite's journal, lettre's `.eml` files); what exists already
//! from an older version is tightened at start-up.

use std::path::Path;

/// Makes every file and directory this process creates from now on
/// private to its user (umask 077). Process-wide, so called once at the
/// start of a command that writes data, before any thread writes.
pub fn create_private() {
    #[cfg(unix)]
    rustix::process::umask(rustix::fs::Mode::from_raw_mode(0o077));
}

/// Removes group and other access from `dir` and every file directly in
/// it and in its `mail` subdirectory (an older version made them 0644 and
/// 0755).
///
/// # Errors
/// I/O errors other than a missing path.
pub fn tighten(dir: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for path in [dir.to_path_buf(), dir.join("mail")] {
            let Ok(meta) = std::fs::metadata(&path) else {
                continue;
            };
            if meta.is_dir() {
                restrict(&path, meta.permissions().mode())?;
                for entry in std::fs::read_dir(&path)? {
                    let entry = entry?;
                    let mode = entry.metadata()?.permissions().mode();
                    restrict(&entry.path(), mode)?;
                }
            }
        }
    }
    Ok(())
}

#[cfg(unix)]
fn restrict(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    if mode & 0o077 != 0 {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode & 0o7700))?;
    }
    Ok(())
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn tighten_takes_group_and_other_access_away() {
        let dir = tempfile::tempdir().expect("a directory");
        let file = dir.path().join("jbt.sqlite");
        std::fs::write(&file, "x").expect("write");
        std::fs::create_dir(dir.path().join("mail")).expect("mkdir");
        let eml = dir.path().join("mail").join("a.eml");
        std::fs::write(&eml, "x").expect("write");
        for path in [dir.path(), &file, &dir.path().join("mail"), &eml] {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
        }
        tighten(dir.path()).expect("tighten");
        let mode = |p: &Path| std::fs::metadata(p).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode(dir.path()), 0o700);
        assert_eq!(mode(&file), 0o700 & 0o755);
        assert_eq!(mode(&dir.path().join("mail")), 0o700);
        assert_eq!(mode(&eml), 0o700);
    }
}
