# Frozen modules of the stock unix firmware: MicroPython's asyncio, and mip
# (with requests) as the standard variant has it, for installing umqtt_rs
# the way users do (Debian's source has only these two of micropython-lib).
include("$(MPY_DIR)/extmod/asyncio")
require("mip")
