# Frozen modules of the unix test firmware: MicroPython's asyncio and the
# Python layers over umqtt_rs (umqtt_rs_robust, umqtt_rs_asyncio).
include("$(MPY_DIR)/extmod/asyncio")
include("../../micropython-glue/manifest.py")
