// Test helpers (not #[test] functions themselves) unwrap: a failure there is the test failing.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::path::Path;

use super::*;

fn package(dir: &Path, name: &str) -> PathBuf {
    let root = dir.join(name);
    std::fs::create_dir_all(root.join("sub")).unwrap();
    std::fs::create_dir_all(root.join("tests")).unwrap();
    std::fs::create_dir_all(root.join(".git")).unwrap();
    std::fs::write(
        root.join(MANIFEST_FILE),
        format!("name: {name}\nversion: 1.2.3\ndescription: a test package\n"),
    )
    .unwrap();
    std::fs::write(root.join("init.lua"), "return {}\n").unwrap();
    std::fs::write(root.join("sub/b.lua"), "return 2\n").unwrap();
    std::fs::write(root.join("sub/a.lua"), "return 1\n").unwrap();
    std::fs::write(root.join("tests/x_test.lua"), "test('x', function() end)\n").unwrap();
    std::fs::write(root.join(".git/HEAD"), "ref\n").unwrap();
    std::fs::write(root.join("tool.sh"), "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(
        root.join("tool.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )
    .unwrap();
    root
}

fn entries(bytes: &[u8]) -> Vec<(String, u32, u64)> {
    let mut archive = tar::Archive::new(GzDecoder::new(bytes));
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            let h = e.header();
            (
                e.path().unwrap().display().to_string(),
                h.mode().unwrap(),
                h.mtime().unwrap(),
            )
        })
        .collect()
}

#[test]
fn the_same_folder_packs_to_the_same_bytes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let one = pack(&package(a.path(), "demo")).unwrap();
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let two = pack(&package(b.path(), "demo")).unwrap();
    assert_eq!(one.bytes, two.bytes);
    assert_eq!(one.sha256, hex_sha256(&two.bytes));
    assert_eq!(one.sha256.len(), 64);
    assert_eq!(one.file_name, "demo-1.2.3.tar.gz");
    let listed = entries(&one.bytes);
    let names: Vec<&str> = listed.iter().map(|(n, _, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "demo/init.lua",
            "demo/manifest.yaml",
            "demo/sub",
            "demo/sub/a.lua",
            "demo/sub/b.lua",
            "demo/tool.sh"
        ]
    );
    for (name, mode, mtime) in &listed {
        assert_eq!(*mtime, 0, "{name}");
        let want = if name.ends_with("tool.sh") || name.ends_with("sub") {
            0o755
        } else {
            0o644
        };
        assert_eq!(*mode, want, "{name}");
    }
}

#[test]
fn what_cannot_be_packed_says_why() {
    let d = tempfile::tempdir().unwrap();
    let root = package(d.path(), "demo");
    std::os::unix::fs::symlink("/etc/passwd", root.join("link.lua")).unwrap();
    let e = pack(&root).unwrap_err().to_string();
    assert!(
        e.contains(
            "link.lua: a package holds plain files and folders only (this is a symbolic link)"
        ),
        "{e}"
    );
    let other = package(d.path(), "other");
    std::fs::write(other.join(MANIFEST_FILE), "name: demo\nversion: 1.0.0\n").unwrap();
    let e = pack(&other).unwrap_err().to_string();
    assert!(
        e.contains("the manifest names package 'demo', but the folder is 'other'"),
        "{e}"
    );
    let empty = d.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let e = pack(&empty).unwrap_err().to_string();
    assert!(
        e.contains("not a package (manifest.yaml is missing)"),
        "{e}"
    );
}

#[test]
fn a_packed_package_unpacks_whole() {
    let d = tempfile::tempdir().unwrap();
    let packed = pack(&package(d.path(), "demo")).unwrap();
    let into = tempfile::tempdir().unwrap();
    unpack(&packed.bytes, "demo", into.path(), Limits::default()).unwrap();
    let root = into.path().join("demo");
    assert_eq!(
        std::fs::read_to_string(root.join("sub/a.lua")).unwrap(),
        "return 1\n"
    );
    assert!(!root.join("tests").exists());
    let mode = std::fs::metadata(root.join("tool.sh"))
        .unwrap()
        .permissions();
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&mode) & 0o777,
        0o755
    );
    // under another name it is refused
    let other = tempfile::tempdir().unwrap();
    let e = unpack(&packed.bytes, "evil", other.path(), Limits::default()).unwrap_err();
    assert!(
        e.to_string()
            .contains("outside the package's folder 'evil/'"),
        "{e}"
    );
}

/// One raw entry of a hostile archive: name bytes, type, data.
type Raw<'a> = (&'a [u8], tar::EntryType, &'a [u8]);

/// An archive of raw entries, headers written as given.
fn hostile(entries: &[Raw]) -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), Compression::fast());
    let mut tar = tar::Builder::new(gz);
    for (name, kind, data) in entries {
        let mut h = tar::Header::new_gnu();
        h.as_gnu_mut().unwrap().name[..name.len()].copy_from_slice(name);
        h.set_entry_type(*kind);
        h.set_mode(0o644);
        h.set_size(data.len() as u64);
        if *kind == tar::EntryType::Symlink || *kind == tar::EntryType::Link {
            h.set_link_name("../../../etc/passwd").unwrap();
        }
        h.set_cksum();
        tar.append(&h, *data).unwrap();
    }
    tar.into_inner().unwrap().finish().unwrap()
}

fn refused(bytes: &[u8], limits: Limits) -> String {
    let into = tempfile::tempdir().unwrap();
    let e = unpack(bytes, "pkg", into.path(), limits)
        .unwrap_err()
        .to_string();
    // nothing escaped the folder given
    assert!(!into.path().parent().unwrap().join("escaped.lua").exists());
    e
}

const MANIFEST: Raw = (
    b"pkg/manifest.yaml",
    tar::EntryType::Regular,
    b"name: pkg\nversion: 1.0.0\n",
);

#[test]
fn hostile_archives_are_refused_by_name() {
    use tar::EntryType::{Char, Fifo, Link, Regular, Symlink};
    let l = Limits::default();
    let cases: &[(&[Raw], &str)] = &[
        (
            &[MANIFEST, (b"/etc/escaped.lua", Regular, b"x")],
            "entry '/etc/escaped.lua' is outside",
        ),
        (
            &[MANIFEST, (b"pkg/../../escaped.lua", Regular, b"x")],
            "entry 'pkg/../../escaped.lua' is outside",
        ),
        (
            &[MANIFEST, (b"other/x.lua", Regular, b"x")],
            "entry 'other/x.lua' is outside the package's folder 'pkg/'",
        ),
        (
            &[MANIFEST, (b"pkg/link.lua", Symlink, b"")],
            "entry 'pkg/link.lua' is a symbolic link",
        ),
        (
            &[MANIFEST, (b"pkg/hard.lua", Link, b"")],
            "entry 'pkg/hard.lua' is a hard link",
        ),
        (
            &[MANIFEST, (b"pkg/tty", Char, b"")],
            "entry 'pkg/tty' is a device",
        ),
        (
            &[MANIFEST, (b"pkg/pipe", Fifo, b"")],
            "entry 'pkg/pipe' is a FIFO",
        ),
        (
            &[
                MANIFEST,
                (b"pkg/a.lua", Regular, b"1"),
                (b"pkg/a.lua", Regular, b"2"),
            ],
            "entry 'pkg/a.lua' appears twice",
        ),
        (
            &[(b"pkg/init.lua", Regular, b"return 1")],
            "no manifest.yaml at the package's top",
        ),
    ];
    for (entries, want) in cases {
        let e = refused(&hostile(entries), l);
        assert!(e.contains(want), "{want:?} not in {e:?}");
    }
    assert!(refused(b"not gzip at all", l).contains("not a package archive"));
}

#[test]
fn sizes_and_counts_are_bounded_as_they_decompress() {
    let small = Limits {
        entries: 5,
        bytes: 1 << 20,
    };
    // 8 MiB of zeros: a few KiB compressed
    let zeros = vec![0u8; 8 << 20];
    let bomb = hostile(&[
        MANIFEST,
        (b"pkg/zeros.bin", tar::EntryType::Regular, &zeros),
    ]);
    assert!(bomb.len() < 64 << 10);
    assert!(refused(&bomb, small).contains("more than 1048576 bytes once unpacked"));
    let names: Vec<Vec<u8>> = (0..10)
        .map(|i| format!("pkg/f{i}.lua").into_bytes())
        .collect();
    let mut many = vec![MANIFEST];
    for n in &names {
        many.push((n.as_slice(), tar::EntryType::Regular, b"x"));
    }
    assert!(refused(&hostile(&many), small).contains("more than 5 entries"));
    // a header claiming more than the limit, with no data behind it
    let mut claim = Vec::new();
    {
        let gz = flate2::write::GzEncoder::new(&mut claim, Compression::fast());
        let mut tar = tar::Builder::new(gz);
        let mut h = tar::Header::new_gnu();
        h.set_path("pkg/huge.bin").unwrap();
        h.set_size(1 << 40);
        h.set_cksum();
        tar.get_mut().write_all(h.as_bytes()).unwrap();
        tar.into_inner().unwrap().finish().unwrap();
    }
    let e = refused(&claim, small);
    assert!(
        e.contains("more than 1048576 bytes") || e.contains("not a package archive"),
        "{e}"
    );
}
