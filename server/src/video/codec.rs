//! Video codecs for the simulated models. Until real codecs are wired in,
//! nothing is supported: the machines negotiate video but send no frames.

use std::time::Duration;

use str0m::format::Codec;

use super::Frame;

pub struct Decoder {
    codec: Codec,
}

impl Decoder {
    pub fn new(codec: Codec) -> Result<Decoder, String> {
        Err(format!("no decoder for {codec:?}"))
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    pub fn decode(&mut self, _data: &[u8]) -> Result<Option<Frame>, String> {
        Ok(None)
    }
}

pub struct Encoder {
    codec: Codec,
    size: (usize, usize),
}

impl Encoder {
    pub fn supports(_codec: Codec) -> bool {
        false
    }

    pub fn new(codec: Codec, _width: usize, _height: usize, _period: Duration) -> Result<Encoder, String> {
        Err(format!("no encoder for {codec:?}"))
    }

    pub fn codec(&self) -> Codec {
        self.codec
    }

    pub fn size(&self) -> (usize, usize) {
        self.size
    }

    pub fn encode(&mut self, _frame: &Frame, _keyframe: bool) -> Result<Option<Vec<u8>>, String> {
        Ok(None)
    }
}
