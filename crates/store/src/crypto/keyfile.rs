//! Where the keys come from: the data key from `CHENGXIN_DATA_KEY` or a key
//! file, the audit checkpoint key from a file of its own; a key file is
//! created only for a database that has no such key yet.

use super::{generate_master, parse_master, CryptoError, DataKeys};
use std::ffi::{OsStr, OsString};
use std::fs::{File, OpenOptions};
use std::io::{ErrorKind, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

const DATA_KEY_VAR: &str = "CHENGXIN_DATA_KEY";
const DATA_KEY_FILE_VAR: &str = "CHENGXIN_DATA_KEY_FILE";
const DATA_KEY_NEXT_FILE_VAR: &str = "CHENGXIN_DATA_KEY_NEXT_FILE";
const AUDIT_KEY_FILE_VAR: &str = "CHENGXIN_AUDIT_KEY_FILE";
const DEFAULT_KEY_FILE: &str = "chengxin.key";
/// A key file is 65 bytes; anything much larger is not one.
const MAX_KEY_FILE_LEN: u64 = 1024;

/// Where a deployment's keys come from (see the README, "Keys").
///
/// - the data key: `CHENGXIN_DATA_KEY` (the key itself) if set, else the
///   file `CHENGXIN_DATA_KEY_FILE`, else `DB.key` beside a SQLite database
///   at `DB`; PostgreSQL has no default (the current directory is never
///   used): it needs one of the two variables;
/// - the audit checkpoint signing key: the file `--audit-key FILE` or
///   `CHENGXIN_AUDIT_KEY_FILE`; no default, so it is never kept beside the
///   database unless the operator puts it there.
///
/// A missing key file is created only for a database that has no key of
/// that kind yet (a new one); otherwise it is refused, naming the file.
#[derive(Debug, Clone, Default)]
pub struct KeyConfig {
    /// The data key itself (`CHENGXIN_DATA_KEY`).
    pub data_key: Option<OsString>,
    /// The data key file (`CHENGXIN_DATA_KEY_FILE`).
    pub data_key_file: Option<PathBuf>,
    /// The audit key file (`CHENGXIN_AUDIT_KEY_FILE`, `--audit-key`).
    pub audit_key_file: Option<PathBuf>,
    /// During a key rotation, the key file of the key the database is moving
    /// to (`CHENGXIN_DATA_KEY_NEXT_FILE`); never created here.
    pub data_key_next_file: Option<PathBuf>,
}

impl KeyConfig {
    /// The configuration the environment gives.
    pub fn from_env() -> KeyConfig {
        KeyConfig {
            data_key: std::env::var_os(DATA_KEY_VAR),
            data_key_file: std::env::var_os(DATA_KEY_FILE_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            audit_key_file: std::env::var_os(AUDIT_KEY_FILE_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
            data_key_next_file: std::env::var_os(DATA_KEY_NEXT_FILE_VAR)
                .filter(|v| !v.is_empty())
                .map(PathBuf::from),
        }
    }

    /// Where the data key comes from, for messages: the variable or the file.
    pub fn data_key_origin(&self, db_path_hint: Option<&Path>) -> String {
        match (&self.data_key, self.data_key_path(db_path_hint)) {
            (Some(_), _) => DATA_KEY_VAR.to_owned(),
            (None, Ok(path)) => format!("data key file {}", path.display()),
            (None, Err(_)) => format!("{DATA_KEY_FILE_VAR} (not set)"),
        }
    }

    /// The data key file: `CHENGXIN_DATA_KEY_FILE`, else beside a SQLite
    /// database; an error for PostgreSQL without the variable.
    pub fn data_key_path(&self, db_path_hint: Option<&Path>) -> Result<PathBuf, CryptoError> {
        match (&self.data_key_file, db_path_hint) {
            (Some(file), _) => Ok(file.clone()),
            (None, Some(db)) => Ok(key_file_path(Some(db))),
            (None, None) => Err(CryptoError::BadKey(format!(
                "no data key: set {DATA_KEY_FILE_VAR} to the key file (created for a new database) or {DATA_KEY_VAR} to the key; PostgreSQL has no default key file"
            ))),
        }
    }

    /// Loads the data key. `may_create`: the database has no data key yet,
    /// so a missing key file is created.
    pub fn load_data_key(
        &self,
        db_path_hint: Option<&Path>,
        may_create: bool,
    ) -> Result<DataKeys, CryptoError> {
        if let Some(value) = &self.data_key {
            let text = value
                .to_str()
                .ok_or_else(|| CryptoError::BadKey(format!("{DATA_KEY_VAR} is not valid UTF-8")))?;
            let master = parse_master(text).map_err(|e| prefixed(e, DATA_KEY_VAR))?;
            return Ok(DataKeys::from_master(master));
        }
        let path = self.data_key_path(db_path_hint)?;
        load_key(&path, "data key", may_create).map(DataKeys::from_master)
    }

    /// Loads the key a rotation in progress is moving to, from
    /// `CHENGXIN_DATA_KEY_NEXT_FILE` (`expected`: its id, for the message).
    pub fn load_next_data_key(&self, expected: &str) -> Result<DataKeys, CryptoError> {
        let path = self.data_key_next_file.as_ref().ok_or_else(|| {
            CryptoError::BadKey(format!(
                "this database is being rotated to data key {expected}: set {DATA_KEY_NEXT_FILE_VAR} to that key's file (beside the current key), or finish the rotation with `chengxin data-key rotate`"
            ))
        })?;
        load_key(path, "next data key", false).map(DataKeys::from_master)
    }

    /// Loads the audit key's seed. `may_create`: the database has no audit
    /// key yet, so a missing key file is created.
    pub fn load_audit_key(&self, may_create: bool) -> Result<[u8; 32], CryptoError> {
        let path = self.audit_key_file.as_ref().ok_or_else(|| {
            CryptoError::BadKey(format!(
                "no audit key: set {AUDIT_KEY_FILE_VAR} or pass --audit-key FILE (the file that signs audit checkpoints, kept apart from the database and its data key; created on first use for a new database)"
            ))
        })?;
        load_key(path, "audit key", may_create)
    }
}

/// Reads the 32-byte key in the file at `path`; a missing file is created
/// with a new random key if `may_create`, and refused otherwise.
pub fn load_key(path: &Path, what: &str, may_create: bool) -> Result<[u8; 32], CryptoError> {
    if let Some(master) = read_key_file(path, what)? {
        return Ok(master);
    }
    if !may_create {
        return Err(CryptoError::BadKey(format!(
            "{what} file {} is missing, but this database already has a {what}: restore the file (from backup) rather than start with a new key, which would make its data unreadable",
            path.display()
        )));
    }
    match create_key_file(path, what)? {
        Some(master) => Ok(master),
        None => read_key_file(path, what)?
            .ok_or_else(|| key_file_error(path, ErrorKind::NotFound.into())),
    }
}

impl DataKeys {
    /// Reads the master key from the file at `path`, creating it with a new
    /// random key (hex and a newline, mode 0600) if it does not exist.
    ///
    /// An existing file that group or others can access is refused.
    /// Concurrent first runs agree on one key: the file only ever appears
    /// complete, and a process that loses the race reads the winner's key.
    pub fn load_from_file(path: &Path) -> Result<DataKeys, CryptoError> {
        load_key(path, "data key", true).map(DataKeys::from_master)
    }
}

/// The default data key file beside a SQLite database at `P`: `P.key`
/// (`chengxin.key` without a database path).
pub fn key_file_path(db_path_hint: Option<&Path>) -> PathBuf {
    match db_path_hint {
        Some(db) => {
            let mut name = db.as_os_str().to_owned();
            name.push(".key");
            PathBuf::from(name)
        }
        None => PathBuf::from(DEFAULT_KEY_FILE),
    }
}

/// The key in an existing file, or `None` if there is no file.
fn read_key_file(path: &Path, what: &str) -> Result<Option<[u8; 32]>, CryptoError> {
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
            "{what} file {} is accessible by group or others (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display(),
        )));
    }
    let mut bytes = Vec::new();
    file.take(MAX_KEY_FILE_LEN)
        .read_to_end(&mut bytes)
        .map_err(|e| key_file_error(path, e))?;
    let name = format!("{what} file {}", path.display());
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| CryptoError::BadKey(format!("{name}: not text")))?;
    parse_master(text).map(Some).map_err(|e| prefixed(e, &name))
}

/// Writes a new key to a private temporary file, then hard-links it into
/// place, which fails rather than overwrites if the file exists. Readers thus
/// never see an empty or half-written key. `None` if another process got
/// there first.
fn create_key_file(path: &Path, what: &str) -> Result<Option<[u8; 32]>, CryptoError> {
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
    // Only ever for a new, empty database (see `load_key`), so nothing can
    // fork; the README tells operators to back key files up.
    tracing::info!(path = %path.display(), "created a new {what} file for a new database; back it up");
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
        let sealed = first.encrypt(super::super::Kind::Name, b"r", "张三".as_bytes());
        assert_eq!(
            again
                .decrypt(super::super::Kind::Name, b"r", &sealed)
                .unwrap(),
            "张三".as_bytes()
        );
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

    fn cfg(data_key: Option<&str>, file: Option<&Path>, audit: Option<&Path>) -> KeyConfig {
        KeyConfig {
            data_key: data_key.map(OsString::from),
            data_key_file: file.map(Path::to_path_buf),
            audit_key_file: audit.map(Path::to_path_buf),
            data_key_next_file: None,
        }
    }

    #[test]
    fn key_file_path_follows_the_database_or_the_variable() {
        let db = Path::new("/var/lib/chengxin/chengxin.db");
        let env = Path::new("/etc/chengxin/key");
        assert_eq!(
            cfg(None, None, None).data_key_path(Some(db)).unwrap(),
            Path::new("/var/lib/chengxin/chengxin.db.key")
        );
        assert_eq!(
            cfg(None, Some(env), None).data_key_path(Some(db)).unwrap(),
            env
        );
        assert_eq!(cfg(None, Some(env), None).data_key_path(None).unwrap(), env);
        // PostgreSQL without the variable: an error, never the current directory.
        let err = cfg(None, None, None).data_key_path(None).unwrap_err();
        assert!(err.to_string().contains("CHENGXIN_DATA_KEY_FILE"), "{err}");
    }

    #[test]
    fn sqlite_key_file_is_created_beside_a_new_database_only() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chengxin.db");
        let c = cfg(None, None, None);
        let err = c.load_data_key(Some(&db), false).unwrap_err().to_string();
        assert!(
            err.contains("chengxin.db.key") && err.contains("missing"),
            "{err}"
        );
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
        let keys = c.load_data_key(Some(&db), true).unwrap();
        let beside = dir.path().join("chengxin.db.key");
        assert_eq!(mode(&beside), 0o600);
        assert_eq!(
            DataKeys::load_from_file(&beside).unwrap().key_id(),
            keys.key_id()
        );
    }

    #[test]
    fn audit_key_needs_a_file_named_by_the_operator() {
        let dir = tempfile::tempdir().unwrap();
        let err = cfg(None, None, None).load_audit_key(true).unwrap_err();
        assert!(err.to_string().contains("CHENGXIN_AUDIT_KEY_FILE"), "{err}");
        let path = dir.path().join("audit.key");
        let c = cfg(None, None, Some(&path));
        assert!(c.load_audit_key(false).is_err());
        let seed = c.load_audit_key(true).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(c.load_audit_key(false).unwrap(), seed);
    }

    #[test]
    fn data_key_variable_wins_over_the_key_file() {
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("chengxin.db");
        let master = [0x22; 32];
        let keys = cfg(Some(&hex::encode(master)), None, None)
            .load_data_key(Some(&db), true)
            .unwrap();
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
            match cfg(Some(value), None, None).load_data_key(None, true) {
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
