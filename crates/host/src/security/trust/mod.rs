//! Only trusted executables run (docs/protocol.md §1.5): before a plugin is launched its
//! executable is opened once, every check runs on that open file, and the launcher execs that
//! descriptor, so what runs is exactly what was checked.
//!
//! The checks, in order: the file is a readable regular file; neither it nor a directory above
//! its resolved path is writable by others (a sticky directory is fine when the entry in it is
//! ours or root's); it lies inside a trusted directory (when some are configured); its SHA-256
//! is the expected one (when one is configured); its minisign signature `<path>.minisig` is
//! valid and made with a trusted key (when signatures are required).

use base64::Engine;
use sha2::{Digest, Sha256};
use std::fmt;
use std::fs::File;
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

/// What an executable must satisfy before it runs. `Default`: only the always-on rules (a
/// readable regular file, nothing writable by others).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// The expected SHA-256 of the executable (the caller picks the entry's over the manifest's).
    pub sha256: Option<[u8; 32]>,
    /// Require a valid `<executable>.minisig` made with one of `public_keys`.
    pub verify_signatures: bool,
    pub public_keys: Vec<TrustedKey>,
    /// When non-empty, the executable's resolved path must lie inside one of these (resolved
    /// here too, so the caller may pass them as configured).
    pub trusted_directories: Vec<PathBuf>,
}

/// A minisign public key the configuration trusts, with its key id for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustedKey {
    pub key: minisign_verify::PublicKey,
    /// minisign's key id (shown as 16 hex digits, as `minisign` prints it).
    pub id: u64,
}

/// The executable that passed every check, open for exec by descriptor.
#[derive(Debug)]
pub struct VerifiedExecutable {
    /// Opened read-only and close-on-exec: the very file whose bytes were checked.
    pub file: File,
    /// Where the given path resolves (symlinks followed).
    pub path: PathBuf,
    /// It starts with `#!`: its interpreter opens it again through `/dev/fd`, so the
    /// descriptor must survive the exec.
    pub is_script: bool,
}

/// The rule an executable broke.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// It cannot be opened or read, or is not a regular file.
    Unreadable,
    WorldWritable,
    TrustedDirectories,
    Checksum,
    Signature,
    /// The trust settings themselves cannot be applied.
    Configuration,
}

impl Rule {
    pub fn name(self) -> &'static str {
        match self {
            Rule::Unreadable => "readable file",
            Rule::WorldWritable => "world-writable",
            Rule::TrustedDirectories => "trusted_directories",
            Rule::Checksum => "sha256 checksum",
            Rule::Signature => "minisign signature",
            Rule::Configuration => "configuration",
        }
    }
}

/// Why an executable may not run: the rule, the file as given, and what was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub rule: Rule,
    pub path: PathBuf,
    pub detail: String,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} refused by the {} rule: {}", self.path.display(), self.rule.name(), self.detail)
    }
}

impl std::error::Error for Refusal {}

/// Opens `path` once, runs every check of `trust` on that open file (its fstat, the bytes read
/// through it) and returns it for exec by descriptor.
pub fn verify(path: &Path, trust: &Trust) -> Result<VerifiedExecutable, Refusal> {
    let refuse = |rule: Rule, detail: String| Refusal { rule, path: path.to_owned(), detail };
    if trust.verify_signatures && trust.public_keys.is_empty() {
        return Err(refuse(
            Rule::Configuration,
            "signatures are required (verify_signatures) but no trusted public key is configured".into(),
        ));
    }
    let resolved =
        std::fs::canonicalize(path).map_err(|e| refuse(Rule::Unreadable, format!("cannot resolve it: {e}")))?;
    // The resolved path has no symlink left; O_NOFOLLOW makes sure none appeared since. A swap
    // of a directory in between needs write access to a directory above it, which
    // `check_not_writable_by_others` refuses to anyone but us and root.
    let file = File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NOCTTY)
        .open(&resolved)
        .map_err(|e| refuse(Rule::Unreadable, format!("cannot open {}: {e}", resolved.display())))?;
    let before = file.metadata().map_err(|e| refuse(Rule::Unreadable, format!("cannot stat it: {e}")))?;
    if !before.is_file() {
        return Err(refuse(Rule::Unreadable, format!("{} is not a regular file", resolved.display())));
    }
    check_not_writable_by_others(path, &resolved, &before).map_err(|detail| refuse(Rule::WorldWritable, detail))?;
    check_trusted_directories(path, &resolved, &trust.trusted_directories)
        .map_err(|detail| refuse(Rule::TrustedDirectories, detail))?;
    let signature = if trust.verify_signatures {
        Some(read_signature(path).map_err(|d| refuse(Rule::Signature, d))?)
    } else {
        None
    };
    let read_error = |e| match e {
        ReadError::Io(e) => refuse(Rule::Unreadable, format!("cannot read it: {e}")),
        ReadError::Signature(detail) => refuse(Rule::Signature, detail),
    };
    // Without a checksum or a signature no byte needs reading but the first two: a Go plugin is
    // tens of MB, hashed for nothing at every start otherwise.
    let checked = if trust.sha256.is_some() || trust.verify_signatures {
        read_and_check(&file, before.len(), signature.as_ref(), &trust.public_keys).map_err(read_error)?
    } else {
        let mut start = [0u8; 2];
        let got = file.read_at(&mut start, 0).map_err(|e| read_error(ReadError::Io(e)))?;
        Checked { sha256: [0; 32], length: before.len(), starts_with_shebang: got == 2 && start == *b"#!" }
    };
    let after = file.metadata().map_err(|e| refuse(Rule::Unreadable, format!("cannot stat it: {e}")))?;
    if !same_contents(&before, &after) || checked.length != before.len() {
        return Err(refuse(
            Rule::Unreadable,
            "it changed while it was being verified (its size or modification time moved); nothing was run".into(),
        ));
    }
    if let Some(expected) = trust.sha256 {
        if checked.sha256 != expected {
            return Err(refuse(
                Rule::Checksum,
                format!("expected sha256:{}, found sha256:{}", hex(&expected), hex(&checked.sha256)),
            ));
        }
    }
    Ok(VerifiedExecutable { file, path: resolved, is_script: checked.starts_with_shebang })
}

/// The file's size and modification and change times: any write moves one of them.
fn same_contents(before: &std::fs::Metadata, after: &std::fs::Metadata) -> bool {
    (before.len(), before.mtime(), before.mtime_nsec(), before.ctime(), before.ctime_nsec())
        == (after.len(), after.mtime(), after.mtime_nsec(), after.ctime(), after.ctime_nsec())
}

const OTHERS_WRITE: u32 = 0o002;
const STICKY: u32 = 0o1000;
/// Symlinks followed from the path as given before giving up (Linux's own limit).
const MAX_SYMLINK_HOPS: usize = 40;

/// The file must not be writable by others, nor any directory above it, except a sticky one
/// (`/tmp`) where the entry that leads on (the next directory, or the file) is ours or root's:
/// there nobody else may rename or delete it. The same holds for every symlink on the way from
/// the path as given (whoever may write a link's directory may point it at their own file).
fn check_not_writable_by_others(given: &Path, resolved: &Path, file: &std::fs::Metadata) -> Result<(), String> {
    if file.mode() & OTHERS_WRITE != 0 {
        return Err(format!(
            "the executable {} is writable by others (mode {:04o})",
            resolved.display(),
            file.mode() & 0o7777
        ));
    }
    check_directories_above(resolved, file.uid(), "the executable")?;
    let mut hop = std::path::absolute(given).map_err(|e| format!("cannot make {} absolute: {e}", given.display()))?;
    for _ in 0..MAX_SYMLINK_HOPS {
        let entry = std::fs::symlink_metadata(&hop).map_err(|e| format!("cannot stat {}: {e}", hop.display()))?;
        if !entry.file_type().is_symlink() {
            // Reached by name through no linked directory, it is `resolved`, checked above.
            if hop == resolved {
                return Ok(());
            }
            return check_directories_above(&hop, entry.uid(), &hop.display().to_string());
        }
        check_directories_above(&hop, entry.uid(), &format!("the symlink {}", hop.display()))?;
        let target = std::fs::read_link(&hop).map_err(|e| format!("cannot read the link {}: {e}", hop.display()))?;
        hop = hop.parent().unwrap_or(Path::new("/")).join(target);
    }
    Err(format!("{} leads through more than {MAX_SYMLINK_HOPS} symlinks", given.display()))
}

/// Each directory above `path` (by name, as written), with `entry_owner` the owner of the
/// entry `path` names (not followed, so a link's own owner); `what` names `path` in the error.
fn check_directories_above(path: &Path, entry_owner: u32, what: &str) -> Result<(), String> {
    // SAFETY: plain syscall.
    let us = unsafe { libc::geteuid() };
    let (mut entry, mut entry_owner) = (path.to_owned(), entry_owner);
    for dir in path.ancestors().skip(1).filter(|dir| !dir.as_os_str().is_empty()) {
        let failed = |e: std::io::Error| format!("cannot stat {}: {e}", dir.display());
        // The entry itself (its owner leads on), and what it names when it is a link.
        let own = std::fs::symlink_metadata(dir).map_err(failed)?;
        let metadata = if own.file_type().is_symlink() { std::fs::metadata(dir).map_err(failed)? } else { own.clone() };
        let mode = metadata.mode() & 0o7777;
        if mode & OTHERS_WRITE != 0 {
            let protected = mode & STICKY != 0 && (entry_owner == us || entry_owner == 0);
            if !protected {
                let why = if mode & STICKY != 0 {
                    format!(" and, though sticky, {} in it belongs to uid {entry_owner}", entry.display())
                } else {
                    String::new()
                };
                return Err(format!(
                    "the directory {} above {what} is writable by others (mode {mode:04o}){why}",
                    dir.display()
                ));
            }
        }
        (entry, entry_owner) = (dir.to_owned(), own.uid());
    }
    Ok(())
}

/// With trusted directories configured, the resolved executable must lie inside one of them
/// (resolved too): a symlink out of one is refused, a symlink into one is accepted.
fn check_trusted_directories(given: &Path, resolved: &Path, directories: &[PathBuf]) -> Result<(), String> {
    if directories.is_empty() {
        return Ok(());
    }
    // A directory that does not exist contains nothing; it is still named in the message.
    let resolved_dirs: Vec<PathBuf> =
        directories.iter().map(|d| std::fs::canonicalize(d).unwrap_or_else(|_| d.clone())).collect();
    if resolved_dirs.iter().any(|dir| resolved.starts_with(dir)) {
        return Ok(());
    }
    let listed: Vec<String> = resolved_dirs.iter().map(|d| d.display().to_string()).collect();
    let resolves_to =
        if given == resolved { String::new() } else { format!(" (it resolves to {})", resolved.display()) };
    Err(format!("{}{resolves_to} is outside the trusted directories: {}", given.display(), listed.join(", ")))
}

/// Where the signature of `executable` lives: next to the path as given (as its manifest),
/// not where a symlink leads.
pub fn signature_path(executable: &Path) -> PathBuf {
    let mut name = executable.as_os_str().to_owned();
    name.push(".minisig");
    PathBuf::from(name)
}

/// Signature files are a few hundred bytes; anything far bigger is not one.
const MAX_SIGNATURE_BYTES: u64 = 64 * 1024;

struct SignatureFile {
    path: PathBuf,
    signature: minisign_verify::Signature,
    key_id: u64,
}

fn read_signature(executable: &Path) -> Result<SignatureFile, String> {
    let path = signature_path(executable);
    let metadata = match std::fs::metadata(&path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(format!("signatures are required, but it has none ({} does not exist)", path.display()))
        }
        Err(e) => return Err(format!("cannot read its signature {}: {e}", path.display())),
        Ok(metadata) => metadata,
    };
    if metadata.len() > MAX_SIGNATURE_BYTES {
        return Err(format!("{} is {} bytes, too big for a minisign signature", path.display(), metadata.len()));
    }
    let text =
        std::fs::read_to_string(&path).map_err(|e| format!("cannot read its signature {}: {e}", path.display()))?;
    let not_minisign = |e: &dyn fmt::Display| format!("{} is not a minisign signature: {e}", path.display());
    let signature = minisign_verify::Signature::decode(&text).map_err(|e| not_minisign(&e))?;
    let key_id = text.lines().nth(1).and_then(|line| key_id_of(line, 74)).ok_or_else(|| not_minisign(&"no key id"))?;
    Ok(SignatureFile { path, signature, key_id })
}

/// The key id in a minisign base64 blob (algorithm, key id, the rest) of `length` bytes.
fn key_id_of(base64_text: &str, length: usize) -> Option<u64> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(base64_text.trim()).ok()?;
    let id: [u8; 8] = bytes.get(2..10)?.try_into().ok()?;
    (bytes.len() == length).then_some(u64::from_le_bytes(id))
}

fn key_id_text(id: u64) -> String {
    format!("{id:016X}")
}

struct Checked {
    sha256: [u8; 32],
    length: u64,
    starts_with_shebang: bool,
}

enum ReadError {
    Io(std::io::Error),
    Signature(String),
}

const CHUNK_BYTES: usize = 256 * 1024;

/// Reads the file once through `file` (positioned reads: the descriptor's offset stays at 0
/// for the exec), hashing every byte and checking the signature over the same bytes.
fn read_and_check(
    file: &File,
    expected_length: u64,
    signature: Option<&SignatureFile>,
    keys: &[TrustedKey],
) -> Result<Checked, ReadError> {
    let key = match signature {
        None => None,
        Some(signature) => Some(keys.iter().find(|key| key.id == signature.key_id).ok_or_else(|| {
            let trusted: Vec<String> = keys.iter().map(|key| key_id_text(key.id)).collect();
            ReadError::Signature(format!(
                "{} was made with key {}, which is not a trusted key (trusted: {})",
                signature.path.display(),
                key_id_text(signature.key_id),
                trusted.join(", ")
            ))
        })?),
    };
    // Prehashed signatures (minisign's default since 0.10) are checked as the bytes stream by;
    // legacy ones need the whole file, which is then kept in memory.
    let mut stream = match (key, signature) {
        (Some(key), Some(signature)) => key.key.verify_stream(&signature.signature).ok(),
        _ => None,
    };
    let mut whole = (key.is_some() && stream.is_none()).then(|| Vec::with_capacity(expected_length as usize));
    let mut sha256 = Sha256::new();
    let mut buffer = vec![0u8; CHUNK_BYTES];
    let mut length = 0u64;
    let mut head = [0u8; 2];
    loop {
        let n = match file.read_at(&mut buffer, length) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(ReadError::Io(e)),
        };
        let chunk = &buffer[..n];
        for (i, byte) in chunk.iter().take(2usize.saturating_sub(length as usize)).enumerate() {
            head[length as usize + i] = *byte;
        }
        sha256.update(chunk);
        if let Some(stream) = stream.as_mut() {
            stream.update(chunk);
        }
        if let Some(whole) = whole.as_mut() {
            whole.extend_from_slice(chunk);
        }
        length += n as u64;
    }
    if let (Some(key), Some(signature)) = (key, signature) {
        let outcome = match (stream.as_mut(), &whole) {
            (Some(stream), _) => stream.finalize(),
            (None, Some(whole)) => key.key.verify(whole, &signature.signature, true),
            (None, None) => unreachable!("a signature is checked streaming or whole"),
        };
        outcome.map_err(|e| {
            ReadError::Signature(format!(
                "{} (key {}) does not match its contents: {e}",
                signature.path.display(),
                key_id_text(key.id)
            ))
        })?;
    }
    Ok(Checked { sha256: sha256.finalize().into(), length, starts_with_shebang: length >= 2 && head == *b"#!" })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A SHA-256 as configured: `sha256:<64 hex digits>` or the bare digits (any case).
pub fn parse_sha256(text: &str) -> Result<[u8; 32], String> {
    let trimmed = text.trim();
    let digits = trimmed.strip_prefix("sha256:").unwrap_or(trimmed);
    if digits.len() != 64 || !digits.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!("{text:?} is not a SHA-256 (\"sha256:\" and 64 hex digits, or the digits alone)"));
    }
    let mut digest = [0u8; 32];
    for (i, byte) in digest.iter_mut().enumerate() {
        *byte = u8::from_str_radix(&digits[2 * i..2 * i + 2], 16).expect("checked hex");
    }
    Ok(digest)
}

/// A trusted key as configured: the base64 key (the second line of a minisign `.pub` file),
/// the whole text of such a file, or the path of one.
pub fn parse_public_key(text: &str) -> Result<TrustedKey, String> {
    let trimmed = text.trim();
    let key_line = |contents: &str, source: &str| -> Result<TrustedKey, String> {
        let line = if contents.trim_start().starts_with("untrusted comment:") {
            contents.lines().nth(1).unwrap_or_default()
        } else {
            contents.trim()
        };
        let id = key_id_of(line, 42).ok_or_else(|| format!("{source} is not a minisign public key"))?;
        let key = minisign_verify::PublicKey::from_base64(line.trim())
            .map_err(|e| format!("{source} is not a minisign public key: {e}"))?;
        Ok(TrustedKey { key, id })
    };
    if trimmed.is_empty() {
        return Err("a trusted key is empty".into());
    }
    if trimmed.contains('\n') || key_id_of(trimmed, 42).is_some() {
        return key_line(trimmed, &format!("{trimmed:?}"));
    }
    let contents =
        std::fs::read_to_string(trimmed).map_err(|e| format!("cannot read the public key file {trimmed}: {e}"))?;
    key_line(&contents, &format!("the file {trimmed}"))
}

#[cfg(test)]
mod tests;
