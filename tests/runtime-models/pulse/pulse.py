"""`pulse`: a generator for reactor-runtime 2.10.1 (no input track).

Renders a grey picture on its `canvas` track. `level` is a public state
field (the runtime adds `set_level`); `flash` is a command with typed,
bounded parameters that sets the level and answers `flashed`; `emitted`
reports about every second how many frames were sent.
"""

import time

import numpy as np
from reactor_runtime import InputField, ModelMessage, Output, Video, event
from reactor_runtime.interface.pipeline import InputState, ReactorPipeline

WIDTH, HEIGHT = 320, 240


class PulseOutput(Output):
    canvas: Video


class PulseState(InputState):
    level: int = InputField(default=40, ge=0, le=255, description="grey level of the picture")


class Flashed(ModelMessage):
    level: int
    label: str


class Emitted(ModelMessage):
    frames: int
    seconds: float


class Pulse(ReactorPipeline):
    state: PulseState
    fps = 30

    @event(name="flash", description="set the grey level at once, and say so")
    async def flash(
        self,
        level: int = InputField(default=255, ge=0, le=255),
        label: str = InputField(default="", max_length=40),
    ):
        self.state.level = level
        await self.send(Flashed(level=level, label=label))

    async def inference(self):
        frames, since = 0, time.monotonic()
        while True:
            picture = np.full((HEIGHT, WIDTH, 3), self.state.level, dtype=np.uint8)
            yield PulseOutput(canvas=picture)
            frames += 1
            now = time.monotonic()
            if now - since >= 1.0:
                await self.send(Emitted(frames=frames, seconds=round(now - since, 3)))
                frames, since = 0, now
