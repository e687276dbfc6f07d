//! `.npy` files in and out, through `ndarray-npy`.
//!
//! A header is only a claim: before anything is allocated, reading checks the
//! header's length and its shape's byte count against the bytes the file holds,
//! so that a short file claiming a huge shape is an error, not an allocation
//! failure.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::npy::header::Header;
use ndarray_npy::{ReadNpyError, ReadNpyExt, write_npy};

use crate::array::Array;

/// The longest header read. NumPy refuses headers past 10,000 bytes by default;
/// this leaves room for anything it would write.
const MAX_HEADER_BYTES: u64 = 1 << 16;

/// The element types read, by the descriptor's text.
#[derive(Clone, Copy)]
enum Element {
    F32,
    S32,
    Pred,
}

impl Element {
    fn of(descriptor: &str) -> Option<Element> {
        match descriptor {
            "'<f4'" | "'>f4'" => Some(Element::F32),
            "'<i4'" | "'>i4'" => Some(Element::S32),
            "'|b1'" => Some(Element::Pred),
            _ => None,
        }
    }

    fn bytes(self) -> u64 {
        match self {
            Element::F32 | Element::S32 => 4,
            Element::Pred => 1,
        }
    }
}

/// Reads an `<f4`, `<i4` or `|b1` array, C or Fortran order.
pub fn read(path: &Path) -> Result<Array, String> {
    let name = path.display();
    let fail = |message: String| format!("cannot read {name}: {message}");
    let metadata = std::fs::metadata(path).map_err(|e| fail(e.to_string()))?;
    if metadata.is_dir() {
        return Err(fail("it is a directory".to_string()));
    }
    // A pipe or a device has no size to check against: its data is read first
    // (no more than the header claims), and checked once read.
    let size = metadata.is_file().then_some(metadata.len());
    let mut file = BufReader::new(File::open(path).map_err(|e| fail(e.to_string()))?);
    let head = read_header(&mut file, size).map_err(fail)?;
    let header = Header::from_reader(&mut Cursor::new(&head))
        .map_err(|e| fail(format!("bad header: {e}")))?;
    let descriptor = header.type_descriptor.to_string();
    let Some(element) = Element::of(&descriptor) else {
        return Err(format!(
            "{name}: unsupported dtype {descriptor} (float32, int32 and bool are supported)"
        ));
    };
    let shape = header
        .shape
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let claimed = header
        .shape
        .iter()
        .try_fold(element.bytes(), |bytes, &d| bytes.checked_mul(d as u64))
        .filter(|&bytes| bytes <= isize::MAX as u64)
        .ok_or_else(|| fail(format!("its shape ({shape}) is too large to address")))?;
    let short = |held: u64| {
        fail(format!(
            "its header claims shape ({shape}), {claimed} bytes of data, but the file holds {held}"
        ))
    };
    let data: Box<dyn Read> = match size {
        Some(size) => {
            let held = size - head.len() as u64;
            if held < claimed {
                return Err(short(held));
            }
            Box::new(file)
        }
        None => {
            let mut data = Vec::new();
            file.take(claimed + 1)
                .read_to_end(&mut data)
                .map_err(|e| fail(e.to_string()))?;
            if (data.len() as u64) < claimed {
                return Err(short(data.len() as u64));
            }
            Box::new(Cursor::new(data))
        }
    };
    let reader = Cursor::new(head).chain(data);
    let array = match element {
        Element::F32 => ArrayD::<f32>::read_npy(reader).map(Array::F32),
        Element::S32 => ArrayD::<i32>::read_npy(reader).map(Array::S32),
        Element::Pred => ArrayD::<bool>::read_npy(reader).map(Array::Pred),
    };
    array.map_err(|e: ReadNpyError| fail(e.to_string()))
}

/// The magic string, version, header length and header of a `.npy` file, as
/// bytes, once the header length is known to fit the file (`size`, where known).
fn read_header(file: &mut impl Read, size: Option<u64>) -> Result<Vec<u8>, String> {
    let mut head = vec![0; 8];
    let truncated = |_| "the file is too short for a .npy header".to_string();
    file.read_exact(&mut head).map_err(truncated)?;
    if &head[..6] != b"\x93NUMPY" {
        return Err("not a .npy file (no \\x93NUMPY magic string)".to_string());
    }
    let length_bytes = match head[6] {
        1 => 2,
        2 | 3 => 4,
        major => return Err(format!("unsupported .npy format version {major}")),
    };
    let mut length = vec![0; length_bytes];
    file.read_exact(&mut length).map_err(truncated)?;
    head.extend_from_slice(&length);
    let length = length
        .iter()
        .rev()
        .fold(0u64, |n, &byte| n << 8 | u64::from(byte));
    if length > MAX_HEADER_BYTES || size.is_some_and(|size| head.len() as u64 + length > size) {
        return Err(format!(
            "its header claims {length} bytes, more than the file holds or {MAX_HEADER_BYTES} allowed"
        ));
    }
    let start = head.len();
    head.resize(start + length as usize, 0);
    file.read_exact(&mut head[start..]).map_err(truncated)?;
    Ok(head)
}

pub fn write(path: &Path, array: &Array) -> Result<(), String> {
    let result = match array {
        Array::F32(a) => write_npy(path, a),
        Array::S32(a) => write_npy(path, a),
        Array::Pred(a) => write_npy(path, a),
    };
    result.map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `.npy` file of `header` (the dictionary) and `data`.
    fn npy(name: &str, header: &str, data: &[u8]) -> std::path::PathBuf {
        let mut dict = header.to_string();
        while !(10 + dict.len() + 1).is_multiple_of(64) {
            dict.push(' ');
        }
        dict.push('\n');
        let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
        bytes.extend_from_slice(&(dict.len() as u16).to_le_bytes());
        bytes.extend_from_slice(dict.as_bytes());
        bytes.extend_from_slice(data);
        let path = std::env::temp_dir().join(format!("omelet-npy-{}-{name}", std::process::id()));
        std::fs::write(&path, bytes).unwrap();
        path
    }

    fn error(name: &str, header: &str, data: &[u8]) -> String {
        let path = npy(name, header, data);
        let e = read(&path).expect_err("an error");
        let _ = std::fs::remove_file(&path);
        e
    }

    #[test]
    fn a_header_claiming_more_than_the_file_holds_is_an_error() {
        let e = error(
            "huge",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (100000000000, 784), }",
            &[0; 64],
        );
        assert!(
            e.contains("huge: its header claims shape (100000000000, 784), 313600000000000 bytes of data, but the file holds 64"),
            "{e}"
        );
    }

    #[test]
    fn odd_headers_are_errors() {
        let overflow = error(
            "overflow",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 16), }",
            &[],
        );
        assert!(overflow.contains("too large to address"), "{overflow}");
        let negative = error(
            "negative",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (-1, 3), }",
            &[0; 12],
        );
        assert!(negative.contains("bad header"), "{negative}");
        let garbled = error("garbled", "{'descr': '<f4', 'shape': (3,", &[0; 12]);
        assert!(garbled.contains("bad header"), "{garbled}");
        let dtype = error(
            "dtype",
            "{'descr': '<f8', 'fortran_order': False, 'shape': (1,), }",
            &[0; 8],
        );
        assert!(dtype.contains("unsupported dtype '<f8'"), "{dtype}");
        let extra = error(
            "extra",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
            &[0; 8],
        );
        assert!(extra.contains("cannot read"), "{extra}");
    }

    #[test]
    fn a_header_longer_than_the_file_is_an_error() {
        let path = std::env::temp_dir().join(format!("omelet-npy-{}-long", std::process::id()));
        let mut bytes = b"\x93NUMPY\x02\x00".to_vec();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        std::fs::write(&path, bytes).unwrap();
        let e = read(&path).expect_err("an error");
        let _ = std::fs::remove_file(&path);
        assert!(e.contains("header claims 4294967295 bytes"), "{e}");
    }

    #[test]
    fn directories_and_other_files_are_errors() {
        let e = read(&std::env::temp_dir()).expect_err("an error");
        assert!(e.ends_with("it is a directory"), "{e}");
        let e = read(Path::new("/dev/zero")).expect_err("an error");
        assert!(e.contains("not a .npy file"), "{e}");
    }

    #[test]
    fn good_files_still_read() {
        let path = npy(
            "good",
            "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }",
            &[1, 0, 0, 0, 2, 0, 0, 0],
        );
        let array = read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(array.to_f64_vec(), vec![1.0, 2.0]);
    }
}
