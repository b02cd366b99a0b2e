//! Settings at start-up, through the real binary: an unknown key in a
//! `JBT__` variable or in the `--config` file stops the service with exit
//! status 2, the key, where it came from and the nearest known key.

use std::process::{Command, Output};

fn jbt_serve(env: &[(&str, &str)], config: Option<&std::path::Path>) -> Output {
    let data = tempfile::tempdir().expect("data dir");
    let mut command = Command::new(env!("CARGO_BIN_EXE_jbt"));
    command
        .arg("serve")
        .arg("--data-dir")
        .arg(data.path())
        .arg("--listen")
        .arg("127.0.0.1:0");
    if let Some(file) = config {
        command.arg("--config").arg(file);
    }
    // Only the variables of this test, none of the caller's JBT__ ones.
    for (key, _) in std::env::vars().filter(|(k, _)| k.starts_with("JBT__")) {
        command.env_remove(key);
    }
    command.env_remove("DATABASE_URL");
    command.envs(env.iter().copied());
    command.output().expect("run jbt")
}

#[test]
fn a_misspelt_environment_key_stops_the_service_and_names_the_right_one() {
    let out = jbt_serve(&[("JBT__SMTP__URL", "smtp://127.0.0.1:2525")], None);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains(
            "environment JBT__SMTP__URL: smtp.url: unknown key; did you mean mail.smtp_url?"
        ),
        "{stderr}"
    );
}

#[test]
fn unknown_keys_in_the_config_file_are_all_reported_with_the_file() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("site.toml");
    std::fs::write(
        &file,
        "[mail]\nsmtp_ur = \"smtp://127.0.0.1:2525\"\n\n[colours]\nscheme = \"dark\"\n",
    )
    .expect("write config");
    let out = jbt_serve(&[], Some(&file));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    let shown = file.display().to_string();
    assert!(
        stderr.contains(&format!(
            "{shown}: mail.smtp_ur: unknown key; did you mean mail.smtp_url?"
        )),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("{shown}: colours.scheme: unknown key")),
        "{stderr}"
    );
}
