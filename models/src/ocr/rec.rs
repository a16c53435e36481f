//! The recogniser's batches and run, as rapidocr's `TextRecognizer` forms
//! them: lines sorted by aspect ratio, `rec_batch` at a time; each batch
//! padded to its widest line (at least `min_width`), every line resized to
//! the input height keeping its ratio (`resize_norm_img`); per time step
//! the best class and its probability come back, read in place from the
//! session's output (a batch's output is `lines x steps x 18,710` floats).

use ndarray::{Array4, Axis};
use ort::session::Session;
use ort::value::TensorRef;

use super::image::Bgr;
use super::normalize::Lut;
use super::resize;
use crate::batcher::BatchModel;
use crate::error::ModelError;

/// Per line, per time step: the most probable class and its probability.
pub(crate) type Steps = Vec<(u32, f32)>;

/// How lines are fed (the manifest's `ocr_recognition` entry).
#[derive(Debug, Clone)]
pub(crate) struct RecSpec {
    pub height: usize,
    pub min_width: usize,
    pub lut: Lut,
}

/// The lines of each batch, as indices into `crops`: sorted by width over
/// height (stable, so equal ratios keep reading order), `batch` at a time.
pub(crate) fn plan(crops: &[Bgr], batch: usize) -> Vec<Vec<usize>> {
    let ratio = |i: usize| crops[i].width as f64 / crops[i].height as f64;
    let mut order: Vec<usize> = (0..crops.len()).collect();
    order.sort_by(|&a, &b| ratio(a).total_cmp(&ratio(b)));
    order.chunks(batch.max(1)).map(<[usize]>::to_vec).collect()
}

/// The input tensor of one batch (`[lines, 3, height, width]`).
pub(crate) fn tensor(crops: &[Bgr], lines: &[usize], spec: &RecSpec) -> Array4<f32> {
    let height = spec.height as f64;
    let max_ratio = lines
        .iter()
        .map(|&i| crops[i].width as f64 / crops[i].height as f64)
        .fold(spec.min_width as f64 / height, f64::max);
    let width = (height * max_ratio) as usize;
    let mut tensor = Array4::<f32>::zeros((lines.len(), 3, spec.height, width));
    for (mut planes, &i) in tensor.axis_iter_mut(Axis(0)).zip(lines) {
        let crop = &crops[i];
        let wanted = (height * (crop.width as f64 / crop.height as f64)).ceil();
        let resized = if wanted > width as f64 {
            width
        } else {
            wanted as usize
        };
        resize::linear_rows(crop.view(), resized, spec.height, |y, row| {
            spec.lut.write_row(row, &mut planes, y);
        });
    }
    tensor
}

fn failed(message: impl std::fmt::Display) -> ModelError {
    ModelError::OcrRecognitionFailed(message.to_string())
}

/// The index and value of the first maximum.
fn best(row: &[f32]) -> (u32, f32) {
    // A lane-wise maximum the compiler vectorises, then the first match.
    let mut lanes = [f32::NEG_INFINITY; 16];
    let chunks = row.chunks_exact(16);
    let rest = chunks.remainder();
    for chunk in chunks {
        for (lane, &v) in lanes.iter_mut().zip(chunk) {
            *lane = if v > *lane { v } else { *lane };
        }
    }
    let max = lanes
        .iter()
        .chain(rest)
        .copied()
        .fold(f32::NEG_INFINITY, |a, b| if b > a { b } else { a });
    let index = row.iter().position(|&v| v == max).unwrap_or(0);
    (index as u32, max)
}

/// One batch of lines through the recogniser.
#[derive(Debug)]
pub(crate) struct RecRun {
    pub input: String,
    pub output: String,
    pub classes: usize,
}

impl RecRun {
    fn run_one(&self, session: &mut Session, item: &Array4<f32>) -> Result<Vec<Steps>, ModelError> {
        let input = TensorRef::from_array_view(item.view()).map_err(failed)?;
        let outputs = session
            .run(ort::inputs![self.input.as_str() => input])
            .map_err(failed)?;
        let probabilities = outputs[self.output.as_str()]
            .try_extract_array::<f32>()
            .map_err(failed)?;
        let shape = probabilities.shape().to_vec();
        if shape.len() != 3 || shape[0] != item.shape()[0] || shape[2] != self.classes {
            return Err(failed(format!(
                "output of shape {shape:?} for {} lines and {} classes",
                item.shape()[0],
                self.classes
            )));
        }
        let data = probabilities
            .as_slice()
            .ok_or_else(|| failed("the output is not contiguous"))?;
        Ok(data
            .chunks_exact(shape[1] * self.classes)
            .map(|line| line.chunks_exact(self.classes).map(best).collect())
            .collect())
    }
}

impl BatchModel for RecRun {
    type Item = Array4<f32>;
    type Output = Vec<Steps>;
    type Session = Session;

    fn run(
        &self,
        session: &mut Session,
        items: &[Array4<f32>],
    ) -> Result<Vec<Vec<Steps>>, ModelError> {
        items
            .iter()
            .map(|item| self.run_one(session, item))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ChannelOrder;
    use crate::ocr::normalize::Arithmetic;

    fn spec() -> RecSpec {
        RecSpec {
            height: 48,
            min_width: 320,
            lut: Lut::new(ChannelOrder::Bgr, [0.5; 3], [0.5; 3], Arithmetic::DivideF32),
        }
    }

    fn line(width: usize, height: usize) -> Bgr {
        Bgr {
            width,
            height,
            data: vec![255; width * height * 3],
        }
    }

    #[test]
    fn lines_are_grouped_by_aspect_ratio() {
        let crops = [
            line(100, 20),
            line(40, 20),
            line(300, 20),
            line(60, 30),
            line(80, 20),
        ];
        assert_eq!(plan(&crops, 2), [vec![1, 3], vec![4, 0], vec![2]]);
    }

    #[test]
    fn batches_pad_to_the_widest_line_and_at_least_320() {
        let crops = [line(40, 20), line(600, 20)];
        let narrow = tensor(&crops, &[0], &spec());
        assert_eq!(narrow.shape(), &[1, 3, 48, 320]);
        // 40 x 20 -> 96 x 48; the rest is padding (0).
        assert_eq!(narrow[(0, 0, 10, 95)], 1.0);
        assert_eq!(narrow[(0, 0, 10, 96)], 0.0);
        let wide = tensor(&crops, &[0, 1], &spec());
        assert_eq!(wide.shape(), &[2, 3, 48, 1440]);
        assert_eq!(wide[(1, 2, 47, 1439)], 1.0);
    }

    #[test]
    fn best_finds_the_first_maximum() {
        let mut row = vec![0.0_f32; 40];
        row[17] = 0.5;
        row[33] = 0.5;
        row[3] = 0.2;
        assert_eq!(best(&row), (17, 0.5));
        assert_eq!(best(&[0.1, 0.7, 0.2]), (1, 0.7));
    }
}
