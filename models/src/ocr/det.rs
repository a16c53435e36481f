//! The text detector's input and run: the prepared page resized to the
//! detection size (OpenCV bilinear) and normalised straight into the NCHW
//! tensor, one page per run (pages differ in size), the probability map
//! copied out of the session.

use ndarray::Array4;
use ort::session::Session;
use ort::value::TensorRef;

use super::image::Bgr;
use super::normalize::Lut;
use super::resize;
use crate::batcher::BatchModel;
use crate::error::ModelError;

/// The detector's per-pixel text probabilities.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ProbMap {
    pub width: usize,
    pub height: usize,
    pub data: Vec<f32>,
}

/// The `[1, 3, height, width]` input of `image` resized to `size`.
pub(crate) fn tensor(image: &Bgr, (width, height): (usize, usize), lut: &Lut) -> Array4<f32> {
    let mut tensor = Array4::<f32>::zeros((1, 3, height, width));
    let mut planes = tensor.index_axis_mut(ndarray::Axis(0), 0);
    if (image.width, image.height) == (width, height) {
        for y in 0..height {
            lut.write_row(image.row(y), &mut planes, y);
        }
    } else {
        resize::linear_rows(image.view(), width, height, |y, row| {
            lut.write_row(row, &mut planes, y);
        });
    }
    tensor
}

fn failed(message: impl std::fmt::Display) -> ModelError {
    ModelError::OcrDetectionFailed(message.to_string())
}

/// One page through the detector.
#[derive(Debug)]
pub(crate) struct DetRun {
    pub input: String,
    pub output: String,
}

impl DetRun {
    fn run_one(&self, session: &mut Session, item: &Array4<f32>) -> Result<ProbMap, ModelError> {
        let input = TensorRef::from_array_view(item.view()).map_err(failed)?;
        let outputs = session
            .run(ort::inputs![self.input.as_str() => input])
            .map_err(failed)?;
        let map = outputs[self.output.as_str()]
            .try_extract_array::<f32>()
            .map_err(failed)?;
        let (height, width) = (item.shape()[2], item.shape()[3]);
        if map.shape() != [1, 1, height, width] {
            return Err(failed(format!(
                "probability map of shape {:?} for an input of {width}x{height}",
                map.shape()
            )));
        }
        Ok(ProbMap {
            width,
            height,
            data: map.iter().copied().collect(),
        })
    }
}

impl BatchModel for DetRun {
    type Item = Array4<f32>;
    type Output = ProbMap;
    type Session = Session;

    fn run(
        &self,
        session: &mut Session,
        items: &[Array4<f32>],
    ) -> Result<Vec<ProbMap>, ModelError> {
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

    #[test]
    fn the_tensor_holds_normalised_bgr_planes() {
        let mut image = Bgr::black(4, 2);
        image.data[..3].copy_from_slice(&[255, 0, 128]);
        let lut = Lut::new(
            ChannelOrder::Bgr,
            [0.5; 3],
            [0.5; 3],
            Arithmetic::DetectionF64,
        );
        let same = tensor(&image, (4, 2), &lut);
        assert_eq!(same.shape(), &[1, 3, 2, 4]);
        assert_eq!(same[(0, 0, 0, 0)], 1.0);
        assert_eq!(same[(0, 1, 0, 0)], -1.0);
        assert_eq!(same[(0, 0, 1, 3)], -1.0);
        let larger = tensor(&image, (8, 4), &lut);
        assert_eq!(larger.shape(), &[1, 3, 4, 8]);
        assert_eq!(larger[(0, 0, 0, 0)], 1.0);
    }
}
