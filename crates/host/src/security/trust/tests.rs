//! The checks of `verify`, on real files.

use super::*;
use std::os::unix::fs::PermissionsExt;

fn write_executable(path: &Path, contents: &[u8]) {
    std::fs::write(path, contents).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn sha256_of(contents: &[u8]) -> [u8; 32] {
    Sha256::digest(contents).into()
}

struct Signer {
    pair: minisign::KeyPair,
}

impl Signer {
    fn new() -> Signer {
        Signer { pair: minisign::KeyPair::generate_unencrypted_keypair().unwrap() }
    }

    fn trusted(&self) -> TrustedKey {
        parse_public_key(&self.pair.pk.to_base64()).unwrap()
    }

    fn sign(&self, executable: &Path) {
        let contents = std::fs::read(executable).unwrap();
        let signature = minisign::sign(Some(&self.pair.pk), &self.pair.sk, &contents[..], None, None).unwrap();
        std::fs::write(signature_path(executable), signature.into_string()).unwrap();
    }
}

#[test]
fn digests_parse_with_or_without_their_prefix() {
    let digits = "AB".repeat(32);
    assert_eq!(parse_sha256(&digits).unwrap(), [0xab; 32]);
    assert_eq!(parse_sha256(&format!(" sha256:{} ", digits.to_lowercase())).unwrap(), [0xab; 32]);
    for bad in ["", "sha256:", &"ab".repeat(31), &"zz".repeat(32), &format!("md5:{digits}")] {
        assert!(parse_sha256(bad).unwrap_err().contains("is not a SHA-256"), "{bad:?}");
    }
}

#[test]
fn keys_parse_from_base64_pub_text_and_pub_file() {
    let signer = Signer::new();
    let base64 = signer.pair.pk.to_base64();
    let from_base64 = parse_public_key(&base64).unwrap();
    let pub_text = signer.pair.pk.to_box().unwrap().into_string();
    assert_eq!(parse_public_key(&pub_text).unwrap(), from_base64);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hector.pub");
    std::fs::write(&file, &pub_text).unwrap();
    assert_eq!(parse_public_key(file.to_str().unwrap()).unwrap(), from_base64);
    assert_eq!(key_id_text(from_base64.id).len(), 16);
    assert!(parse_public_key("RWQnotakey").unwrap_err().contains("cannot read the public key file"));
    assert!(parse_public_key("untrusted comment: x\nAAAA").unwrap_err().contains("not a minisign public key"));
    assert!(parse_public_key(" ").is_err());
}

#[test]
fn the_checked_file_is_returned_open_and_scripts_are_recognised() {
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("plugin.sh");
    write_executable(&script, b"#!/bin/sh\necho hi\n");
    let verified =
        verify(&script, &Trust { sha256: Some(sha256_of(b"#!/bin/sh\necho hi\n")), ..Default::default() }).unwrap();
    assert!(verified.is_script);
    assert_eq!(verified.path, std::fs::canonicalize(&script).unwrap());
    let mut read_back = String::new();
    std::io::Read::read_to_string(&mut &verified.file, &mut read_back).unwrap();
    assert_eq!(read_back, "#!/bin/sh\necho hi\n", "the descriptor's offset is still at the start");
    let binary = dir.path().join("plugin");
    write_executable(&binary, b"\x7fELF");
    assert!(!verify(&binary, &Trust::default()).unwrap().is_script);
    let missing = verify(&dir.path().join("absent"), &Trust::default()).unwrap_err();
    assert_eq!(missing.rule, Rule::Unreadable);
    assert_eq!(verify(dir.path(), &Trust::default()).unwrap_err().rule, Rule::Unreadable);
}

#[test]
fn a_tampered_file_is_refused_naming_both_digests() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("plugin");
    write_executable(&plugin, b"tampered");
    let expected = sha256_of(b"original");
    let refusal = verify(&plugin, &Trust { sha256: Some(expected), ..Default::default() }).unwrap_err();
    assert_eq!(refusal.rule, Rule::Checksum);
    let message = refusal.to_string();
    assert!(message.contains(&format!("expected sha256:{}", hex(&expected))), "{message}");
    assert!(message.contains(&format!("found sha256:{}", hex(&sha256_of(b"tampered")))), "{message}");
    assert!(message.contains(&plugin.display().to_string()), "{message}");
}

#[test]
fn world_writable_files_and_directories_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let open_dir = dir.path().join("open");
    std::fs::create_dir(&open_dir).unwrap();
    let plugin = open_dir.join("plugin");
    write_executable(&plugin, b"x");
    assert!(verify(&plugin, &Trust::default()).is_ok());

    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o757)).unwrap();
    let refusal = verify(&plugin, &Trust::default()).unwrap_err();
    assert_eq!(refusal.rule, Rule::WorldWritable);
    assert!(refusal.detail.contains("is writable by others (mode 0757)"), "{refusal}");
    std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();

    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o777)).unwrap();
    let refusal = verify(&plugin, &Trust::default()).unwrap_err();
    assert_eq!(refusal.rule, Rule::WorldWritable);
    let named = format!("the directory {} above the executable is writable by others (mode 0777)", open_dir.display());
    assert!(refusal.detail.contains(&named), "{refusal}");

    // Sticky, like /tmp: nobody else may replace our file.
    std::fs::set_permissions(&open_dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
    assert!(verify(&plugin, &Trust::default()).is_ok());
}

#[test]
fn a_symlink_in_a_directory_others_may_write_is_refused_though_its_target_is_safe() {
    // Whoever may write the link's directory may point the link at their own file.
    let dir = tempfile::tempdir().unwrap();
    let safe = dir.path().join("safe");
    let open = dir.path().join("open");
    std::fs::create_dir(&safe).unwrap();
    std::fs::create_dir(&open).unwrap();
    let plugin = safe.join("plugin");
    write_executable(&plugin, b"x");
    let link = open.join("plugin");
    std::os::unix::fs::symlink(&plugin, &link).unwrap();
    assert!(verify(&link, &Trust::default()).is_ok());

    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o777)).unwrap();
    let refusal = verify(&link, &Trust::default()).unwrap_err();
    assert_eq!(refusal.rule, Rule::WorldWritable);
    let named = format!("the directory {} above the symlink {}", open.display(), link.display());
    assert!(refusal.detail.contains(&named), "{refusal}");
    assert!(verify(&plugin, &Trust::default()).is_ok(), "the target itself is still fine");

    // A second hop: a safe link to that link is refused for the same reason.
    let outer = safe.join("outer");
    std::os::unix::fs::symlink(&link, &outer).unwrap();
    assert_eq!(verify(&outer, &Trust::default()).unwrap_err().rule, Rule::WorldWritable);

    // A directory symlink in it too.
    let dir_link = open.join("dir");
    std::os::unix::fs::symlink(&safe, &dir_link).unwrap();
    let refusal = verify(&dir_link.join("plugin"), &Trust::default()).unwrap_err();
    assert_eq!(refusal.rule, Rule::WorldWritable);
    assert!(refusal.detail.contains(&format!("the directory {} above", open.display())), "{refusal}");
}

#[test]
fn a_sticky_directory_does_not_protect_another_users_entry() {
    // Giving a file away needs root (CI runs as root; elsewhere only CI insists).
    // SAFETY: plain syscall.
    if unsafe { libc::geteuid() } != 0 && std::env::var_os("CI").is_none() {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let sticky = dir.path().join("sticky");
    std::fs::create_dir(&sticky).unwrap();
    std::fs::set_permissions(&sticky, std::fs::Permissions::from_mode(0o1777)).unwrap();
    let plugin = sticky.join("plugin");
    write_executable(&plugin, b"x");
    std::os::unix::fs::chown(&plugin, Some(4242), Some(4242)).unwrap();
    let refusal = verify(&plugin, &Trust::default()).unwrap_err();
    assert_eq!(refusal.rule, Rule::WorldWritable);
    assert!(refusal.detail.contains("(mode 1777) and, though sticky,"), "{refusal}");
    assert!(refusal.detail.contains("belongs to uid 4242"), "{refusal}");
}

#[test]
fn trusted_directories_follow_symlinks_both_ways() {
    let root = tempfile::tempdir().unwrap();
    let trusted = root.path().join("trusted");
    let elsewhere = root.path().join("elsewhere");
    std::fs::create_dir(&trusted).unwrap();
    std::fs::create_dir(&elsewhere).unwrap();
    let inside = trusted.join("plugin");
    let outside = elsewhere.join("plugin");
    write_executable(&inside, b"in");
    write_executable(&outside, b"out");
    // Configured through a symlink: resolved before comparing.
    let trusted_link = root.path().join("trusted-link");
    std::os::unix::fs::symlink(&trusted, &trusted_link).unwrap();
    let trust = Trust { trusted_directories: vec![trusted_link], ..Default::default() };

    assert!(verify(&inside, &trust).is_ok());
    let refusal = verify(&outside, &trust).unwrap_err();
    assert_eq!(refusal.rule, Rule::TrustedDirectories);
    let trusted_shown = std::fs::canonicalize(&trusted).unwrap();
    assert!(refusal.detail.contains(&format!("outside the trusted directories: {}", trusted_shown.display())));

    // A symlink into a trusted directory: what runs is inside.
    let into = elsewhere.join("into");
    std::os::unix::fs::symlink(&inside, &into).unwrap();
    assert_eq!(verify(&into, &trust).unwrap().path, std::fs::canonicalize(&inside).unwrap());

    // A symlink in a trusted directory leading out of it is refused, both paths named.
    let out_of = trusted.join("out-of");
    std::os::unix::fs::symlink(&outside, &out_of).unwrap();
    let refusal = verify(&out_of, &trust).unwrap_err();
    assert_eq!(refusal.rule, Rule::TrustedDirectories);
    let shown = format!(
        "{} (it resolves to {}) is outside",
        out_of.display(),
        std::fs::canonicalize(&outside).unwrap().display()
    );
    assert!(refusal.detail.contains(&shown), "{refusal}");

    // A sibling whose name starts like the trusted directory is not inside it.
    let sibling = root.path().join("trusted2");
    std::fs::create_dir(&sibling).unwrap();
    write_executable(&sibling.join("plugin"), b"x");
    assert!(verify(&sibling.join("plugin"), &trust).is_err());
}

#[test]
fn signatures_are_checked_against_the_trusted_keys() {
    let dir = tempfile::tempdir().unwrap();
    let plugin = dir.path().join("plugin");
    write_executable(&plugin, b"signed contents");
    let signer = Signer::new();
    let trust = Trust { verify_signatures: true, public_keys: vec![signer.trusted()], ..Default::default() };

    let refusal = verify(&plugin, &trust).unwrap_err();
    assert_eq!(refusal.rule, Rule::Signature);
    assert!(refusal.detail.contains("it has none") && refusal.detail.contains("plugin.minisig"), "{refusal}");

    signer.sign(&plugin);
    assert!(verify(&plugin, &trust).is_ok());
    // Signed and hashed over the same read.
    let both = Trust { sha256: Some(sha256_of(b"signed contents")), ..trust.clone() };
    assert!(verify(&plugin, &both).is_ok());

    write_executable(&plugin, b"signed contents, then changed");
    let refusal = verify(&plugin, &trust).unwrap_err();
    assert_eq!(refusal.rule, Rule::Signature);
    assert!(refusal.detail.contains("does not match its contents"), "{refusal}");

    let stranger = Signer::new();
    stranger.sign(&plugin);
    let refusal = verify(&plugin, &trust).unwrap_err();
    assert_eq!(refusal.rule, Rule::Signature);
    let expected = format!(
        "made with key {}, which is not a trusted key (trusted: {})",
        key_id_text(stranger.trusted().id),
        key_id_text(signer.trusted().id)
    );
    assert!(refusal.detail.contains(&expected), "{refusal}");
    // Trusting the stranger too is enough.
    let both_keys = Trust { public_keys: vec![signer.trusted(), stranger.trusted()], ..trust.clone() };
    assert!(verify(&plugin, &both_keys).is_ok());

    std::fs::write(signature_path(&plugin), "not a signature").unwrap();
    assert!(verify(&plugin, &trust).unwrap_err().detail.contains("is not a minisign signature"));

    let unconfigured = Trust { verify_signatures: true, ..Default::default() };
    let refusal = verify(&plugin, &unconfigured).unwrap_err();
    assert_eq!(refusal.rule, Rule::Configuration);
    assert!(refusal.detail.contains("no trusted public key is configured"), "{refusal}");
}
