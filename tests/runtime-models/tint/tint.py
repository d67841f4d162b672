"""`tint`: a video-to-video model for reactor-runtime 2.10.1.

Takes the client's `cam` track and returns it as `styled`, multiplied by a
gain and blended towards a paint colour. Every path the SDK has gets used:
an input and an output track with names of their own, a public state field
(`gain`, so the runtime adds `set_gain`), a command with typed, bounded
parameters (`paint`), and messages back (`painted`, and `emitted` about
every second so a test can compare the fps it sees with what was sent).
"""

import time
from dataclasses import dataclass

import numpy as np
from reactor_runtime import Input, InputField, ModelMessage, Output, Video, event
from reactor_runtime.interface.pipeline import Idle, InputState, ReactorPipeline


@dataclass
class TintInput(Input):
    cam: Video


class TintOutput(Output):
    styled: Video


class TintState(InputState):
    gain: float = InputField(default=1.0, ge=0.0, le=4.0, description="multiplies every pixel")
    # Set by `paint`; private, so no automatic command.
    _paint: tuple = (0, 0, 0)
    _mix: float = 0.0


class Painted(ModelMessage):
    r: int
    g: int
    b: int
    mix: float


class Emitted(ModelMessage):
    frames: int
    seconds: float


class Tint(ReactorPipeline):
    state: TintState
    inputs: TintInput
    fps = 30

    @event(name="paint", description="blend the picture towards a colour")
    async def paint(
        self,
        r: int = InputField(default=255, ge=0, le=255),
        g: int = InputField(default=255, ge=0, le=255),
        b: int = InputField(default=255, ge=0, le=255),
        mix: float = InputField(default=1.0, ge=0.0, le=1.0),
    ):
        self.state._paint = (r, g, b)
        self.state._mix = mix
        await self.send(Painted(r=r, g=g, b=b, mix=mix))

    async def inference(self):
        frames, since = 0, time.monotonic()
        while True:
            try:
                [frame] = await self.inputs.cam.read(1, timeout=0.2)
            except TimeoutError:
                # No input published: stay responsive to commands.
                yield Idle
                continue
            picture = frame.data.astype(np.float32) * self.state.gain
            if self.state._mix > 0:
                colour = np.array(self.state._paint, dtype=np.float32)
                picture = picture * (1 - self.state._mix) + colour * self.state._mix
            yield TintOutput(styled=np.clip(picture, 0, 255).astype(np.uint8))
            frames += 1
            now = time.monotonic()
            if now - since >= 1.0:
                await self.send(Emitted(frames=frames, seconds=round(now - since, 3)))
                frames, since = 0, now
