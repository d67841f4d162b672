//! Video codecs for the simulated models: H.264 both ways through OpenH264
//! (built from its bundled source, so no system library is needed). The
//! machines only negotiate H.264, so the browser sends and receives it.

use std::time::Duration;

use openh264::decoder::Decoder as H264Decoder;
use openh264::encoder::{BitRate, Encoder as H264Encoder, EncoderConfig, FrameRate, UsageType};
use openh264::formats::{YUVSlices, YUVSource};
use openh264::OpenH264API;
use str0m::format::Codec;

use super::Frame;

pub struct Decoder {
    codec: Codec,
    inner: H264Decoder,
}

impl Decoder {
    pub fn new(codec: Codec) -> Result<Decoder, String> {
        if codec != Codec::H264 {
            return Err(format!("no decoder for {codec:?}"));
        }
        let inner = H264Decoder::new().map_err(|e| e.to_string())?;
        Ok(Decoder { codec, inner })
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    /// One access unit (Annex B) in; a picture out once one is complete.
    pub fn decode(&mut self, data: &[u8]) -> Result<Option<Frame>, String> {
        let Some(yuv) = self.inner.decode(data).map_err(|e| e.to_string())? else {
            return Ok(None);
        };
        let (width, height) = yuv.dimensions();
        let (sy, su, sv) = yuv.strides();
        // Even sizes keep the 4:2:0 planes exact.
        let (w, h) = (width & !1, height & !1);
        let mut frame = Frame::filled(w, h, (0, 128, 128));
        for row in 0..h {
            frame.y[row * w..(row + 1) * w].copy_from_slice(&yuv.y()[row * sy..row * sy + w]);
        }
        let cw = w / 2;
        for row in 0..h / 2 {
            frame.u[row * cw..(row + 1) * cw].copy_from_slice(&yuv.u()[row * su..row * su + cw]);
            frame.v[row * cw..(row + 1) * cw].copy_from_slice(&yuv.v()[row * sv..row * sv + cw]);
        }
        Ok(Some(frame))
    }
}

pub struct Encoder {
    codec: Codec,
    size: (usize, usize),
    inner: H264Encoder,
}

impl Encoder {
    pub fn supports(codec: Codec) -> bool {
        codec == Codec::H264
    }

    pub fn new(codec: Codec, width: usize, height: usize, period: Duration) -> Result<Encoder, String> {
        if !Self::supports(codec) {
            return Err(format!("no encoder for {codec:?}"));
        }
        let fps = (1.0 / period.as_secs_f64()) as f32;
        // Enough bits that a webcam picture stays recognisable on loopback.
        let bps = ((width * height) as f64 * fps as f64 * 0.1).clamp(300_000.0, 4_000_000.0) as u32;
        let config = EncoderConfig::new()
            .bitrate(BitRate::from_bps(bps))
            .max_frame_rate(FrameRate::from_hz(fps))
            .usage_type(UsageType::CameraVideoRealTime)
            .skip_frames(true);
        let inner = H264Encoder::with_api_config(OpenH264API::from_source(), config).map_err(|e| e.to_string())?;
        Ok(Encoder { codec, size: (width, height), inner })
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    pub fn size(&self) -> (usize, usize) {
        self.size
    }

    /// One picture in; one access unit (Annex B) out, or `None` if skipped.
    pub fn encode(&mut self, frame: &Frame, keyframe: bool) -> Result<Option<Vec<u8>>, String> {
        if keyframe {
            self.inner.force_intra_frame();
        }
        let source = YUVSlices::new(
            (&frame.y, &frame.u, &frame.v),
            (frame.width, frame.height),
            (frame.width, frame.width / 2, frame.width / 2),
        );
        let bitstream = self.inner.encode(&source).map_err(|e| e.to_string())?;
        let data = bitstream.to_vec();
        Ok((!data.is_empty()).then_some(data))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::video::rgb_to_yuv;

    #[test]
    fn h264_round_trip_keeps_the_picture() {
        let mut encoder = Encoder::new(Codec::H264, 64, 48, Duration::from_millis(33)).unwrap();
        let mut decoder = Decoder::new(Codec::H264).unwrap();
        let mut frame = Frame::filled(64, 48, (40, 128, 128));
        frame.fill_rect(0, 0, 32, 48, rgb_to_yuv(255, 255, 255));
        let mut decoded = None;
        for i in 0..5 {
            let data = encoder.encode(&frame, i == 0).unwrap().expect("a frame");
            if let Some(f) = decoder.decode(&data).unwrap() {
                decoded = Some(f);
            }
        }
        let decoded = decoded.expect("decoded a picture");
        assert_eq!((decoded.width, decoded.height), (64, 48));
        let left = decoded.y[24 * 64 + 8] as i32;
        let right = decoded.y[24 * 64 + 56] as i32;
        assert!((left - 235).abs() < 12 && (right - 40).abs() < 12, "left {left} right {right}");
    }
}
