# Frozen modules of the unix test firmware: MicroPython's asyncio.
include("$(MPY_DIR)/extmod/asyncio")
