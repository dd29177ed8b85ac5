//! Where the master key comes from: the `CHENGXIN_DATA_KEY` environment
//! variable, or a key file that is created on first run.

use super::{generate_master, parse_master, CryptoError, DataKeys};
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const DATA_KEY_VAR: &str = "CHENGXIN_DATA_KEY";
const KEY_FILE_VAR: &str = "CHENGXIN_KEY_FILE";
const DEFAULT_KEY_FILE: &str = "chengxin.key";
/// A key file is 65 bytes; anything much larger is not one.
const MAX_KEY_FILE_LEN: u64 = 1024;

impl DataKeys {
    /// Loads this deployment's keys.
    ///
    /// `CHENGXIN_DATA_KEY` (64 hex characters or base64 of 32 bytes) wins if
    /// set, even if empty, so a secret that failed to expand is an error
    /// rather than a silently new key. Otherwise the key file from
    /// [`key_file_path`] is read, or created on first run.
    pub fn load(db_path_hint: Option<&Path>) -> Result<DataKeys, CryptoError> {
        load_with(
            std::env::var_os(DATA_KEY_VAR),
            std::env::var_os(KEY_FILE_VAR),
            db_path_hint,
        )
    }

    /// Reads the master key from the file at `path`, creating it with a new
    /// random key (hex and a newline, mode 0600) if it does not exist.
    ///
    /// An existing file that group or others can access is refused.
    /// Concurrent first runs agree on one key: the file only ever appears
    /// complete, and a process that loses the race reads the winner's key.
    pub fn load_from_file(path: &Path) -> Result<DataKeys, CryptoError> {
        if let Some(master) = read_key_file(path)? {
            return Ok(DataKeys::from_master(master));
        }
        match create_key_file(path)? {
            Some(master) => Ok(DataKeys::from_master(master)),
            None => match read_key_file(path)? {
                Some(master) => Ok(DataKeys::from_master(master)),
                None => Err(key_file_error(path, ErrorKind::NotFound.into())),
            },
        }
    }
}

/// The key file used when `CHENGXIN_DATA_KEY` is not set: `P.key` beside a
/// SQLite database at `P`; for PostgreSQL (`None`), `CHENGXIN_KEY_FILE` or
/// else `chengxin.key` in the current directory.
pub fn key_file_path(db_path_hint: Option<&Path>) -> PathBuf {
    key_file_path_with(db_path_hint, std::env::var_os(KEY_FILE_VAR))
}

fn key_file_path_with(db_path_hint: Option<&Path>, key_file_var: Option<OsString>) -> PathBuf {
    match (db_path_hint, key_file_var) {
        (Some(db), _) => {
            let mut name = db.as_os_str().to_owned();
            name.push(".key");
            PathBuf::from(name)
        }
        (None, Some(file)) => PathBuf::from(file),
        (None, None) => PathBuf::from(DEFAULT_KEY_FILE),
    }
}

/// [`DataKeys::load`] with the environment passed in, so tests need not
/// mutate process-wide state.
fn load_with(
    data_key_var: Option<OsString>,
    key_file_var: Option<OsString>,
    db_path_hint: Option<&Path>,
) -> Result<DataKeys, CryptoError> {
    match data_key_var {
        Some(value) => {
            let text = value
                .to_str()
                .ok_or_else(|| CryptoError::BadKey(format!("{DATA_KEY_VAR} is not valid UTF-8")))?;
            let master = parse_master(text).map_err(|e| prefixed(e, DATA_KEY_VAR))?;
            Ok(DataKeys::from_master(master))
        }
        None => DataKeys::load_from_file(&key_file_path_with(db_path_hint, key_file_var)),
    }
}

/// The key in an existing file, or `None` if there is no file.
fn read_key_file(path: &Path) -> Result<Option<[u8; 32]>, CryptoError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(key_file_error(path, e)),
    };
    // Checked on the open file, so it is the mode of what we actually read.
    let mode = file
        .metadata()
        .map_err(|e| key_file_error(path, e))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(CryptoError::BadKey(format!(
            "data key file {} is accessible by group or others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display(),
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_LEN)
        .read_to_end(&mut bytes)
        .map_err(|e| key_file_error(path, e))?;
    let name = format!("data key file {}", path.display());
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CryptoError::BadKey(format!("{name}: not text")))?;
    parse_master(text).map(Some).map_err(|e| prefixed(e, &name))
}

/// Writes a new key to a private temporary file, then hard-links it into
/// place, which fails rather than overwrites if the file exists. Readers thus
/// never see an empty or half-written key. `None` if another process got
/// there first.
fn create_key_file(path: &Path) -> Result<Option<[u8; 32]>, CryptoError> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let file_name = path.file_name().unwrap_or(OsStr::new(DEFAULT_KEY_FILE));
    let mut tmp_name = OsString::from(".");
    tmp_name.push(file_name);
    tmp_name.push(format!(".{}.tmp", hex::encode(&generate_master()[..8])));
    let tmp = dir.join(tmp_name);

    let master = generate_master();
    let written = write_private(&tmp, &master).and_then(|()| std::fs::hard_link(&tmp, path));
    // Best effort: a stray temporary file holds a key nobody uses.
    let _ = std::fs::remove_file(&tmp);
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == ErrorKind::AlreadyExists => return Ok(None),
        Err(e) => return Err(key_file_error(path, e)),
    }
    // Losing the key after a crash would lose every value encrypted with it.
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| key_file_error(path, e))?;
    tracing::info!(path = %path.display(), "created new data key file; back it up with the database");
    Ok(Some(master))
}

fn write_private(path: &Path, master: &[u8; 32]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)?;
    file.write_all(format!("{}\n", hex::encode(master)).as_bytes())?;
    file.sync_all()
}

fn key_file_error(path: &Path, source: std::io::Error) -> CryptoError {
    CryptoError::KeyFile {
        path: path.to_path_buf(),
        source,
    }
}

/// Says where a bad key came from.
fn prefixed(error: CryptoError, origin: &str) -> CryptoError {
    match error {
        CryptoError::BadKey(msg) => CryptoError::BadKey(format!("{origin}: {msg}")),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn key_file_is_created_private_and_reloads_the_same_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chengxin.key");
        let first = DataKeys::load_from_file(&path).unwrap();
        assert_eq!(mode(&path), 0o600);
        let text = fs::read_to_string(&path).unwrap();
        assert!(text.ends_with('\n'));
        assert_eq!(text.trim().len(), 64);
        assert!(text.trim().bytes().all(|b| b.is_ascii_hexdigit()));
        let entries = fs::read_dir(dir.path()).unwrap().count();
        assert_eq!(entries, 1, "temporary file left behind");

        let again = DataKeys::load_from_file(&path).unwrap();
        assert_eq!(first.key_id(), again.key_id());
        let sealed = first.encrypt("张三".as_bytes());
        assert_eq!(again.decrypt(&sealed).unwrap(), "张三".as_bytes());
        assert_eq!(first.blind_index(b"x"), again.blind_index(b"x"));
    }

    #[test]
    fn group_or_world_accessible_key_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chengxin.key");
        DataKeys::load_from_file(&path).unwrap();
        for bad in [0o644, 0o640, 0o604, 0o660] {
            fs::set_permissions(&path, fs::Permissions::from_mode(bad)).unwrap();
            let err = DataKeys::load_from_file(&path).unwrap_err().to_string();
            assert!(err.contains("chmod 600"), "{err}");
            assert!(err.contains(&path.display().to_string()), "{err}");
        }
        fs::set_permissions(&path, fs::Permissions::from_mode(0o400)).unwrap();
        assert!(DataKeys::load_from_file(&path).is_ok());
    }

    #[test]
    fn existing_key_file_in_hex_or_base64_is_used() {
        use base64::Engine as _;
        let dir = tempfile::tempdir().unwrap();
        let master = [0x11; 32];
        let b64 = base64::engine::general_purpose::STANDARD.encode(master);
        for (name, text) in [("hex.key", hex::encode(master)), ("b64.key", b64)] {
            let path = dir.path().join(name);
            write_private(&path, &[0; 32]).unwrap();
            fs::write(&path, format!("\n {text} \n")).unwrap();
            let keys = DataKeys::load_from_file(&path).unwrap();
            assert_eq!(keys.key_id(), DataKeys::from_master(master).key_id());
        }
    }

    #[test]
    fn garbage_key_file_names_the_file_not_the_contents() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("chengxin.key");
        write_private(&path, &[0; 32]).unwrap();
        fs::write(&path, "not-a-key-at-all\n").unwrap();
        match DataKeys::load_from_file(&path) {
            Err(CryptoError::BadKey(msg)) => {
                assert!(msg.contains(&path.display().to_string()), "{msg}");
                assert!(!msg.contains("not-a-key"), "{msg}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn unreadable_location_is_a_key_file_error_naming_the_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("missing-dir").join("chengxin.key");
        let err = DataKeys::load_from_file(&path).unwrap_err();
        assert!(matches!(err, CryptoError::KeyFile { .. }), "{err:?}");
        assert!(err.to_string().contains(&path.display().to_string()));
    }

    #[test]
    fn concurrent_first_runs_agree_on_one_key() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("race.key");
        let ids: Vec<[u8; 4]> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| s.spawn(|| DataKeys::load_from_file(&path).unwrap().key_id()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(ids.iter().all(|id| *id == ids[0]), "{ids:?}");
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn key_file_path_follows_the_database() {
        let db = Path::new("/var/lib/chengxin/chengxin.db");
        let env = Some(OsString::from("/etc/chengxin/key"));
        assert_eq!(
            key_file_path_with(Some(db), env.clone()),
            Path::new("/var/lib/chengxin/chengxin.db.key")
        );
        assert_eq!(
            key_file_path_with(None, env),
            Path::new("/etc/chengxin/key")
        );
        assert_eq!(key_file_path_with(None, None), Path::new("chengxin.key"));
    }

    #[test]
    fn sqlite_key_file_is_created_beside_the_database() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chengxin.db");
        let keys = load_with(None, None, Some(&db)).unwrap();
        let beside = dir.path().join("chengxin.db.key");
        assert_eq!(mode(&beside), 0o600);
        assert_eq!(
            DataKeys::load_from_file(&beside).unwrap().key_id(),
            keys.key_id()
        );
    }

    #[test]
    fn data_key_variable_wins_over_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chengxin.db");
        let master = [0x22; 32];
        let keys = load_with(Some(hex::encode(master).into()), None, Some(&db)).unwrap();
        assert_eq!(keys.key_id(), DataKeys::from_master(master).key_id());
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            0,
            "key file created"
        );
    }

    #[test]
    fn bad_data_key_variable_is_named_and_not_echoed() {
        for value in ["", "s3cr3t-but-wrong", &hex::encode([0x33; 31])] {
            match load_with(Some(value.into()), None, None) {
                Err(CryptoError::BadKey(msg)) => {
                    assert!(msg.starts_with("CHENGXIN_DATA_KEY"), "{msg}");
                    if !value.is_empty() {
                        assert!(!msg.contains(value), "{msg}");
                    }
                }
                other => panic!("{value:?} gave {other:?}"),
            }
        }
    }
}
