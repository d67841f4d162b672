//! Raw video frames and the codecs the simulated models use.

pub mod codec;

/// A picture in I420 (planar YUV 4:2:0), the format both codecs speak.
#[derive(Clone, Debug, PartialEq)]
pub struct Frame {
    pub width: usize,
    pub height: usize,
    pub y: Vec<u8>,
    pub u: Vec<u8>,
    pub v: Vec<u8>,
}

impl Frame {
    /// A frame of one colour; odd sizes are rounded up to even.
    pub fn filled(width: usize, height: usize, (y, u, v): (u8, u8, u8)) -> Frame {
        let width = (width + 1) & !1;
        let height = (height + 1) & !1;
        let chroma = (width / 2) * (height / 2);
        Frame { width, height, y: vec![y; width * height], u: vec![u; chroma], v: vec![v; chroma] }
    }

    /// Fills a rectangle (clipped to the frame) with a YUV colour.
    pub fn fill_rect(&mut self, x: i64, y: i64, w: i64, h: i64, (cy, cu, cv): (u8, u8, u8)) {
        let x0 = x.clamp(0, self.width as i64) as usize;
        let y0 = y.clamp(0, self.height as i64) as usize;
        let x1 = (x + w).clamp(0, self.width as i64) as usize;
        let y1 = (y + h).clamp(0, self.height as i64) as usize;
        for row in y0..y1 {
            self.y[row * self.width + x0..row * self.width + x1].fill(cy);
        }
        let cw = self.width / 2;
        for row in y0 / 2..y1.div_ceil(2) {
            self.u[row * cw + x0 / 2..row * cw + x1.div_ceil(2)].fill(cu);
            self.v[row * cw + x0 / 2..row * cw + x1.div_ceil(2)].fill(cv);
        }
    }

    /// Mean luma, for tests and stats.
    pub fn mean_luma(&self) -> f64 {
        self.y.iter().map(|&p| p as f64).sum::<f64>() / self.y.len().max(1) as f64
    }
}

/// BT.601 limited-range RGB → YUV.
pub fn rgb_to_yuv(r: u8, g: u8, b: u8) -> (u8, u8, u8) {
    let (r, g, b) = (r as f64, g as f64, b as f64);
    let y = 16.0 + 0.257 * r + 0.504 * g + 0.098 * b;
    let u = 128.0 - 0.148 * r - 0.291 * g + 0.439 * b;
    let v = 128.0 + 0.439 * r - 0.368 * g - 0.071 * b;
    (y.round().clamp(0.0, 255.0) as u8, u.round().clamp(0.0, 255.0) as u8, v.round().clamp(0.0, 255.0) as u8)
}
