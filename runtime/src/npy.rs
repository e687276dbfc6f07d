//! `.npy` files in and out, through `ndarray-npy`.
//!
//! A header is only a claim: before anything is allocated, reading checks the
//! header's length and its shape's byte count against the bytes the file holds,
//! so that a short file claiming a huge shape is an error, not an allocation
//! failure.

use std::fs::File;
use std::io::{BufReader, Cursor, Read};
use std::path::Path;

use ndarray_npy::npy::header::Header;
use omelet_compiler::hlo::{ArrayShape, ElementType};

use crate::array::Array;
use crate::interp::data;

/// The longest header read. NumPy refuses headers past 10,000 bytes by default;
/// this leaves room for anything it would write.
const MAX_HEADER_BYTES: u64 = 1 << 16;

/// NumPy's type code of each element type. NumPy has no bfloat16: `ml_dtypes`
/// saves its arrays as two raw bytes per element, `V2`, and that is what
/// Omelet reads and writes for `bf16` (read it back with
/// `np.load(f).view(ml_dtypes.bfloat16)`).
const TYPE_CODES: [(&str, ElementType); 13] = [
    ("b1", ElementType::Pred),
    ("i1", ElementType::S8),
    ("i2", ElementType::S16),
    ("i4", ElementType::S32),
    ("i8", ElementType::S64),
    ("u1", ElementType::U8),
    ("u2", ElementType::U16),
    ("u4", ElementType::U32),
    ("u8", ElementType::U64),
    ("f2", ElementType::F16),
    ("V2", ElementType::Bf16),
    ("f4", ElementType::F32),
    ("f8", ElementType::F64),
];

/// The element type and byte order (`true`: big-endian) of a descriptor such as
/// `'<f4'`.
fn element_of(descriptor: &str) -> Option<(ElementType, bool)> {
    let text = descriptor.trim_matches('\'');
    let (order, code) = text.split_at_checked(1)?;
    let big_endian = match order {
        "<" | "|" | "=" => false,
        ">" => true,
        _ => return None,
    };
    let (_, element) = TYPE_CODES.iter().find(|(c, _)| *c == code)?;
    Some((*element, big_endian && element.byte_size() > 1))
}

fn descriptor_of(element: ElementType) -> String {
    let (code, _) = TYPE_CODES
        .iter()
        .find(|(_, e)| *e == element)
        .expect("every element type has a code");
    let order = if element.byte_size() == 1 { '|' } else { '<' };
    format!("{order}{code}")
}

/// Reads an array of any element type (see [`TYPE_CODES`]), either byte order, C
/// or Fortran order.
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
    let Some((element, big_endian)) = element_of(&descriptor) else {
        return Err(format!(
            "{name}: unsupported dtype {descriptor} (bool, int8 to int64, uint8 to uint64, float16, bfloat16 as V2, float32 and float64 are supported)"
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
        .try_fold(element.byte_size() as u64, |bytes, &d| {
            bytes.checked_mul(d as u64)
        })
        .filter(|&bytes| bytes <= isize::MAX as u64)
        .ok_or_else(|| fail(format!("its shape ({shape}) is too large to address")))?;
    let short = |held: u64| {
        fail(format!(
            "its header claims shape ({shape}), {claimed} bytes of data, but the file holds {held}"
        ))
    };
    let mut raw = Vec::new();
    file.take(claimed + 1)
        .read_to_end(&mut raw)
        .map_err(|e| fail(e.to_string()))?;
    if (raw.len() as u64) < claimed {
        return Err(short(raw.len() as u64));
    }
    if raw.len() as u64 > claimed {
        return Err(fail(format!(
            "it holds more data than its header's shape ({shape}) takes"
        )));
    }
    if big_endian {
        for bytes in raw.chunks_exact_mut(element.byte_size()) {
            bytes.reverse();
        }
    }
    // Fortran order is the reversed shape's row-major order, transposed.
    let dims: Vec<usize> = if header.layout.is_fortran() {
        header.shape.iter().rev().copied().collect()
    } else {
        header.shape.clone()
    };
    let stored = Array::from_bytes(&ArrayShape::new(element, dims), &raw);
    Ok(if header.layout.is_fortran() {
        let order: Vec<usize> = (0..header.shape.len()).rev().collect();
        data::transpose(&stored, &order)
    } else {
        stored
    })
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

/// Writes a version 1.0 `.npy` file in C order.
pub fn write(path: &Path, array: &Array) -> Result<(), String> {
    let shape = array.shape();
    let dims: String = shape.dims.iter().map(|d| format!("{d}, ")).collect();
    let dims = if shape.rank() == 1 {
        dims.trim_end_matches(' ').to_string()
    } else {
        dims.trim_end_matches(", ").to_string()
    };
    let mut header = format!(
        "{{'descr': '{}', 'fortran_order': False, 'shape': ({dims}), }}",
        descriptor_of(shape.element)
    );
    // The data starts at a multiple of 64 bytes; the header ends with a newline.
    let unpadded = 10 + header.len() + 1;
    header.push_str(&" ".repeat(unpadded.next_multiple_of(64) - unpadded));
    header.push('\n');
    let mut bytes = b"\x93NUMPY\x01\x00".to_vec();
    bytes.extend_from_slice(&(header.len() as u16).to_le_bytes());
    bytes.extend_from_slice(header.as_bytes());
    bytes.extend_from_slice(&array.bytes(&shape));
    std::fs::write(path, bytes).map_err(|e| format!("cannot write {}: {e}", path.display()))
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
            "{'descr': '<c8', 'fortran_order': False, 'shape': (1,), }",
            &[0; 8],
        );
        assert!(dtype.contains("unsupported dtype '<c8'"), "{dtype}");
        let extra = error(
            "extra",
            "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }",
            &[0; 8],
        );
        assert!(extra.contains("cannot read"), "{extra}");
    }

    #[test]
    fn every_element_type_round_trips() {
        let dir = std::env::temp_dir();
        for element in ElementType::ALL {
            // Bytes 0, 1, 2, ... of each element: every bit pattern a type can
            // hold comes back as it went (pred: 0 and 1 only).
            let shape = ArrayShape::new(element, vec![2, 3]);
            let size = element.byte_size();
            let bytes: Vec<u8> = (0..6 * size)
                .map(|i| {
                    if element == ElementType::Pred {
                        (i % 2) as u8
                    } else {
                        (i * 37) as u8
                    }
                })
                .collect();
            let array = Array::from_bytes(&shape, &bytes);
            let path = dir.join(format!("omelet-npy-{}-{element}.npy", std::process::id()));
            write(&path, &array).unwrap();
            let back = read(&path).unwrap();
            let _ = std::fs::remove_file(&path);
            assert_eq!(back.shape(), shape, "{element}");
            assert_eq!(back.to_bytes(&shape), bytes, "{element}");
        }
    }

    #[test]
    fn big_endian_and_fortran_order_read() {
        let path = npy(
            "big-fortran",
            "{'descr': '>i2', 'fortran_order': True, 'shape': (2, 2), }",
            &[0, 1, 0, 2, 0, 3, 0, 4],
        );
        let array = read(&path).unwrap();
        let _ = std::fs::remove_file(&path);
        assert_eq!(array.shape(), ArrayShape::new(ElementType::S16, vec![2, 2]));
        assert_eq!(array.to_f64_vec(), vec![1.0, 3.0, 2.0, 4.0]);
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
