# Frozen modules of the stock unix firmware: MicroPython's asyncio only (the
# standard variant's micropython-lib packages are not in Debian's source).
include("$(MPY_DIR)/extmod/asyncio")
