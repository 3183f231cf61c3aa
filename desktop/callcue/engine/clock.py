"""The call's clock: sample n of a channel is n / RATE seconds into the call. One constant for all."""

RATE = 16000  # samples per second: every channel is resampled to this before it reaches the engine
