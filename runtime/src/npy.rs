//! `.npy` files in and out, through `ndarray-npy`.

use std::path::Path;

use ndarray::ArrayD;
use ndarray_npy::{ReadNpyError, read_npy, write_npy};

use crate::array::Array;

/// Reads an `<f4`, `<i4` or `|b1` array, C or Fortran order.
pub fn read(path: &Path) -> Result<Array, String> {
    let describe = |e: ReadNpyError| format!("cannot read {}: {e}", path.display());
    match read_npy::<_, ArrayD<f32>>(path) {
        Ok(a) => return Ok(Array::F32(a)),
        Err(ReadNpyError::WrongDescriptor(_)) => {}
        Err(e) => return Err(describe(e)),
    }
    match read_npy::<_, ArrayD<i32>>(path) {
        Ok(a) => return Ok(Array::S32(a)),
        Err(ReadNpyError::WrongDescriptor(_)) => {}
        Err(e) => return Err(describe(e)),
    }
    match read_npy::<_, ArrayD<bool>>(path) {
        Ok(a) => Ok(Array::Pred(a)),
        Err(ReadNpyError::WrongDescriptor(d)) => Err(format!(
            "{}: unsupported dtype {d} (float32, int32 and bool are supported)",
            path.display()
        )),
        Err(e) => Err(describe(e)),
    }
}

pub fn write(path: &Path, array: &Array) -> Result<(), String> {
    let result = match array {
        Array::F32(a) => write_npy(path, a),
        Array::S32(a) => write_npy(path, a),
        Array::Pred(a) => write_npy(path, a),
    };
    result.map_err(|e| format!("cannot write {}: {e}", path.display()))
}
