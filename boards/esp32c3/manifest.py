# Frozen modules of the esp32 port's firmware with umqtt_rs: the port's own
# (asyncio, umqtt.simple and umqtt.robust from micropython-lib, ...) and the
# Python layers over umqtt_rs (umqtt_rs_robust, umqtt_rs_asyncio).
include("$(PORT_DIR)/boards/manifest.py")
include("../../micropython-glue/manifest.py")
