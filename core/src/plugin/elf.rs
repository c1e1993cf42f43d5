//! A pre-flight check of a plugin library before `dlopen`. The dynamic loader maps a file's
//! segments as its headers describe them; a truncated library maps pages past the end of the
//! file and the process dies of SIGBUS on first touch. Checking that the headers fit inside the
//! file turns that crash into a refusal.

use std::io::Read;
use std::path::Path;

const PT_LOAD: u32 = 1;
const ET_DYN: u16 = 3;

#[cfg(target_arch = "x86_64")]
const HOST_MACHINE: Option<u16> = Some(62);
#[cfg(target_arch = "aarch64")]
const HOST_MACHINE: Option<u16> = Some(183);
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const HOST_MACHINE: Option<u16> = None;

/// Checks that `path` is a complete 64-bit little-endian ELF shared object for this machine.
pub fn check(path: &Path) -> Result<(), String> {
    let mut file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let len = file.metadata().map_err(|e| e.to_string())?.len();
    let mut header = [0u8; 64];
    file.read_exact(&mut header)
        .map_err(|_| "not a shared library (too short)".to_owned())?;
    if &header[..4] != b"\x7fELF" {
        return Err("not a shared library (no ELF header)".into());
    }
    if header[4] != 2 || header[5] != 1 {
        return Err("not a 64-bit little-endian library".into());
    }
    let u16_at = |b: &[u8], at: usize| u16::from_le_bytes([b[at], b[at + 1]]);
    let u32_at = |b: &[u8], at: usize| u32::from_le_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]);
    let u64_at = |b: &[u8], at: usize| {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(bytes)
    };
    if u16_at(&header, 16) != ET_DYN {
        return Err("not a shared library (ELF type is not DYN)".into());
    }
    let machine = u16_at(&header, 18);
    if HOST_MACHINE.is_some_and(|m| m != machine) {
        return Err(format!("built for another CPU (ELF machine {machine})"));
    }
    let (phoff, phentsize, phnum) = (
        u64_at(&header, 32),
        u16_at(&header, 54),
        u16_at(&header, 56),
    );
    let (shoff, shentsize, shnum) = (
        u64_at(&header, 40),
        u16_at(&header, 58),
        u16_at(&header, 60),
    );
    let truncated = || format!("truncated ({len} bytes, shorter than its headers say)");
    let table_end = |off: u64, size: u16, n: u16| off.checked_add(u64::from(size) * u64::from(n));
    if phentsize < 56 || table_end(phoff, phentsize, phnum).is_none_or(|end| end > len) {
        return Err(truncated());
    }
    if shoff != 0 && table_end(shoff, shentsize, shnum).is_none_or(|end| end > len) {
        return Err(truncated());
    }
    let mut table = vec![0u8; usize::from(phentsize) * usize::from(phnum)];
    std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(phoff)).map_err(|e| e.to_string())?;
    file.read_exact(&mut table).map_err(|_| truncated())?;
    for entry in table.chunks_exact(usize::from(phentsize)) {
        if u32_at(entry, 0) != PT_LOAD {
            continue;
        }
        let (offset, filesz) = (u64_at(entry, 8), u64_at(entry, 32));
        if offset.checked_add(filesz).is_none_or(|end| end > len) {
            return Err(truncated());
        }
    }
    Ok(())
}
