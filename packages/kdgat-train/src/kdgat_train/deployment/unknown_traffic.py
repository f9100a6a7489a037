"""How far a detector trusts traffic with CAN IDs it never saw in training, and how much a chunk holds
(the command line's defaults and help; the run's checks)."""

CHUNK_WINDOWS = 256  # windows' worth of frames per chunk (a bus chunk also closes after --max-delay-ms)


UNKNOWN_WARN_SHARE = 0.05  # frames with IDs the model never saw: above this share, a warning
UNKNOWN_REFUSE_SHARE = 0.5  # above this (--max-unknown-share), an ID-reading model refuses the traffic
UNKNOWN_MIN_FRAMES = 1000  # a bus is judged on at least this many frames
# ... and only while fewer than this share of training's IDs appear: a DoS flood or fuzzing on the same
# vehicle carries many unknown frames but leaves the vehicle's own IDs on the bus; another vehicle does not
FAMILIAR_COVERAGE = 0.5
